import { randomUUID } from 'node:crypto';
import { BrookError, type CommittedOffset, type GroupDescription, type GroupHeartbeatResponse, type GroupListing, type TopicPartition } from '@brook/types';
import { fromTopicPartitions, isSubset, toTopicPartitions, type Assignment } from './Assignment';
import { ConsumerGroup } from './ConsumerGroup';
import { ConsumerGroupMember } from './ConsumerGroupMember';
import type { CommitOffsetsRequest, HeartbeatRequest, TopicPartitionsLookup } from './GroupCoordinator';
import { encodeOffsetCommit, type OffsetCommitRecord } from './OffsetsRecordCodec';
import type { OffsetsStore } from './OffsetsStore';
import type { UniformAssignor } from './UniformAssignor';

/** The pino methods the coordinator logs with. */
export interface GroupLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** What every shard of one coordinator shares. */
export interface CoordinatorContext {
  readonly store: OffsetsStore;
  readonly topics: TopicPartitionsLookup;
  readonly assignor: UniformAssignor;
  readonly now: () => number;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly logger: GroupLogger | undefined;
  /** Bumped when topic metadata changes; a group compares it with the version its target was checked against. */
  topicsVersion: number;
}

/**
 * The groups of one __consumer_offsets partition that this broker leads (Kafka's GroupCoordinatorShard,
 * with the work of its GroupMetadataManager and OffsetMetadataManager). Membership lives in memory only;
 * committed offsets are in memory as the replay of the partition's records, written before they apply.
 */
export class GroupCoordinatorShard {
  private readonly groups = new Map<string, ConsumerGroup>();
  /** Settles once every write issued so far has been applied to memory or has failed. */
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(
    readonly partition: number,
    private readonly ctx: CoordinatorContext,
  ) {}

  /**
   * Applies one record, in log order: while loading, and after each write of this shard. A tombstone that
   * leaves a group without members and offsets removes the group.
   */
  replay({ group: groupId, topic, partition, value }: OffsetCommitRecord): void {
    let group = this.groups.get(groupId);
    if (!group) {
      if (value === null) return;
      this.groups.set(groupId, (group = new ConsumerGroup(groupId)));
    }
    group.setOffset(topic, partition, value);
    if (group.members.size === 0 && group.offsets.size === 0) this.groups.delete(groupId);
  }

  /** KIP-848 ConsumerGroupHeartbeat: join (epoch 0), leave (epoch -1), or heartbeat at the member's epoch. */
  heartbeat(groupId: string, req: HeartbeatRequest): GroupHeartbeatResponse {
    const { memberId, memberEpoch } = req;
    if (!Number.isInteger(memberEpoch) || memberEpoch < -1) {
      throw new BrookError('INVALID_REQUEST', `memberEpoch must be 0 (join), -1 (leave) or the member's epoch, not ${memberEpoch}`);
    }
    if (memberEpoch !== 0 && !memberId) throw new BrookError('INVALID_REQUEST', 'memberId is required unless joining (memberEpoch 0)');
    const subscribed = req.subscribedTopics && normalizeTopics(req.subscribedTopics);
    if (memberEpoch === -1) return this.leave(groupId, memberId!);
    const owned = req.ownedTopicPartitions && ownedAssignment(req.ownedTopicPartitions);

    const now = this.ctx.now();
    let group = this.groups.get(groupId);
    let member = memberId ? group?.members.get(memberId) : undefined;
    let membershipChanged = false;
    if (memberEpoch === 0) {
      if (!subscribed) throw new BrookError('INVALID_REQUEST', 'subscribedTopics is required to join (memberEpoch 0)');
      if (!group) this.groups.set(groupId, (group = new ConsumerGroup(groupId)));
      // A known member rejoining (after FENCED_MEMBER_EPOCH, say) keeps its identity and what it holds.
      if (!member) {
        member = new ConsumerGroupMember(memberId || randomUUID(), req.clientId ?? '', subscribed, now);
        group.members.set(member.memberId, member);
        membershipChanged = true;
        this.ctx.logger?.info({ group: groupId, member: member.memberId, clientId: member.clientId }, 'member joined');
      }
    } else {
      if (!group || !member) throw unknownMember(groupId, memberId!);
      // As in Kafka, the previous epoch is accepted from a member that owns no more than it was given
      // since: the answer that moved it on was lost. Any other epoch is fenced, and the member rejoins.
      const answerLost = memberEpoch === member.previousMemberEpoch && owned !== undefined && isSubset(owned, member.assignment);
      if (memberEpoch !== member.memberEpoch && !answerLost) {
        throw new BrookError('FENCED_MEMBER_EPOCH', `member ${member.memberId} of group ${groupId} is at epoch ${member.memberEpoch}, not ${memberEpoch}; rejoin with epoch 0`, {
          group: groupId,
          memberId: member.memberId,
          memberEpoch: member.memberEpoch,
        });
      }
    }
    member.lastHeartbeatMs = now;
    if (req.clientId !== undefined) member.clientId = req.clientId;
    if (subscribed && !sameList(subscribed, member.subscribedTopics)) {
      member.subscribedTopics = subscribed;
      membershipChanged = true;
    }
    if (membershipChanged || group.topicsVersion !== this.ctx.topicsVersion) this.updateTarget(group, membershipChanged);
    group.reconcile(member, owned, now);
    return { memberId: member.memberId, memberEpoch: member.memberEpoch, heartbeatIntervalMs: this.ctx.heartbeatIntervalMs, assignment: toTopicPartitions(member.assignment) };
  }

