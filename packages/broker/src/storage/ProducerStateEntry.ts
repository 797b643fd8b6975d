/**
 * How many of a producer's last batches are kept (Kafka's NUM_BATCHES_TO_RETAIN): a producer has at most
 * 5 requests in flight, so the original of any batch it retries is among them.
 */
export const NUM_BATCHES_TO_RETAIN = 5;

const INT32_MAX = 2 ** 31 - 1;

/** One appended batch of an idempotent producer: its sequence range and where it landed in the log. */
export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  /** The broker's clock when the batch was appended (or replayed from the log). */
  timestamp: number;
}

/** The sequence `increment` after `sequence`: sequences are int32 and wrap from INT32_MAX to 0, as in Kafka. */
export function incrementSequence(sequence: number, increment: number): number {
  return sequence > INT32_MAX - increment ? increment - (INT32_MAX - sequence) - 1 : sequence + increment;
}

/** True when `nextSeq` directly follows `lastSeq`. */
export function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

/** What a partition log knows of one producer id (Kafka's ProducerStateEntry): its epoch and its last batches. */
export class ProducerStateEntry {
  constructor(
    readonly producerId: number,
    public producerEpoch: number,
    /** Oldest first; never empty once the entry is in a ProducerStateManager. */
    readonly batches: BatchMetadata[] = [],
  ) {}

  get lastSeq(): number {
    return this.batches[this.batches.length - 1]!.lastSeq;
  }

  /** When the producer last appended; what producer.id.expiration.ms is measured from. */
  get lastTimestamp(): number {
    return this.batches[this.batches.length - 1]!.timestamp;
  }

  /** Records a batch; a new epoch starts the batch history afresh. */
  addBatch(producerEpoch: number, batch: BatchMetadata): void {
    if (producerEpoch !== this.producerEpoch) {
      this.producerEpoch = producerEpoch;
      this.batches.length = 0;
    }
    this.batches.push(batch);
    if (this.batches.length > NUM_BATCHES_TO_RETAIN) this.batches.shift();
  }

  /** The kept batch of this epoch with exactly this sequence range: the original of a retried batch. */
  findDuplicateBatch(producerEpoch: number, firstSeq: number, lastSeq: number): BatchMetadata | undefined {
    if (producerEpoch !== this.producerEpoch) return undefined;
    return this.batches.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
  }
}
