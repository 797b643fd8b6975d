import type { ConsumerGroupState } from '@brook/types';
import { addPartition, overlaps, sameAssignment, toTopicPartitions, type Assignment } from './Assignment';
import type { ConsumerGroupMember } from './ConsumerGroupMember';
import type { OffsetCommitValue } from './OffsetsRecordCodec';
import type { UniformAssignor } from './UniformAssignor';

/**
 * A consumer group on its coordinator (Kafka's ConsumerGroup): members, the target assignment computed
 * for them, and the group's committed offsets.
 *
 * Epochs as in KIP-848: the group epoch counts changes of membership, subscriptions and the subscribed
 * topics' partition counts; the target assignment is recomputed at each one and carries that epoch as
 * the assignment epoch; a member takes the assignment epoch when it reconciles with the target.
 */
export class ConsumerGroup {
  groupEpoch = 0;
  assignmentEpoch = 0;
  /** In join order. */
  readonly members = new Map<string, ConsumerGroupMember>();
  /** The version of the broker's topic metadata the target was last checked against. */
  topicsVersion = -1;
  /** Committed offsets by topic and partition: the latest record of each key of __consumer_offsets. */
  readonly offsets = new Map<string, Map<number, OffsetCommitValue>>();
  private targetAssignment = new Map<string, Assignment>();
  /** Partition counts of the subscribed topics the target was computed from (Kafka's subscription metadata). */
  private subscriptionMetadata = new Map<string, number>();
  /** The member that holds each partition now, pending revocation included, by topic (Kafka's current partition epochs). */
  private readonly owners = new Map<string, Map<number, string>>();

  constructor(readonly groupId: string) {}

  get state(): ConsumerGroupState {
    if (this.members.size === 0) return 'Empty';
    for (const m of this.members.values()) {
      if (m.revoking || m.memberEpoch !== this.assignmentEpoch || !sameAssignment(m.assignment, this.targetOf(m.memberId))) return 'Reconciling';
    }
    return 'Stable';
  }

  /** Removes a member; what it held, pending revocation included, is free at once for the members the target gives it to. */
  removeMember(memberId: string): void {
    const member = this.members.get(memberId);
    if (!member) return;
    this.release(memberId, member.assignment);
    this.release(memberId, member.partitionsPendingRevocation);
    this.members.delete(memberId);
  }

  /**
   * Bumps the group epoch and recomputes the target assignment when `membershipChanged` (a member joined,
   * left or changed its subscription) or when the subscribed topics' partition counts differ from those
   * the target was computed from. Topics that do not exist stay subscribed and count for nothing.
   */
  updateTargetAssignment(assignor: UniformAssignor, partitionCount: (topic: string) => number | undefined, membershipChanged: boolean): void {
    const metadata = new Map<string, number>();
    for (const m of this.members.values()) {
      for (const topic of m.subscribedTopics) {
        const n = partitionCount(topic);
        if (n !== undefined) metadata.set(topic, n);
      }
    }
    const sameMetadata = metadata.size === this.subscriptionMetadata.size && [...metadata].every(([t, n]) => this.subscriptionMetadata.get(t) === n);
    if (!membershipChanged && sameMetadata) return;
    this.groupEpoch++;
    this.subscriptionMetadata = metadata;
    const subscriptions = new Map([...this.members].map(([id, m]) => [id, m.subscribedTopics]));
    this.targetAssignment = assignor.assign(subscriptions, metadata, this.targetAssignment);
    this.assignmentEpoch = this.groupEpoch;
  }

