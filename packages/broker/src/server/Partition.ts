import { BrookError, type BrokerRegistration, type PartitionRecord } from '@brook/types';
import type { Log } from '../storage';

/** What the leader knows of one follower, from its fetches (Kafka's ReplicaState). */
interface FollowerState {
  logEndOffset: number;
  /** Last time the follower had everything the leader had. */
  lastCaughtUpTime: number;
  lastFetchLeaderLogEndOffset: number;
  lastFetchTime: number;
}

interface PendingAck {
  requiredOffset: number;
  resolve: () => void;
  reject: (err: BrookError) => void;
  timer: NodeJS.Timeout;
}

/** Proposes an ISR change to the controller (Kafka's AlterPartition); answers the accepted state or throws. */
export type IsrProposer = (partition: Partition, isr: number[]) => Promise<PartitionRecord>;

/**
 * One partition replica on this broker (Kafka's Partition). As leader it tracks its followers, moves the
 * high watermark to the smallest log end offset of the ISR, proposes ISR changes to the controller and
 * completes acks=all produces once the high watermark passes them. As follower it is fed by a
 * ReplicaFetcher. Readers never see past the high watermark.
 */
export class Partition {
  leaderId = -1;
  leaderEpoch = -1;
  partitionEpoch = -1;
  isr: number[] = [];
  replicas: number[] = [];
  minInsyncReplicas = 1;
  private highWatermarkOffset: number;
  private readonly followers = new Map<number, FollowerState>();
  /** A proposed ISR not yet accepted; the high watermark counts its additions, so it never runs ahead. */
  private pendingIsr: number[] | undefined;
  private readonly dataWaiters = new Set<() => void>();
  private readonly appendWaiters = new Set<() => void>();
  private readonly pendingAcks = new Set<PendingAck>();

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly topicId: string,
    readonly log: Log,
    private readonly localBrokerId: number,
    initialHighWatermark: number,
    private readonly proposeIsr: IsrProposer,
    private readonly now: () => number = Date.now,
  ) {
    this.highWatermarkOffset = Math.min(initialHighWatermark, log.logEndOffset);
    log.updateHighWatermark(this.highWatermarkOffset);
  }

  get isLeader(): boolean {
    return this.leaderId === this.localBrokerId;
  }

  get highWatermark(): number {
    return this.highWatermarkOffset;
  }

  /**
   * Applies the controller's state for this partition. A new leader epoch starts in the epoch cache at
   * the log end; losing leadership fails every produce still waiting for acknowledgement.
   */
  update(state: PartitionRecord, minInsyncReplicas: number): void {
    const wasLeader = this.isLeader;
    const newEpoch = state.leaderEpoch !== this.leaderEpoch;
    this.leaderId = state.leader;
    this.leaderEpoch = state.leaderEpoch;
    this.partitionEpoch = state.partitionEpoch;
    this.isr = [...state.isr];
    this.replicas = [...state.replicas];
    this.minInsyncReplicas = minInsyncReplicas;
    this.pendingIsr = undefined;
    if (this.isLeader && (!wasLeader || newEpoch)) {
      const latest = this.log.latestEpoch;
      if (latest === undefined || state.leaderEpoch > latest) this.log.assignEpochStartOffset(state.leaderEpoch, this.log.logEndOffset);
      // Every follower gets a full lag period to show it keeps up with the new leader.
      this.followers.clear();
      const now = this.now();
      for (const id of this.replicas) {
        if (id !== this.localBrokerId) {
          this.followers.set(id, { logEndOffset: -1, lastCaughtUpTime: now, lastFetchLeaderLogEndOffset: -1, lastFetchTime: now });
        }
      }
    }
    if (!this.isLeader) {
      this.followers.clear();
      this.failPendingAcks(this.notLeaderError());
      this.wakeReaders();
    } else {
      this.maybeIncrementHighWatermark();
    }
  }

  /** Checks that acks=all can be honoured before anything is appended. */
  checkEnoughReplicas(): void {
    if (this.isr.length < this.minInsyncReplicas) {
      throw new BrookError(
        'NOT_ENOUGH_REPLICAS',
        `${this.topic}-${this.partition} has ${this.isr.length} in-sync replicas, fewer than min.insync.replicas=${this.minInsyncReplicas}`,
        { topic: this.topic, partition: this.partition, isr: this.isr },
      );
    }
  }

  /** Appends batches as leader; answers with the offsets of the first and last record. */
  appendAsLeader(batches: Buffer): { firstOffset: number; lastOffset: number } {
    if (!this.isLeader) throw this.notLeaderError();
    const result = this.log.appendAsLeader(batches, this.leaderEpoch);
    for (const w of [...this.appendWaiters]) w();
    this.maybeIncrementHighWatermark();
    return result;
  }

  /**
   * Resolves once the high watermark reaches `offset` with at least min.insync.replicas in the ISR
   * (acks=all); fails if leadership is lost, the ISR falls too small, or `timeoutMs` passes.
   */
  waitForHighWatermark(offset: number, timeoutMs: number): Promise<void> {
    if (this.highWatermarkOffset >= offset && this.isr.length >= this.minInsyncReplicas) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const ack: PendingAck = {
        requiredOffset: offset,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.pendingAcks.delete(ack);
          reject(
            new BrookError('REQUEST_TIMED_OUT', `${this.topic}-${this.partition}: not acknowledged by the ISR within ${timeoutMs} ms`, {
              topic: this.topic,
              partition: this.partition,
            }),
          );
        }, timeoutMs),
      };
      this.pendingAcks.add(ack);
    });
  }

  /**
   * Raw batches for consumers, from `offset` up to the high watermark. An offset between the high
   * watermark and the log end is valid but not readable yet (a new leader's high watermark can start below
   * the old one's): it answers empty, as Kafka does. Only an offset past the log end is out of range.
   */
  read(offset: number, maxBytes: number): { records: Buffer; nextOffset: number } {
    if (!this.isLeader) throw this.notLeaderError();
    if (offset > this.log.logEndOffset) {
      throw new BrookError('OFFSET_OUT_OF_RANGE', `offset ${offset} is past the end of ${this.topic}-${this.partition}`, {
        earliest: this.log.logStartOffset,
        latest: this.highWatermarkOffset,
      });
    }
    if (offset >= this.highWatermarkOffset) return { records: Buffer.alloc(0), nextOffset: offset };
    return this.log.read(offset, { maxBytes, maxOffset: this.highWatermarkOffset });
  }

  /**
   * A follower's fetch: records its position (which may advance the high watermark and bring it back into
   * the ISR) and answers with the batches after it, up to the log end.
   */
  fetchForFollower(replicaId: number, fetchOffset: number, leaderEpoch: number, maxBytes: number): Buffer {
    this.checkFollowerEpoch(leaderEpoch);
    const follower = this.followers.get(replicaId);
    if (!follower) {
      throw new BrookError('NOT_LEADER', `broker ${replicaId} is not a replica of ${this.topic}-${this.partition}`);
    }
    const leaderEnd = this.log.logEndOffset;
    const now = this.now();
    if (fetchOffset >= leaderEnd) follower.lastCaughtUpTime = now;
    else if (fetchOffset >= follower.lastFetchLeaderLogEndOffset) follower.lastCaughtUpTime = Math.max(follower.lastCaughtUpTime, follower.lastFetchTime);
    follower.lastFetchLeaderLogEndOffset = leaderEnd;
    follower.lastFetchTime = now;
    follower.logEndOffset = fetchOffset;
    this.maybeExpandIsr(replicaId, fetchOffset);
    this.maybeIncrementHighWatermark();
    if (fetchOffset > leaderEnd) {
      throw new BrookError('OFFSET_OUT_OF_RANGE', `fetch offset ${fetchOffset} is past the leader's log end ${leaderEnd}`);
    }
    if (fetchOffset === leaderEnd) return EMPTY;
    return this.log.read(fetchOffset, { maxBytes }).records;
  }

  /** The end offset of `epoch` on this leader's log (KIP-101), for a follower deciding where to truncate. */
  endOffsetForEpoch(leaderEpoch: number, requestedEpoch: number): { epoch: number; endOffset: number } {
    this.checkFollowerEpoch(leaderEpoch);
    return this.log.endOffsetForEpoch(requestedEpoch) ?? { epoch: -1, endOffset: -1 };
  }

  /**
   * Followers that are behind and have not caught up within `maxLagMs` (Kafka's out-of-sync rule); the
   * leader then proposes the ISR without them. A follower at the leader's log end is never lagging.
   */
  maybeShrinkIsr(maxLagMs: number): void {
    if (!this.isLeader || this.pendingIsr) return;
    const now = this.now();
    const leaderEnd = this.log.logEndOffset;
    const lagging = this.isr.filter((id) => {
      const f = this.followers.get(id);
      return id !== this.localBrokerId && (!f || (f.logEndOffset !== leaderEnd && now - f.lastCaughtUpTime > maxLagMs));
    });
    if (lagging.length > 0) this.propose(this.isr.filter((id) => !lagging.includes(id)));
  }

  /** Follower side: the high watermark the leader reported, never beyond the local log end. */
  updateFollowerHighWatermark(leaderHighWatermark: number): void {
    if (this.isLeader) return;
    this.setHighWatermark(Math.min(leaderHighWatermark, this.log.logEndOffset));
  }

  /** Follower side: after truncation the high watermark cannot stay above the log end. */
  onTruncated(): void {
    this.setHighWatermark(Math.min(this.highWatermarkOffset, this.log.logEndOffset));
  }

  /** Resolves once readers may find records at or after `offset`, or after `maxWaitMs`. */
  waitForData(offset: number, maxWaitMs: number): Promise<void> {
    if (this.highWatermarkOffset > offset || maxWaitMs <= 0 || !this.isLeader) return Promise.resolve();
    return waitOn(this.dataWaiters, maxWaitMs);
  }

  /** Calls `listener` on the next append or leadership change (a follower's long poll); returns the unsubscribe. */
  onNextAppend(listener: () => void): () => void {
    this.appendWaiters.add(listener);
    return () => this.appendWaiters.delete(listener);
  }

  /**
   * Calls `listener` when the high watermark advances or leadership is lost (a consumer's long poll over
   * many partitions, which only sees records below the high watermark); returns the unsubscribe.
   */
  onHighWatermarkAdvance(listener: () => void): () => void {
    this.dataWaiters.add(listener);
    return () => this.dataWaiters.delete(listener);
  }

  offsets(): { earliest: number; latest: number; logEndOffset: number } {
    if (!this.isLeader) throw this.notLeaderError();
    return { earliest: this.log.logStartOffset, latest: this.highWatermarkOffset, logEndOffset: this.log.logEndOffset };
  }

  /** Wakes every waiting reader: on new data, and when this replica stops leading. */
  wakeReaders(): void {
    for (const w of [...this.dataWaiters]) w();
    for (const w of [...this.appendWaiters]) w();
  }

  /** The partition is going away: nobody may wait on it any longer. */
  close(): void {
    this.leaderId = -1;
    this.failPendingAcks(this.notLeaderError());
    this.wakeReaders();
  }

  notLeaderError(leader?: BrokerRegistration): BrookError {
    return new BrookError('NOT_LEADER', `broker ${this.localBrokerId} is not the leader of ${this.topic}-${this.partition}`, {
      topic: this.topic,
      partition: this.partition,
      leader: this.leaderId,
      ...(leader ? { leaderUrl: `http://${leader.host}:${leader.port}` } : {}),
    });
  }

  private checkFollowerEpoch(leaderEpoch: number): void {
    if (!this.isLeader) throw this.notLeaderError();
    if (leaderEpoch < this.leaderEpoch) {
      throw new BrookError('FENCED_LEADER_EPOCH', `leader epoch ${leaderEpoch} of ${this.topic}-${this.partition} is stale (now ${this.leaderEpoch})`);
    }
    if (leaderEpoch > this.leaderEpoch) {
      throw new BrookError('LEADER_NOT_AVAILABLE', `leader epoch ${leaderEpoch} of ${this.topic}-${this.partition} is not known here yet`);
    }
  }

  /** A follower back in step (at or past the high watermark and in the current epoch) rejoins the ISR. */
  private maybeExpandIsr(replicaId: number, fetchOffset: number): void {
    if (this.pendingIsr || this.isr.includes(replicaId) || !this.replicas.includes(replicaId)) return;
    const epochStart = this.log.endOffsetForEpoch(this.leaderEpoch - 1)?.endOffset ?? 0;
    if (fetchOffset >= this.highWatermarkOffset && fetchOffset >= epochStart) this.propose([...this.isr, replicaId]);
  }

  private propose(isr: number[]): void {
    const proposed = [...isr].sort((a, b) => a - b);
    this.pendingIsr = proposed;
    const epochAtProposal = this.leaderEpoch;
    this.proposeIsr(this, proposed).then(
      (state) => {
        if (this.leaderEpoch !== epochAtProposal || state.partitionEpoch < this.partitionEpoch) return;
        this.pendingIsr = undefined;
        this.isr = [...state.isr];
        this.partitionEpoch = state.partitionEpoch;
        this.maybeIncrementHighWatermark();
      },
      () => {
        // Refused or unreachable: the metadata log brings the real state; the next check proposes again.
        if (this.leaderEpoch === epochAtProposal) this.pendingIsr = undefined;
      },
    );
  }

  /** High watermark = smallest log end offset over the ISR and any member being added (the maximal ISR). */
  private maybeIncrementHighWatermark(): void {
    if (!this.isLeader) return;
    let hw = this.log.logEndOffset;
    const members = this.pendingIsr ? new Set([...this.isr, ...this.pendingIsr]) : new Set(this.isr);
    for (const id of members) {
      if (id !== this.localBrokerId) hw = Math.min(hw, this.followers.get(id)?.logEndOffset ?? 0);
    }
    if (hw > this.highWatermarkOffset) {
      this.setHighWatermark(hw);
      for (const w of [...this.dataWaiters]) w();
    }
    this.completePendingAcks();
  }

  private setHighWatermark(offset: number): void {
    this.highWatermarkOffset = offset;
    this.log.updateHighWatermark(offset);
  }

  private completePendingAcks(): void {
    for (const ack of [...this.pendingAcks]) {
      if (this.highWatermarkOffset < ack.requiredOffset) continue;
      this.pendingAcks.delete(ack);
      clearTimeout(ack.timer);
      if (this.isr.length >= this.minInsyncReplicas) ack.resolve();
      else {
        ack.reject(
          new BrookError('NOT_ENOUGH_REPLICAS_AFTER_APPEND', `${this.topic}-${this.partition}: appended, but the ISR shrank below min.insync.replicas=${this.minInsyncReplicas}`, {
            topic: this.topic,
            partition: this.partition,
          }),
        );
      }
    }
  }

  private failPendingAcks(err: BrookError): void {
    for (const ack of [...this.pendingAcks]) {
      clearTimeout(ack.timer);
      ack.reject(err);
    }
    this.pendingAcks.clear();
  }
}

const EMPTY = Buffer.alloc(0);

function waitOn(waiters: Set<() => void>, maxWaitMs: number): Promise<void> {
  if (maxWaitMs <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      waiters.delete(done);
      resolve();
    };
    const timer = setTimeout(done, maxWaitMs);
    waiters.add(done);
  });
}
