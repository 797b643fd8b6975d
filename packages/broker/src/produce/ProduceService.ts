import type { Logger } from '@brook/runtime';
import {
  BrookError,
  encodeBatch,
  encodeProduceFrame,
  partitionForKey,
  PRODUCE_FRAME_CONTENT_TYPE,
  type AcksMode,
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

/** An idempotent producer's identity and the sequence number of the request's first record. */
export interface Idempotence {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

/**
 * Produce: every produce route ends here. Records become one record batch per partition (explicit
 * partition, else Kafka's murmur2 of the key, else round-robin); batches for partitions this broker leads
 * are appended here, the rest go to their leaders in one binary request per leader. The answer waits for
 * the acks asked for: none, the leader's append, or the whole ISR (the high watermark passing the batch).
 */
export class ProduceService {
  private readonly roundRobin = new Map<string, number>();

  constructor(
    private readonly brokerId: number,
    private readonly metadata: MetadataCache,
    private readonly replicas: ReplicaManager,
    private readonly peers: BrokerPeers,
    /** Longest wait for acks=all before REQUEST_TIMED_OUT (Kafka's request.timeout.ms). */
    private readonly ackTimeoutMs: number,
    private readonly logger: Logger,
  ) {}

  /**
   * Appends records to a topic; the answer lists each record's partition and offset in request order.
   * With acks=0 it answers (with no offsets) once the request is checked, before the append.
   */
  async produce(topicName: string, records: OutgoingRecord[], acks: AcksMode, idempotence?: Idempotence): Promise<ProducedOffset[]> {
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
    if (idempotence && groups.size > 1) {
      throw new BrookError('INVALID_REQUEST', 'an idempotent produce (producer_id) must send all its records to one partition, since sequences count per partition');
    }
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
      batches: encodeBatch(g.inputs, idempotence ?? {}),
    }));
    if (acks === '0') {
      this.appendToLeaders(topic, entries, acks).catch((err) => this.logger.warn({ err: (err as Error).message }, 'acks=0 produce failed'));
      return [];
    }
    const results = await this.appendToLeaders(topic, entries, acks);
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

  /**
   * Appends batches to partitions this broker leads. Each partition succeeds or fails on its own; appends
   * happen in order, then the answer waits for the acks of all of them together.
   */
  async appendLocal(entries: PartitionBatches[], acks: AcksMode): Promise<PartitionProduceResult[]> {
    const pending = entries.map(({ topic, partition, batches }) => {
      try {
        const local = this.replicas.leaderPartition(topic, partition);
        if (acks === 'all') local.checkEnoughReplicas();
        const { firstOffset, lastOffset } = local.appendAsLeader(batches);
        const acknowledged = acks === 'all' ? local.waitForHighWatermark(lastOffset + 1, this.ackTimeoutMs) : Promise.resolve();
        return acknowledged.then(
          (): PartitionProduceResult => ({ topic, partition, baseOffset: firstOffset, error: null }),
          (err: unknown) => failed(topic, partition, err),
        );
      } catch (err) {
        return Promise.resolve(failed(topic, partition, err));
      }
    });
    return Promise.all(pending);
  }

  private async appendToLeaders(topic: TopicImage, entries: PartitionBatches[], acks: AcksMode): Promise<PartitionProduceResult[]> {
    const byLeader = new Map<number, PartitionBatches[]>();
    for (const e of entries) {
      const leader = topic.partitions[e.partition]!.leader;
      const list = byLeader.get(leader);
      if (list) list.push(e);
      else byLeader.set(leader, [e]);
    }
    const answers = await Promise.all(
      [...byLeader].map(async ([leader, list]): Promise<PartitionProduceResult[]> => {
        if (leader === this.brokerId) return this.appendLocal(list, acks);
        try {
          const res = await this.peers.get(leader).post<ProduceFrameResponse>('/produce', encodeProduceFrame(list), {
            contentType: PRODUCE_FRAME_CONTENT_TYPE,
            headers: { [FORWARDED_HEADER]: '1' },
            query: { acks },
            timeoutMs: this.ackTimeoutMs + 10_000,
          });
          return res.results;
        } catch (err) {
          return list.map((e) => failed(e.topic, e.partition, err));
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

function failed(topic: string, partition: number, err: unknown): PartitionProduceResult {
  if (!(err instanceof BrookError)) throw err;
  return { topic, partition, baseOffset: -1, error: err.toBody().error };
}
