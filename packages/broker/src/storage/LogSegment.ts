import fs from 'node:fs';
import path from 'node:path';
import { BATCH_HEADER_SIZE, BrookError, decodeRecords, LOG_OVERHEAD, readBatchHeader, verifyBatch, type BatchHeader } from '@brook/types';
import type { StorageLogger } from './Log';
import { OffsetIndex } from './OffsetIndex';
import { TimeIndex } from './TimeIndex';

export const LOG_FILE_SUFFIX = '.log';
const INDEX_FILE_SUFFIX = '.index';
const TIME_INDEX_FILE_SUFFIX = '.timeindex';
/** Suffix of a segment file on its way out; a crash can leave one behind, and the next open removes it. */
const DELETED_FILE_SUFFIX = '.deleted';
/** Suffix of the files of a segment the cleaner is writing (Kafka's CleanedFileSuffix). */
export const CLEANED_FILE_SUFFIX = '.cleaned';
/** Suffix of the files of a cleaned segment committed to replace the segments it was cleaned from (Kafka's SwapFileSuffix). */
export const SWAP_FILE_SUFFIX = '.swap';

const INT32_MAX = 2 ** 31 - 1;
/** Header scans read the file this much at a time, so small batches do not cost a system call each. */
const HEADER_WINDOW_BYTES = 16 * 1024;
/** Recovery reads and checks batches this much at a time (more when one batch is larger). */
const RECOVERY_CHUNK_BYTES = 1024 * 1024;

/** The file name of a segment file: the base offset zero-padded to 20 digits, then the suffix. */
export function segmentFileName(baseOffset: number, suffix: string): string {
  return String(baseOffset).padStart(20, '0') + suffix;
}

/** A batch of an append: its header and where it starts in the appended buffer. */
export type LocatedBatch = BatchHeader & { position: number };

/** A whole, CRC-checked batch read from a segment: bytes [position, position + header.sizeInBytes) of `buffer`. */
export interface ReadBatch {
  buffer: Buffer;
  position: number;
  header: BatchHeader;
}

export interface SegmentRead {
  records: Buffer;
  firstOffset: number;
  nextOffset: number;
  /** The read took every batch up to the end of the segment, so a longer read goes on in the next one. */
  reachedEnd: boolean;
}

export interface SegmentRecovery {
  /** Bytes read and checked; what recovery cost. */
  scannedBytes: number;
  truncatedBytes: number;
  /** Why the segment was truncated, when it was. */
  problem?: string;
}

/** The roll decision's inputs that come from the log's config. */
export interface RollLimits {
  segmentBytes: number;
  segmentMs: number;
}

/**
 * One segment of a partition log (Kafka's LogSegment): a `.log` file of record batches that starts at
 * `baseOffset`, with its sparse offset and time indexes. The last segment of a log is the active one and
 * takes the appends; the others are read-only, and open cheaply: their indexes are loaded on first use.
 */
export class LogSegment {
  private filePath: string;
  private readonly offsetIndex: OffsetIndex;
  private readonly timeIndex: TimeIndex;
  private fd: number | undefined;
  private sizeBytes: number;
  private indexesLoaded = false;
  /** Offset after the last batch; known for the active segment and after recovery or truncation. */
  private next: number;
  private maxTimestampSoFar = -1;
  private offsetOfMaxTimestampSoFar: number;
  private bytesSinceLastIndexEntry = 0;
  /** maxTimestamp of the first batch, which segment.ms measures from (Kafka's rollingBasedTimestamp). */
  private firstBatchTimestamp: number | undefined;
  /** Largest timestamp of a segment whose indexes are not loaded, read from the time index's last entry. */
  private knownLargestTimestamp: number | undefined;
  private readonly createdMs = Date.now();

