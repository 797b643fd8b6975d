import { randomUUID } from 'node:crypto';
import {
  BrookError,
  validateName,
  type AlterPartitionRequest,
  type ClusterRecord,
  type PartitionChangeRecord,
  type PartitionRecord,
  type TopicImage,
  TOPIC_CONFIG_NAMES,
} from '@brook/types';
import type { MetadataLog, RecordDraft } from './MetadataLog';
import { ReplicaPlacer } from './ReplicaPlacer';

export const MAX_PARTITIONS = 10_000;

export interface CreateTopicInput {
  name: unknown;
  cluster?: string;
  partitions?: number;
  replicationFactor?: number;
  configs?: Record<string, string>;
}

/** A topic by name within a cluster, or by id. */
export interface TopicRef {
  topic?: string;
  topicId?: string;
  cluster?: string;
}

export interface CreatePartitionsInput extends TopicRef {
  /** How many partitions to add. */
  count: number;
}

export interface UpdatePartitionInput extends TopicRef {
  partition: number;
  replicas?: number[];
  isr?: number[];
  leader?: number;
  partitionEpoch?: number;
}

export interface PartitionStateView extends PartitionRecord {
  topic: string;
  cluster: string;
}

const CONFIG_NAMES = new Set<string>(TOPIC_CONFIG_NAMES);
const INTEGER = /^-?\d{1,16}$/;
/** The smallest legal value of each integer topic config (the brokers' LogConfig accepts the same). */
const CONFIG_MIN: Record<string, number> = {
  'retention.ms': -1,
  'retention.bytes': -1,
  'segment.bytes': 1024,
  'segment.ms': 1,
  'min.insync.replicas': 1,
  'flush.messages': 1,
  'flush.ms': 0,
  'max.message.bytes': 0,
  'index.interval.bytes': 0,
  'delete.retention.ms': 0,
};
/** A ratio from 0 to 1, as min.cleanable.dirty.ratio takes. */
const RATIO = /^(0(\.\d+)?|1(\.0+)?)$/;
const CLEANUP_POLICIES = new Set(['delete', 'compact', 'compact,delete', 'delete,compact']);

/**
 * Topics, partitions and leadership (Kafka's ReplicationControlManager): topic and partition creation
 * with replica placement, AlterPartition from partition leaders, the admin partition update, and the
 * partition changes that follow a broker being fenced, unfenced or shut down. Every operation validates
 * everything first and then appends all its records in one transaction.
 */
export class ReplicationControl {
  constructor(
    private readonly log: MetadataLog,
    private readonly placer: ReplicaPlacer = new ReplicaPlacer(),
    private readonly newTopicId: () => string = randomUUID,
  ) {}

  /** Ids of the cluster's brokers that may lead or join an ISR: unfenced and not shutting down. */
  liveBrokerIds(cluster: string): number[] {
    return this.log
      .brokers(cluster)
      .filter((b) => b.state === 'active')
      .map((b) => b.brokerId)
      .sort((a, b) => a - b);
  }

  requireCluster(name: string): ClusterRecord {
    const cluster = this.log.cluster(name);
    if (!cluster) throw new BrookError('UNKNOWN_CLUSTER', `cluster ${name} does not exist`, { cluster: name });
    return cluster;
  }

  requireTopic(ref: TopicRef): TopicImage {
    if (ref.topicId !== undefined) {
      const t = this.log.topic(ref.topicId);
      if (!t || (ref.topic !== undefined && t.name !== ref.topic)) {
        throw new BrookError('UNKNOWN_TOPIC', `topic id ${ref.topicId} does not exist`, { topicId: ref.topicId });
      }
      return t;
    }
    const cluster = ref.cluster ?? 'default';
    const name = ref.topic ?? '';
    const t = this.log.topicByName(cluster, name);
    if (!t) throw new BrookError('UNKNOWN_TOPIC', `topic ${name} does not exist in cluster ${cluster}`, { topic: name, cluster });
    return t;
  }

