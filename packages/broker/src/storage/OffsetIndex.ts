import { BrookError } from '@brook/types';
import { IndexFile } from './IndexFile';

export interface OffsetPosition {
  offset: number;
  position: number;
}

const ENTRY_SIZE = 8;

/**
 * A segment's sparse offset index (Kafka's OffsetIndex): entries of relative offset (uint32) and file
 * position (uint32), one per index.interval.bytes appended. An entry maps the last offset of a batch to
 * where that batch starts, so the batch holding any offset starts at or after the entry at or below it.
 */
export class OffsetIndex extends IndexFile {
  private relativeOffsets = new Uint32Array(0);
  private positions = new Uint32Array(0);

  constructor(path: string, baseOffset: number) {
    super(path, baseOffset, ENTRY_SIZE);
  }

  append(offset: number, position: number): void {
    const last = this.lastEntry();
    if (last && (offset <= last.offset || position <= last.position)) {
      throw new BrookError('INTERNAL', `index entry ${offset}@${position} after ${last.offset}@${last.position} in ${this.path}`);
    }
    this.reserve(this.entryCount + 1);
    this.relativeOffsets[this.entryCount] = offset - this.baseOffset;
    this.positions[this.entryCount] = position;
    this.entryCount++;
  }

  /** The entry with the largest offset <= target, or the segment start when there is none. */
  lookup(targetOffset: number): OffsetPosition {
    const i = this.indexOfLargestAtOrBelow(targetOffset);
    return i < 0 ? { offset: this.baseOffset, position: 0 } : this.entry(i);
  }

  lastEntry(): OffsetPosition | undefined {
    return this.entryCount === 0 ? undefined : this.entry(this.entryCount - 1);
  }

  /** Removes every entry whose offset is >= `offset`. */
  truncateTo(offset: number): void {
    this.truncateToEntries(this.indexOfLargestAtOrBelow(offset - 1) + 1);
  }

  /** Removes every entry for a batch at or after `position`. */
  truncateToPosition(position: number): void {
    let count = this.entryCount;
    while (count > 0 && this.positions[count - 1]! >= position) count--;
    this.truncateToEntries(count);
  }

  private entry(i: number): OffsetPosition {
    return { offset: this.baseOffset + this.relativeOffsets[i]!, position: this.positions[i]! };
  }

  private indexOfLargestAtOrBelow(targetOffset: number): number {
    const target = targetOffset - this.baseOffset;
    let low = 0;
    let high = this.entryCount - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (this.relativeOffsets[mid]! <= target) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  }

  protected reserve(count: number): void {
    const capacity = IndexFile.grownCapacity(this.positions.length, count);
    if (capacity === this.positions.length) return;
    const relativeOffsets = new Uint32Array(capacity);
    relativeOffsets.set(this.relativeOffsets.subarray(0, this.entryCount));
    const positions = new Uint32Array(capacity);
    positions.set(this.positions.subarray(0, this.entryCount));
    this.relativeOffsets = relativeOffsets;
    this.positions = positions;
  }

  protected decodeEntry(raw: Buffer, position: number, index: number): void {
    this.relativeOffsets[index] = raw.readUInt32BE(position);
    this.positions[index] = raw.readUInt32BE(position + 4);
  }

  protected encodeEntry(buf: Buffer, position: number, index: number): void {
    buf.writeUInt32BE(this.relativeOffsets[index]!, position);
    buf.writeUInt32BE(this.positions[index]!, position + 4);
  }

  protected findDisorder(): string | undefined {
    for (let i = 1; i < this.entryCount; i++) {
      if (this.relativeOffsets[i]! <= this.relativeOffsets[i - 1]! || this.positions[i]! <= this.positions[i - 1]!) {
        return `entry ${i} is not after entry ${i - 1}`;
      }
    }
    return undefined;
  }
}
