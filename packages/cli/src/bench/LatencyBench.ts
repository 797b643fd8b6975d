import { Consumer, Producer } from '@brook/client';
import { SendWindow } from '../SendWindow';
import type { BenchSample } from './BenchResult';
import { LatencyHistogram } from './LatencyHistogram';
import { Pacer } from './Pacer';
import type { ProduceWorkload } from './ProduceWorkload';

export interface LatencyBenchOptions extends Omit<ProduceWorkload, 'durationMs'> {
  /** Where each partition's new records start (its high watermark before the run). */
  startOffsets: Array<{ partition: number; offset: number }>;
  /** Records per second, steady. */
  rate: number;
  batchSize: number;
  lingerMs: number;
}

/** How long the consumer may trail the last acknowledged record before the run fails. */
const CATCH_UP_MS = 30_000;

/**
 * End-to-end latency: a producer sends at a steady `rate`, stamping each value's first 8 bytes with its
 * send time; a consumer in the same process reads the partitions from where they ended and records
 * now − stamp per record (one clock, so no skew). The first second (at most a tenth of the run) warms
 * connections and is not measured.
 */
export class LatencyBench {
  constructor(private readonly options: LatencyBenchOptions) {}

  async run(onProgress: (recordsConsumed: number) => void = () => undefined): Promise<BenchSample> {
    const o = this.options;
    const recordSize = Math.max(8, o.recordSize);
    const warmup = Math.min(o.rate, Math.floor(o.records / 10));
    const producer = new Producer({ controllerUrl: o.controllerUrl, cluster: o.cluster, acks: o.acks, batchSize: o.batchSize, lingerMs: o.lingerMs });
    const consumer = new Consumer({ controllerUrl: o.controllerUrl, cluster: o.cluster, autoCommit: false });
    const latency = new LatencyHistogram();
    let consumed = 0;
    let bytes = 0;
    let stopped = false;
    let consumerFailure: unknown;
    try {
      await producer.connect();
      consumer.assign(o.startOffsets.map(({ partition, offset }) => ({ topic: o.topic, partition, offset })));
      const consuming = (async () => {
        while (consumed < o.records && !stopped) {
          for (const r of await consumer.poll(100)) {
            const now = performance.now();
            if (consumed >= warmup && r.value && r.value.length >= 8) latency.record(now - r.value.readDoubleLE(0));
            bytes += r.value?.length ?? 0;
            consumed++;
          }
          onProgress(consumed);
        }
      })().catch((err: unknown) => (consumerFailure = err));
      const window = new SendWindow(Math.max(1000, o.rate));
      const pacer = new Pacer(o.rate);
      const startedAt = performance.now();
      for (let sent = 0; sent < o.records; ) {
        if (consumerFailure) throw consumerFailure;
        const burst = await pacer.due(o.records - sent);
        for (let i = 0; i < burst; i++) {
          const value = Buffer.alloc(recordSize, 'x');
          value.writeDoubleLE(performance.now(), 0);
          window.track(producer.send({ topic: o.topic, value }), () => undefined);
        }
        sent += burst;
        await window.room();
      }
      await producer.flush();
      await window.drained();
      const giveUp = setTimeout(() => (stopped = true), CATCH_UP_MS);
      await consuming;
      clearTimeout(giveUp);
      if (consumerFailure) throw consumerFailure;
      if (consumed < o.records) throw new Error(`the consumer read ${consumed} of ${o.records} records within ${CATCH_UP_MS} ms of the last acknowledgement`);
      const seconds = (performance.now() - startedAt) / 1000;
      return { records: consumed, bytes, seconds, latency };
    } finally {
      stopped = true;
      await Promise.allSettled([producer.disconnect(), consumer.close()]);
    }
  }
}
