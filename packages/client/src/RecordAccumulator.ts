import { RecordBatchBuilder, type RecordInput } from '@brook/types';

/** Where a record landed: its partition and offset. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
}

/** Bytes a record adds to a batch, roughly as RecordBatch v2 encodes it (varint overheads rounded up). */
export function estimateRecordSize(record: RecordInput): number {
  let size = 16 + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  if (record.headers) for (const h of record.headers) size += 10 + Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  return size;
}

/** Bytes of a batch's header (RecordBatch v2). */
export const BATCH_OVERHEAD = 61;
/** First buffer of a batch when the partition's last batch was small: linger-sized batches stay cheap. */
const MIN_BATCH_CAPACITY = 1024;

// One promise per send with no closure nor callback object per record: the executor hands its resolving
// functions over through these two variables, and the batch keeps them in one array.
let capturedResolve: ((meta: RecordMetadata) => void) | undefined;
let capturedReject: ((err: Error) => void) | undefined;
function capture(resolve: (meta: RecordMetadata) => void, reject: (err: Error) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/**
 * Records of one partition sent together as one RecordBatch (Kafka's ProducerBatch). Records are encoded
 * into the batch's buffer as they are appended. Its producer id, sequence number and bytes are fixed the
 * first time it is sent, so a retry is byte-identical and the broker recognizes it as a duplicate.
 */
export class ProducerBatch {
  private readonly builder: RecordBatchBuilder;
  /** resolve, reject of each record's send, in record order. */
  private readonly settlers: Array<((meta: RecordMetadata) => void) | ((err: Error) => void)> = [];
  /** Estimated bytes (estimateRecordSize), what batchSize and the sticky partitioner go by. */
  sizeBytes = BATCH_OVERHEAD;
  /** Buffered bytes accounted for this batch (released when it completes). */
  memoryBytes = 0;
  /** No more records go in: it was full, or it has been drained. */
  closed = false;
  /** -1 until first sent. */
  baseSequence = -1;
  producerId = -1;
  encoded: Buffer | undefined;
  attempts = 0;
  /** Not to be sent again before this time (retry backoff). */
  retryAt = 0;
  done = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly createdAt: number,
    capacity = MIN_BATCH_CAPACITY,
  ) {
    this.builder = new RecordBatchBuilder(capacity);
  }

  get recordCount(): number {
    return this.builder.recordCount;
  }

  /** Encodes the record into the batch; answers the promise of its metadata. */
  add(record: RecordInput, size: number): Promise<RecordMetadata> {
    this.builder.append(record.timestamp ?? Date.now(), record.key, record.value, record.headers);
    const result = new Promise<RecordMetadata>(capture);
    this.settlers.push(capturedResolve!, capturedReject!);
    this.sizeBytes += size;
    this.memoryBytes += size;
    return result;
  }

  /** The batch's bytes, built on first use with the producer identity (if any) and sequence given then. */
  encode(identity?: { producerId: number; producerEpoch: number; baseSequence: number }): Buffer {
    this.encoded ??= this.builder.build(identity);
    return this.encoded;
  }

  complete(baseOffset: number): void {
    if (this.done) return;
    this.done = true;
    const { topic, partition, settlers } = this;
    for (let i = 0; i < settlers.length; i += 2) (settlers[i] as (meta: RecordMetadata) => void)({ topic, partition, offset: baseOffset + i / 2 });
    settlers.length = 0;
  }

  fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    const { settlers } = this;
    for (let i = 1; i < settlers.length; i += 2) (settlers[i] as (err: Error) => void)(err);
    settlers.length = 0;
  }
}

/** Per-partition queue and in-flight state. */
export class PartitionQueue {
  /** Batches waiting to be sent (retried ones first, in sequence order); the last may be open. */
  readonly queue: ProducerBatch[] = [];
  inFlight = 0;
  /** After a retriable failure: send one batch at a time until the retried batches have gone through. */
  retrying = false;
  nextSequence = 0;
  /** Bytes of the last batch closed, to size the next one's buffer. */
  lastBatchBytes = 0;
  /** The leader a NOT_LEADER answer named, used until the metadata is refreshed. */
  leaderOverride: string | undefined;
  /**
   * A batch was acknowledged under the current producer id. Until then an idempotent producer sends one
   * batch at a time: a broker takes a new producer id's first sequence as it comes, so a second batch
   * overtaking the first (requests go over several connections) would be taken and the first refused.
   */
  firstAcked = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** The open batch records are appended to, if any. */
  get open(): ProducerBatch | undefined {
    const last = this.queue[this.queue.length - 1];
    return last && !last.closed ? last : undefined;
  }

  /** Puts a failed batch back, keeping batches that already have a sequence in sequence order, first. */
  requeue(batch: ProducerBatch): void {
    let i = 0;
    while (i < this.queue.length && this.queue[i]!.baseSequence >= 0 && this.queue[i]!.baseSequence < batch.baseSequence) i++;
    this.queue.splice(i, 0, batch);
  }
}

export interface AccumulatorOptions {
  batchSize: number;
  lingerMs: number;
  /** Most batches of one partition in flight at once. */
  maxInFlightPerPartition?: number;
  /** Batches carry sequence numbers: a partition's first batch goes alone (see PartitionQueue.firstAcked). */
  idempotent?: boolean;
}

/**
 * Collects records into per-partition batches (Kafka's RecordAccumulator). A batch is ready to send
 * when it is full (`batchSize` bytes), when it has waited `lingerMs`, when its retry backoff is over, or
 * when a flush is under way. `drain` takes the ready head batch of each partition, grouped by leader.
 */