  createTopic(input: CreateTopicInput): TopicImage {
    return this.log.transaction(() => {
      const name = validateName('topic', input.name);
      const cluster = this.requireCluster(input.cluster ?? 'default');
      if (this.log.topicByName(cluster.name, name)) {
        throw new BrookError('TOPIC_ALREADY_EXISTS', `topic ${name} already exists in cluster ${cluster.name}`, {
          topic: name,
          cluster: cluster.name,
        });
      }
      const partitions = input.partitions ?? cluster.defaultPartitions;
      checkPartitionCount(partitions);
      const configs = validateTopicConfigs(input.configs ?? {});
      if (configs['retention.ms'] === undefined && cluster.retentionMs !== null) {
        configs['retention.ms'] = String(cluster.retentionMs);
      }
      const live = this.requireLiveBrokers(cluster.name);
      const replicationFactor = input.replicationFactor ?? Math.min(3, live.length);
      checkReplicationFactor(replicationFactor, live.length);
      // Brook's default is 2 (DESIGN §4), but never more than the replicas, or acks=all could never succeed.
      configs['min.insync.replicas'] ??= String(Math.min(DEFAULT_MIN_INSYNC_REPLICAS, replicationFactor));
      const assignments = this.placer.place({ brokers: live, firstPartition: 0, count: partitions, replicationFactor });
      const topicId = this.newTopicId();
      this.log.append([
        { type: 'TopicRecord', payload: { topicId, name, cluster: cluster.name, configs } },
        ...assignments.map((replicas, partition) => newPartitionRecord(topicId, partition, replicas)),
      ]);
      return this.log.topic(topicId)!;
    });
  }

  deleteTopic(ref: TopicRef): TopicImage {
    return this.log.transaction(() => {
      const topic = this.requireTopic(ref);
      this.log.append([{ type: 'RemoveTopicRecord', payload: { topicId: topic.topicId } }]);
      return topic;
    });
  }

  createPartitions(input: CreatePartitionsInput): { topic: TopicImage; created: number[] } {
    return this.log.transaction(() => {
      const topic = this.requireTopic(input);
      const count = input.count;
      if (!Number.isInteger(count) || count < 1) {
        throw new BrookError('INVALID_PARTITIONS', `count must be a whole number of at least 1, not ${count}`);
      }
      const current = topic.partitions.length;
      if (current + count > MAX_PARTITIONS) {
        throw new BrookError(
          'INVALID_PARTITIONS',
          `topic ${topic.name} has ${current} partitions; adding ${count} would exceed ${MAX_PARTITIONS}`,
        );
      }
      const live = this.requireLiveBrokers(topic.cluster);
      const replicationFactor = topic.partitions[0]?.replicas.length ?? Math.min(3, live.length);
      checkReplicationFactor(replicationFactor, live.length);
      const assignments = this.placer.place({ brokers: live, firstPartition: current, count, replicationFactor });
      this.log.append(assignments.map((replicas, i) => newPartitionRecord(topic.topicId, current + i, replicas)));
      return { topic: this.log.topic(topic.topicId)!, created: assignments.map((_r, i) => current + i) };
    });
  }

