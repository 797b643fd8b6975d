import type { Assignment } from './Assignment';

/** One member of a consumer group, as its coordinator knows it (Kafka's ConsumerGroupMember). */
export class ConsumerGroupMember {
  /** 0 until the member first reconciles; then the epoch of the assignment it was last given. */
  memberEpoch = 0;
  /** The epoch before the last change, still accepted from a member whose last answer was lost. */
  previousMemberEpoch = -1;
  /** The partitions the member was last told it owns. */
  readonly assignment: Assignment = new Map();
  /**
   * Partitions the member was told to give up and has not yet acknowledged giving up (Kafka's
   * UNREVOKED_PARTITIONS state): still its own, so nobody else is given them meanwhile.
   */
  readonly partitionsPendingRevocation: Assignment = new Map();
  /** When the member was told to revoke; the rebalance timeout counts from here. */
  revocationRequestedMs = 0;

  constructor(
    readonly memberId: string,
    public clientId: string,
    /** Sorted and without duplicates, so a changed subscription is a changed list. */
    public subscribedTopics: string[],
    public lastHeartbeatMs: number,
  ) {}

  get revoking(): boolean {
    for (const partitions of this.partitionsPendingRevocation.values()) if (partitions.size > 0) return true;
    return false;
  }
}
