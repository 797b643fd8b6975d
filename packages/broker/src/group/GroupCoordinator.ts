import { BrookError, type CommittedOffset, type GroupDescription, type GroupHeartbeatResponse, type GroupListing, type TopicPartition } from '@brook/types';
import { GroupCoordinatorShard, type CoordinatorContext, type GroupLogger } from './GroupCoordinatorShard';
import { decodeOffsetsRecord } from './OffsetsRecordCodec';
import type { OffsetsRecord, OffsetsStore } from './OffsetsStore';
import { UniformAssignor } from './UniformAssignor';

/** Partition counts of topics, from the broker's metadata; undefined for a topic that does not exist. */
export interface TopicPartitionsLookup {
  partitionCount(topic: string): number | undefined;
}

export interface HeartbeatRequest {
  memberId?: string;
  /** 0 joins, -1 leaves, otherwise the member's current epoch. */
  memberEpoch: number;
  /** On join, and whenever they change; otherwise unchanged. */
  subscribedTopics?: string[];
  clientId?: string;
  /** What the member holds after acting on the last answer; leaving out revoked partitions acknowledges their revocation. */
  ownedTopicPartitions?: Array<{ topic: string; partitions: number[] }>;
}

export interface CommitOffsetsRequest {
  memberId?: string;
  memberEpoch?: number;
  offsets: Array<TopicPartition & { offset: number; metadata?: string }>;
}

export interface GroupCoordinatorOptions {
  store: OffsetsStore;
  topics: TopicPartitionsLookup;
  numOffsetsPartitions: number;
  sessionTimeoutMs?: number;
  /** Longest a member may take to acknowledge a revocation before it is removed (Kafka's rebalance timeout). */
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  now?: () => number;
  logger?: GroupLogger;
}

/**
 * The group coordinator of one broker (Kafka's GroupCoordinatorService): a group belongs to partition
 * partitionFor(groupId) of __consumer_offsets, and the leader of that partition coordinates it. Each
 * partition this broker leads is a shard holding its groups, rebuilt from the partition's records when
 * leadership arrives; every call for a group whose partition is not loaded here answers NOT_COORDINATOR
 * (or COORDINATOR_LOAD_IN_PROGRESS while it loads), with the partition, so the caller can route it.
 */
export class GroupCoordinator {
  private readonly shards = new Map<number, GroupCoordinatorShard>();
  private readonly loading = new Set<number>();
  private readonly context: CoordinatorContext;
  private readonly numOffsetsPartitions: number;

  constructor(opts: GroupCoordinatorOptions) {
    if (!Number.isInteger(opts.numOffsetsPartitions) || opts.numOffsetsPartitions < 1) {
      throw new RangeError(`numOffsetsPartitions must be a positive integer, not ${opts.numOffsetsPartitions}`);
    }
    this.numOffsetsPartitions = opts.numOffsetsPartitions;
    this.context = {
      store: opts.store,
      topics: opts.topics,
      assignor: new UniformAssignor(),
      now: opts.now ?? Date.now,
      sessionTimeoutMs: opts.sessionTimeoutMs ?? 10_000,
      rebalanceTimeoutMs: opts.rebalanceTimeoutMs ?? 60_000,
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 1_000,
      logger: opts.logger,
      topicsVersion: 0,
    };
  }

  /** Kafka's `Utils.abs(groupId.hashCode()) % numOffsetsPartitions`, so groups land where Kafka puts them. */
  static partitionFor(groupId: string, numOffsetsPartitions: number): number {
    const h = javaStringHashCode(groupId);
    return (h === -0x80000000 ? 0 : Math.abs(h)) % numOffsetsPartitions;
  }

  /** Calls for groups of `p` answer COORDINATOR_LOAD_IN_PROGRESS until loadPartition(p) (or unloadPartition(p)). */
  markLoading(p: number): void {
    this.shards.delete(p);
    this.loading.add(p);
  }

