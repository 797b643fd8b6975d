import { randomUUID } from 'node:crypto';
import { HttpJsonClient } from '@brook/runtime';
import { BrookError } from '@brook/types';
import { BrokerConnections } from './BrokerConnections';
import { ConsumerGroupMembership } from './ConsumerGroupMembership';
import { decodeFetchedRecords, type ConsumerRecord } from './ConsumerRecord';
import { Fetcher, type OffsetReset } from './Fetcher';
import { Metadata } from './Metadata';
import { partitionKey, SubscriptionState, type PartitionState, type TopicPartition, type TopicPartitionOffset } from './SubscriptionState';

export interface ConsumerOptions {
  /** The controller's URL, e.g. `http://localhost:9000`. */
  controllerUrl: string;
  /** Cluster name; `default` by default. */
  cluster?: string;
  /** The consumer group: needed by `subscribe` and `commit`. */
  groupId?: string;
  clientId?: string;
  /** Commits the positions the application has finished with every `autoCommitIntervalMs`, on revocation and on close; true by default. */
  autoCommit?: boolean;
  autoCommitIntervalMs?: number;
  /** Where a partition without a committed offset (or with one out of range) starts; `latest` by default. */
  autoOffsetReset?: OffsetReset;
  /** Longest time a broker holds a fetch while there is nothing new; 500 ms by default. */
  maxWaitMs?: number;
  /** Bytes a fetch waits for (up to maxWaitMs); 1 by default, so records are answered as soon as there are any. */
  minBytes?: number;
  /** Record bytes per partition in one fetch answer; 1 MiB by default. */
  maxBytesPerPartition?: number;
  /** Most records one `poll()` returns; 500 by default. */
  maxPollRecords?: number;
  /** Wait before asking a failing broker again; 100 ms by default. */
  retryBackoffMs?: number;
  /** Called (and awaited) after partitions are given to this consumer, with their positions known; `seek` may move them. */
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  /** Called (and awaited) before partitions are given up, after their positions were committed (auto-commit); also when they were lost. */
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;
}

export interface RunOptions {
  /** Called for each record in order; the record counts as processed when the promise resolves. */
  eachRecord?(record: ConsumerRecord): void | Promise<void>;
  /** Called with the records of one partition's fetched batches; all count as processed when the promise resolves. */
  eachBatch?(records: ConsumerRecord[]): void | Promise<void>;
}

/** Records of one fetched answer being handed out. */
interface Chunk {
  state: PartitionState;
  epoch: number;
  records: ConsumerRecord[];
  index: number;
}

type Mode = 'none' | 'subscribe' | 'assign';

/**
 * A Brook consumer, in the manner of Kafka's consumer. In a group (`subscribe`) the coordinator assigns
 * partitions (KIP-848, server-side); with `assign` the application picks them. Records come from the
 * partition leaders, many partitions per binary fetch request, prefetched while the application works,
 * and are handed out by `for await`, `run` or `poll`.
 *
 * Positions: `position(tp)` is the next offset to hand out. A record counts as processed once the
 * application asks for the next one (`for await`, `poll`) or its `run` handler resolved; auto-commit and
 * revocation commit processed positions (at-least-once). An explicit `commit()` commits everything
 * handed out so far.
 *
 * ```ts
 * const consumer = new Consumer({ controllerUrl: 'http://localhost:9000', groupId: 'billing', autoOffsetReset: 'earliest' });
 * await consumer.subscribe(['orders']);
 * for await (const record of consumer) console.log(record.partition, record.offset, record.value?.toString());
 * ```
 */
export class Consumer {
  readonly metadata: Metadata;
  private readonly controller: HttpJsonClient;
  private readonly connections: BrokerConnections;
  private readonly subscriptions = new SubscriptionState();
  private readonly fetcher: Fetcher;
  private readonly membership: ConsumerGroupMembership | undefined;
  private readonly opts: Required<Omit<ConsumerOptions, 'groupId' | 'cluster' | 'onPartitionsAssigned' | 'onPartitionsRevoked'>>;
  private mode: Mode = 'none';
  private current: Chunk | undefined;
  private closed = false;
  private nextAutoCommitAt: number;
  private autoCommitting: Promise<void> | undefined;

