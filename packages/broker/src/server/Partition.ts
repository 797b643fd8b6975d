import { BrookError, type BrokerRegistration, type PartitionRecord } from '@brook/types';
import type { Log } from '../storage';

/**
 * One partition replica on this broker (Kafka's Partition): its log, its role, and as leader the high
 * watermark, which only moves up to what every ISR member has. Readers never see past it.
 */
export class Partition {
  leaderId = -1;
  leaderEpoch = -1;
  partitionEpoch = -1;
  isr: number[] = [];
  replicas: number[] = [];
  private highWatermarkOffset = 0;
  /** Log end offsets of the followers, as their fetches report them. */
  private readonly followerEndOffsets = new Map<number, number>();
  private readonly dataWaiters = new Set<() => void>();

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly topicId: string,
    readonly log: Log,
    private readonly localBrokerId: number,
  ) {}

  get isLeader(): boolean {
    return this.leaderId === this.localBrokerId;
  }

  get highWatermark(): number {
    return this.highWatermarkOffset;
  }

  /** Applies the controller's state for this partition; a new leader epoch starts in the epoch cache at the log end. */
  update(state: PartitionRecord): void {
    const becameLeader = state.leader === this.localBrokerId && (!this.isLeader || state.leaderEpoch !== this.leaderEpoch);
    this.leaderId = state.leader;
    this.leaderEpoch = state.leaderEpoch;
    this.partitionEpoch = state.partitionEpoch;
    this.isr = [...state.isr];
    this.replicas = [...state.replicas];
    if (becameLeader) {
      const latest = this.log.latestEpoch;
      if (latest === undefined || state.leaderEpoch > latest) this.log.assignEpochStartOffset(state.leaderEpoch, this.log.logEndOffset);
      this.followerEndOffsets.clear();
    }
    this.maybeIncrementHighWatermark();
  }

  /** Appends batches as leader; answers with the offset of the first record. */
  appendAsLeader(batches: Buffer): { firstOffset: number; lastOffset: number } {
    if (!this.isLeader) throw this.notLeaderError();
    const result = this.log.appendAsLeader(batches, this.leaderEpoch);
    this.maybeIncrementHighWatermark();
    return result;
  }

  /** Raw batches from `offset` up to the high watermark. */
  read(offset: number, maxBytes: number): { records: Buffer; nextOffset: number } {
    if (!this.isLeader) throw this.notLeaderError();
    if (offset === this.highWatermarkOffset && offset <= this.log.logEndOffset) {
      return { records: Buffer.alloc(0), nextOffset: offset };
    }
    if (offset > this.highWatermarkOffset) {
      throw new BrookError('OFFSET_OUT_OF_RANGE', `offset ${offset} is past the end of ${this.topic}-${this.partition}`, {
        earliest: this.log.logStartOffset,
        latest: this.highWatermarkOffset,
      });
    }
    return this.log.read(offset, { maxBytes, maxOffset: this.highWatermarkOffset });
  }

  /** Resolves once records at or after `offset` are readable, or after `maxWaitMs`. */
  waitForData(offset: number, maxWaitMs: number): Promise<void> {
    if (this.highWatermarkOffset > offset || maxWaitMs <= 0 || !this.isLeader) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.dataWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, maxWaitMs);
      this.dataWaiters.add(done);
    });
  }

  offsets(): { earliest: number; latest: number; logEndOffset: number } {
    if (!this.isLeader) throw this.notLeaderError();
    return { earliest: this.log.logStartOffset, latest: this.highWatermarkOffset, logEndOffset: this.log.logEndOffset };
  }

  /** Wakes every waiting reader: on new data, and when this replica stops leading. */
  wakeReaders(): void {
    for (const w of [...this.dataWaiters]) w();
  }

  private maybeIncrementHighWatermark(): void {
    if (!this.isLeader) return;
    let hw = this.log.logEndOffset;
    for (const id of this.isr) {
      if (id === this.localBrokerId) continue;
      hw = Math.min(hw, this.followerEndOffsets.get(id) ?? 0);
    }
    if (hw > this.highWatermarkOffset || hw < this.highWatermarkOffset) {
      const advanced = hw > this.highWatermarkOffset;
      this.highWatermarkOffset = hw;
      if (advanced) this.wakeReaders();
    }
  }

  notLeaderError(leader?: BrokerRegistration): BrookError {
    return new BrookError('NOT_LEADER', `broker ${this.localBrokerId} is not the leader of ${this.topic}-${this.partition}`, {
      topic: this.topic,
      partition: this.partition,
      leader: this.leaderId,
      ...(leader ? { leaderUrl: `http://${leader.host}:${leader.port}` } : {}),
    });
  }
}
