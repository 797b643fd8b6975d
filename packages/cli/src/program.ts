import { Command } from 'commander';
import { BrookError } from '@brook/types';
import { benchCommand } from './commands/bench';
import { clusterCommand } from './commands/cluster';
import { consumeCommand } from './commands/consume';
import { groupsCommand } from './commands/groups';
import { produceCommand } from './commands/produce';
import { topicsCommand } from './commands/topics';

/** The `brook` program: every command group under the shared connection and output options. */
export function brookProgram(): Command {
  const program = new Command('brook')
    .description('Brook command line: topics, produce, consume, consumer groups, cluster status and benchmarks')
    .option('--controller <url>', 'controller URL (env BROOK_CONTROLLER)', process.env.BROOK_CONTROLLER ?? 'http://localhost:9000')
    .option('--cluster <name>', 'cluster name (env BROOK_CLUSTER)', process.env.BROOK_CLUSTER ?? 'default')
    .option('--json', 'print results as JSON for scripts');
  for (const command of [clusterCommand(), topicsCommand(), produceCommand(), consumeCommand(), groupsCommand(), benchCommand()]) {
    program.addCommand(command);
  }
  oneLineErrors(program);
  return program;
}

/** Usage errors (unknown option, bad value) in the same `brook: …` form as every other failure. */
function oneLineErrors(command: Command): void {
  command.configureOutput({ outputError: (text, write) => write(`brook: ${text.replace(/^error: /, '')}`) });
  for (const sub of command.commands) oneLineErrors(sub);
}

/** A failure as one line: the Brook error code when there is one, never a stack trace. */
export function errorLine(err: unknown): string {
  if (err instanceof BrookError) return `brook: ${err.code}: ${err.message}`;
  return `brook: ${err instanceof Error ? err.message : String(err)}`;
}
