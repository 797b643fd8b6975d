/** What one entry is taken to cost besides its key's bytes: the string's header and the map's slot. */
const ENTRY_OVERHEAD_BYTES = 80;

/**
 * The cleaner's map of key -> offset of the key's latest record in the dirty part of a log (Kafka's
 * SkimpyOffsetMap). Unlike Kafka's, it holds keys exactly (their bytes as a latin1 string), not hashes, so
 * no hash collision can ever make the cleaner drop a record; the price is memory that grows with key size,
 * bounded here by an estimate of `memoryBytes` (log.cleaner.dedupe.buffer.size).
 */
export class OffsetMap {
  private readonly offsets = new Map<string, number>();
  private usedBytes = 0;
  /** The last offset the map accounts for: every keyed record up to it was put. */
  latestOffset: number;

  constructor(
    private readonly memoryBytes: number,
    startOffset: number,
  ) {
    this.latestOffset = startOffset - 1;
  }

  get size(): number {
    return this.offsets.size;
  }

  /** Records `offset` as the latest of `key`. False, changing nothing, when a new key does not fit. */
  put(key: Buffer, offset: number): boolean {
    const k = key.toString('latin1');
    if (!this.offsets.has(k)) {
      const cost = k.length + ENTRY_OVERHEAD_BYTES;
      if (this.usedBytes + cost > this.memoryBytes) return false;
      this.usedBytes += cost;
    }
    this.offsets.set(k, offset);
    this.latestOffset = offset;
    return true;
  }

  /** The latest offset of `key`, or -1 when the dirty part has no record of it. */
  get(key: Buffer): number {
    return this.offsets.get(key.toString('latin1')) ?? -1;
  }

  /** Every record up to `offset` was scanned (the batch may end in keyless records). */
  updateLatestOffset(offset: number): void {
    this.latestOffset = Math.max(this.latestOffset, offset);
  }
}
