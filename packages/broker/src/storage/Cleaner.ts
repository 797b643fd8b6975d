import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { BrookError, decodeRecords, readBatchHeader, type BatchHeader, type DecodedRecord } from '@brook/types';
import type { Log, StorageLogger } from './Log';
import { CLEANED_FILE_SUFFIX, LogSegment, type LocatedBatch } from './LogSegment';
import { OffsetMap } from './OffsetMap';
import { filterBatch, type RecordFilter } from './RecordFilter';

const INT32_MAX = 2 ** 31 - 1;
/** Work between two yields to the event loop: a few milliseconds, so produce, fetch and replication go on during a cleaning. */
const YIELD_EVERY_BYTES = 1024 * 1024;
/** Cleaned batches are written to the new segment this much at a time. */
const WRITE_BUFFER_BYTES = 1024 * 1024;

/** What one cleaning of a log works from. */
interface Cleaning {
  log: Log;
  /** The log's truncationCount when the cleaning started: the work is void once it changes. */
  truncations: number;
  result: CleanResult;
}

export interface CleanResult {
  /** The end of what was cleaned: the next cleaning's first dirty offset (the cleaner checkpoint). */
  endOffset: number;
  bytesRead: number;
  bytesWritten: number;
}

/**
 * Compacts one log (Kafka's Cleaner): keeps, for every key, only the record with the latest offset.
 *  1. Builds an OffsetMap of key -> latest offset over the dirty part, from `firstDirtyOffset` to the
 *     log's firstUncleanableOffset (or less, if the map fills up first).
 *  2. Rewrites the segments from the log start to the end of the map, in groups that fit in
 *     segment.bytes (merging the small segments cleaning leaves behind), each into one new segment,
 *     keeping a keyed record only if no later record of its key is in the map. A tombstone (null value)
 *     that stays gets a delete horizon, now + delete.retention.ms, and goes at a cleaning after it (KIP-534).
 *     Records without a key stay: Kafka refuses them on compacted topics, Brook does not, so dropping
 *     them would lose data.
 *  3. Swaps each new segment in for its group (Log.replaceSegments).
 * Everything is synchronous file I/O in slices of about 1 MiB with a yield to the event loop between
 * them; after each yield the log must still hold the segments the work is based on, untruncated
 * (Log.holdsUnchanged), or the cleaning is abandoned and its files removed.
 */
export class Cleaner {
  constructor(
    /** log.cleaner.dedupe.buffer.size: the memory the offset map of one cleaning may use. */
    private readonly dedupeBufferSize: number,
    private readonly logger: StorageLogger,
  ) {}

  /** Cleans `log`; undefined when the log changed under the cleaning (truncated, segments deleted, closed). */
  async clean(log: Log, firstDirtyOffset: number, now: number): Promise<CleanResult | undefined> {
    const upperBound = log.firstUncleanableOffset;
    const result: CleanResult = { endOffset: firstDirtyOffset, bytesRead: 0, bytesWritten: 0 };
    const cleaning: Cleaning = { log, truncations: log.truncationCount, result };
    if (firstDirtyOffset >= upperBound) return result;
    const dirty = log.logSegments(firstDirtyOffset, upperBound);
    if (!log.holdsUnchanged(dirty, cleaning.truncations)) return undefined; // closed since it was picked

    const map = new OffsetMap(this.dedupeBufferSize, firstDirtyOffset);
    const full = await this.buildOffsetMap(cleaning, dirty, firstDirtyOffset, map);
    if (full === undefined) return undefined;
    if (full && map.latestOffset < firstDirtyOffset) {
      throw new BrookError('INTERNAL', `log.cleaner.dedupe.buffer.size ${this.dedupeBufferSize} cannot hold one key of ${log.topic}-${log.partition}`);
    }
    result.endOffset = full ? map.latestOffset + 1 : upperBound;

    const lastDataOffsets = log.lastRecordsOfActiveProducers();
    const filterFor = (header: BatchHeader): RecordFilter => ({
      // An idempotent producer's last batch stays, if only as a header: Kafka's RETAIN_EMPTY.
      retainEmpty: header.producerId >= 0 && lastDataOffsets.get(header.producerId) === header.lastOffset,
      newDeleteHorizonMs: now + log.config.deleteRetentionMs,
      shouldRetainRecord: (record, deleteHorizonMs) => shouldRetainRecord(map, record, deleteHorizonMs, now),
    });
    const segments = log.logSegments(log.logStartOffset, result.endOffset);
    for (const group of groupSegmentsBySize(segments, log.config.segmentBytes, upperBound)) {
      if (!(await this.cleanSegments(cleaning, group, filterFor))) return undefined;
    }
    return result;
  }

