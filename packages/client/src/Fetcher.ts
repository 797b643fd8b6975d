import { decodeFetchResponse, type ConsumerFetchRequest, type FetchPartitionResult } from '@brook/types';
import type { BrokerConnections } from './BrokerConnections';
import { offsetAfterBatches } from './ConsumerRecord';
import { Fifo } from './Fifo';
import { STALE_METADATA_CODES, type Metadata } from './Metadata';
import type { PartitionState, SubscriptionState } from './SubscriptionState';

/** Where a partition without a usable position starts. */
export type OffsetReset = 'earliest' | 'latest';

/** One partition's fetched batches, waiting to be handed out. */
export interface CompletedFetch {
  state: PartitionState;
  /** The partition's epoch when the fetch was sent; a different epoch now means the data is stale. */
  epoch: number;
  fetchOffset: number;
  records: Buffer;
}

export interface FetcherOptions {
  maxWaitMs: number;
  minBytes: number;
  maxBytesPerPartition: number;
  autoOffsetReset: OffsetReset;
  retryBackoffMs: number;
}

/**
 * Fetches records from partition leaders (Kafka's Fetcher): the fetchable partitions are grouped by
 * leader, with one binary long-poll `POST /fetch` in flight per broker, and answers are queued as
 * CompletedFetches for the consumer to hand out. A partition is fetched again while its earlier answers
 * wait (up to the SubscriptionState's prefetch bound), so fetching overlaps the application's work.
 */
export class Fetcher {
  private readonly completed = new Fifo<CompletedFetch>();
  private readonly inFlight = new Map<string, AbortController>();
  /** Brokers that failed, and when they may be asked again. */
  private readonly backoffUntil = new Map<string, number>();
  /** Partitions whose last fetch answered an error, and when they may be fetched again. */
  private readonly partitionBackoffUntil = new Map<PartitionState, number>();
  private readonly waiters = new Set<() => void>();
  private retryTimer: NodeJS.Timeout | undefined;
  private retryTimerAt = 0;
  private refreshing = false;
  private closed = false;

  constructor(
    private readonly subscriptions: SubscriptionState,
    private readonly metadata: Metadata,
    private readonly connections: BrokerConnections,
    private readonly options: FetcherOptions,
  ) {}

  /** Sends a fetch to every leader that has fetchable partitions and no fetch in flight. */
  maybeSend(): void {
    if (this.closed) return;
    const now = Date.now();
    const byLeader = new Map<string, PartitionState[]>();
    let leaderUnknown = false;
    let retryAt = Infinity;
    for (const s of this.partitionBackoffUntil.keys()) if (!s.assigned) this.partitionBackoffUntil.delete(s);
    for (const s of this.subscriptions.fetchable()) {
      const partitionUntil = this.partitionBackoffUntil.get(s) ?? 0;
      if (partitionUntil > now) {
        retryAt = Math.min(retryAt, partitionUntil);
        continue;
      }
      this.partitionBackoffUntil.delete(s);
      const url = this.metadata.leaderUrl(s.topic, s.partition);
      if (!url) {
        leaderUnknown = true;
        continue;
      }
      if (this.inFlight.has(url)) continue;
      const until = this.backoffUntil.get(url) ?? 0;
      if (until > now) {
        retryAt = Math.min(retryAt, until);
        continue;
      }
      let list = byLeader.get(url);
      if (!list) byLeader.set(url, (list = []));
      list.push(s);
    }
    for (const [url, states] of byLeader) void this.send(url, states);
    if (leaderUnknown) {
      this.metadata.invalidate();
      this.refreshMetadata();
    }
    if (retryAt !== Infinity) this.retryAt(retryAt);
  }

  /** The next fetched answer still valid for its partition; stale ones are dropped. */
  takeCompleted(): CompletedFetch | undefined {
    for (;;) {
      const fetch = this.completed.shift();
      if (!fetch) return undefined;
      if (fetch.state.epoch !== fetch.epoch || !fetch.state.assigned) continue;
      fetch.state.buffered--;
      this.maybeSend(); // room in the prefetch again
      return fetch;
    }
  }

  get hasCompleted(): boolean {
    return this.completed.length > 0;
  }

