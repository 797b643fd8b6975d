import { BrookError, type ConsumerFetchRequest, type FetchPartitionResult } from '@brook/types';
import type { MetadataCache } from '../metadata/MetadataCache';
import type { Partition } from '../server/Partition';
import type { ReplicaManager } from '../server/ReplicaManager';

type PartitionFetch = ConsumerFetchRequest['partitions'][number];

/**
 * Consumers' binary fetch of many partitions (POST /fetch): the stored batches of each partition this
 * broker leads, below its high watermark. When they hold fewer than `minBytes` the answer waits, up to
 * `maxWaitMs`, for a high watermark to advance. Partitions led elsewhere answer NOT_LEADER with the
 * leader's URL, so the client goes there itself; nothing is passed on.
 */
export class ConsumerFetchService {
  constructor(
    private readonly metadata: MetadataCache,
    private readonly replicas: ReplicaManager,
  ) {}

  async fetch(request: ConsumerFetchRequest): Promise<FetchPartitionResult[]> {
    const deadline = Date.now() + request.maxWaitMs;
    for (;;) {
      const results = request.partitions.map((p) => this.read(p, request.maxBytesPerPartition));
      let bytes = 0;
      for (const r of results) {
        // An error is news the client must act on: answer at once.
        if (r.error) return results;
        bytes += r.records.length;
      }
      const waitMs = deadline - Date.now();
      if (bytes >= request.minBytes || waitMs <= 0) return results;
      await this.waitForHighWatermarks(request.partitions, waitMs);
    }
  }

  /** Resolves when one of the partitions' high watermarks advances (or one stops leading), or after `waitMs`. */
  private waitForHighWatermarks(fetches: PartitionFetch[], waitMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        for (const unsubscribe of unsubscribes) unsubscribe();
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      const unsubscribes = fetches.map((f) => this.replicas.getPartition(f.topic, f.partition)!.onHighWatermarkAdvance(done));
    });
  }

  private read(f: PartitionFetch, maxBytes: number): FetchPartitionResult {
    const base = { topic: f.topic, partition: f.partition };
    let local: Partition | undefined;
    try {
      local = this.leaderPartition(f.topic, f.partition);
      const { records } = local.read(f.fetchOffset, maxBytes);
      return { ...base, error: null, records, highWatermark: local.highWatermark, logStartOffset: local.log.logStartOffset, logEndOffset: local.log.logEndOffset };
    } catch (err) {
      if (!(err instanceof BrookError)) throw err;
      return {
        ...base,
        error: { ...err.details, code: err.code, message: err.message },
        records: EMPTY,
        highWatermark: local?.highWatermark ?? -1,
        logStartOffset: local?.log.logStartOffset ?? -1,
        logEndOffset: local?.log.logEndOffset ?? -1,
      };
    }
  }

  private leaderPartition(topic: string, partition: number): Partition {
    const local = this.replicas.getPartition(topic, partition);
    if (local?.isLeader) return local;
    const image = this.metadata.topic(topic);
    if (!image) throw new BrookError('UNKNOWN_TOPIC', `topic ${topic} does not exist`, { topic });
    const state = image.partitions[partition];
    if (!state) throw new BrookError('UNKNOWN_PARTITION', `topic ${topic} has no partition ${partition}`, { topic, partition });
    if (state.leader < 0) throw new BrookError('LEADER_NOT_AVAILABLE', `partition ${topic}-${partition} has no leader right now`, { topic, partition });
    return this.replicas.leaderPartition(topic, partition); // throws NOT_LEADER with the leader's URL
  }
}

const EMPTY = Buffer.alloc(0);