  /** This broker became leader of offsets partition p: rebuilds every group mapped to p from its records (in order), then serves them. */
  loadPartition(p: number, records: Iterable<OffsetsRecord>): void {
    const shard = new GroupCoordinatorShard(p, this.context);
    let skipped = 0;
    for (const record of records) {
      const decoded = decodeOffsetsRecord(record);
      if (decoded) shard.replay(decoded);
      else skipped++;
    }
    if (skipped > 0) this.context.logger?.warn({ partition: p, skipped }, 'skipped records of __consumer_offsets this version does not understand');
    this.shards.set(p, shard);
    this.loading.delete(p);
  }

  /** This broker stopped leading p: forgets its groups (members must find the new coordinator). */
  unloadPartition(p: number): void {
    this.shards.delete(p);
    this.loading.delete(p);
  }

  isLoaded(p: number): boolean {
    return this.shards.has(p);
  }

  heartbeat(groupId: string, req: HeartbeatRequest): GroupHeartbeatResponse {
    return this.shardFor(groupId).heartbeat(groupId, req);
  }

  /** Persists through the store (acks=all); memory changes only once the records are committed. */
  async commitOffsets(groupId: string, req: CommitOffsetsRequest): Promise<void> {
    await this.shardFor(groupId).commitOffsets(groupId, req);
  }

  /** Committed offsets only; partitions without a commit are left out. */
  fetchOffsets(groupId: string, partitions?: TopicPartition[]): CommittedOffset[] {
    return this.shardFor(groupId).fetchOffsets(groupId, partitions);
  }

  /** The topics a reset covers unless it names one: those with committed offsets. GROUP_NOT_EMPTY while the group has members. */
  resettableTopics(groupId: string): string[] {
    return this.shardFor(groupId).resettableTopics(groupId);
  }

  /** Admin reset, only while the group has no members (else GROUP_NOT_EMPTY). */
  async resetOffsets(groupId: string, offsets: Array<TopicPartition & { offset: number }>): Promise<void> {
    await this.shardFor(groupId).resetOffsets(groupId, offsets);
  }

  /** Writes tombstones for the group's offsets; GROUP_NOT_EMPTY while it has members. */
  async deleteGroup(groupId: string): Promise<void> {
    await this.shardFor(groupId).deleteGroup(groupId);
  }

  /** The groups of every partition loaded here. */
  listGroups(): GroupListing[] {
    return [...this.shards.values()].flatMap((s) => s.listGroups());
  }

  /** UNKNOWN_GROUP when the group has neither members nor committed offsets here. */
  describeGroup(groupId: string): GroupDescription {
    return this.shardFor(groupId).describeGroup(groupId);
  }

  /** Removes members whose session expired or that did not revoke in time; their partitions go to the others. */
  expireMembers(now: number = this.context.now()): void {
    for (const shard of this.shards.values()) shard.expireMembers(now);
  }

  /** Topic metadata changed: each group checks its subscribed topics' partition counts at its next heartbeat. */
  onTopicsChanged(): void {
    this.context.topicsVersion++;
  }

  private shardFor(groupId: string): GroupCoordinatorShard {
    if (typeof groupId !== 'string' || groupId.length === 0) throw new BrookError('INVALID_REQUEST', 'a group id must be a non-empty string');
    const p = GroupCoordinator.partitionFor(groupId, this.numOffsetsPartitions);
    const shard = this.shards.get(p);
    if (shard) return shard;
    if (this.loading.has(p)) {
      throw new BrookError('COORDINATOR_LOAD_IN_PROGRESS', `the groups of __consumer_offsets-${p} are loading; retry shortly`, { group: groupId, partition: p });
    }
    throw new BrookError('NOT_COORDINATOR', `this broker does not coordinate group ${groupId} (__consumer_offsets-${p})`, { group: groupId, partition: p });
  }
}

/** Java's String.hashCode: s[0]*31^(n-1) + ... + s[n-1] over UTF-16 code units, in 32-bit two's complement. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}
