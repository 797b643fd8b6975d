import type { Assignment } from './Assignment';

/** One member of a consumer group, as its coordinator knows it (Kafka's ConsumerGroupMember). */
export class ConsumerGroupMember {
  /** 0 until the member first reconciles; then the assignment epoch its assignment belongs to. */
  memberEpoch = 0;
  /** The partitions the member was last told it owns. */
  readonly assignment: Assignment = new Map();

  constructor(
    readonly memberId: string,
    public clientId: string,
    /** Sorted and without duplicates, so a changed subscription is a changed list. */
    public subscribedTopics: string[],
    public lastHeartbeatMs: number,
  ) {}
}
