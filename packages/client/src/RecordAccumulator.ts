import type { RecordInput } from '@brook/types';

/** Where a record landed: its partition and offset. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
}

interface Callback {
  resolve(meta: RecordMetadata): void;
  reject(err: Error): void;
}

/** Bytes a record adds to a batch, roughly as RecordBatch v2 encodes it (varint overheads rounded up). */
export function estimateRecordSize(record: RecordInput): number {
  let size = 16 + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  if (record.headers) for (const h of record.headers) size += 10 + Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  return size;
}

/** Bytes of a batch's header (RecordBatch v2). */
export const BATCH_OVERHEAD = 61;

/**
 * Records of one partition sent together as one RecordBatch (Kafka's ProducerBatch). Its sequence
 * number and bytes are fixed the first time it is sent, so a retry is byte-identical and the broker
 * recognizes it as a duplicate.
 */
export class ProducerBatch {
  readonly records: RecordInput[] = [];
  readonly callbacks: Callback[] = [];
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
  ) {}

  get recordCount(): number {
    return this.records.length;
  }

  complete(baseOffset: number): void {
    if (this.done) return;
    this.done = true;
    this.callbacks.forEach((cb, i) => cb.resolve({ topic: this.topic, partition: this.partition, offset: baseOffset + i }));
  }

  fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    for (const cb of this.callbacks) cb.reject(err);
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
}

/**
 * Collects records into per-partition batches (Kafka's RecordAccumulator). A batch is ready to send
 * when it is full (`batchSize` bytes), when it has waited `lingerMs`, when its retry backoff is over, or
 * when a flush is under way. `drain` takes the ready head batch of each partition, grouped by leader.
 */
export class RecordAccumulator {
  private readonly partitions = new Map<string, PartitionQueue>();
  /** Flushes under way: while > 0, batches are ready without waiting for linger. */
  flushing = 0;
  /** Batches created so far. */
  batchesCreated = 0;

  constructor(readonly options: AccumulatorOptions) {}

  partitionQueue(topic: string, partition: number): PartitionQueue {
    const key = `${topic}\u0000${partition}`;
    let q = this.partitions.get(key);
    if (!q) this.partitions.set(key, (q = new PartitionQueue(topic, partition)));
    return q;
  }

  /**
   * Appends a record to the partition's open batch, closing it and opening a new one when the record
   * does not fit. Answers the batch the record went into and the record's result promise.
   */
  append(topic: string, partition: number, record: RecordInput, size: number, now = Date.now()): { batch: ProducerBatch; result: Promise<RecordMetadata> } {
    const q = this.partitionQueue(topic, partition);
    let batch = q.open;
    if (batch && batch.recordCount > 0 && batch.sizeBytes + size > this.options.batchSize) {
      batch.closed = true;
      batch = undefined;
    }
    if (!batch) {
      batch = new ProducerBatch(topic, partition, now);
      q.queue.push(batch);
      this.batchesCreated++;
    }
    const b = batch;
    const result = new Promise<RecordMetadata>((resolve, reject) => b.callbacks.push({ resolve, reject }));
    b.records.push(record);
    b.sizeBytes += size;
    b.memoryBytes += size;
    if (b.sizeBytes >= this.options.batchSize) b.closed = true;
    return { batch: b, result };
  }

  /**
   * Closes the partition's open batch when a record of `size` bytes would not fit in it, so the sticky
   * partitioner can move on before the record is appended. Answers whether it closed one.
   */
  closeIfFull(topic: string, partition: number, size: number): boolean {
    const batch = this.partitionQueue(topic, partition).open;
    if (batch && batch.recordCount > 0 && batch.sizeBytes + size > this.options.batchSize) {
      batch.closed = true;
      return true;
    }
    return false;
  }

  /** Whether the head batch of a partition may be sent now. */
  private sendable(q: PartitionQueue, now: number): ProducerBatch | undefined {
    const head = q.queue[0];
    if (!head) return undefined;
    if (q.retrying ? q.inFlight > 0 : q.inFlight >= (this.options.maxInFlightPerPartition ?? 5)) return undefined;
    if (head.retryAt > now) return undefined;
    if (head.closed || this.flushing > 0 || now - head.createdAt >= this.options.lingerMs) return head;
    return undefined;
  }

  /**
   * Takes the sendable head batch of each partition whose leader `leaderOf` knows, grouped by leader
   * (at most `maxBytes` per leader, and only leaders `canSend` allows). Drained batches are closed.
   */
  drain(
    now: number,
    leaderOf: (topic: string, partition: number) => string | undefined,
    canSend: (leader: string) => boolean,
    maxBytes: number,
  ): Map<string, Array<{ queue: PartitionQueue; batch: ProducerBatch }>> {
    const out = new Map<string, Array<{ queue: PartitionQueue; batch: ProducerBatch }>>();
    const bytes = new Map<string, number>();
    for (const q of this.partitions.values()) {
      const head = this.sendable(q, now);
      if (!head) continue;
      const leader = leaderOf(q.topic, q.partition);
      if (leader === undefined || !canSend(leader)) continue;
      const used = bytes.get(leader) ?? 0;
      if (used > 0 && used + head.sizeBytes > maxBytes) continue;
      bytes.set(leader, used + head.sizeBytes);
      q.queue.shift();
      head.closed = true;
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

  /** Whether any batch is queued or in flight. */
  get hasPending(): boolean {
    for (const q of this.partitions.values()) if (q.queue.length > 0 || q.inFlight > 0) return true;
    return false;
  }

  queues(): Iterable<PartitionQueue> {
    return this.partitions.values();
  }
}