  /**
   * Moves a member towards the target assignment at its heartbeat (KIP-848's CurrentAssignmentBuilder).
   * `owned` is what the member reports holding, undefined when its heartbeat does not say.
   *
   * Partitions the target took away are revoked first: the answer leaves them out, but they stay the
   * member's (pending revocation, member epoch unchanged) until it acknowledges, so their next owner
   * starts from what this one committed. A heartbeat acknowledges by reporting owned partitions without
   * them; one that reports nothing acknowledges by itself (clients that cannot report, like curl, act on
   * an answer before heartbeating again). Then they are released and the member moves to a new epoch.
   * A partition the target gives a member while another still holds it is held back until that one
   * released it (Kafka's unreleased partitions), so no partition ever has two owners.
   */
  reconcile(member: ConsumerGroupMember, owned: Assignment | undefined, now: number): void {
    if (!member.revoking) {
      this.computeNextAssignment(member, member.memberEpoch, owned, now);
      return;
    }
    if (owned && overlaps(owned, member.partitionsPendingRevocation)) return; // not done yet
    this.release(member.memberId, member.partitionsPendingRevocation);
    member.partitionsPendingRevocation.clear();
    // A fresh epoch even when the target moved on meanwhile and more must be revoked (as Kafka does).
    this.computeNextAssignment(member, member.memberEpoch + 1, owned, now);
  }

  private computeNextAssignment(member: ConsumerGroupMember, memberEpoch: number, owned: Assignment | undefined, now: number): void {
    const target = this.targetOf(member.memberId);
    const revoked: Assignment = new Map();
    for (const [topic, partitions] of member.assignment) {
      for (const p of partitions) {
        if (target.get(topic)?.has(p)) continue;
        partitions.delete(p);
        addPartition(revoked, topic, p);
      }
    }
    if (revoked.size > 0 && (!owned || overlaps(owned, revoked))) {
      for (const [topic, partitions] of revoked) for (const p of partitions) addPartition(member.partitionsPendingRevocation, topic, p);
      member.revocationRequestedMs = now;
      setMemberEpoch(member, memberEpoch);
      return;
    }
    this.release(member.memberId, revoked); // the member reports it gave them up already
    for (const [topic, partitions] of target) {
      let owners = this.owners.get(topic);
      if (!owners) this.owners.set(topic, (owners = new Map()));
      for (const p of partitions) {
        if (owners.has(p)) continue; // its own already, or another's until released
        owners.set(p, member.memberId);
        addPartition(member.assignment, topic, p);
      }
    }
    setMemberEpoch(member, this.assignmentEpoch);
  }

  /** Frees the partitions that `memberId` holds among `partitions`. */
  private release(memberId: string, partitions: Assignment): void {
    for (const [topic, ps] of partitions) {
      const owners = this.owners.get(topic);
      for (const p of ps) if (owners?.get(p) === memberId) owners.delete(p);
    }
  }

  private targetOf(memberId: string): Assignment {
    return this.targetAssignment.get(memberId) ?? new Map();
  }

  setOffset(topic: string, partition: number, value: OffsetCommitValue | null): void {
    let byPartition = this.offsets.get(topic);
    if (value === null) {
      byPartition?.delete(partition);
      if (byPartition?.size === 0) this.offsets.delete(topic);
      return;
    }
    if (!byPartition) this.offsets.set(topic, (byPartition = new Map()));
    byPartition.set(partition, value);
  }

  /** Committed offsets, by topic and partition. */
  listOffsets(): Array<{ topic: string; partition: number; offset: number; metadata: string }> {
    return [...this.offsets]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([topic, byPartition]) =>
        [...byPartition].sort(([a], [b]) => a - b).map(([partition, v]) => ({ topic, partition, offset: v.offset, metadata: v.metadata })),
      );
  }

  describeMembers() {
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      memberEpoch: m.memberEpoch,
      subscribedTopics: [...m.subscribedTopics],
      assignment: toTopicPartitions(m.assignment),
      partitionsPendingRevocation: toTopicPartitions(m.partitionsPendingRevocation),
    }));
  }
}

function setMemberEpoch(member: ConsumerGroupMember, epoch: number): void {
  if (epoch === member.memberEpoch) return;
  member.previousMemberEpoch = member.memberEpoch;
  member.memberEpoch = epoch;
}
