import { Consumer } from '@brook/client';
import type { BenchSample } from './BenchResult';
import { LatencyHistogram } from './LatencyHistogram';

export interface ConsumeBenchOptions {
  controllerUrl: string;
  cluster: string;
  topic: string;
  /** Stop after this many records… */
  records: number;
  /** …or after this long. */
  durationMs?: number;
  /** Read these partitions from these offsets (parallel consumers split a topic this way)… */
  assignment?: Array<{ partition: number; offset: number }>;
  /** …else join this (fresh) group and read from the earliest offsets. */
  groupId: string;
}

/**
 * Consumer throughput with @brook/client: one Consumer, a group member (or assigned partitions), reads
 * from the beginning until it has `records`. Timed from when the partitions are its own, so the group
 * join is not counted but the first fetch is; bytes are the values' bytes.
 */
export class ConsumeBench {
  constructor(private readonly options: ConsumeBenchOptions) {}

  async run(onProgress: (records: number) => void = () => undefined): Promise<BenchSample> {
    const o = this.options;
    const consumer = new Consumer({
      controllerUrl: o.controllerUrl,
      cluster: o.cluster,
      groupId: o.assignment ? undefined : o.groupId,
      autoCommit: false,
      autoOffsetReset: 'earliest',
      // Large polls: the bench measures the consumer's fetching, not how often poll() is called.
      maxPollRecords: 10_000,
    });
    let records = 0;
    let bytes = 0;
    try {
      if (!o.assignment) await consumer.subscribe([o.topic]);
      // The clock starts once the partitions are this consumer's, before their first fetch is sent.
      const startedAt = performance.now();
      if (o.assignment) consumer.assign(o.assignment.map(({ partition, offset }) => ({ topic: o.topic, partition, offset })));
      const deadline = o.durationMs === undefined ? Infinity : startedAt + o.durationMs;
      while (records < o.records && performance.now() < deadline) {
        const batch = await consumer.poll(Math.min(500, Math.max(1, deadline - performance.now())));
        records += batch.length;
        for (const r of batch) bytes += r.value?.length ?? 0;
        onProgress(records);
      }
      return { records, bytes, seconds: (performance.now() - startedAt) / 1000, latency: new LatencyHistogram() };
    } finally {
      await consumer.close();
    }
  }
}
