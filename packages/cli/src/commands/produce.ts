import readline from 'node:readline';
import { Command } from 'commander';
import { Producer } from '@brook/client';
import { globalOptions } from '../connection';
import { splitKeyValue } from '../lineRecords';
import { acks, nonNegativeInt, positiveInt, type AcksFlag } from '../optionParsers';
import { printResult, renderTable } from '../output';
import { SendWindow } from '../SendWindow';

interface ProduceOptions {
  keySeparator?: string;
  acks: AcksFlag;
  partition?: number;
  lingerMs: number;
  batchSize: number;
}

interface PartitionSummary {
  partition: number;
  records: number;
  firstOffset: number;
  lastOffset: number;
}

/** Records not yet acknowledged before reading more of stdin. */
const MAX_UNACKED = 30_000;

export function produceCommand(): Command {
  return new Command('produce')
    .argument('<topic>')
    .description('send each line of stdin as a record (UTF-8 value; with --key-separator, key<sep>value)')
    .option('-k, --key-separator <sep>', 'split each line at the first <sep> into key and value')
    .option('--acks <acks>', 'all, 1 or 0', acks, 'all' as AcksFlag)
    .option('-p, --partition <n>', 'send every record to this partition (default: by key, else sticky)', nonNegativeInt)
    .option('--linger-ms <ms>', 'how long a batch waits for more records', nonNegativeInt, 5)
    .option('--batch-size <bytes>', 'bytes per partition batch', positiveInt, 64 * 1024)
    .action(async (topic: string, opts: ProduceOptions, command: Command) => {
      const options = globalOptions(command);
      const producer = new Producer({
        controllerUrl: options.controller,
        cluster: options.cluster,
        acks: opts.acks,
        lingerMs: opts.lingerMs,
        batchSize: opts.batchSize,
      });
      const partitions = new Map<number, PartitionSummary>();
      let records = 0;
      try {
        await producer.connect();
        await producer.metadata.requirePartitions(topic);
        const window = new SendWindow(MAX_UNACKED);
        const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
        let lineNumber = 0;
        for await (const line of lines) {
          lineNumber++;
          const { key, value } = splitKeyValue(line, opts.keySeparator, lineNumber);
          await window.room();
          window.track(producer.send({ topic, key, value, partition: opts.partition }), ({ partition, offset }) => {
            const p = partitions.get(partition);
            if (!p) partitions.set(partition, { partition, records: 1, firstOffset: offset, lastOffset: offset });
            else {
              p.records++;
              p.firstOffset = Math.min(p.firstOffset, offset);
              p.lastOffset = Math.max(p.lastOffset, offset);
            }
          });
          records++;
        }
        await window.drained();
      } finally {
        await producer.disconnect();
      }
      const summary = { topic, records, partitions: [...partitions.values()].sort((a, b) => a.partition - b.partition) };
      await printResult(options.json, summary, (s) =>
        [
          `produced ${s.records} records to ${s.topic}`,
          ...(s.partitions.length
            ? [
                renderTable(s.partitions, [
                  { header: 'PARTITION', value: (p) => p.partition },
                  { header: 'RECORDS', value: (p) => p.records },
                  { header: 'FIRST OFFSET', value: (p) => p.firstOffset },
                  { header: 'LAST OFFSET', value: (p) => p.lastOffset },
                ]),
              ]
            : []),
        ].join('\n'),
      );
    });
}