  /**
   * Kafka's AlterPartition: the partition's leader proposes a new ISR under the leader epoch and partition
   * epoch it knows. Anything stale is refused, so a deposed leader can never shrink or grow the ISR.
   */
  alterPartition(request: AlterPartitionRequest): PartitionStateView {
    return this.log.transaction(() => {
      const broker = this.log.broker(request.brokerId);
      if (!broker) throw new BrookError('UNKNOWN_BROKER', `broker ${request.brokerId} is not registered`, { brokerId: request.brokerId });
      if (broker.brokerEpoch !== request.brokerEpoch) {
        throw new BrookError('STALE_BROKER_EPOCH', `broker epoch ${request.brokerEpoch} is not the current ${broker.brokerEpoch}`, {
          brokerEpoch: broker.brokerEpoch,
        });
      }
      const topic = this.requireTopic({ topicId: request.topicId });
      const p = requirePartition(topic, request.partition);
      if (request.leaderEpoch !== p.leaderEpoch) {
        throw new BrookError(
          'FENCED_LEADER_EPOCH',
          `leader epoch ${request.leaderEpoch} of ${topic.name}-${p.partition} is not the current ${p.leaderEpoch}`,
          { leader: p.leader, leaderEpoch: p.leaderEpoch },
        );
      }
      if (p.leader !== request.brokerId) {
        throw new BrookError('NOT_LEADER', `broker ${request.brokerId} does not lead ${topic.name}-${p.partition}`, {
          leader: p.leader,
          leaderEpoch: p.leaderEpoch,
        });
      }
      if (request.partitionEpoch !== p.partitionEpoch) {
        throw new BrookError(
          'STALE_PARTITION_EPOCH',
          `partition epoch ${request.partitionEpoch} of ${topic.name}-${p.partition} is not the current ${p.partitionEpoch}`,
          { partitionEpoch: p.partitionEpoch },
        );
      }
      const isr = this.checkIsr(topic, p, request.isr, p.replicas, p.leader);
      if (sameList(isr, p.isr)) return view(topic, p);
      const change: PartitionChangeRecord = {
        topicId: p.topicId,
        partition: p.partition,
        isr,
        leaderEpoch: p.leaderEpoch,
        partitionEpoch: p.partitionEpoch + 1,
      };
      this.log.append([{ type: 'PartitionChangeRecord', payload: change }]);
      return view(topic, this.log.partition(p.topicId, p.partition)!);
    });
  }

  /**
   * Seed 000's `/update_partition/` from an operator: replace the replica list, the ISR or the leader
   * (each optional), checked against `partitionEpoch` when given. The same invariants hold as for
   * AlterPartition: the ISR is a subset of the replicas, only live brokers join it, the leader is in it.
   */
  updatePartition(input: UpdatePartitionInput): PartitionStateView {
    return this.log.transaction(() => {
      const topic = this.requireTopic(input);
      const p = requirePartition(topic, input.partition);
      if (input.partitionEpoch !== undefined && input.partitionEpoch !== p.partitionEpoch) {
        throw new BrookError(
          'STALE_PARTITION_EPOCH',
          `partition epoch ${input.partitionEpoch} of ${topic.name}-${p.partition} is not the current ${p.partitionEpoch}`,
          { partitionEpoch: p.partitionEpoch },
        );
      }
      const replicas = input.replicas ?? p.replicas;
      if (new Set(replicas).size !== replicas.length) throw new BrookError('INVALID_REQUEST', 'replicas must be distinct brokers');
      const registered = new Set(this.log.brokers(topic.cluster).map((b) => b.brokerId));
      for (const id of replicas) {
        if (!p.replicas.includes(id) && !registered.has(id)) {
          throw new BrookError('UNKNOWN_BROKER', `broker ${id} is not registered in cluster ${topic.cluster}`, { brokerId: id });
        }
      }
      const live = new Set(this.liveBrokerIds(topic.cluster));
      const proposedIsr = input.isr ?? p.isr.filter((id) => replicas.includes(id));
      if (proposedIsr.length === 0) {
        throw new BrookError('INVALID_REQUEST', 'the ISR would be empty: keep at least one in-sync replica');
      }
      let leader: number;
      if (input.leader !== undefined) {
        leader = input.leader;
        if (leader !== -1 && (!proposedIsr.includes(leader) || !live.has(leader))) {
          throw new BrookError('INVALID_REQUEST', `leader ${leader} must be a live member of the ISR [${proposedIsr.join(',')}]`);
        }
      } else if (p.leader !== -1 && proposedIsr.includes(p.leader) && live.has(p.leader)) {
        leader = p.leader;
      } else {
        leader = replicas.find((id) => proposedIsr.includes(id) && live.has(id)) ?? -1;
      }
      const isr = this.checkIsr(topic, p, proposedIsr, replicas, leader);
      const change: PartitionChangeRecord = {
        topicId: p.topicId,
        partition: p.partition,
        leaderEpoch: leader !== p.leader ? p.leaderEpoch + 1 : p.leaderEpoch,
        partitionEpoch: p.partitionEpoch + 1,
      };
      if (leader !== p.leader) change.leader = leader;
      if (!sameList(isr, p.isr)) change.isr = isr;
      if (!sameList(replicas, p.replicas)) change.replicas = [...replicas];
      if (change.leader === undefined && change.isr === undefined && change.replicas === undefined) return view(topic, p);
      this.log.append([{ type: 'PartitionChangeRecord', payload: change }]);
      return view(topic, this.log.partition(p.topicId, p.partition)!);
    });
  }

