import { BrookError, groupByTopic, type GroupHeartbeatResponse, type TopicPartition } from '@brook/types';
import type { BrokerConnections } from './BrokerConnections';
import { partitionKey, type TopicPartitionOffset } from './SubscriptionState';

/** What the membership asks of its consumer; each call finishes before the next heartbeat is sent. */
export interface MembershipListener {
  /** The coordinator's assignment (every partition the member owns now). */
  onAssignment(assignment: TopicPartition[]): Promise<void>;
  /** The coordinator no longer knows this member (session expired, or fenced): its partitions are gone. */
  onLost(): Promise<void>;
}

/** Errors after which the request goes to another broker, after a short wait. */
const RETRY_ELSEWHERE = new Set(['NOT_COORDINATOR', 'COORDINATOR_LOAD_IN_PROGRESS', 'BROKER_NOT_AVAILABLE', 'REQUEST_TIMED_OUT', 'LEADER_NOT_AVAILABLE']);
const RETRY_BACKOFF_MS = 100;

/**
 * A consumer's membership of its group, in the KIP-848 protocol of Brook's coordinator: heartbeats carry
 * the subscription on joining and the member epoch afterwards; each answer carries the whole assignment,
 * which the listener reconciles before the next heartbeat is sent. Each heartbeat reports the partitions
 * the listener holds, so one that no longer lists revoked partitions acknowledges their revocation: only
 * then does the coordinator give them to another member. Any broker passes the requests to the group's
 * coordinator. Also commits and reads the group's offsets.
 */
export class ConsumerGroupMembership {
  memberId: string | undefined;
  /** 0 while joining; the coordinator's epoch for this member once joined. */
  memberEpoch = 0;
  private topics: string[] = [];
  /** What the listener holds after acting on the last answer. */
  private owned: TopicPartition[] = [];
  private heartbeatIntervalMs = 1000;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** The subscription goes out with the next heartbeat (joining, or after it changed). */
  private sendSubscription = true;
  private immediate = false;
  private beating: Promise<void> | undefined;
  /** Wakes the pause between two heartbeats. */
  private wake: (() => void) | undefined;

  constructor(
    readonly groupId: string,
    private readonly clientId: string,
    private readonly connections: BrokerConnections,
    private readonly listener: MembershipListener,
  ) {}

  get joined(): boolean {
    return this.memberId !== undefined && this.memberEpoch > 0;
  }

  /** Joins with `topics` (or changes the subscription) and keeps heartbeating; resolves after the first answer. */
  async subscribe(topics: string[]): Promise<void> {
    this.topics = [...new Set(topics)].sort();
    this.sendSubscription = true;
    if (this.running) {
      this.heartbeatNow();
      return;
    }
    this.running = true;
    try {
      await this.heartbeat();
    } catch (err) {
      this.running = false;
      throw err;
    }
    this.beating = this.loop();
  }

  /** Sends the next heartbeat now rather than at the interval. */
  heartbeatNow(): void {
    this.immediate = true;
    this.wake?.();
  }

  /** Stops heartbeating, once the heartbeat in flight (if any) is answered; the member stays in the group until leave(). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.beating;
  }

  /** Stops heartbeating and leaves the group (memberEpoch -1): its partitions go to the others at once. */
  async leave(): Promise<void> {
    await this.stop();
    if (!this.memberId) return;
    try {
      await this.groupRequest((c) => c.post(this.path('/heartbeat'), { memberId: this.memberId, memberEpoch: -1 }));
    } catch (err) {
      // Unknown already (expired): nothing to leave.
      if (!(err instanceof BrookError) || err.code !== 'UNKNOWN_MEMBER_ID') throw err;
    } finally {
      this.memberId = undefined;
      this.memberEpoch = 0;
      this.owned = [];
    }
  }

  /** Commits offsets, as this member when it is one (else the group must have no members). */
  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const member = this.joined ? { memberId: this.memberId, memberEpoch: this.memberEpoch } : {};
    await this.groupRequest((c) => c.post(this.path('/offsets'), { ...member, offsets }));
  }

  /** The group's committed offsets (partitions without a commit are left out). */
  async committed(): Promise<TopicPartitionOffset[]> {
    const { offsets } = await this.groupRequest((c) => c.get<{ offsets: TopicPartitionOffset[] }>(this.path('/offsets')));
    return offsets;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      if (!this.immediate) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, this.heartbeatIntervalMs);
        });
        clearTimeout(this.timer);
        this.wake = undefined;
      }
      this.immediate = false;
      if (!this.running) return;
      await this.heartbeat().catch(() => undefined); // retried at the next interval
    }
  }

  private async heartbeat(): Promise<void> {
    const withSubscription = this.sendSubscription || this.memberEpoch === 0;
    const topics = this.topics;
    const body = {
      memberId: this.memberId,
      memberEpoch: this.memberEpoch,
      ...(withSubscription ? { subscribedTopics: topics, clientId: this.clientId } : {}),
      ownedTopicPartitions: groupByTopic(this.owned),
    };
    let answer: GroupHeartbeatResponse;
    try {
      answer = await this.groupRequest((c) => c.post<GroupHeartbeatResponse>(this.path('/heartbeat'), body));
    } catch (err) {
      if (err instanceof BrookError && (err.code === 'UNKNOWN_MEMBER_ID' || err.code === 'FENCED_MEMBER_EPOCH')) {
        // Its partitions may be someone else's already: give them up without committing, and join again.
        if (err.code === 'UNKNOWN_MEMBER_ID') this.memberId = undefined;
        this.memberEpoch = 0;
        await this.listener.onLost();
        this.owned = [];
        this.immediate = true;
      }
      throw err;
    }
    if (withSubscription && topics === this.topics) this.sendSubscription = false; // unless it changed meanwhile
    this.memberId = answer.memberId;
    this.memberEpoch = answer.memberEpoch;
    this.heartbeatIntervalMs = answer.heartbeatIntervalMs;
    if (!this.running) return; // stopped meanwhile: the epoch is kept for the last commit, the assignment is not acted on
    const assignment = answer.assignment.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })));
    await this.listener.onAssignment(assignment);
    // Revoked partitions wait for the next heartbeat to acknowledge them: sent at once, so their next owner gets them sooner.
    const kept = new Set(assignment.map((tp) => partitionKey(tp.topic, tp.partition)));
    if (this.owned.some((tp) => !kept.has(partitionKey(tp.topic, tp.partition)))) this.immediate = true;
    this.owned = assignment;
  }

  /** Sends a group request to some broker, moving on to another one while it is not the right one or unreachable. */
  private async groupRequest<T>(send: (client: ReturnType<BrokerConnections['any']>) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await send(this.connections.any());
      } catch (err) {
        if (!(err instanceof BrookError) || !RETRY_ELSEWHERE.has(err.code) || attempt >= 20) throw err;
        this.connections.rotate();
        await new Promise((r) => setTimeout(r, RETRY_BACKOFF_MS));
      }
    }
  }

  private path(rest: string): string {
    return `/groups/${encodeURIComponent(this.groupId)}${rest}`;
  }
}
