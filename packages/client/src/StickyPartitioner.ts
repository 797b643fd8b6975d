import type { ProducerBatch } from './RecordAccumulator';

/**
 * Kafka's sticky partitioner for keyless records: every keyless record of a topic goes to one partition
 * until the batch it fills is closed (full, or drained to be sent); then it moves to another partition,
 * so keyless records make few, full batches instead of many small ones.
 */
export class StickyPartitioner {
  private readonly sticky = new Map<string, { partition: number; batch: ProducerBatch | undefined }>();

  constructor(private readonly random: () => number = Math.random) {}

  /** The partition for the next keyless record of `topic`. */
  partition(topic: string, numPartitions: number): number {
    const s = this.sticky.get(topic);
    if (s && s.partition < numPartitions && (s.batch === undefined || !s.batch.closed)) return s.partition;
    let next = Math.floor(this.random() * numPartitions);
    if (s && numPartitions > 1 && next === s.partition) next = (next + 1) % numPartitions;
    this.sticky.set(topic, { partition: next, batch: undefined });
    return next;
  }

  /** Tells the partitioner which batch the keyless record went into. */
  onAppend(topic: string, batch: ProducerBatch): void {
    const s = this.sticky.get(topic);
    if (s && s.partition === batch.partition) s.batch = batch;
  }
}
