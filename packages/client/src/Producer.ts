import { HttpJsonClient } from '@brook/runtime';
import {
  BrookError,
  encodeProduceFrame,
  ERROR_STATUS,
  type ErrorCode,
  partitionForKey,
  PRODUCE_FRAME_CONTENT_TYPE,
  type ProduceFrameResponse,
  type RecordHeader,
  type RecordInput,
  type RegisterProducerResponse,
} from '@brook/types';
import { Metadata, STALE_METADATA_CODES } from './Metadata';
import { estimateRecordSize, RecordAccumulator, type PartitionQueue, type ProducerBatch, type RecordMetadata } from './RecordAccumulator';
import { StickyPartitioner } from './StickyPartitioner';
import { Fifo } from './Fifo';

/** Acknowledgement a produce waits for: none (`0`), the leader (`1`), or every in-sync replica (`all`). */
export type Acks = 'all' | '1' | '0' | -1 | 0 | 1;

export interface ProducerOptions {
  /** The controller's URL, e.g. `http://localhost:9000`. */
  controllerUrl: string;
  /** Cluster name; `default` by default. */
  cluster?: string;
  /** Acks of every produce request; `all` by default. */
  acks?: Acks;
  /** Bytes of records per partition batch before it is sent; 64 KiB by default. */
  batchSize?: number;
  /** How long a batch waits for more records before it is sent; 5 ms by default. */
  lingerMs?: number;
  /** Requests in flight to one broker at once; 5 by default (the broker keeps 5 batches per producer for dedup). */
  maxInFlightPerBroker?: number;
  /** Bytes of records buffered (not yet acknowledged) before `send` waits; 32 MiB by default. */
  bufferMemory?: number;
  /** Times a batch is retried after a retriable error; 5 by default. */
  retries?: number;
  /** First wait before a retry (doubling per attempt, up to 1 s); 100 ms by default. */
  retryBackoffMs?: number;
  /** Registers a producer id and numbers batches so retries never duplicate; true by default. */
  idempotent?: boolean;
  /** Timeout of one produce request; 30 s by default. */
  requestTimeoutMs?: number;
  /** Most bytes in one produce request; 4 MiB by default. */
  maxRequestSize?: number;
  /** HTTP connections per broker; maxInFlightPerBroker by default. */
  connectionsPerBroker?: number;
}

/** A record to send. */
export interface ProducerRecord {
  topic: string;
  /** Picks the partition (murmur2, as Kafka) when no partition is given. */
  key?: string | Buffer | null;
  /** Buffers are sent as is, strings as UTF-8, anything else as its JSON text. */
  value: unknown;
  headers?: Record<string, string | Buffer | null | undefined>;
  partition?: number;
  /** CreateTime in ms since the epoch; now by default. */
  timestamp?: number;
}

/** Counters of the producer's work so far. */
export interface ProducerStats {
  /** Produce HTTP requests sent (retries included). */
  requests: number;
  /** Batches sent (retries included). */
  batchesSent: number;
  recordsAcked: number;
  retries: number;
  /** Most bytes ever buffered at once. */
  maxBufferedBytes: number;
  /** Times `send` waited for buffer memory. */
  backpressureWaits: number;
}

/** Errors after which a batch is retried. */
const RETRIABLE = new Set([
  'NOT_LEADER',
  'LEADER_NOT_AVAILABLE',
  'BROKER_NOT_AVAILABLE',
  'REQUEST_TIMED_OUT',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'OUT_OF_ORDER_SEQUENCE',
  'UNKNOWN_TOPIC',
  'UNKNOWN_PARTITION',
  'FENCED_LEADER_EPOCH',
]);