  // ---- leadership after broker state changes (call inside the transaction that changed the state) -----

  /**
   * The broker is fenced, unregistered or shutting down: every partition it leads gets a new leader from
   * the live ISR (leaderEpoch + 1), or goes offline (leader -1, ISR as it was) when there is none — never
   * an unclean election; it leaves the ISR of every partition where others remain.
   */
  removeBrokerFromPartitions(brokerId: number): RecordDraft[] {
    const drafts: RecordDraft[] = [];
    const liveByCluster = new Map<string, Set<number>>();
    for (const p of this.log.partitionsInvolving(brokerId)) {
      let live = liveByCluster.get(p.cluster);
      if (!live) liveByCluster.set(p.cluster, (live = new Set(this.liveBrokerIds(p.cluster))));
      const change = partitionChangeWithout(p, brokerId, live);
      if (change) drafts.push({ type: 'PartitionChangeRecord', payload: change });
    }
    this.log.append(drafts);
    return drafts;
  }

  /** Elects a leader for every offline partition of the cluster that has a live ISR member. */
  electOfflinePartitions(cluster: string): RecordDraft[] {
    const live = new Set(this.liveBrokerIds(cluster));
    const drafts: RecordDraft[] = [];
    for (const p of this.log.offlinePartitions(cluster)) {
      const leader = p.replicas.find((id) => p.isr.includes(id) && live.has(id)) ?? p.isr.find((id) => live.has(id));
      if (leader === undefined) continue;
      drafts.push({
        type: 'PartitionChangeRecord',
        payload: {
          topicId: p.topicId,
          partition: p.partition,
          leader,
          leaderEpoch: p.leaderEpoch + 1,
          partitionEpoch: p.partitionEpoch + 1,
        },
      });
    }
    this.log.append(drafts);
    return drafts;
  }

  private requireLiveBrokers(cluster: string): number[] {
    const live = this.liveBrokerIds(cluster);
    if (live.length === 0) {
      throw new BrookError(
        'BROKER_NOT_AVAILABLE',
        `cluster ${cluster} has no live broker yet (brokers register fenced and are unfenced once caught up); retry shortly`,
        { cluster },
      );
    }
    return live;
  }

  private checkIsr(topic: TopicImage, p: PartitionRecord, isr: number[], replicas: number[], leader: number): number[] {
    const where = `${topic.name}-${p.partition}`;
    if (new Set(isr).size !== isr.length) throw new BrookError('INVALID_REQUEST', `ISR of ${where} lists a broker twice`);
    for (const id of isr) {
      if (!replicas.includes(id)) {
        throw new BrookError('INVALID_REQUEST', `broker ${id} is not a replica of ${where} (replicas [${replicas.join(',')}])`);
      }
    }
    if (leader !== -1 && !isr.includes(leader)) {
      throw new BrookError('INVALID_REQUEST', `the ISR of ${where} must contain its leader ${leader}`);
    }
    const live = new Set(this.liveBrokerIds(topic.cluster));
    for (const id of isr) {
      if (!p.isr.includes(id) && !live.has(id)) {
        throw new BrookError('INVALID_REQUEST', `broker ${id} cannot join the ISR of ${where}: it is fenced or shutting down`);
      }
    }
    return [...isr];
  }
}