  /**
   * Removes every member whose session expired, or that has not acknowledged a revocation within the
   * rebalance timeout (Kafka fences it the same way); the target gives their partitions to the others.
   */
  expireMembers(now: number): void {
    for (const group of this.groups.values()) {
      const expired = [...group.members.values()].filter(
        (m) => now - m.lastHeartbeatMs >= this.ctx.sessionTimeoutMs || (m.revoking && now - m.revocationRequestedMs >= this.ctx.rebalanceTimeoutMs),
      );
      for (const m of expired) {
        group.removeMember(m.memberId);
        const silentMs = now - m.lastHeartbeatMs;
        if (silentMs >= this.ctx.sessionTimeoutMs) this.ctx.logger?.info({ group: group.groupId, member: m.memberId, silentMs }, 'member session expired');
        else this.ctx.logger?.info({ group: group.groupId, member: m.memberId, revokingMs: now - m.revocationRequestedMs }, 'member did not revoke within the rebalance timeout');
      }
      if (expired.length > 0) this.updateTarget(group, true);
    }
  }

  /**
   * OffsetCommit. A member's commit must carry its current epoch (KIP-848 checks the epoch, not which
   * partitions it owns); a commit without a member (admin, simple consumers) only while the group has none.
   */
  async commitOffsets(groupId: string, req: CommitOffsetsRequest): Promise<void> {
    const group = this.groups.get(groupId);
    if (req.memberId !== undefined || req.memberEpoch !== undefined) {
      if (!req.memberId || req.memberEpoch === undefined) throw new BrookError('INVALID_REQUEST', 'a member commits with both memberId and memberEpoch');
      const member = group?.members.get(req.memberId);
      if (!member) throw unknownMember(groupId, req.memberId);
      if (req.memberEpoch !== member.memberEpoch) {
        throw new BrookError('STALE_MEMBER_EPOCH', `member ${member.memberId} of group ${groupId} is at epoch ${member.memberEpoch}, not ${req.memberEpoch}`, {
          group: groupId,
          memberId: member.memberId,
          memberEpoch: member.memberEpoch,
        });
      }
    } else {
      this.checkNoMembers(group, 'commit offsets without a memberId');
    }
    const commitTimestamp = this.ctx.now();
    await this.write(
      req.offsets.map((o) => {
        this.checkOffset(o);
        return { group: groupId, topic: o.topic, partition: o.partition, value: { offset: o.offset, metadata: o.metadata ?? '', commitTimestamp } };
      }),
    );
  }

  /** Committed offsets of the group (all, or those of `partitions` that have one). */
  fetchOffsets(groupId: string, partitions?: TopicPartition[]): CommittedOffset[] {
    const group = this.groups.get(groupId);
    if (!group) return [];
    if (!partitions) return group.listOffsets();
    return partitions.flatMap(({ topic, partition }) => {
      const v = group.offsets.get(topic)?.get(partition);
      return v ? [{ topic, partition, offset: v.offset, metadata: v.metadata }] : [];
    });
  }

  resettableTopics(groupId: string): string[] {
    const group = this.groups.get(groupId);
    this.checkNoMembers(group, 'reset offsets');
    return [...(group?.offsets.keys() ?? [])].sort();
  }

  /** Sets committed offsets by hand; members would overwrite them, so only while the group has none. */
  async resetOffsets(groupId: string, offsets: Array<TopicPartition & { offset: number }>): Promise<void> {
    this.checkNoMembers(this.groups.get(groupId), 'reset offsets');
    const commitTimestamp = this.ctx.now();
    await this.write(
      offsets.map((o) => {
        this.checkOffset(o);
        return { group: groupId, topic: o.topic, partition: o.partition, value: { offset: o.offset, metadata: '', commitTimestamp } };
      }),
    );
  }