  /**
   * Puts every keyed record of the dirty segments from `start` on in the map, oldest first. Answers whether
   * the map filled up (its latestOffset then says how far it got), or undefined when the log changed meanwhile.
   */
  private async buildOffsetMap(
    cleaning: Cleaning,
    dirty: readonly LogSegment[],
    start: number,
    map: OffsetMap,
  ): Promise<boolean | undefined> {
    const { log, truncations, result } = cleaning;
    let sinceYield = 0;
    for (const segment of dirty) {
      for (const { buffer, position, header } of segment.readBatchesFrom(start)) {
        for (const record of decodeRecords(buffer, position, header)) {
          if (record.key !== null && record.offset >= start && !map.put(record.key, record.offset)) return true;
        }
        map.updateLatestOffset(header.lastOffset);
        result.bytesRead += header.sizeInBytes;
        sinceYield += header.sizeInBytes;
        if (sinceYield >= YIELD_EVERY_BYTES) {
          sinceYield = 0;
          await yieldToEventLoop();
          if (!log.holdsUnchanged([segment], truncations)) return undefined;
        }
      }
    }
    return false;
  }

  /**
   * Cleans a group of consecutive segments into one new segment at the group's base offset and swaps it
   * in. False when the log changed meanwhile; the new segment's files are then removed.
   */
  private async cleanSegments(
    cleaning: Cleaning,
    group: readonly LogSegment[],
    filterFor: (header: BatchHeader) => RecordFilter,
  ): Promise<boolean> {
    const { log, truncations } = cleaning;
    if (!log.holdsUnchanged(group, truncations)) return false;
    const cleaned = LogSegment.create(log.dir, group[0]!.baseOffset, log.config.indexIntervalBytes, this.logger, CLEANED_FILE_SUFFIX);
    let unchanged: boolean;
    try {
      unchanged = await this.cleanInto(cleaning, group, filterFor, cleaned);
    } catch (err) {
      cleaned.deleteIfExists();
      throw err;
    }
    if (!unchanged) {
      cleaned.deleteIfExists();
      return false;
    }
    log.replaceSegments(cleaned, group, truncations);
    cleaning.result.bytesWritten += cleaned.size;
    return true;
  }

  /** Writes what stays of `group` to `cleaned` and makes it durable; false when the log changed meanwhile. */
  private async cleanInto(
    cleaning: Cleaning,
    group: readonly LogSegment[],
    filterFor: (header: BatchHeader) => RecordFilter,
    cleaned: LogSegment,
  ): Promise<boolean> {
    const { log, truncations, result } = cleaning;
    const output = new CleanedSegmentWriter(cleaned);
    let sinceYield = 0;
    for (const segment of group) {
      for (const { buffer, position, header } of segment.readBatchesFrom(segment.baseOffset)) {
        const kept = filterBatch(buffer, position, header, filterFor(header));
        if (kept !== undefined) output.add(kept);
        result.bytesRead += header.sizeInBytes;
        sinceYield += header.sizeInBytes;
        if (sinceYield >= YIELD_EVERY_BYTES) {
          sinceYield = 0;
          await yieldToEventLoop();
          if (!log.holdsUnchanged(group, truncations)) return false;
        }
      }
    }
    output.flush();
    cleaned.onBecomeInactive();
    cleaned.lastModified = group[group.length - 1]!.lastModified;
    await cleaned.flushInBackground();
    return log.holdsUnchanged(group, truncations);
  }
}

/**
 * Kafka's shouldRetainRecord: a record past the map was not cleaned against it and stays; a keyed record
 * stays if it is its key's latest and either has a value or is a tombstone whose delete horizon has not
 * passed (or was not set yet).
 */
function shouldRetainRecord(map: OffsetMap, record: DecodedRecord, deleteHorizonMs: number | undefined, now: number): boolean {
  if (record.offset > map.latestOffset || record.key === null) return true;
  if (record.offset < map.get(record.key)) return false;
  return record.value !== null || deleteHorizonMs === undefined || now < deleteHorizonMs;
}

/**
 * Kafka's groupSegmentsBySize: consecutive segments whose sizes add up to at most `maxSize`, and whose
 * offsets stay within int32 of the group's base offset (index entries hold relative offsets), so each
 * group can become one segment.
 */
export function groupSegmentsBySize(segments: readonly LogSegment[], maxSize: number, firstUncleanableOffset: number): LogSegment[][] {
  const groups: LogSegment[][] = [];
  let i = 0;
  while (i < segments.length) {
    const group = [segments[i]!];
    let size = segments[i]!.size;
    for (i++; i < segments.length; i++) {
      const next = segments[i]!;
      const lastOffset = (segments[i + 1]?.baseOffset ?? firstUncleanableOffset) - 1;
      if (size + next.size > maxSize || (next.size > 0 && lastOffset - group[0]!.baseOffset > INT32_MAX)) break;
      group.push(next);
      size += next.size;
    }
    groups.push(group);
  }
  return groups;
}

/** Collects cleaned batches and appends them to the new segment (which indexes them) about 1 MiB at a time. */
class CleanedSegmentWriter {
  private parts: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly segment: LogSegment) {}

  add(batch: Buffer): void {
    this.parts.push(batch);
    this.bytes += batch.length;
    if (this.bytes >= WRITE_BUFFER_BYTES) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const records = Buffer.concat(this.parts, this.bytes);
    const located: LocatedBatch[] = [];
    for (let position = 0; position < records.length; ) {
      const batch = readBatchHeader(records, position) as LocatedBatch;
      batch.position = position;
      located.push(batch);
      position += batch.sizeInBytes;
    }
    this.segment.append(records, located, 0, located.length);
    this.parts = [];
    this.bytes = 0;
  }
}
