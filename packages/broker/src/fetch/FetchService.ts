import { BrookError, decodeRecords, iterateBatches, type ConsumedRecord } from '@brook/types';
import type { MetadataCache } from '../metadata/MetadataCache';
import { BrokerPeers, FORWARDED_HEADER } from '../network/BrokerPeers';
import type { Partition } from '../server/Partition';
import type { ReplicaManager } from '../server/ReplicaManager';
import { toConsumedRecord } from '../produce/JsonRecordCodec';

export interface FetchQuery {
  topic: string;
  partition: number;
  offset: number;
  maxRecords: number;
  maxWaitMs: number;
  maxBytes: number;
}

export interface FetchResult {
  records: ConsumedRecord[];
  high_watermark: number;
}

export interface PartitionOffsets {
  partition: number;
  earliest: number;
  latest: number;
}

/**
 * Reads for the JSON consume routes: served by the partition's leader, below its high watermark, with a
 * long poll when nothing is there yet. A broker that does not lead the partition asks the leader.
 */
export class FetchService {
  constructor(
    private readonly metadata: MetadataCache,
    private readonly replicas: ReplicaManager,
    private readonly peers: BrokerPeers,
  ) {}

  async fetchRecords(q: FetchQuery, forwarded: boolean): Promise<FetchResult> {
    const partition = await this.localLeaderOrNull(q.topic, q.partition, forwarded);
    if (!partition) {
      return this.askLeader<FetchResult>(q.topic, q.partition, 'records', {
        offset: q.offset,
        max_records: q.maxRecords,
        max_wait_ms: q.maxWaitMs,
        max_bytes: q.maxBytes,
      });
    }
    let read = partition.read(q.offset, q.maxBytes);
    if (read.records.length === 0 && q.maxWaitMs > 0) {
      await partition.waitForData(q.offset, q.maxWaitMs);
      if (!partition.isLeader) return this.fetchRecords({ ...q, maxWaitMs: 0 }, forwarded);
      read = partition.read(q.offset, q.maxBytes);
    }
    const records: ConsumedRecord[] = [];
    let from = q.offset;
    // Compaction can leave batches with no record at or after `from` (emptied, or holding only earlier
    // offsets): step past them, so a reader is never answered empty while records lie further on.
    while (read.records.length > 0) {
      let lastOffset = from - 1;
      for (const batch of iterateBatches(read.records)) {
        lastOffset = batch.lastOffset;
        if (batch.lastOffset < from) continue;
        for (const record of decodeRecords(read.records, batch.position, batch)) {
          if (record.offset < from) continue;
          records.push(toConsumedRecord(record));
          if (records.length >= q.maxRecords) break;
        }
        if (records.length >= q.maxRecords) break;
      }
      if (records.length > 0 || lastOffset + 1 >= partition.highWatermark) break;
      from = lastOffset + 1;
      read = partition.read(from, q.maxBytes);
    }
    return { records, high_watermark: partition.highWatermark };
  }

  async offsets(topic: string, partitionIndex: number, forwarded: boolean): Promise<PartitionOffsets> {
    const partition = await this.localLeaderOrNull(topic, partitionIndex, forwarded);
    if (!partition) return this.askLeader<PartitionOffsets>(topic, partitionIndex, 'offsets', {});
    const { earliest, latest } = partition.offsets();
    return { partition: partitionIndex, earliest, latest };
  }

  /** The earliest offset whose timestamp is at or after `timestamp`; the high watermark when there is none. */
  async offsetForTimestamp(topic: string, partitionIndex: number, timestamp: number, forwarded: boolean): Promise<{ partition: number; offset: number }> {
    const partition = await this.localLeaderOrNull(topic, partitionIndex, forwarded);
    if (!partition) return this.askLeader(topic, partitionIndex, 'offsets', { timestamp });
    const found = partition.log.offsetForTimestamp(timestamp);
    return { partition: partitionIndex, offset: found === undefined ? partition.highWatermark : Math.min(found, partition.highWatermark) };
  }

  /** The local replica when it leads; null when another broker leads and the request may go there. */
  private async localLeaderOrNull(topic: string, partition: number, forwarded: boolean): Promise<Partition | null> {
    const { state } = await this.metadata.requirePartition(topic, partition);
    const local = this.replicas.getPartition(topic, partition);
    if (local?.isLeader) return local;
    if (state.leader < 0) {
      throw new BrookError('LEADER_NOT_AVAILABLE', `partition ${topic}-${partition} has no leader right now; retry shortly`, {
        topic,
        partition,
      });
    }
    if (forwarded) this.replicas.leaderPartition(topic, partition); // throws NOT_LEADER with the leader's address
    return null;
  }

  private askLeader<T>(topic: string, partition: number, what: 'records' | 'offsets', query: Record<string, number>): Promise<T> {
    const leader = this.metadata.topic(topic)!.partitions[partition]!.leader;
    const wait = query.max_wait_ms ?? 0;
    return this.peers.get(leader).get<T>(`/topics/${encodeURIComponent(topic)}/partitions/${partition}/${what}`, {
      query,
      headers: { [FORWARDED_HEADER]: '1' },
      timeoutMs: wait + 10_000,
    });
  }
}
