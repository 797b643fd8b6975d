/** One record of __consumer_offsets; a null value is a tombstone (compaction then drops the key). */
export interface OffsetsRecord {
  key: Buffer;
  value: Buffer | null;
}

/**
 * Where the coordinator writes its records: the partitions of __consumer_offsets. Appends to one partition
 * must land in the log in call order, since the coordinator applies them to its memory in that order.
 */
export interface OffsetsStore {
  /** Appends with acks=all to partition `p` of __consumer_offsets; rejects with a BrookError if not committed. */
  append(p: number, records: OffsetsRecord[]): Promise<void>;
}
