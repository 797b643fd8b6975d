import { Command, Option } from 'commander';
import { Consumer, type TopicPartition } from '@brook/client';
import { globalOptions } from '../connection';
import { formatRecord, type OutputFormat } from '../lineRecords';
import { nonNegativeInt, positiveInt } from '../optionParsers';
import { writeOut } from '../output';
import { partitionOffsets } from '../PartitionOffsets';

interface ConsumeOptions {
  group?: string;
  partition?: number;
  fromBeginning?: boolean;
  offset?: number;
  follow?: boolean;
  maxRecords?: number;
  format: OutputFormat;
  keySeparator: string;
}

/**
 * Without --follow the command stops once it is caught up: for every partition it is reading, its
 * position has reached the high watermark that partition had when the command started. Records
 * produced after the start are read only if they arrive in the same fetches.
 */
function caughtUp(consumer: Consumer, endOffsets: Map<number, number>): boolean {
  return consumer.assignment().every((tp: TopicPartition) => {
    const position = consumer.position(tp);
    return position !== undefined && position >= (endOffsets.get(tp.partition) ?? 0);
  });
}

export function consumeCommand(): Command {
  return new Command('consume')
    .argument('<topic>')
    .description('print records of a topic, one per line, in a group (--group), from one partition (--partition) or from all partitions')
    .option('-g, --group <id>', 'consume as a member of this group (commits what it printed)')
    .option('-p, --partition <n>', 'read only this partition', nonNegativeInt)
    .option('--from-beginning', 'start at the earliest offset (in a group: where nothing is committed yet)')
    .option('--offset <n>', 'start at this offset (with --partition)', nonNegativeInt)
    .option('-f, --follow', 'keep waiting for new records (Ctrl-C stops)')
    .option('-n, --max-records <n>', 'stop after this many records', positiveInt)
    .addOption(new Option('--format <format>', 'text: the value; kv: key<sep>value; json: one object per record').choices(['text', 'kv', 'json']).default('text'))
    .option('-k, --key-separator <sep>', 'separator of the kv format', '\t')
    .action(async (topic: string, opts: ConsumeOptions, command: Command) => {
      const options = globalOptions(command);
      if (opts.group !== undefined && opts.partition !== undefined) throw new Error('use --group or --partition, not both');
      if (opts.offset !== undefined && opts.partition === undefined) throw new Error('--offset needs --partition');
      const offsets = await partitionOffsets(options.controller, options.cluster, topic);
      if (opts.partition !== undefined && !offsets.some((p) => p.partition === opts.partition)) {
        throw new Error(`topic ${topic} has no partition ${opts.partition} (it has ${offsets.length})`);
      }
      const endOffsets = new Map(offsets.map((p) => [p.partition, p.latest]));
      const consumer = new Consumer({
        controllerUrl: options.controller,
        cluster: options.cluster,
        groupId: opts.group,
        autoOffsetReset: opts.fromBeginning ? 'earliest' : 'latest',
        maxPollRecords: 5000,
      });
      let stopping = false;
      const stop = () => (stopping = true);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      let printed = 0;
      try {
        if (opts.group !== undefined) await consumer.subscribe([topic]);
        else {
          const partitions = opts.partition !== undefined ? [opts.partition] : offsets.map((p) => p.partition);
          consumer.assign(partitions.map((partition) => ({ topic, partition, offset: opts.offset })));
        }
        const limit = opts.maxRecords ?? Infinity;
        while (!stopping && printed < limit && (opts.follow || !caughtUp(consumer, endOffsets))) {
          const records = await consumer.poll(200);
          if (records.length === 0) continue;
          const take = records.length <= limit - printed ? records : records.slice(0, limit - printed);
          // Records past --max-records are not printed, so not committed: each partition resumes at its first one left out.
          const leftOut = new Map<number, number>();
          for (const r of records.slice(take.length)) if (!leftOut.has(r.partition)) leftOut.set(r.partition, r.offset);
          for (const [partition, offset] of leftOut) consumer.seek({ topic, partition, offset });
          await writeOut(`${take.map((r) => formatRecord(r, opts.format, opts.keySeparator)).join('\n')}\n`);
          printed += take.length;
        }
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await consumer.close();
      }
    });
}
