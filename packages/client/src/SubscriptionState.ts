import { BrookError, type TopicPartition } from '@brook/types';

export type { TopicPartition };

/** A topic partition and an offset: a position, a seek target or a commit. */
export interface TopicPartitionOffset extends TopicPartition {
  offset: number;
}

/** What the consumer knows of one assigned partition. */
export class PartitionState {
  /** The next offset to hand to the application; undefined until found (committed offset or reset). */
  position: number | undefined;
  /** The offset after the last record the application has finished with: what auto-commit commits. */
  processed: number | undefined;
  /** Where the next fetch starts; ahead of `position` while fetched records wait to be handed out. */
  fetchOffset = 0;
  paused = false;
  /** A fetch of this partition is in flight. */
  fetching = false;
  /** Fetched answers waiting to be handed out. */
  buffered = 0;
  /** Bumped by seek, pause and revocation: fetched data of an older epoch is dropped. */
  epoch = 0;
  /** False once revoked (or lost): nothing more is fetched or handed out. */
  assigned = true;
  highWatermark = -1;
  /** The offset last committed from this consumer, so that unchanged positions are not committed again. */
  committed: number | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** Starts from `offset`: nothing fetched before counts any longer. */
  moveTo(offset: number): void {
    this.position = offset;
    this.processed = offset;
    this.fetchOffset = offset;
    this.buffered = 0;
    this.epoch++;
  }
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\0${partition}`;
}

/**
 * The partitions a consumer owns and its position in each (Kafka's SubscriptionState): assignment,
 * seek, pause and resume, what can be fetched, and what can be committed. No I/O.
 */
export class SubscriptionState {
  private readonly states = new Map<string, PartitionState>();

  constructor(
    /** Fetched answers buffered per partition before it is fetched again (prefetch bound). */
    private readonly maxBufferedPerPartition = 2,
  ) {}

  /** Makes the assignment exactly `tps`; answers what was added and what was removed. */
  assign(tps: TopicPartition[]): { added: TopicPartition[]; removed: TopicPartition[] } {
    const wanted = new Map(tps.map((tp) => [partitionKey(tp.topic, tp.partition), tp]));
    const removed: TopicPartition[] = [];
    for (const [key, s] of this.states) {
      if (wanted.has(key) && s.assigned) continue;
      this.states.delete(key);
      s.assigned = false;
      s.epoch++;
      removed.push({ topic: s.topic, partition: s.partition });
    }
    const added: TopicPartition[] = [];
    for (const [key, tp] of wanted) {
      if (this.states.has(key)) continue;
      this.states.set(key, new PartitionState(tp.topic, tp.partition));
      added.push({ topic: tp.topic, partition: tp.partition });
    }
    return { added, removed };
  }

  /** Stops fetching and handing out these partitions; they stay listed (their positions can still be committed) until the next assign. */
  revoke(tps: TopicPartition[]): void {
    for (const tp of tps) {
      const s = this.get(tp);
      if (!s) continue;
      s.assigned = false;
      s.epoch++;
    }
  }

  get(tp: TopicPartition): PartitionState | undefined {
    return this.states.get(partitionKey(tp.topic, tp.partition));
  }

  require(tp: TopicPartition): PartitionState {
    const s = this.get(tp);
    if (!s) throw new BrookError('INVALID_REQUEST', `${tp.topic}-${tp.partition} is not assigned to this consumer`, { ...tp });
    return s;
  }

  all(): PartitionState[] {
    return [...this.states.values()];
  }

  assignment(): TopicPartition[] {
    return this.all().map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  seek({ topic, partition, offset }: TopicPartitionOffset): void {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new BrookError('INVALID_OFFSET', `cannot seek ${topic}-${partition} to ${offset}`, { topic, partition, offset });
    this.require({ topic, partition }).moveTo(offset);
  }

  /** A paused partition is not fetched and its fetched records are dropped (fetched again after resume). */
  pause(tps: TopicPartition[]): void {
    for (const tp of tps) {
      const s = this.require(tp);
      if (s.paused) continue;
      s.paused = true;
      if (s.position !== undefined) s.moveTo(s.position);
    }
  }

  resume(tps: TopicPartition[]): void {
    for (const tp of tps) this.require(tp).paused = false;
  }

  paused(): TopicPartition[] {
    return this.all()
      .filter((s) => s.paused)
      .map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  /** Partitions whose position must be found before they can be fetched. */
  needingPosition(): PartitionState[] {
    return this.all().filter((s) => s.assigned && s.position === undefined);
  }

  /** Partitions to put in the next fetch: positioned, not paused, none in flight, prefetch not full. */
  fetchable(): PartitionState[] {
    return this.all().filter((s) => s.assigned && s.position !== undefined && !s.paused && !s.fetching && s.buffered < this.maxBufferedPerPartition);
  }

  /** Positions to commit: what was handed out (`delivered`), or what the application finished with (`processed`). */
  committable(which: 'delivered' | 'processed', only?: TopicPartition[]): TopicPartitionOffset[] {
    const states = only ? only.map((tp) => this.get(tp)).filter((s): s is PartitionState => !!s) : this.all();
    const out: TopicPartitionOffset[] = [];
    for (const s of states) {
      const offset = which === 'delivered' ? s.position : s.processed;
      if (offset !== undefined) out.push({ topic: s.topic, partition: s.partition, offset });
    }
    return out;
  }

  /** The application is done with everything handed out so far (it asked for more). */
  markAllProcessed(): void {
    for (const s of this.states.values()) s.processed = s.position;
  }
}