  constructor(private readonly options: ConsumerOptions) {
    this.opts = {
      controllerUrl: options.controllerUrl,
      clientId: options.clientId ?? `brook-consumer-${randomUUID().slice(0, 8)}`,
      autoCommit: options.autoCommit ?? true,
      autoCommitIntervalMs: options.autoCommitIntervalMs ?? 5000,
      autoOffsetReset: options.autoOffsetReset ?? 'latest',
      maxWaitMs: options.maxWaitMs ?? 500,
      minBytes: options.minBytes ?? 1,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
      maxPollRecords: options.maxPollRecords ?? 500,
      retryBackoffMs: options.retryBackoffMs ?? 100,
    };
    this.controller = new HttpJsonClient(options.controllerUrl, { connections: 2 });
    this.metadata = new Metadata(this.controller, { cluster: options.cluster });
    this.connections = new BrokerConnections(this.metadata, 4);
    this.fetcher = new Fetcher(this.subscriptions, this.metadata, this.connections, this.opts);
    this.nextAutoCommitAt = Date.now() + this.opts.autoCommitIntervalMs;
    if (options.groupId) {
      this.membership = new ConsumerGroupMembership(options.groupId, this.opts.clientId, this.connections, {
        onAssignment: (tps) => this.reconcile(tps),
        onLost: () => this.lose(),
      });
    }
  }

  /** Joins the group with these topics; resolves once the first assignment is in place (it may be empty). */
  async subscribe(topics: string[]): Promise<void> {
    if (!this.membership) throw new BrookError('INVALID_REQUEST', 'subscribe needs a groupId');
    if (this.mode === 'assign') throw new BrookError('INVALID_REQUEST', 'this consumer uses assign(); it cannot also subscribe');
    this.mode = 'subscribe';
    await this.metadata.refresh();
    await this.membership.subscribe(topics);
  }

  /**
   * Reads these partitions without group membership: from `offset` when given, else from the group's
   * committed offset (with a groupId), else from `autoOffsetReset`.
   */
  assign(partitions: Array<TopicPartition & { offset?: number }>): void {
    if (this.mode === 'subscribe') throw new BrookError('INVALID_REQUEST', 'this consumer subscribed to a group; it cannot also assign');
    this.mode = 'assign';
    this.subscriptions.assign(partitions);
    for (const p of partitions) if (p.offset !== undefined) this.subscriptions.seek({ topic: p.topic, partition: p.partition, offset: p.offset });
    this.current = undefined;
    void this.positionAndFetch();
  }

  assignment(): TopicPartition[] {
    return this.subscriptions.assignment();
  }

  /** The next offset to hand out of an assigned partition; undefined while it is being looked up. */
  position(tp: TopicPartition): number | undefined {
    return this.subscriptions.require(tp).position;
  }

  /** Hands out records of the partition from `offset` next; what was fetched before is dropped. */
  seek(target: TopicPartitionOffset): void {
    this.subscriptions.seek(target);
    this.fetcher.maybeSend();
  }

  pause(partitions: TopicPartition[]): void {
    this.subscriptions.pause(partitions);
  }

  resume(partitions: TopicPartition[]): void {
    this.subscriptions.resume(partitions);
    this.fetcher.maybeSend();
  }

  paused(): TopicPartition[] {
    return this.subscriptions.paused();
  }

  /** Records fetched so far, at most `maxPollRecords`, waiting up to `timeoutMs` for the first; possibly none. */
  async poll(timeoutMs: number = this.opts.maxWaitMs): Promise<ConsumerRecord[]> {
    this.subscriptions.markAllProcessed();
    const out: ConsumerRecord[] = [];
    let chunk = await this.nextChunk(timeoutMs);
    while (chunk && out.length < this.opts.maxPollRecords) {
      const end = Math.min(chunk.records.length, chunk.index + this.opts.maxPollRecords - out.length);
      for (let i = chunk.index; i < end; i++) out.push(chunk.records[i]!);
      chunk.index = end;
      chunk.state.position = chunk.records[end - 1]!.offset + 1;
      chunk = out.length < this.opts.maxPollRecords ? await this.nextChunk(0) : undefined;
    }
    return out;
  }

  /** Every record, in order per partition, until the consumer is closed. */
  [Symbol.asyncIterator](): AsyncIterator<ConsumerRecord> {
    this.subscriptions.markAllProcessed();
    return new RecordIterator({
      ready: () => this.readyChunk(),
      next: (timeoutMs) => this.nextChunk(timeoutMs),
      closed: () => this.closed,
      maxWaitMs: this.opts.maxWaitMs,
    });
  }

