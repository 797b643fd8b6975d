import {
  BrookError,
  encodeBatch,
  encodeProduceFrame,
  partitionForKey,
  PRODUCE_FRAME_CONTENT_TYPE,
  type PartitionBatches,
  type PartitionProduceResult,
  type ProducedOffset,
  type ProduceFrameResponse,
  type RecordInput,
  type TopicImage,
} from '@brook/types';
import type { MetadataCache } from '../metadata/MetadataCache';
import { BrokerPeers, FORWARDED_HEADER } from '../network/BrokerPeers';
import type { ReplicaManager } from '../server/ReplicaManager';

/** A record to append, with the partition when the client chose one. */
export interface OutgoingRecord extends RecordInput {
  partition?: number;
}

/**
 * Produce: every produce route ends here. JSON records become one record batch per partition (explicit
 * partition, else Kafka's murmur2 of the key, else round-robin); batches for partitions this broker leads
 * are appended here, the rest are passed to their leaders in one binary request per leader.
 */
export class ProduceService {
  private readonly roundRobin = new Map<string, number>();

  constructor(
    private readonly brokerId: number,
    private readonly metadata: MetadataCache,
    private readonly replicas: ReplicaManager,
    private readonly peers: BrokerPeers,
  ) {}

  /** Appends records to a topic; the answer lists each record's partition and offset in request order. */
  async produce(topicName: string, records: OutgoingRecord[]): Promise<ProducedOffset[]> {
    const topic = await this.metadata.requireTopic(topicName);
    const partitionOf = records.map((r) => this.choosePartition(topic, r));
    const groups = new Map<number, { indices: number[]; inputs: RecordInput[] }>();
    records.forEach((record, i) => {
      const p = partitionOf[i]!;
      let g = groups.get(p);
      if (!g) groups.set(p, (g = { indices: [], inputs: [] }));
      g.indices.push(i);
      g.inputs.push(record);
    });
    // Refuse before anything is written when a partition has no leader to write to.
    for (const p of groups.keys()) {
      if (topic.partitions[p]!.leader < 0) {
        throw new BrookError('LEADER_NOT_AVAILABLE', `partition ${topicName}-${p} has no leader right now; retry shortly`, {
          topic: topicName,
          partition: p,
        });
      }
    }
    const entries: PartitionBatches[] = [...groups].map(([partition, g]) => ({
      topic: topicName,
      partition,
      batches: encodeBatch(g.inputs),
    }));
    const results = await this.appendToLeaders(topic, entries);
    const offsets: ProducedOffset[] = new Array(records.length);
    let failure: PartitionProduceResult | undefined;
    for (const result of results) {
      const g = groups.get(result.partition)!;
      if (result.error) {
        failure ??= result;
        continue;
      }
      g.indices.forEach((recordIndex, k) => {
        offsets[recordIndex] = { partition: result.partition, offset: result.baseOffset + k };
      });
    }
    if (failure?.error) {
      const { code, message, ...details } = failure.error;
      throw new BrookError(code as BrookError['code'], message, { ...details, offsets: offsets.filter(Boolean) });
    }
    return offsets;
  }

  /** Appends batches to partitions this broker leads; each partition succeeds or fails on its own. */
  appendLocal(entries: PartitionBatches[]): PartitionProduceResult[] {
    return entries.map(({ topic, partition, batches }) => {
      try {
        const { firstOffset } = this.replicas.leaderPartition(topic, partition).appendAsLeader(batches);
        return { topic, partition, baseOffset: firstOffset, error: null };
      } catch (err) {
        if (!(err instanceof BrookError)) throw err;
        return { topic, partition, baseOffset: -1, error: err.toBody().error };
      }
    });
  }

  private async appendToLeaders(topic: TopicImage, entries: PartitionBatches[]): Promise<PartitionProduceResult[]> {
    const byLeader = new Map<number, PartitionBatches[]>();
    for (const e of entries) {
      const leader = topic.partitions[e.partition]!.leader;
      const list = byLeader.get(leader);
      if (list) list.push(e);
      else byLeader.set(leader, [e]);
    }
    const answers = await Promise.all(
      [...byLeader].map(async ([leader, list]): Promise<PartitionProduceResult[]> => {
        if (leader === this.brokerId) return this.appendLocal(list);
        try {
          const res = await this.peers.get(leader).post<ProduceFrameResponse>('/produce', encodeProduceFrame(list), {
            contentType: PRODUCE_FRAME_CONTENT_TYPE,
            headers: { [FORWARDED_HEADER]: '1' },
          });
          return res.results;
        } catch (err) {
          if (!(err instanceof BrookError)) throw err;
          return list.map((e) => ({ topic: e.topic, partition: e.partition, baseOffset: -1, error: err.toBody().error }));
        }
      }),
    );
    return answers.flat();
  }

  private choosePartition(topic: TopicImage, record: OutgoingRecord): number {
    const count = topic.partitions.length;
    if (record.partition !== undefined) {
      if (record.partition >= count) {
        throw new BrookError('UNKNOWN_PARTITION', `topic ${topic.name} has no partition ${record.partition} (it has ${count})`, {
          topic: topic.name,
          partition: record.partition,
        });
      }
      return record.partition;
    }
    if (record.key) return partitionForKey(record.key, count);
    const next = this.roundRobin.get(topic.name) ?? 0;
    this.roundRobin.set(topic.name, next + 1);
    return next % count;
  }
}
