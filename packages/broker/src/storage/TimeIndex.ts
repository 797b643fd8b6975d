import fs from 'node:fs';
import { IndexFile } from './IndexFile';

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

const ENTRY_SIZE = 12;

/**
 * A segment's sparse time index (Kafka's TimeIndex): entries of timestamp (int64) and relative offset
 * (uint32), written beside offset-index entries and only when the segment's largest timestamp grew. An
 * entry (T, O) says: the records up to O's batch have timestamps <= T, and T was first reached in O's batch.
 * A segment that stops being active gets a last entry for its largest timestamp, which retention reads.
 */
export class TimeIndex extends IndexFile {
  private timestamps = new Float64Array(0);
  private relativeOffsets = new Uint32Array(0);

  constructor(path: string, baseOffset: number) {
    super(path, baseOffset, ENTRY_SIZE);
  }

  /**
   * The last entry of an index file that is not loaded, read without loading it: a segment's largest
   * timestamp, for retention. Undefined when the file is empty; 'invalid' when it cannot be trusted.
   */
  static readLastEntry(path: string, baseOffset: number): TimestampOffset | undefined | 'invalid' {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch {
      return 'invalid';
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size === 0) return undefined;
      if (size % ENTRY_SIZE !== 0) return 'invalid';
      const raw = Buffer.alloc(ENTRY_SIZE);
      if (fs.readSync(fd, raw, 0, ENTRY_SIZE, size - ENTRY_SIZE) !== ENTRY_SIZE) return 'invalid';
      return { timestamp: readTimestamp(raw, 0), offset: baseOffset + raw.readUInt32BE(8) };
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Appends (timestamp, offset) when the timestamp is larger than the last entry's. */
  maybeAppend(timestamp: number, offset: number): void {
    const last = this.lastEntry();
    if (last && (timestamp <= last.timestamp || offset < last.offset)) return;
    this.reserve(this.entryCount + 1);
    this.timestamps[this.entryCount] = timestamp;
    this.relativeOffsets[this.entryCount] = offset - this.baseOffset;
    this.entryCount++;
  }

  /** The entry with the largest timestamp <= target; the segment start when there is none. */
  lookup(targetTimestamp: number): TimestampOffset {
    let low = 0;
    let high = this.entryCount - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (this.timestamps[mid]! <= targetTimestamp) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found < 0 ? { timestamp: -1, offset: this.baseOffset } : this.entry(found);
  }

  lastEntry(): TimestampOffset | undefined {
    return this.entryCount === 0 ? undefined : this.entry(this.entryCount - 1);
  }

  /** Removes every entry whose offset is >= `offset`. */
  truncateTo(offset: number): void {
    let count = this.entryCount;
    while (count > 0 && this.baseOffset + this.relativeOffsets[count - 1]! >= offset) count--;
    this.truncateToEntries(count);
  }

  private entry(i: number): TimestampOffset {
    return { timestamp: this.timestamps[i]!, offset: this.baseOffset + this.relativeOffsets[i]! };
  }

  protected reserve(count: number): void {
    const capacity = IndexFile.grownCapacity(this.timestamps.length, count);
    if (capacity === this.timestamps.length) return;
    const timestamps = new Float64Array(capacity);
    timestamps.set(this.timestamps.subarray(0, this.entryCount));
    const relativeOffsets = new Uint32Array(capacity);
    relativeOffsets.set(this.relativeOffsets.subarray(0, this.entryCount));
    this.timestamps = timestamps;
    this.relativeOffsets = relativeOffsets;
  }

  protected decodeEntry(raw: Buffer, position: number, index: number): void {
    this.timestamps[index] = readTimestamp(raw, position);
    this.relativeOffsets[index] = raw.readUInt32BE(position + 8);
  }

  protected encodeEntry(buf: Buffer, position: number, index: number): void {
    const timestamp = this.timestamps[index]!;
    const high = Math.floor(timestamp / 4294967296);
    buf.writeInt32BE(high, position);
    buf.writeUInt32BE(timestamp - high * 4294967296, position + 4);
    buf.writeUInt32BE(this.relativeOffsets[index]!, position + 8);
  }

  protected findDisorder(): string | undefined {
    for (let i = 1; i < this.entryCount; i++) {
      if (this.timestamps[i]! <= this.timestamps[i - 1]! || this.relativeOffsets[i]! < this.relativeOffsets[i - 1]!) {
        return `entry ${i} is not after entry ${i - 1}`;
      }
    }
    return undefined;
  }
}

function readTimestamp(raw: Buffer, position: number): number {
  return raw.readInt32BE(position) * 4294967296 + raw.readUInt32BE(position + 4);
}