  /** Feeds records to `eachRecord` or `eachBatch` until the consumer is closed; rejects when a handler throws. */
  async run({ eachRecord, eachBatch }: RunOptions): Promise<void> {
    if (!eachRecord && !eachBatch) throw new BrookError('INVALID_REQUEST', 'run needs eachRecord or eachBatch');
    this.subscriptions.markAllProcessed();
    while (!this.closed) {
      const chunk = await this.nextChunk(this.opts.maxWaitMs);
      if (!chunk) continue;
      const { state, epoch, records } = chunk;
      if (eachBatch) {
        const batch = chunk.index === 0 ? records : records.slice(chunk.index);
        chunk.index = records.length;
        const next = batch[batch.length - 1]!.offset + 1;
        state.position = next;
        await eachBatch(batch);
        if (state.epoch === epoch) state.processed = next;
        continue;
      }
      while (chunk.index < records.length && state.epoch === epoch && !this.closed) {
        const record = records[chunk.index++]!;
        state.position = record.offset + 1;
        await eachRecord!(record);
        if (state.epoch === epoch) state.processed = record.offset + 1;
      }
    }
  }

  /** Commits `offsets`, or by default the position of every assigned partition (everything handed out). */
  async commit(offsets?: TopicPartitionOffset[]): Promise<void> {
    if (!this.membership) throw new BrookError('INVALID_REQUEST', 'commit needs a groupId');
    await this.commitOffsets(offsets ?? this.subscriptions.committable('delivered'));
  }

  /** Stops the loops, commits (with auto-commit) what was handed out, and leaves the group. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fetcher.close();
    try {
      await this.autoCommitting;
      if (this.membership) {
        await this.membership.stop(); // so no heartbeat moves the member epoch under the last commit
        if (this.opts.autoCommit) {
          this.subscriptions.markAllProcessed();
          // A member its coordinator forgot (the coordinator moved, say) has nothing left to commit as.
          await this.commitOffsets(this.subscriptions.committable('processed')).catch((err) => {
            if (!(err instanceof BrookError) || err.code !== 'UNKNOWN_MEMBER_ID') throw err;
          });
        }
        if (this.mode === 'subscribe') {
          const owned = this.subscriptions.assignment();
          this.subscriptions.revoke(owned);
          if (owned.length > 0) await this.options.onPartitionsRevoked?.(owned);
          await this.membership.leave();
        }
      }
    } finally {
      await this.connections.close();
      await this.controller.close();
    }
  }

  /** The next records to hand out (of one partition), waiting up to `timeoutMs`; positions are not moved. */
  private async nextChunk(timeoutMs: number): Promise<Chunk | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ready = this.readyChunk();
      if (ready || this.closed) return ready;
      const wait = deadline - Date.now();
      if (wait <= 0) return undefined;
      // Wakes for auto-commit too: an idle consumer still commits what it has processed.
      const untilCommit = this.opts.autoCommit && this.membership ? Math.max(1, this.nextAutoCommitAt - Date.now()) : wait;
      await this.fetcher.waitForCompleted(Math.min(wait, untilCommit));
    }
  }

  /** Records ready to hand out now (decoding the next fetched answer if need be), without waiting. */
  private readyChunk(): Chunk | undefined {
    if (this.closed) return undefined;
    for (;;) {
      const c = this.current;
      if (c && c.index < c.records.length && c.state.epoch === c.epoch) return c;
      this.current = undefined;
      this.maybeAutoCommit(); // between fetched answers: not a clock read per record
      const fetched = this.fetcher.takeCompleted();
      if (!fetched) return undefined;
      const { state } = fetched;
      const records = decodeFetchedRecords(state.topic, state.partition, fetched.records, state.position ?? fetched.fetchOffset);
      if (records.length > 0) this.current = { state, epoch: fetched.epoch, records, index: 0 };
    }
  }

  private maybeAutoCommit(): void {
    if (!this.opts.autoCommit || !this.membership || this.autoCommitting) return;
    const now = Date.now();
    if (now < this.nextAutoCommitAt) return;
    this.nextAutoCommitAt = now + this.opts.autoCommitIntervalMs;
    const offsets = this.subscriptions.committable('processed').filter((o) => this.subscriptions.get(o)?.committed !== o.offset);
    if (offsets.length === 0) return;
    this.autoCommitting = this.commitOffsets(offsets)
      .catch(() => undefined) // the next interval commits again
      .finally(() => {
        this.autoCommitting = undefined;
      });
  }

  private async commitOffsets(offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    await this.membership!.commit(offsets);
    for (const o of offsets) {
      const s = this.subscriptions.get(o);
      if (s) s.committed = o.offset;
    }
  }

  /**
   * The coordinator's new assignment: revoked partitions stop, their processed positions are committed
   * (auto-commit) and onPartitionsRevoked runs; new partitions get positions, then onPartitionsAssigned.
   * The membership's next heartbeat, sent only after this, no longer lists the revoked partitions: that
   * acknowledges their revocation, and only then may the coordinator give them to another member.
   */
  private async reconcile(assignment: TopicPartition[]): Promise<void> {
    const wanted = new Set(assignment.map((tp) => partitionKey(tp.topic, tp.partition)));
    const revoked = this.subscriptions.assignment().filter((tp) => !wanted.has(partitionKey(tp.topic, tp.partition)));
    if (revoked.length > 0) {
      this.subscriptions.revoke(revoked);
      if (this.opts.autoCommit) await this.commitOffsets(this.subscriptions.committable('processed', revoked)).catch(() => undefined);
      await this.options.onPartitionsRevoked?.(revoked);
    }
    const { added } = this.subscriptions.assign(assignment);
    if (added.length > 0) {
      await this.positionAndFetch();
      await this.options.onPartitionsAssigned?.(added);
    }
    this.fetcher.maybeSend();
  }

  /** The coordinator forgot this member: its partitions may be another's already, so nothing is committed. */
  private async lose(): Promise<void> {
    const owned = this.subscriptions.assignment();
    this.subscriptions.revoke(owned);
    this.subscriptions.assign([]);
    if (owned.length > 0) await this.options.onPartitionsRevoked?.(owned);
  }

  /** Finds positions of partitions without one (committed offsets, else autoOffsetReset), retrying until it can, then fetches. */
  private async positionAndFetch(): Promise<void> {
    while (!this.closed) {
      const needing = this.subscriptions.needingPosition();
      if (needing.length === 0) break;
      try {
        if (this.metadata.brokers().length === 0) await this.metadata.refresh();
        if (this.membership) {
          const committed = new Map((await this.membership.committed()).map((o) => [partitionKey(o.topic, o.partition), o.offset]));
          for (const s of needing) {
            const offset = committed.get(partitionKey(s.topic, s.partition));
            if (offset !== undefined && s.assigned && s.position === undefined) {
              s.moveTo(offset);
              s.committed = offset;
            }
          }
        }
        await this.fetcher.resetPositions(this.subscriptions.needingPosition());
      } catch {
        await new Promise((r) => setTimeout(r, this.opts.retryBackoffMs));
      }
    }
    this.fetcher.maybeSend();
  }
}

