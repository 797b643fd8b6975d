import { setImmediate } from 'node:timers/promises';
import { Producer } from '@brook/client';
import { SendWindow } from '../SendWindow';
import { LatencyHistogram } from './LatencyHistogram';
import type { BenchSample } from './BenchResult';
import { Pacer } from './Pacer';
import type { ProduceWorkload } from './ProduceWorkload';

export interface ProduceBenchOptions extends ProduceWorkload {
  batchSize: number;
  lingerMs: number;
  /** Records per second; as fast as acknowledgements allow when absent. */
  rate?: number;
}

/**
 * Bytes sent but not yet acknowledged: a few rounds of full batches for every partition. More only
 * queues: each unacknowledged record holds a promise and its handlers, and at 100 B an 8 MB window kept
 * ~80k of them alive, so scavenges copied them and the bench spent half its CPU in GC (measured: 4 MB
 * takes ~10% less bench CPU than 8 MB, with the same throughput and half the send → ack latency).
 */
const MAX_UNACKED_BYTES = 4 * 1024 * 1024;
/** Records sent between two looks at the clock and the progress callback. */
const CHUNK = 1024;

/**
 * Producer throughput with @brook/client: one idempotent Producer sends fixed-size records (keyless,
 * sticky partitioner) as fast as acknowledgements allow, or at `rate`. Latency is each record's time
 * from `send` to its acknowledgement.
 */
export class ProduceBench {
  constructor(private readonly options: ProduceBenchOptions) {}

  async run(onProgress: (recordsAcked: number) => void = () => undefined): Promise<BenchSample> {
    const o = this.options;
    const producer = new Producer({ controllerUrl: o.controllerUrl, cluster: o.cluster, acks: o.acks, batchSize: o.batchSize, lingerMs: o.lingerMs });
    const latency = new LatencyHistogram();
    const value = Buffer.alloc(o.recordSize, 'x');
    const window = new SendWindow(Math.max(CHUNK, Math.floor(MAX_UNACKED_BYTES / o.recordSize)));
    const pacer = o.rate ? new Pacer(o.rate) : undefined;
    let sent = 0;
    let acked = 0;
    try {
      await producer.connect();
      await producer.metadata.requirePartitions(o.topic);
      const startedAt = performance.now();
      const deadline = o.durationMs === undefined ? Infinity : startedAt + o.durationMs;
      while (sent < o.records && performance.now() < deadline) {
        const burst = pacer ? await pacer.due(o.records - sent) : Math.min(CHUNK, o.records - sent);
        // One send time per chunk (its sends take well under a millisecond): a clock read and a closure
        // per record would cost the producer a good part of its CPU.
        const sentAt = performance.now();
        const onAck = () => {
          latency.record(performance.now() - sentAt);
          acked++;
        };
        for (let i = 0; i < burst; i++) window.track(producer.send({ topic: o.topic, value }), onAck);
        sent += burst;
        await window.room();
        // Let acknowledgements and linger timers run between chunks, not only when the window is full.
        if (!pacer) await setImmediate();
        onProgress(acked);
      }
      await producer.flush();
      await window.drained();
      const seconds = (performance.now() - startedAt) / 1000;
      onProgress(acked);
      return { records: acked, bytes: acked * o.recordSize, seconds, latency };
    } finally {
      await producer.disconnect();
    }
  }
}