  private constructor(
    dir: string,
    readonly baseOffset: number,
    size: number,
    public indexIntervalBytes: number,
    private readonly logger: StorageLogger,
    fileSuffix: string,
  ) {
    this.filePath = path.join(dir, segmentFileName(baseOffset, LOG_FILE_SUFFIX) + fileSuffix);
    this.offsetIndex = new OffsetIndex(path.join(dir, segmentFileName(baseOffset, INDEX_FILE_SUFFIX) + fileSuffix), baseOffset);
    this.timeIndex = new TimeIndex(path.join(dir, segmentFileName(baseOffset, TIME_INDEX_FILE_SUFFIX) + fileSuffix), baseOffset);
    this.sizeBytes = size;
    this.next = baseOffset;
    this.offsetOfMaxTimestampSoFar = baseOffset;
  }

  /** A new, empty segment; `fileSuffix` names the files of one that is not part of the log yet (CLEANED_FILE_SUFFIX). */
  static create(dir: string, baseOffset: number, indexIntervalBytes: number, logger: StorageLogger, fileSuffix = ''): LogSegment {
    const segment = new LogSegment(dir, baseOffset, 0, indexIntervalBytes, logger, fileSuffix);
    const { O_RDWR, O_CREAT, O_EXCL } = fs.constants;
    segment.fd = fs.openSync(segment.logPath, O_RDWR | O_CREAT | O_EXCL, 0o644);
    segment.offsetIndex.reset();
    segment.timeIndex.reset();
    segment.indexesLoaded = true;
    return segment;
  }

  /** A segment already on disk. Costs one stat: nothing is read until the segment is used. */
  static open(dir: string, baseOffset: number, indexIntervalBytes: number, logger: StorageLogger, fileSuffix = ''): LogSegment {
    const size = fs.statSync(path.join(dir, segmentFileName(baseOffset, LOG_FILE_SUFFIX) + fileSuffix)).size;
    return new LogSegment(dir, baseOffset, size, indexIntervalBytes, logger, fileSuffix);
  }

  get logPath(): string {
    return this.filePath;
  }

  get size(): number {
    return this.sizeBytes;
  }

  /** The log file's modification time. */
  get lastModified(): number {
    return fs.statSync(this.logPath).mtimeMs;
  }

  /** A cleaned segment takes the modification time of the last segment it replaces, as in Kafka: time-based rules keep seeing the original age. */
  set lastModified(ms: number) {
    fs.utimesSync(this.logPath, ms / 1000, ms / 1000);
  }

  /** The offset after the last batch. Valid for the active segment (see loadTailState). */
  get nextOffset(): number {
    return this.next;
  }

  /** The largest record timestamp, or the file's modification time when no record has one (as Kafka). */
  get largestTimestamp(): number {
    if (!this.indexesLoaded && this.knownLargestTimestamp === undefined) {
      const last = TimeIndex.readLastEntry(this.timeIndex.path, this.baseOffset);
      if (last === 'invalid') this.ensureIndexes();
      else this.knownLargestTimestamp = last?.timestamp ?? -1;
    }
    const largest = this.indexesLoaded ? this.maxTimestampSoFar : this.knownLargestTimestamp!;
    return largest >= 0 ? largest : fs.statSync(this.logPath).mtimeMs;
  }

  // -------------------------------------------------------------------------------------------------
  // Appends

  /** True when the batch should go to a new segment; `pendingBytes` are batches of the same append not yet written. */
  shouldRoll(batch: LocatedBatch, pendingBytes: number, limits: RollLimits, now: number): boolean {
    const size = this.sizeBytes + pendingBytes;
    if (size === 0) return false; // a batch larger than segment.bytes still goes somewhere
    if (size + batch.sizeInBytes > limits.segmentBytes) return true;
    if (batch.lastOffset - this.baseOffset > INT32_MAX) return true; // relative offsets are int32
    const first = this.firstBatchTimestamp;
    if (first === undefined) return false;
    const waited = first >= 0 ? batch.maxTimestamp - first : now - this.createdMs;
    return waited > limits.segmentMs;
  }