/** Turns a value into record bytes: Buffers as is, strings as UTF-8, other values as JSON text. */
export function toBytes(value: unknown): Buffer | null {
  if (value === undefined || value === null) return null;
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function normalizeAcks(acks: Acks): 'all' | '1' | '0' {
  if (acks === 0 || acks === '0') return '0';
  if (acks === 1 || acks === '1') return '1';
  return 'all';
}

/**
 * A Brook producer, in the manner of KafkaJS / the Kafka Java producer. `send` adds a record to its
 * partition's batch (RecordAccumulator) and resolves with the record's partition and offset once the
 * batch is acknowledged. Batches are sent when full (`batchSize`) or after `lingerMs`, one binary
 * `POST /produce` per leader broker carrying every ready partition batch. Idempotent producers number
 * batches per partition, so a retried batch is deduplicated by the broker and order is kept.
 *
 * ```ts
 * const producer = new Producer({ controllerUrl: 'http://localhost:9000' });
 * await producer.connect();
 * const { partition, offset } = await producer.send({ topic: 'orders', key: 'c-42', value: { qty: 2 } });
 * await producer.disconnect();
 * ```
 */
export class Producer {
  readonly metadata: Metadata;
  readonly accumulator: RecordAccumulator;
  private readonly controller: HttpJsonClient;
  private readonly pools = new Map<string, HttpJsonClient>();
  private readonly sticky = new StickyPartitioner();
  private readonly opts: Required<Omit<ProducerOptions, 'cluster' | 'connectionsPerBroker'>> & { acks: 'all' | '1' | '0'; cluster: string; connectionsPerBroker: number };
  private readonly inFlightByLeader = new Map<string, number>();
  private producerId = -1;
  private producerEpoch = -1;
  /**
   * A numbered batch was given up: its sequence may be a gap, so batches not yet numbered wait for a new
   * producer id. Batches already numbered keep their id and sequence to the end (renumbering one the
   * broker may have appended would duplicate it); the new id is taken once none of them is pending.
   */
  private needNewProducerId = false;
  private registering = false;
  private connected = false;
  private closing = false;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  private bufferedBytes = 0;
  private readonly memoryWaiters = new Fifo<{ size: number; run: () => void }>();
  private readonly flushWaiters: Array<() => void> = [];
  private refreshing = false;
  readonly stats: ProducerStats = { requests: 0, batchesSent: 0, recordsAcked: 0, retries: 0, maxBufferedBytes: 0, backpressureWaits: 0 };

  constructor(options: ProducerOptions) {
    this.opts = {
      controllerUrl: options.controllerUrl.replace(/\/+$/, ''),
      cluster: options.cluster ?? 'default',
      acks: normalizeAcks(options.acks ?? 'all'),
      batchSize: options.batchSize ?? 64 * 1024,
      lingerMs: options.lingerMs ?? 5,
      maxInFlightPerBroker: options.maxInFlightPerBroker ?? 5,
      bufferMemory: options.bufferMemory ?? 32 * 1024 * 1024,
      retries: options.retries ?? 5,
      retryBackoffMs: options.retryBackoffMs ?? 100,
      idempotent: options.idempotent ?? true,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      maxRequestSize: options.maxRequestSize ?? 4 * 1024 * 1024,
      connectionsPerBroker: options.connectionsPerBroker ?? options.maxInFlightPerBroker ?? 5,
    };
    if (this.opts.idempotent && this.opts.maxInFlightPerBroker > 5) {
      throw new BrookError('INVALID_REQUEST', 'an idempotent producer allows at most 5 requests in flight per broker');
    }
    this.controller = new HttpJsonClient(this.opts.controllerUrl, { connections: 2 });
    this.metadata = new Metadata(this.controller, { cluster: this.opts.cluster });
    this.accumulator = new RecordAccumulator({
      batchSize: this.opts.batchSize,
      lingerMs: this.opts.lingerMs,
      maxInFlightPerPartition: this.opts.maxInFlightPerBroker,
      idempotent: this.opts.idempotent,
    });
  }

  /** Fetches the cluster metadata and, when idempotent, registers a producer id. */
  async connect(): Promise<void> {
    await this.metadata.refresh();
    if (this.opts.idempotent) await this.registerProducer();
    this.connected = true;
  }

  private async registerProducer(): Promise<void> {
    const res = await this.controller.post<RegisterProducerResponse>('/register_producer/', { cluster: this.opts.cluster });
    this.producerId = res.producerId;
    this.producerEpoch = res.producerEpoch;
    for (const q of this.accumulator.queues()) {
      q.nextSequence = 0;
      q.firstAcked = false;
    }
  }

  /** The producer id and epoch (−1 when not idempotent or not connected). */
  get producerIdentity(): { producerId: number; producerEpoch: number } {
    return { producerId: this.producerId, producerEpoch: this.producerEpoch };
  }

  /**
   * Sends one record: resolves with its partition and offset once acknowledged (as `acks` says), or
   * rejects when its batch failed after the retries. Waits first while the buffer is full.
   */
  send(record: ProducerRecord): Promise<RecordMetadata> {
    try {
      if (!this.connected) throw new BrookError('INVALID_REQUEST', 'call connect() before send()');
      if (this.closing) throw new BrookError('INVALID_REQUEST', 'the producer is disconnecting');
      // Checked here, not when the record is encoded into its batch: a bad record must not leave a half-made batch.
      if (record.timestamp !== undefined && (!Number.isSafeInteger(record.timestamp) || record.timestamp < 0)) {
        throw new BrookError('INVALID_RECORD', `invalid timestamp ${record.timestamp}: use milliseconds since the epoch`);
      }
      const partitions = this.metadata.partitions(record.topic);
      // An unknown topic: refresh once (UNKNOWN_TOPIC when it is still unknown), then send.
      if (!partitions) return this.metadata.requirePartitions(record.topic).then(() => this.send(record));
      const input: RecordInput = {
        key: record.key == null ? null : toBytes(record.key),
        value: toBytes(record.value),
        headers: toHeaders(record.headers),
        timestamp: record.timestamp,
      };
      const size = estimateRecordSize(input);
      let partition = -1;
      if (record.partition !== undefined) {
        if (!Number.isInteger(record.partition) || record.partition < 0 || record.partition >= partitions.length) {
          throw new BrookError('UNKNOWN_PARTITION', `topic ${record.topic} has no partition ${record.partition} (it has ${partitions.length})`, {
            topic: record.topic,
            partition: record.partition,
          });
        }
        partition = record.partition;
      } else if (input.key) {
        partition = partitionForKey(input.key, partitions.length);
      }
      if (this.memoryWaiters.length > 0 || (this.bufferedBytes > 0 && this.bufferedBytes + size > this.opts.bufferMemory)) {
        // Backpressure: wait, in send order, until acknowledged batches free enough memory. release()
        // reserves the bytes and appends the record.
        this.stats.backpressureWaits++;
        return new Promise<RecordMetadata>((resolve, reject) =>
          this.memoryWaiters.push({
            size,
            run: () => {
              try {
                resolve(this.enqueue(record.topic, partition, input, size, partitions.length));
              } catch (err) {
                reject(err);
              }
            },
          }),
        );
      }
      this.bufferedBytes += size;
      return this.enqueue(record.topic, partition, input, size, partitions.length);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Appends a record whose buffer memory is reserved; a partition of -1 asks the sticky partitioner. */
  private enqueue(topic: string, partition: number, input: RecordInput, size: number, numPartitions: number): Promise<RecordMetadata> {
    const sticky = partition < 0;
    if (sticky) {
      partition = this.sticky.partition(topic, numPartitions);
      if (this.accumulator.closeIfFull(topic, partition, size)) partition = this.sticky.partition(topic, numPartitions);
    }
    if (this.bufferedBytes > this.stats.maxBufferedBytes) this.stats.maxBufferedBytes = this.bufferedBytes;
    const { batch, result } = this.accumulator.append(topic, partition, input, size);
    if (sticky) this.sticky.onAppend(topic, batch);
    this.wakeup(batch.closed ? 0 : this.opts.lingerMs);
    return result;
  }

  /** Sends several records; resolves with each one's partition and offset, in order. */
  sendBatch(records: ProducerRecord[]): Promise<RecordMetadata[]> {
    return Promise.all(records.map((r) => this.send(r)));
  }

  /** Resolves once every record sent so far is acknowledged (or has failed). */
  async flush(): Promise<void> {
    if (!this.accumulator.hasPending && this.memoryWaiters.length === 0) return;
    this.accumulator.flushing++;
    try {
      this.wakeup(0);
      await new Promise<void>((resolve) => this.flushWaiters.push(resolve));
    } finally {
      this.accumulator.flushing--;
    }
  }

  /** Flushes, then closes the connections. */
  async disconnect(): Promise<void> {
    if (this.connected) await this.flush();
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
    await this.controller.close();
    this.connected = false;
  }

  // ---- sender ----------------------------------------------------------------------------------------

  private wakeup(delayMs: number): void {
    if (delayMs <= 0) {
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.runOnce();
      });
      return;
    }
    const at = Date.now() + delayMs;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.runOnce();
    }, delayMs);
  }

  private pool(url: string): HttpJsonClient {
    let p = this.pools.get(url);
    if (!p) this.pools.set(url, (p = new HttpJsonClient(url, { connections: this.opts.connectionsPerBroker })));
    return p;
  }

  /** One pass of the sender: drains ready batches into requests, then schedules the next pass. */
  private runOnce(): void {
    if (this.closing) return;
    if (this.needNewProducerId && !this.registering && !this.accumulator.hasSequencedPending) {
      this.registering = true;
      this.registerProducer()
        .then(() => {
          this.needNewProducerId = false;
        })
        .catch(() => undefined)
        .finally(() => {
          this.registering = false;
          this.wakeup(this.needNewProducerId ? this.opts.retryBackoffMs : 0);
        });
      return;
    }
    const now = Date.now();
    let missingLeader = false;
    const drained = this.accumulator.drain(
      now,
      (topic, partition) => {
        const url = this.metadata.leaderUrl(topic, partition);
        if (url === undefined) missingLeader = true;
        return url;
      },
      (leader) => (this.inFlightByLeader.get(leader) ?? 0) < this.opts.maxInFlightPerBroker,
      this.opts.maxRequestSize,
      this.needNewProducerId,
    );
    if (missingLeader) {
      this.metadata.invalidate();
      this.refreshMetadata();
    }
    for (const [leader, list] of drained) this.sendRequest(leader, list);
    // Something was sent: go again, for batches a full request or the per-partition limit held back.
    // Batches held back by requests in flight or a missing leader wait for a completion or a metadata
    // refresh, which wake the sender; only linger and backoff deadlines need a timer.
    if (drained.size > 0) this.wakeup(0);
    const next = this.accumulator.nextReadyAt();
    if (next !== undefined && next > now) this.wakeup(next - now);
    this.checkFlushed();
  }

  private refreshMetadata(): void {
    if (this.refreshing) return;
    this.refreshing = true;
    this.metadata
      .refreshIfStale()
      .catch(() => undefined)
      .finally(() => {
        this.refreshing = false;
        for (const q of this.accumulator.queues()) q.leaderOverride = undefined;
        this.wakeup(0);
      });
  }

  private encode(q: PartitionQueue, batch: ProducerBatch): Buffer {
    if (batch.encoded) return batch.encoded;
    if (!this.opts.idempotent) return batch.encode();
    batch.producerId = this.producerId;
    batch.baseSequence = q.nextSequence;
    q.nextSequence = (q.nextSequence + batch.recordCount) % 0x80000000;
    return batch.encode({ producerId: this.producerId, producerEpoch: this.producerEpoch, baseSequence: batch.baseSequence });
  }

  private sendRequest(leader: string, list: Array<{ queue: PartitionQueue; batch: ProducerBatch }>): void {
    const frame = encodeProduceFrame(list.map(({ queue, batch }) => ({ topic: batch.topic, partition: batch.partition, batches: this.encode(queue, batch) })));
    for (const { queue } of list) queue.inFlight++;
    this.inFlightByLeader.set(leader, (this.inFlightByLeader.get(leader) ?? 0) + 1);
    this.stats.requests++;
    this.stats.batchesSent += list.length;
    const done = (results: Map<string, ProduceFrameResponse['results'][number]['error']> | Error, offsets?: Map<string, number>) => {
      this.inFlightByLeader.set(leader, (this.inFlightByLeader.get(leader) ?? 1) - 1);
      for (const { queue, batch } of list) {
        queue.inFlight--;
        const key = `${batch.topic}\u0000${batch.partition}`;
        const error = results instanceof Error ? toErrorBody(results) : results.get(key) ?? null;
        const offset = offsets?.get(key);
        if (error === null && offset !== undefined) this.onSuccess(queue, batch, offset);
        else this.onError(queue, batch, error ?? { code: 'INTERNAL', message: `no answer for ${batch.topic}-${batch.partition}` }, leader);
      }
      this.wakeup(0);
    };
    this.pool(leader)
      .post<ProduceFrameResponse>('/produce', frame, {
        contentType: PRODUCE_FRAME_CONTENT_TYPE,
        query: { acks: this.opts.acks },
        timeoutMs: this.opts.requestTimeoutMs,
      })
      .then(
        (res) => {
          const errors = new Map<string, ProduceFrameResponse['results'][number]['error']>();
          const offsets = new Map<string, number>();
          for (const r of res?.results ?? []) {
            const key = `${r.topic}\u0000${r.partition}`;
            errors.set(key, r.error);
            offsets.set(key, r.baseOffset);
          }
          done(errors, offsets);
        },
        (err: Error) => done(err),
      );
  }

  private onSuccess(q: PartitionQueue, batch: ProducerBatch, baseOffset: number): void {
    q.firstAcked = true;
    if (q.retrying && q.inFlight === 0 && !q.queue.some((b) => b.baseSequence >= 0)) q.retrying = false;
    this.stats.recordsAcked += batch.recordCount;
    batch.complete(baseOffset);
    this.release(batch);
  }

  private onError(q: PartitionQueue, batch: ProducerBatch, error: { code: string; message: string; [k: string]: unknown }, sentTo: string): void {
    if (STALE_METADATA_CODES.has(error.code) || error.code === 'REQUEST_TIMED_OUT') {
      this.metadata.invalidate();
      this.refreshMetadata();
    }
    // The broker named the leader: go there now rather than after a metadata refresh and a backoff.
    const leaderUrl = error.code === 'NOT_LEADER' && typeof error.leaderUrl === 'string' && error.leaderUrl !== sentTo ? error.leaderUrl : undefined;
    if (leaderUrl !== undefined) q.leaderOverride = leaderUrl;
    if (RETRIABLE.has(error.code) && batch.attempts < this.opts.retries && !this.closing) {
      batch.attempts++;
      this.stats.retries++;
      batch.retryAt = leaderUrl !== undefined ? 0 : Date.now() + Math.min(1000, this.opts.retryBackoffMs * 2 ** (batch.attempts - 1));
      q.retrying = true;
      q.requeue(batch);
      return;
    }
    const { code, message, ...details } = error;
    batch.fail(new BrookError((code in ERROR_STATUS ? code : 'INTERNAL') as ErrorCode, message, details));
    if (this.opts.idempotent && batch.baseSequence >= 0) this.needNewProducerId = true;
    if (!q.queue.some((b) => b.baseSequence >= 0)) q.retrying = false;
    this.release(batch);
  }

  private release(batch: ProducerBatch): void {
    this.bufferedBytes -= batch.memoryBytes;
    batch.memoryBytes = 0;
    while (this.memoryWaiters.length > 0) {
      const w = this.memoryWaiters.peek()!;
      if (this.bufferedBytes > 0 && this.bufferedBytes + w.size > this.opts.bufferMemory) break;
      this.memoryWaiters.shift();
      // Reserved now, so waiters released together do not overshoot.
      this.bufferedBytes += w.size;
      w.run();
    }
    this.checkFlushed();
  }

  private checkFlushed(): void {
    if (this.flushWaiters.length === 0) return;
    if (this.accumulator.hasPending || this.memoryWaiters.length > 0) return;
    for (const w of this.flushWaiters.splice(0)) w();
  }

  /** Bytes buffered right now. */
  get buffered(): number {
    return this.bufferedBytes;
  }
}

function toHeaders(headers: ProducerRecord['headers']): RecordHeader[] | undefined {
  if (!headers) return undefined;
  const out: RecordHeader[] = [];
  for (const [key, value] of Object.entries(headers)) if (value !== undefined) out.push({ key, value: toBytes(value) });
  return out.length > 0 ? out : undefined;
}

function toErrorBody(err: Error): { code: string; message: string; [k: string]: unknown } {
  if (err instanceof BrookError) return err.toBody().error;
  return { code: 'BROKER_NOT_AVAILABLE', message: err.message };
}
