#!/usr/bin/env node
import { brookProgram, errorLine } from './program';

async function main(): Promise<void> {
  // `brook consume … | head` closes the pipe early: that is the reader's choice, not a failure.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1));
  let code = 0;
  try {
    await brookProgram().parseAsync(process.argv);
  } catch (err) {
    process.stderr.write(`${errorLine(err)}\n`);
    code = 1;
  }
  // Keep-alive sockets and timers of the clients must not keep the process up; stdout is flushed first.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

void main();
