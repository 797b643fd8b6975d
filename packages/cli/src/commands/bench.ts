import fs from 'node:fs';
import path from 'node:path';
import { Argument, Command } from 'commander';
import { benchTable, type BenchMode } from '../bench/BenchResult';
import { BenchSuite, type BenchSettings } from '../bench/BenchSuite';
import { globalOptions } from '../connection';
import { acks, nonNegativeInt, positiveInt, positiveNumber, type AcksFlag } from '../optionParsers';
import { printResult } from '../output';
import { ProgressReporter } from '../ProgressReporter';

/** The flags as commander parses them: the settings, less the connection, with the duration in seconds. */
type BenchFlags = Omit<BenchSettings, 'controllerUrl' | 'cluster' | 'durationMs' | 'acks'> & { duration?: number; acks: AcksFlag; out?: string };

export function benchCommand(): Command {
  return new Command('bench')
    .description('measure produce and consume throughput, end-to-end latency and the JSON produce path of a running cluster')
    .addArgument(new Argument('[mode]', 'what to measure').choices(['produce', 'consume', 'e2e', 'json', 'all']).default('all'))
    .option('--record-size <bytes>', 'value bytes per record', positiveInt, 100)
    .option('--records <n>', 'records per mode (default 1000000; e2e: at most rate × duration)', positiveInt)
    .option('--duration <seconds>', 'run for this long instead (e2e default 10)', positiveNumber)
    .option('--acks <acks>', 'all, 1 or 0', acks, 'all' as AcksFlag)
    .option('--partitions <n>', 'partitions of the fresh topic', positiveInt, 6)
    .option('--replication-factor <n>', 'replicas of the fresh topic', positiveInt, 3)
    .option('--producers <n>', 'producers, each in its own thread', positiveInt, 1)
    .option('--consumers <n>', 'consumers, each in its own thread, splitting the partitions', positiveInt, 1)
    .option('--rate <records/s>', 'steady send rate (e2e default 5000; produce: unlimited)', positiveNumber)
    .option('--topic <name>', 'use this topic (default: a fresh topic per run)')
    .option('--batch-size <bytes>', 'producer batch bytes per partition', positiveInt, 64 * 1024)
    .option('--linger-ms <ms>', 'producer linger (default 5; e2e 0)', nonNegativeInt)
    .option('--records-per-request <n>', 'json: records per POST /events', positiveInt, 1000)
    .option('--inflight <n>', 'json: requests in flight', positiveInt, 8)
    .option('--out <file>', 'where to write the JSON results (default bench-results/<mode>-<time>.json)')
    .action(async (mode: BenchMode | 'all', flags: BenchFlags, command: Command) => {
      const options = globalOptions(command);
      const { duration, out: outFlag, ...settings } = flags;
      const suite = new BenchSuite(
        { ...settings, controllerUrl: options.controller, cluster: options.cluster, durationMs: duration === undefined ? undefined : duration * 1000 },
        ProgressReporter.forOutput(options.json),
      );
      const report = await suite.run(mode);
      const out = outFlag ?? path.join('bench-results', `${mode}-${report.startedAt.replace(/[:.]/g, '-')}.json`);
      fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
      fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
      await printResult(options.json, report, (r) => benchTable(r.results));
      process.stderr.write(`results written to ${out}\n`);
    });
}
