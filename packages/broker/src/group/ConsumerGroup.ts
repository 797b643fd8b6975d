import { sameAssignment, toTopicPartitions, type Assignment } from './Assignment';
import type { ConsumerGroupMember } from './ConsumerGroupMember';
import type { OffsetCommitValue } from './OffsetsRecordCodec';
import type { UniformAssignor } from './UniformAssignor';

export type ConsumerGroupState = 'Empty' | 'Reconciling' | 'Stable';

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
  /** The member that holds each partition now, by topic (Kafka's current partition epochs). */
  private readonly owners = new Map<string, Map<number, string>>();

  constructor(readonly groupId: string) {}

  get state(): ConsumerGroupState {
    if (this.members.size === 0) return 'Empty';
    for (const m of this.members.values()) {
      if (m.memberEpoch !== this.assignmentEpoch || !sameAssignment(m.assignment, this.targetOf(m.memberId))) return 'Reconciling';
    }
    return 'Stable';
  }

  /** Removes a member; its partitions are free at once for the members the target gives them to. */
  removeMember(memberId: string): void {
    const member = this.members.get(memberId);
    if (!member) return;
    for (const [topic, partitions] of member.assignment) for (const p of partitions) this.owners.get(topic)?.delete(p);
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
   * Brings a member to the target assignment at its heartbeat. Simplified KIP-848: the answer to this
   * heartbeat revokes what the target took away (no round trip in which the member confirms it), so those
   * partitions are free at once. A partition the target gives it while another member still holds it is
   * held back until that member's own heartbeat has released it (Kafka's unreleased partitions), so no
   * two members are told they own the same partition; the member gets it on a later heartbeat.
   */
  reconcile(member: ConsumerGroupMember): void {
    const target = this.targetOf(member.memberId);
    for (const [topic, partitions] of member.assignment) {
      for (const p of partitions) {
        if (target.get(topic)?.has(p)) continue;
        partitions.delete(p);
        this.owners.get(topic)?.delete(p);
      }
    }
    for (const [topic, partitions] of target) {
      let owners = this.owners.get(topic);
      if (!owners) this.owners.set(topic, (owners = new Map()));
      let assigned = member.assignment.get(topic);
      if (!assigned) member.assignment.set(topic, (assigned = new Set()));
      for (const p of partitions) {
        if (owners.has(p)) continue;
        owners.set(p, member.memberId);
        assigned.add(p);
      }
    }
    member.memberEpoch = this.assignmentEpoch;
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
    }));
  }
}