/**
 * `for await` over a consumer. A plain iterator object rather than an async generator: records already
 * fetched are handed out without a generator's extra promise work, about half the cost per record.
 * A record counts as processed when the next one is asked for, or when the loop ends.
 */
class RecordIterator implements AsyncIterator<ConsumerRecord> {
  private last: ConsumerRecord | undefined;
  private lastState: PartitionState | undefined;
  private lastEpoch = 0;

  constructor(
    private readonly chunks: {
      ready(): Chunk | undefined;
      next(timeoutMs: number): Promise<Chunk | undefined>;
      closed(): boolean;
      maxWaitMs: number;
    },
  ) {}

  next(): Promise<IteratorResult<ConsumerRecord, undefined>> {
    this.finishLast();
    const ready = this.chunks.ready();
    return ready ? Promise.resolve(this.handOut(ready)) : this.waitForNext();
  }

  return(): Promise<IteratorResult<ConsumerRecord, undefined>> {
    this.finishLast();
    return Promise.resolve({ value: undefined, done: true });
  }

  private async waitForNext(): Promise<IteratorResult<ConsumerRecord, undefined>> {
    while (!this.chunks.closed()) {
      const chunk = await this.chunks.next(this.chunks.maxWaitMs);
      if (chunk) return this.handOut(chunk);
    }
    return { value: undefined, done: true };
  }

  private handOut(chunk: Chunk): IteratorResult<ConsumerRecord, undefined> {
    const record = chunk.records[chunk.index++]!;
    chunk.state.position = record.offset + 1;
    this.last = record;
    this.lastState = chunk.state;
    this.lastEpoch = chunk.epoch;
    return { value: record, done: false };
  }

  private finishLast(): void {
    if (this.last && this.lastState!.epoch === this.lastEpoch) this.lastState!.processed = this.last.offset + 1;
    this.last = undefined;
  }
}
