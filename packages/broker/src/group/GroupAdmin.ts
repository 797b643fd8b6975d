import { BrookError, type PartitionLag, type ResetOffsetsRequest, type TopicPartitions } from '@brook/types';
import type { FetchService } from '../fetch/FetchService';
import type { MetadataCache } from '../metadata/MetadataCache';

/**
 * What operators ask of a group beyond its coordinator's state: lag (high watermark − committed offset, per
 * partition) and resets to the earliest, the latest, a given offset or the first offset at a time.
 */
export class GroupAdmin {
  constructor(
    private readonly fetch: FetchService,
    private readonly metadata: MetadataCache,
  ) {}

  /** Lag of every partition the group has committed for or is assigned. */
  async lag(offsets: Array<{ topic: string; partition: number; offset: number }>, assigned: TopicPartitions[]): Promise<{ partitions: PartitionLag[]; totalLag: number }> {
    const committed = new Map(offsets.map((o) => [`${o.topic}\0${o.partition}`, o.offset]));
    const keys = new Set(committed.keys());
    for (const a of assigned) for (const p of a.partitions) keys.add(`${a.topic}\0${p}`);
    const partitions: PartitionLag[] = [];
    for (const key of [...keys].sort()) {
      const [topic, p] = key.split('\0') as [string, string];
      const partition = Number(p);
      const { latest } = await this.fetch.offsets(topic, partition, false);
      const committedOffset = committed.get(key) ?? -1;
      partitions.push({ topic, partition, committedOffset, highWatermark: latest, lag: committedOffset < 0 ? latest : Math.max(0, latest - committedOffset) });
    }
    return { partitions, totalLag: partitions.reduce((sum, p) => sum + p.lag, 0) };
  }

  /** The offsets a reset moves the group to (of `committedTopics` unless the request names a topic). */
  async resetTargets(request: ResetOffsetsRequest, committedTopics: string[]): Promise<Array<{ topic: string; partition: number; offset: number }>> {
    const topics = request.topic ? [request.topic] : committedTopics;
    if (topics.length === 0) throw new BrookError('INVALID_REQUEST', 'the group has no committed offsets: name the topic to reset');
    const out: Array<{ topic: string; partition: number; offset: number }> = [];
    for (const topic of topics) {
      const t = await this.metadata.requireTopic(topic);
      for (let partition = 0; partition < t.partitions.length; partition++) {
        out.push({ topic, partition, offset: await this.targetOf(request, topic, partition) });
      }
    }
    return out;
  }

  private async targetOf(request: ResetOffsetsRequest, topic: string, partition: number): Promise<number> {
    switch (request.to) {
      case 'earliest':
        return (await this.fetch.offsets(topic, partition, false)).earliest;
      case 'latest':
        return (await this.fetch.offsets(topic, partition, false)).latest;
      case 'offset': {
        const { earliest, latest } = await this.fetch.offsets(topic, partition, false);
        return Math.min(Math.max(request.offset!, earliest), latest);
      }
      case 'timestamp':
        return (await this.fetch.offsetForTimestamp(topic, partition, request.timestamp!, false)).offset;
    }
  }
}