  /** Writes batches [from, to) of `records` (already validated and given their offsets) and indexes them. */
  append(records: Buffer, batches: readonly LocatedBatch[], from: number, to: number): void {
    const start = batches[from]!.position;
    const last = batches[to - 1]!;
    const end = last.position + last.sizeInBytes;
    const filePosition = this.sizeBytes;
    this.writeFully(records, start, end - start, filePosition);
    for (let i = from; i < to; i++) {
      const batch = batches[i]!;
      this.indexBatch(batch, filePosition + batch.position - start);
    }
    this.sizeBytes += end - start;
    this.next = last.lastOffset + 1;
    this.offsetIndex.writePending();
    this.timeIndex.writePending();
  }

  /** Called when a newer segment takes over: the time index gets the segment's largest timestamp. */
  onBecomeInactive(): void {
    this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar);
    this.offsetIndex.writePending();
    this.timeIndex.writePending();
  }

  /** Kafka's indexing rule: an entry for the first batch after more than index.interval.bytes. */
  private indexBatch(batch: BatchHeader, position: number): void {
    if (batch.maxTimestamp > this.maxTimestampSoFar) {
      this.maxTimestampSoFar = batch.maxTimestamp;
      this.offsetOfMaxTimestampSoFar = batch.lastOffset;
    }
    if (this.bytesSinceLastIndexEntry > this.indexIntervalBytes) {
      this.offsetIndex.append(batch.lastOffset, position);
      this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += batch.sizeInBytes;
    this.firstBatchTimestamp ??= batch.maxTimestamp;
  }

  private writeFully(buf: Buffer, offset: number, length: number, position: number): void {
    const fd = this.openFd();
    let written = 0;
    try {
      while (written < length) written += fs.writeSync(fd, buf, offset + written, length - written, position + written);
    } catch (err) {
      // Leave no partial batch behind for readers and later appends.
      if (written > 0) fs.ftruncateSync(fd, position);
      throw err;
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Reads

  /**
   * Whole batches from the one holding `startOffset`: up to `maxBytes` (but the first batch whatever its
   * size when `minOneBatch`), none whose baseOffset >= `maxOffset`. Undefined when no batch of this
   * segment reaches `startOffset`.
   */
  read(startOffset: number, maxOffset: number, maxBytes: number, minOneBatch: boolean): SegmentRead | undefined {
    const start = this.translateOffset(startOffset);
    if (start === undefined) return undefined;
    const first = start.header;
    const nothing = { records: Buffer.alloc(0), firstOffset: first.baseOffset, nextOffset: startOffset, reachedEnd: false };
    if (first.baseOffset >= maxOffset) return nothing;
    const available = this.sizeBytes - start.position;
    const length = Math.min(available, Math.max(maxBytes, minOneBatch ? first.sizeInBytes : 0));
    if (length < first.sizeInBytes) return nothing;
    const chunk = this.readBytes(start.position, length);
    let end = 0;
    let nextOffset = startOffset;
    while (length - end >= BATCH_HEADER_SIZE) {
      const header = readBatchHeader(chunk, end);
      if (end + header.sizeInBytes > length || header.baseOffset >= maxOffset) break;
      end += header.sizeInBytes;
      nextOffset = header.lastOffset + 1;
    }
    return { records: chunk.subarray(0, end), firstOffset: first.baseOffset, nextOffset, reachedEnd: end === available };
  }

  /** Kafka's findOffsetByTimestamp: the first offset >= `startingOffset` whose timestamp is >= `timestamp`. */
  findOffsetByTimestamp(timestamp: number, startingOffset: number): number | undefined {
    this.ensureIndexes();
    const indexed = this.timeIndex.lookup(timestamp);
    let found: number | undefined;
    this.scanHeaders(this.offsetIndex.lookup(Math.max(indexed.offset, startingOffset)).position, (header, position) => {
      if (header.maxTimestamp < timestamp || header.lastOffset < startingOffset) return true;
      const batch = this.readBytes(position, header.sizeInBytes);
      const record = decodeRecords(batch, 0).find((r) => r.timestamp >= timestamp && r.offset >= startingOffset);
      found = record?.offset;
      return found === undefined;
    });
    return found;
  }

  /**
   * The whole batches from the one holding `startOffset` to the end of the segment, read a chunk at a time,
   * each checked against its CRC (the cleaner must not launder a corrupt batch into a new CRC). Throws
   * CORRUPT_RECORD at a bad or partial batch.
   */
  *readBatchesFrom(startOffset: number): Generator<ReadBatch> {
    const start = this.translateOffset(startOffset);
    if (start === undefined) return;
    let position = start.position;
    let chunk: Buffer = Buffer.alloc(0);
    let chunkStart = position;
    // A fresh buffer per chunk, so what was yielded stays valid after the next read.
    const refill = (atLeast: number): void => {
      chunkStart = position;
      chunk = this.readBytes(position, Math.min(Math.max(RECOVERY_CHUNK_BYTES, atLeast), this.sizeBytes - position));
    };
    while (position < this.sizeBytes) {
      if (position + LOG_OVERHEAD > chunkStart + chunk.length) refill(LOG_OVERHEAD);
      const size = chunk.readInt32BE(position - chunkStart + 8) + LOG_OVERHEAD;
      if (position + size > chunkStart + chunk.length) refill(size);
      const header = verifyBatch(chunk, position - chunkStart);
      yield { buffer: chunk, position: position - chunkStart, header };
      position += header.sizeInBytes;
    }
  }

  /** Visits the headers of the batches that start at or after `startOffset`, in order, without reading their records. */
  forEachBatchHeaderFrom(startOffset: number, visit: (header: BatchHeader) => void): void {
    this.ensureIndexes();
    this.scanHeaders(this.offsetIndex.lookup(startOffset).position, (header) => {
      if (header.baseOffset >= startOffset) visit(header);
      return true;
    });
  }

  /** The batch holding `offset` (the first whose lastOffset >= offset) and where it starts. */
  private translateOffset(offset: number): { header: BatchHeader; position: number } | undefined {
    this.ensureIndexes();
    let found: { header: BatchHeader; position: number } | undefined;
    this.scanHeaders(this.offsetIndex.lookup(offset).position, (header, position) => {
      if (header.lastOffset < offset) return true;
      found = { header, position };
      return false;
    });
    return found;
  }

  /**
   * Visits the headers of the whole batches from `position` on, without reading their records, until
   * `visit` answers false. Stops at a partial batch at the end; a corrupt header throws CORRUPT_RECORD,
   * or with `stopAtCorrupt` ends the scan there. Returns where it stopped.
   */
  private scanHeaders(
    position: number,
    visit: (header: BatchHeader, position: number) => boolean,
    stopAtCorrupt = false,
  ): number {
    const window = Buffer.allocUnsafe(HEADER_WINDOW_BYTES);
    let windowStart = 0;
    let windowEnd = 0;
    while (this.sizeBytes - position >= BATCH_HEADER_SIZE) {
      if (position < windowStart || position + BATCH_HEADER_SIZE > windowEnd) {
        windowStart = position;
        windowEnd = position + this.readInto(window, Math.min(window.length, this.sizeBytes - position), position);
      }
      let header: BatchHeader;
      try {
        header = readBatchHeader(window, position - windowStart);
      } catch (err) {
        if (stopAtCorrupt) break;
        throw err;
      }
      if (position + header.sizeInBytes > this.sizeBytes || !visit(header, position)) break;
      position += header.sizeInBytes;
    }
    return position;
  }

  private readFirstBatchTimestamp(): number | undefined {
    if (this.sizeBytes < BATCH_HEADER_SIZE) return undefined;
    try {
      return readBatchHeader(this.readBytes(0, BATCH_HEADER_SIZE), 0).maxTimestamp;
    } catch {
      return undefined; // recovery finds and handles a bad first batch; rolling by time just waits for a good one
    }
  }

  private readBytes(position: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    const read = this.readInto(buf, length, position);
    if (read < length) throw new BrookError('CORRUPT_RECORD', `${this.logPath} ends at ${position + read}, before ${position + length}`);
    return buf;
  }

  /** Reads up to `length` bytes at `position` into the start of `buf`; answers how many there were. */
  private readInto(buf: Buffer, length: number, position: number): number {
    const fd = this.openFd();
    let read = 0;
    while (read < length) {
      const n = fs.readSync(fd, buf, read, length - read, position + read);
      if (n === 0) break;
      read += n;
    }
    return read;
  }

  // -------------------------------------------------------------------------------------------------
  // Loading, recovery and truncation

  /**
   * Prepares the segment to be the active one after a clean shutdown: loads its indexes and reads what
   * appends need from its tail (next offset, largest timestamp, bytes since the last index entry). Costs
   * the bytes after the last index entry, not the segment.
   */
  loadTailState(): void {
    this.ensureIndexes();
    const lastTimeEntry = this.timeIndex.lastEntry();
    this.maxTimestampSoFar = lastTimeEntry?.timestamp ?? -1;
    this.offsetOfMaxTimestampSoFar = lastTimeEntry?.offset ?? this.baseOffset;
    this.bytesSinceLastIndexEntry = 0;
    this.next = this.baseOffset;
    this.firstBatchTimestamp = this.readFirstBatchTimestamp();
    const from = this.offsetIndex.lastEntry()?.position ?? 0;
    const end = this.scanHeaders(
      from,
      (header) => {
        if (header.maxTimestamp > this.maxTimestampSoFar) {
          this.maxTimestampSoFar = header.maxTimestamp;
          this.offsetOfMaxTimestampSoFar = header.lastOffset;
        }
        this.bytesSinceLastIndexEntry += header.sizeInBytes;
        this.next = header.lastOffset + 1;
        return true;
      },
      true,
    );
    this.dropUnreadableTail(end);
  }

  /** A segment trusted after a clean shutdown can still end in a torn batch (a crash after the marker was read). */
  private dropUnreadableTail(end: number): void {
    if (end >= this.sizeBytes) return;
    this.logger.warn({ segment: this.logPath, position: end, bytes: this.sizeBytes - end }, 'dropping an unreadable tail of a segment');
    this.truncateFile(end);
  }

  /**
   * Recovery after an unclean shutdown: checks every batch (length, CRC, offsets increasing from
   * `minOffset`) from the index entry at or below `recoveryPoint` (the start of the segment when there
   * is none or the index cannot be trusted) to the end, truncates at the first bad or partial batch and
   * rebuilds the index entries of what it checked. Flushed data before the start is not read.
   */
  recover(recoveryPoint: number | undefined, minOffset: number): SegmentRecovery {
    this.indexesLoaded = true;
    const start = recoveryPoint === undefined ? undefined : this.trustedIndexEntryAtOrBelow(recoveryPoint);
    if (start === undefined) {
      this.offsetIndex.reset();
      this.timeIndex.reset();
      this.maxTimestampSoFar = -1;
      this.offsetOfMaxTimestampSoFar = this.baseOffset;
      this.firstBatchTimestamp = undefined;
    } else {
      // Keep what was indexed up to the batch at the entry; that batch is checked again, not indexed again.
      this.offsetIndex.truncateTo(start.offset + 1);
      this.timeIndex.truncateTo(start.offset + 1);
      const lastTimeEntry = this.timeIndex.lastEntry();
      this.maxTimestampSoFar = lastTimeEntry?.timestamp ?? -1;
      this.offsetOfMaxTimestampSoFar = lastTimeEntry?.offset ?? this.baseOffset;
      this.firstBatchTimestamp = this.readFirstBatchTimestamp();
    }
    this.bytesSinceLastIndexEntry = 0;
    this.next = minOffset;

    const from = start?.position ?? 0;
    let position = from;
    let problem: string | undefined;
    // `chunk` holds file bytes [chunkStart, chunkStart + chunk.length); refilled at the batch that does not fit.
    let buffer = Buffer.allocUnsafe(Math.min(RECOVERY_CHUNK_BYTES, Math.max(this.sizeBytes - from, LOG_OVERHEAD)));
    let chunk = buffer.subarray(0, 0);
    let chunkStart = 0;
    const refill = (at: number, atLeast: number): void => {
      if (atLeast > buffer.length) buffer = Buffer.allocUnsafe(atLeast);
      chunkStart = at;
      chunk = buffer.subarray(0, this.readInto(buffer, Math.min(buffer.length, this.sizeBytes - at), at));
    };
    while (position < this.sizeBytes) {
      if (this.sizeBytes - position < LOG_OVERHEAD) {
        problem = `partial batch of ${this.sizeBytes - position} bytes`;
        break;
      }
      if (position + LOG_OVERHEAD > chunkStart + chunk.length) refill(position, LOG_OVERHEAD);
      const size = chunk.readInt32BE(position - chunkStart + 8) + LOG_OVERHEAD;
      if (size >= BATCH_HEADER_SIZE && position + size > this.sizeBytes) {
        problem = `partial batch: ${this.sizeBytes - position} of ${size} bytes`;
        break;
      }
      if (size >= BATCH_HEADER_SIZE && position + size > chunkStart + chunk.length) refill(position, size);
      let header: BatchHeader;
      try {
        header = verifyBatch(chunk, position - chunkStart);
      } catch (err) {
        problem = (err as Error).message;
        break;
      }
      if (header.baseOffset < this.next || header.baseOffset < this.baseOffset) {
        problem = `batch at offset ${header.baseOffset} does not follow offset ${this.next - 1}`;
        break;
      }
      if (header.lastOffset - this.baseOffset > INT32_MAX) {
        problem = `batch at offset ${header.baseOffset} is out of reach of base offset ${this.baseOffset}`;
        break;
      }
      this.indexBatch(header, position);
      this.next = header.lastOffset + 1;
      position += header.sizeInBytes;
    }
    if (problem !== undefined && start !== undefined && position === start.position) {
      // The batch the index points at is itself bad: nothing before it can be trusted either.
      return this.recover(undefined, minOffset);
    }
    const truncatedBytes = this.sizeBytes - position;
    if (truncatedBytes > 0) this.truncateFile(position);
    this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar);
    this.offsetIndex.writePending();
    this.timeIndex.writePending();
    return { scannedBytes: position - from, truncatedBytes, ...(problem !== undefined && truncatedBytes > 0 ? { problem } : {}) };
  }

  /**
   * Removes the batch holding `offset` and everything after it, and makes the segment ready for appends.
   * Answers the bytes removed.
   */
  truncateTo(offset: number): number {
    const found = this.translateOffset(offset);
    let removed = 0;
    if (found !== undefined) {
      removed = this.sizeBytes - found.position;
      this.offsetIndex.truncateToPosition(found.position);
      this.timeIndex.truncateTo(found.header.baseOffset);
      this.truncateFile(found.position);
    }
    this.loadTailState();
    return removed;
  }

  /** Loads the indexes on first use, rebuilding them from the log when they are missing or unsound. */
  private ensureIndexes(): void {
    if (this.indexesLoaded) return;
    this.indexesLoaded = true;
    const problem = this.offsetIndex.load() ?? this.timeIndex.load() ?? this.indexPastEnd();
    if (problem === undefined) {
      const last = this.timeIndex.lastEntry();
      this.maxTimestampSoFar = last?.timestamp ?? -1;
      this.offsetOfMaxTimestampSoFar = last?.offset ?? this.baseOffset;
      return;
    }
    this.logger.warn({ segment: this.logPath, problem }, 'rebuilding the indexes of a segment');
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.maxTimestampSoFar = -1;
    this.offsetOfMaxTimestampSoFar = this.baseOffset;
    this.bytesSinceLastIndexEntry = 0;
    this.firstBatchTimestamp = undefined;
    const end = this.scanHeaders(
      0,
      (header, position) => {
        this.indexBatch(header, position);
        this.next = header.lastOffset + 1;
        return true;
      },
      true,
    );
    this.dropUnreadableTail(end);
    this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar);
    this.offsetIndex.writePending();
    this.timeIndex.writePending();
  }

  private indexPastEnd(): string | undefined {
    const last = this.offsetIndex.lastEntry();
    return last && last.position >= this.sizeBytes ? `entry ${last.offset}@${last.position} is past the end (${this.sizeBytes} bytes)` : undefined;
  }

  /** The index entry at or below `offset` when the indexes load soundly and the entry points at its batch. */
  private trustedIndexEntryAtOrBelow(offset: number): { offset: number; position: number } | undefined {
    if (this.offsetIndex.load() !== undefined || this.timeIndex.load() !== undefined) return undefined;
    const entry = this.offsetIndex.lookup(offset);
    if (entry.position === 0 || entry.position + BATCH_HEADER_SIZE > this.sizeBytes) return undefined;
    let header: BatchHeader;
    try {
      header = readBatchHeader(this.readBytes(entry.position, BATCH_HEADER_SIZE), 0);
    } catch {
      return undefined;
    }
    return header.lastOffset === entry.offset ? entry : undefined;
  }

  private truncateFile(size: number): void {
    fs.ftruncateSync(this.openFd(), size);
    this.sizeBytes = size;
  }

  // -------------------------------------------------------------------------------------------------
  // Durability and lifetime

  /** fsyncs the log and its indexes. */
  flush(): void {
    if (this.fd !== undefined) fs.fsyncSync(this.fd);
    this.offsetIndex.flush();
    this.timeIndex.flush();
  }

  /** The same fsyncs on the libuv thread pool: a rolled segment is flushed without stalling appends. */
  async flushInBackground(): Promise<void> {
    const fd = this.fd;
    if (fd !== undefined) await new Promise<void>((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
    await this.offsetIndex.flushInBackground();
    await this.timeIndex.flushInBackground();
  }

  close(): void {
    if (this.indexesLoaded) this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar);
    this.offsetIndex.close();
    this.timeIndex.close();
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  /**
   * Renames the segment's files from `oldSuffix` to `newSuffix`, the indexes first and the log file last:
   * the log file's name is what recovery goes by, so its rename completes the step.
   */
  changeFileSuffixes(oldSuffix: string, newSuffix: string): void {
    const renamed = (file: string): string => {
      if (!file.endsWith(oldSuffix)) throw new BrookError('INTERNAL', `${file} does not end with ${oldSuffix}`);
      return file.slice(0, file.length - oldSuffix.length) + newSuffix;
    };
    this.offsetIndex.renameTo(renamed(this.offsetIndex.path));
    this.timeIndex.renameTo(renamed(this.timeIndex.path));
    const logPath = renamed(this.logPath);
    fs.renameSync(this.logPath, logPath);
    this.filePath = logPath;
  }

  /** Removes whichever of the segment's files exist: a cleaned segment the cleaner gives up on. */
  deleteIfExists(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.offsetIndex.delete();
    this.timeIndex.delete();
    fs.rmSync(this.logPath, { force: true });
  }

  /** Removes the segment's files; the log file is renamed first, so a crash midway leaves only leftovers. */
  delete(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    const doomed = this.logPath + DELETED_FILE_SUFFIX;
    fs.renameSync(this.logPath, doomed);
    this.offsetIndex.delete();
    this.timeIndex.delete();
    fs.rmSync(doomed, { force: true });
  }

  private openFd(): number {
    this.fd ??= fs.openSync(this.logPath, fs.constants.O_RDWR);
    return this.fd;
  }
}
