import { Metadata } from '@brook/client';
import { HttpJsonClient } from '@brook/runtime';
import { BrookError } from '@brook/types';
import { LatencyHistogram } from './LatencyHistogram';
import type { BenchSample } from './BenchResult';
import type { ProduceWorkload } from './ProduceWorkload';

export interface JsonProduceBenchOptions extends ProduceWorkload {
  /** Records in one `POST /events` body. */
  recordsPerRequest: number;
  /** Requests in flight at once, over keep-alive connections to the partition leaders. */
  inflight: number;
}

/**
 * The plain-HTTP JSON path as a metadata-aware HTTP client uses it: `POST /events` with `records` batches
 * for one partition, sent to that partition's leader, partitions in turn, `inflight` requests at a time.
 * Each partition's body is serialized once and reused. Latency is per request.
 */
export class JsonProduceBench {
  constructor(private readonly options: JsonProduceBenchOptions) {}

  async run(onProgress: (recordsAcked: number) => void = () => undefined): Promise<BenchSample> {
    const o = this.options;
    const controller = new HttpJsonClient(o.controllerUrl, { connections: 1 });
    const brokers = new Map<string, HttpJsonClient>();
    // A JSON string value of recordSize bytes as stored: the quotes count.
    const value = 'x'.repeat(Math.max(0, o.recordSize - 2));
    const body = (partition: number, records: number) =>
      Buffer.from(JSON.stringify({ topic: o.topic, records: Array.from({ length: records }, () => ({ partition, value })) }));
    try {
      const metadata = new Metadata(controller, { cluster: o.cluster });
      const partitions = await metadata.requirePartitions(o.topic);
      const targets = partitions.map((p) => {
        if (!p.leaderUrl) throw new BrookError('LEADER_NOT_AVAILABLE', `partition ${p.partition} of ${o.topic} has no leader`);
        let client = brokers.get(p.leaderUrl);
        if (!client) brokers.set(p.leaderUrl, (client = new HttpJsonClient(p.leaderUrl, { connections: o.inflight })));
        return { client, partition: p.partition, fullBody: body(p.partition, o.recordsPerRequest) };
      });
      const latency = new LatencyHistogram();
      let requests = 0;
      let issued = 0;
      let acked = 0;
      const startedAt = performance.now();
      const deadline = o.durationMs === undefined ? Infinity : startedAt + o.durationMs;
      const sender = async () => {
        while (issued < o.records && performance.now() < deadline) {
          const { client, partition, fullBody } = targets[requests++ % targets.length]!;
          const n = Math.min(o.recordsPerRequest, o.records - issued);
          issued += n;
          const sentAt = performance.now();
          await client.post('/events', n === o.recordsPerRequest ? fullBody : body(partition, n), { contentType: 'application/json', query: { acks: String(o.acks) } });
          latency.record(performance.now() - sentAt);
          acked += n;
          onProgress(acked);
        }
      };
      await Promise.all(Array.from({ length: o.inflight }, sender));
      const seconds = (performance.now() - startedAt) / 1000;
      return { records: acked, bytes: acked * o.recordSize, seconds, latency };
    } finally {
      await Promise.all([...brokers.values()].map((b) => b.close()));
      await controller.close();
    }
  }
}