  /** Deletes a group without members: tombstones for its offsets, then it is gone. */
  async deleteGroup(groupId: string): Promise<void> {
    const group = this.requireGroup(groupId);
    this.checkNoMembers(group, 'delete the group');
    const tombstones = group.listOffsets().map(({ topic, partition }) => ({ group: groupId, topic, partition, value: null }));
    if (tombstones.length === 0) this.groups.delete(groupId);
    else await this.write(tombstones);
  }

  describeGroup(groupId: string): GroupDescription {
    const group = this.requireGroup(groupId);
    return {
      groupId,
      state: group.state,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      members: group.describeMembers(),
      offsets: group.listOffsets(),
    };
  }

  listGroups(): GroupListing[] {
    return [...this.groups.values()].map((g) => ({ groupId: g.groupId, state: g.state, members: g.members.size }));
  }

  private leave(groupId: string, memberId: string): GroupHeartbeatResponse {
    const group = this.groups.get(groupId);
    if (!group?.members.has(memberId)) throw unknownMember(groupId, memberId);
    group.removeMember(memberId);
    this.ctx.logger?.info({ group: groupId, member: memberId }, 'member left');
    this.updateTarget(group, true);
    return { memberId, memberEpoch: -1, heartbeatIntervalMs: this.ctx.heartbeatIntervalMs, assignment: [] };
  }

  private updateTarget(group: ConsumerGroup, membershipChanged: boolean): void {
    group.updateTargetAssignment(this.ctx.assignor, (topic) => this.ctx.topics.partitionCount(topic), membershipChanged);
    group.topicsVersion = this.ctx.topicsVersion;
  }

  /**
   * Appends records, then applies them to memory. Appends reach the log in call order, and each write
   * applies only after every earlier one has applied or failed, so memory replays the log in its order
   * even when acknowledgements arrive out of order. A failed write changes nothing in memory.
   */
  private write(records: OffsetCommitRecord[]): Promise<void> {
    const appended = records.length > 0 ? this.ctx.store.append(this.partition, records.map(encodeOffsetCommit)) : Promise.resolve();
    appended.catch(() => undefined); // reported through `applied`, once the writes before it are done
    const applied = this.lastWrite.then(() => appended).then(() => records.forEach((r) => this.replay(r)));
    this.lastWrite = applied.catch(() => undefined);
    return applied;
  }

  private requireGroup(groupId: string): ConsumerGroup {
    const group = this.groups.get(groupId);
    if (!group) throw new BrookError('UNKNOWN_GROUP', `group ${groupId} does not exist`, { group: groupId });
    return group;
  }

  private checkNoMembers(group: ConsumerGroup | undefined, what: string): void {
    if (group && group.members.size > 0) {
      throw new BrookError('GROUP_NOT_EMPTY', `cannot ${what} of group ${group.groupId} while it has ${group.members.size} members`, {
        group: group.groupId,
        members: group.members.size,
      });
    }
  }

  private checkOffset({ topic, partition, offset }: TopicPartition & { offset: number }): void {
    const n = this.ctx.topics.partitionCount(topic);
    if (n === undefined) throw new BrookError('UNKNOWN_TOPIC', `topic ${topic} does not exist`, { topic });
    if (!Number.isInteger(partition) || partition < 0 || partition >= n) {
      throw new BrookError('UNKNOWN_PARTITION', `topic ${topic} has no partition ${partition} (it has ${n})`, { topic, partition });
    }
    if (!Number.isInteger(offset) || offset < 0) throw new BrookError('INVALID_OFFSET', `offset ${offset} for ${topic}-${partition} must be an integer >= 0`, { topic, partition, offset });
  }
}

function unknownMember(groupId: string, memberId: string): BrookError {
  return new BrookError('UNKNOWN_MEMBER_ID', `group ${groupId} has no member ${memberId}; join with memberEpoch 0`, { group: groupId, memberId });
}

/** The member's owned partitions, when its heartbeat reports them. */
function ownedAssignment(list: Array<{ topic: string; partitions: number[] }>): Assignment {
  if (!Array.isArray(list) || list.some((t) => typeof t?.topic !== 'string' || !Array.isArray(t.partitions) || t.partitions.some((p) => !Number.isInteger(p) || p < 0))) {
    throw new BrookError('INVALID_REQUEST', 'ownedTopicPartitions must be a list of {topic, partitions}');
  }
  return fromTopicPartitions(list);
}

function normalizeTopics(topics: string[]): string[] {
  if (!Array.isArray(topics) || topics.some((t) => typeof t !== 'string' || t.length === 0)) {
    throw new BrookError('INVALID_REQUEST', 'subscribedTopics must be a list of topic names');
  }
  return [...new Set(topics)].sort();
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