/** The change that takes `brokerId` out of the partition's leadership and ISR; undefined if none. */
export function partitionChangeWithout(
  p: PartitionRecord,
  brokerId: number,
  live: ReadonlySet<number>,
): PartitionChangeRecord | undefined {
  const inIsr = p.isr.includes(brokerId);
  if (p.leader !== brokerId && !inIsr) return undefined;
  const isrWithout = p.isr.filter((id) => id !== brokerId);
  if (p.leader === brokerId) {
    const leader = p.replicas.find((id) => id !== brokerId && isrWithout.includes(id) && live.has(id));
    if (leader === undefined) {
      // No live ISR member: the partition goes offline and keeps its ISR, so only an in-sync replica can
      // lead it again (no unclean election).
      return {
        topicId: p.topicId,
        partition: p.partition,
        leader: -1,
        leaderEpoch: p.leaderEpoch + 1,
        partitionEpoch: p.partitionEpoch + 1,
      };
    }
    return {
      topicId: p.topicId,
      partition: p.partition,
      leader,
      isr: isrWithout,
      leaderEpoch: p.leaderEpoch + 1,
      partitionEpoch: p.partitionEpoch + 1,
    };
  }
  if (isrWithout.length === 0) return undefined;
  return { topicId: p.topicId, partition: p.partition, isr: isrWithout, leaderEpoch: p.leaderEpoch, partitionEpoch: p.partitionEpoch + 1 };
}

/** min.insync.replicas of topics that do not set it (capped at their replication factor). */
export const DEFAULT_MIN_INSYNC_REPLICAS = 2;

export function newPartitionRecord(topicId: string, partition: number, replicas: number[]): RecordDraft {
  // Every replica of a new partition is empty, so all are in sync (Kafka's rule).
  return {
    type: 'PartitionRecord',
    payload: { topicId, partition, replicas, isr: [...replicas], leader: replicas[0]!, leaderEpoch: 0, partitionEpoch: 0 },
  };
}

export function validateTopicConfigs(configs: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(configs)) {
    if (!CONFIG_NAMES.has(name)) {
      throw new BrookError('INVALID_REQUEST', `unknown topic config ${JSON.stringify(name)} (known: ${TOPIC_CONFIG_NAMES.join(', ')})`);
    }
    if (typeof value !== 'string') throw new BrookError('INVALID_REQUEST', `config ${name} must be a string`);
    if (name === 'cleanup.policy') {
      if (!CLEANUP_POLICIES.has(value)) {
        throw new BrookError('INVALID_REQUEST', `cleanup.policy must be delete, compact or compact,delete, not ${JSON.stringify(value)}`);
      }
    } else if (name === 'min.cleanable.dirty.ratio') {
      if (!RATIO.test(value)) throw new BrookError('INVALID_REQUEST', `min.cleanable.dirty.ratio must be a number from 0 to 1, not ${JSON.stringify(value)}`);
    } else {
      const min = CONFIG_MIN[name]!;
      if (!INTEGER.test(value) || Number(value) < min) {
        throw new BrookError('INVALID_REQUEST', `config ${name} must be a whole number of at least ${min}, not ${JSON.stringify(value)}`);
      }
    }
    out[name] = value;
  }
  return out;
}

function checkPartitionCount(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PARTITIONS) {
    throw new BrookError('INVALID_PARTITIONS', `partitions must be a whole number from 1 to ${MAX_PARTITIONS}, not ${n}`);
  }
}

function checkReplicationFactor(rf: number, live: number): void {
  if (!Number.isInteger(rf) || rf < 1) {
    throw new BrookError('INVALID_REPLICATION_FACTOR', `the replication factor must be a whole number of at least 1, not ${rf}`);
  }
  if (rf > live) {
    throw new BrookError('INVALID_REPLICATION_FACTOR', `replication factor ${rf} is larger than the ${live} live broker(s)`);
  }
}

function requirePartition(topic: TopicImage, partition: number): PartitionRecord {
  const p = topic.partitions.find((x) => x.partition === partition);
  if (!p) {
    throw new BrookError('UNKNOWN_PARTITION', `topic ${topic.name} has no partition ${partition}`, {
      topic: topic.name,
      partition,
    });
  }
  return p;
}

function view(topic: TopicImage, p: PartitionRecord): PartitionStateView {
  return { ...p, topic: topic.name, cluster: topic.cluster };
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