export class RecordAccumulator {
  private readonly partitions = new Map<string, PartitionQueue>();
  /** The same queues by topic and partition number: the per-record lookup builds no string. */
  private readonly byTopic = new Map<string, PartitionQueue[]>();
  /** Flushes under way: while > 0, batches are ready without waiting for linger. */
  flushing = 0;
  /** Batches created so far. */
  batchesCreated = 0;

  constructor(readonly options: AccumulatorOptions) {}

  partitionQueue(topic: string, partition: number): PartitionQueue {
    let queues = this.byTopic.get(topic);
    if (!queues) this.byTopic.set(topic, (queues = []));
    let q = queues[partition];
    if (!q) {
      queues[partition] = q = new PartitionQueue(topic, partition);
      this.partitions.set(`${topic}\u0000${partition}`, q);
    }
    return q;
  }

  /**
   * Appends a record to the partition's open batch, closing it and opening a new one when the record
   * does not fit. Answers the batch the record went into and the record's result promise.
   */
  append(topic: string, partition: number, record: RecordInput, size: number, now?: number): { batch: ProducerBatch; result: Promise<RecordMetadata> } {
    const q = this.partitionQueue(topic, partition);
    let batch = q.open;
    if (batch && batch.recordCount > 0 && batch.sizeBytes + size > this.options.batchSize) {
      this.close(q, batch);
      batch = undefined;
    }
    if (!batch) {
      // A partition that filled its last batch likely fills this one: start at full size, not doubling up.
      const capacity = Math.min(this.options.batchSize, Math.max(MIN_BATCH_CAPACITY, q.lastBatchBytes + (q.lastBatchBytes >> 2)));
      batch = new ProducerBatch(topic, partition, now ?? Date.now(), capacity);
      q.queue.push(batch);
      this.batchesCreated++;
    }
    const result = batch.add(record, size);
    if (batch.sizeBytes >= this.options.batchSize) this.close(q, batch);
    return { batch, result };
  }

  private close(q: PartitionQueue, batch: ProducerBatch): void {
    batch.closed = true;
    q.lastBatchBytes = batch.sizeBytes;
  }

  /**
   * Closes the partition's open batch when a record of `size` bytes would not fit in it, so the sticky
   * partitioner can move on before the record is appended. Answers whether it closed one.
   */
  closeIfFull(topic: string, partition: number, size: number): boolean {
    const q = this.partitionQueue(topic, partition);
    const batch = q.open;
    if (batch && batch.recordCount > 0 && batch.sizeBytes + size > this.options.batchSize) {
      this.close(q, batch);
      return true;
    }
    return false;
  }

  /** Whether the head batch of a partition may be sent now. */
  private sendable(q: PartitionQueue, now: number, sequencedOnly: boolean): ProducerBatch | undefined {
    const head = q.queue[0];
    if (!head || (sequencedOnly && head.baseSequence < 0)) return undefined;
    const maxInFlight = q.retrying || (this.options.idempotent && !q.firstAcked) ? 1 : (this.options.maxInFlightPerPartition ?? 5);
    if (q.inFlight >= maxInFlight) return undefined;
    if (head.retryAt > now) return undefined;
    if (head.closed || this.flushing > 0 || now - head.createdAt >= this.options.lingerMs) return head;
    return undefined;
  }

  /**
   * Takes the sendable head batch of each partition whose leader is known (its leaderOverride, else
   * `leaderOf`), grouped by leader (at most `maxBytes` per leader, and only leaders `canSend` allows).
   * With `sequencedOnly`, only batches that already have a sequence number go. Drained batches are closed.
   */
  drain(
    now: number,
    leaderOf: (topic: string, partition: number) => string | undefined,
    canSend: (leader: string) => boolean,
    maxBytes: number,
    sequencedOnly = false,
  ): Map<string, Array<{ queue: PartitionQueue; batch: ProducerBatch }>> {
    const out = new Map<string, Array<{ queue: PartitionQueue; batch: ProducerBatch }>>();
    const bytes = new Map<string, number>();
    for (const q of this.partitions.values()) {
      const head = this.sendable(q, now, sequencedOnly);
      if (!head) continue;
      const leader = q.leaderOverride ?? leaderOf(q.topic, q.partition);
      if (leader === undefined || !canSend(leader)) continue;
      const used = bytes.get(leader) ?? 0;
      if (used > 0 && used + head.sizeBytes > maxBytes) continue;
      bytes.set(leader, used + head.sizeBytes);
      q.queue.shift();
      if (!head.closed) this.close(q, head);
      let list = out.get(leader);
      if (!list) out.set(leader, (list = []));
      list.push({ queue: q, batch: head });
    }
    return out;
  }

  /** When the next batch becomes ready by time (linger or backoff), or undefined when none waits on time. */
  nextReadyAt(): number | undefined {
    let next: number | undefined;
    for (const q of this.partitions.values()) {
      const head = q.queue[0];
      if (!head) continue;
      const at = Math.max(head.retryAt, head.closed || this.flushing > 0 ? 0 : head.createdAt + this.options.lingerMs);
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /** Whether a batch that has a sequence number is queued or in flight (in flight ones all have one). */
  get hasSequencedPending(): boolean {
    for (const q of this.partitions.values()) if (q.inFlight > 0 || q.queue.some((b) => b.baseSequence >= 0)) return true;
    return false;
  }

  /** Whether any batch is queued or in flight. */
  get hasPending(): boolean {
    for (const q of this.partitions.values()) if (q.queue.length > 0 || q.inFlight > 0) return true;
    return false;
  }

  queues(): Iterable<PartitionQueue> {
    return this.partitions.values();
  }
}