  /** Resolves when an answer arrives, on `wakeup()`, or after `timeoutMs`. */
  waitForCompleted(timeoutMs: number): Promise<void> {
    if (this.completed.length > 0 || this.closed || timeoutMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  wakeup(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Positions partitions at their earliest or latest offset (the high watermark). */
  async resetPositions(states: PartitionState[], to: OffsetReset = this.options.autoOffsetReset): Promise<void> {
    await Promise.all(
      states.map(async (s) => {
        const path = `/topics/${encodeURIComponent(s.topic)}/partitions/${s.partition}/offsets`;
        const url = this.metadata.leaderUrl(s.topic, s.partition);
        const client = url ? this.connections.get(url) : this.connections.any();
        const { earliest, latest } = await client.get<{ earliest: number; latest: number }>(path);
        if (s.assigned && s.position === undefined) s.moveTo(to === 'earliest' ? earliest : latest);
      }),
    );
  }

  /** Stops fetching: in-flight long polls are abandoned and waiters released. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    for (const c of this.inFlight.values()) c.abort();
    this.wakeup();
  }

  private async send(url: string, states: PartitionState[]): Promise<void> {
    const abort = new AbortController();
    this.inFlight.set(url, abort);
    const epochs = states.map((s) => s.epoch);
    const request: ConsumerFetchRequest = {
      maxWaitMs: this.options.maxWaitMs,
      minBytes: this.options.minBytes,
      maxBytesPerPartition: this.options.maxBytesPerPartition,
      partitions: states.map((s) => ({ topic: s.topic, partition: s.partition, fetchOffset: s.fetchOffset })),
    };
    for (const s of states) s.fetching = true;
    try {
      const body = await this.connections.get(url).postForBuffer('/fetch', request, { timeoutMs: this.options.maxWaitMs + 30_000, signal: abort.signal });
      const results = decodeFetchResponse(body);
      states.forEach((s, i) => {
        s.fetching = false;
        const result = results[i];
        if (result && s.epoch === epochs[i] && s.assigned) this.handle(s, request.partitions[i]!.fetchOffset, result);
      });
      this.backoffUntil.delete(url);
    } catch {
      for (const s of states) s.fetching = false;
      if (this.closed) return;
      // Unreachable or failing broker: leadership may have moved; ask again after a backoff.
      this.backoffUntil.set(url, Date.now() + this.options.retryBackoffMs);
      this.metadata.invalidate();
      this.refreshMetadata();
    } finally {
      this.inFlight.delete(url);
    }
    this.wakeup();
    this.maybeSend();
  }

  private handle(s: PartitionState, fetchOffset: number, r: FetchPartitionResult): void {
    if (r.error) {
      this.handleError(s, r);
      return;
    }
    s.highWatermark = r.highWatermark;
    if (r.records.length === 0) return;
    const next = offsetAfterBatches(r.records, fetchOffset);
    if (next === fetchOffset) {
      // No complete batch past the position: asking again at once would get the same answer.
      this.partitionBackoffUntil.set(s, Date.now() + this.options.retryBackoffMs);
      return;
    }
    s.fetchOffset = next;
    s.buffered++;
    this.completed.push({ state: s, epoch: s.epoch, fetchOffset, records: r.records });
  }

  private handleError(s: PartitionState, r: FetchPartitionResult): void {
    const code = r.error!.code;
    if (code === 'OFFSET_OUT_OF_RANGE') {
      // Past the end (a new leader holds less) or before the start (retention): Kafka's auto.offset.reset.
      const earliest = r.logStartOffset;
      const latest = r.highWatermark;
      if (earliest >= 0 && latest >= 0) s.moveTo(this.options.autoOffsetReset === 'earliest' ? earliest : latest);
      else {
        s.position = undefined;
        s.epoch++;
        void this.resetPositions([s]).then(
          () => this.maybeSend(),
          () => this.retryAt(Date.now() + this.options.retryBackoffMs),
        );
      }
      return;
    }
    // NOT_LEADER and the like: the leader moved, so the metadata is refreshed. Anything else (e.g. a
    // corrupt batch on disk) is asked again too; either way after a backoff, not in a tight loop.
    if (STALE_METADATA_CODES.has(code)) {
      this.metadata.invalidate();
      this.refreshMetadata();
    }
    this.partitionBackoffUntil.set(s, Date.now() + this.options.retryBackoffMs);
  }

  private refreshMetadata(): void {
    if (this.refreshing || this.closed) return;
    this.refreshing = true;
    this.metadata
      .refreshIfStale()
      .catch(() => this.retryAt(Date.now() + this.options.retryBackoffMs))
      .finally(() => {
        this.refreshing = false;
        this.maybeSend();
      });
  }

  private retryAt(at: number): void {
    if (this.closed || (this.retryTimer && this.retryTimerAt <= at)) return;
    clearTimeout(this.retryTimer);
    this.retryTimerAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.maybeSend();
    }, Math.max(0, at - Date.now()));
  }
}
