import fs from 'node:fs';
import path from 'node:path';
import { BrookError, setBaseOffset, setPartitionLeaderEpoch, verifyBatch, verifyRecords } from '@brook/types';
import { fsyncDirectory } from './CheckpointFile';
import { deletesOldSegments, type LogConfig } from './LogConfig';
import { LeaderEpochFileCache } from './LeaderEpochFileCache';
import { CLEANED_FILE_SUFFIX, LOG_FILE_SUFFIX, LogSegment, SWAP_FILE_SUFFIX, type LocatedBatch } from './LogSegment';
import { PartitionMetadataFile } from './PartitionMetadataFile';
import { flushProducerSnapshotInBackground } from './ProducerSnapshotFile';
import { ProducerStateManager } from './ProducerStateManager';

/** The part of a pino logger storage uses. */
export interface StorageLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const SILENT_LOGGER: StorageLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface LogOpenOptions {
  /** The offset below which the log was flushed (recovery-point-offset-checkpoint); recovery starts there. */
  recoveryPoint: number;
  hadCleanShutdown: boolean;
  /** The log start offset from log-start-offset-checkpoint, when known. */
  logStartOffset?: number;
  logger?: StorageLogger;
  /**
   * Called when a truncation moves the recovery point back: the checkpointed one must follow before a
   * crash, or recovery would start past data that was never flushed.
   */
  onRecoveryPointLowered?: () => void;
  /** Called after a truncation with the new log end: the cleaner's checkpoint must not stay past it (Kafka's maybeTruncateCheckpoint). */
  onTruncated?: (logEndOffset: number) => void;
}

export interface LeaderAppendResult {
  firstOffset: number;
  lastOffset: number;
  /** The broker's clock at the append (of the originals, for a duplicate). Batch timestamps stay the producer's (Kafka's CreateTime). */
  logAppendTime: number;
  batchCount: number;
  recordCount: number;
  /** The batches were retries of an idempotent producer's batches already in the log: nothing was written, the offsets are the originals'. */
  duplicate: boolean;
}

export interface ReadResult {
  records: Buffer;
  /** Base offset of the first batch returned (batches are whole, so it can be below the offset asked for). */
  firstOffset: number;
  /** The offset to read from next. */
  nextOffset: number;
}

/** Most bytes of appended buffers a log keeps as its tail cache (see TailAppend). */
const TAIL_CACHE_BYTES = 1024 * 1024;

/**
 * The bytes of one append to the active segment, kept in memory: followers and consumers read the tail
 * of the log right after it was written, and get it from here without a file read or a new buffer (Kafka
 * leans on the page cache for this). `batches` are the appended batches' headers; their positions are
 * relative to `bytes`.
 */
interface TailAppend {
  bytes: Buffer;
  batches: LocatedBatch[];
  /** What keeping it costs: the whole buffer it is a view of. */
  cost: number;
}

/** Files a crash can leave in a partition directory: segment files being deleted or replaced, and temporary files. */
const LEFTOVER_FILE = /\.(deleted|cleaned|swap|tmp)$/;
const SEGMENT_FILE = /^(\d{20})\.(log|index|timeindex)$/;
/** The files of a segment the cleaner wrote, before (.cleaned) and after (.swap) it committed to the swap. */
const CLEANER_FILE = /^(\d{20})\.(log|index|timeindex)\.(cleaned|swap)$/;

/**
 * One partition's log on disk (Kafka's UnifiedLog): a directory of segments, the last one active, with
 * the leader-epoch cache and the partition metadata beside them. Appends go to the page cache; fsync
 * happens on roll (in the background), on flush.messages / flush.ms when configured, and on shutdown.
 * Everything here is synchronous: the broker is single-threaded, so no call can see another half done.
 */
export class Log {
  private segments: LogSegment[];
  private nextOffset: number;
  private startOffset: number;
  private highWatermark = Number.POSITIVE_INFINITY;
  private flushedOffset: number;
  private lastFlushMs = Date.now();
  /** Bumped by every truncation, so a background flush that started before one does not move the recovery point. */
  private truncations = 0;
  private backgroundFlushes: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly metadataFile: PartitionMetadataFile;
  private currentTopicId: string | undefined;
  /** The last appends to the active segment, oldest first, and their cost; only ever the active segment's. */
  private tail: TailAppend[] = [];
  private tailCost = 0;

  private constructor(
    readonly dir: string,
    readonly topic: string,
    readonly partition: number,
    public config: LogConfig,
    segments: LogSegment[],
    private readonly epochCache: LeaderEpochFileCache,
    private readonly producerState: ProducerStateManager,
    private readonly logger: StorageLogger,
    private readonly onRecoveryPointLowered: () => void,
    private readonly onTruncated: (logEndOffset: number) => void,
  ) {
    this.segments = segments;
    this.metadataFile = new PartitionMetadataFile(dir);
    this.nextOffset = this.flushedOffset = this.startOffset = segments[0]!.baseOffset;
  }

  // -------------------------------------------------------------------------------------------------
  // Opening and recovery

  /**
   * Opens (or creates) the log in `dir`. After a clean shutdown everything is trusted and only the
   * active segment's tail is read. Otherwise the segments from the one holding the recovery point on are
   * checked batch by batch and truncated at the first bad batch; the flushed segments before it are not
   * read at all, so the cost follows the unflushed tail, not the size of the log.
   */
  static open(dir: string, topic: string, partition: number, config: LogConfig, opts: LogOpenOptions): Log {
    const logger = opts.logger ?? SILENT_LOGGER;
    fs.mkdirSync(dir, { recursive: true });
    const baseOffsets = Log.segmentBaseOffsets(dir, config.indexIntervalBytes, logger);
    const segments = baseOffsets.map((base) => LogSegment.open(dir, base, config.indexIntervalBytes, logger));
    if (segments.length === 0) segments.push(LogSegment.create(dir, Math.max(opts.logStartOffset ?? 0, 0), config.indexIntervalBytes, logger));
    const epochCache = LeaderEpochFileCache.load(dir, logger);
    const producerState = ProducerStateManager.open(dir, logger);
    const log = new Log(dir, topic, partition, config, segments, epochCache, producerState, logger, opts.onRecoveryPointLowered ?? (() => {}), opts.onTruncated ?? (() => {}));
    log.load(opts);
    return log;
  }

  /** Completes a swap the cleaner committed, removes what a crash left behind and answers the base offsets of the segments, in order. */
  private static segmentBaseOffsets(dir: string, indexIntervalBytes: number, logger: StorageLogger): number[] {
    Log.completeSwaps(dir, indexIntervalBytes, logger);
    const names = fs.readdirSync(dir);
    const logs = new Set<string>();
    for (const name of names) {
      if (LEFTOVER_FILE.test(name)) {
        logger.info({ file: path.join(dir, name) }, 'removing a file left over by a crash');
        fs.rmSync(path.join(dir, name), { force: true });
      } else if (name.endsWith(LOG_FILE_SUFFIX) && SEGMENT_FILE.test(name)) {
        logs.add(name.slice(0, 20));
      }
    }
    for (const name of names) {
      const match = SEGMENT_FILE.exec(name);
      if (match && match[2] !== 'log' && !logs.has(match[1]!)) fs.rmSync(path.join(dir, name), { force: true }); // index of a deleted segment
    }
    return [...logs].map(Number).sort((a, b) => a - b);
  }

  /**
   * Kafka's recovery of the cleaner's segment swaps (see replaceSegments). A base offset with any file
   * still `.cleaned` had not committed: its files go with the other leftovers, and the old segments stay.
   * A `.log.swap` without one had: the old segments it covers (base offsets from its own to its next
   * offset) are deleted and its files take their final names. An old segment past its next offset held
   * only records the cleaner dropped; keeping it keeps records that are merely not compacted yet.
   */
  private static completeSwaps(dir: string, indexIntervalBytes: number, logger: StorageLogger): void {
    const names = fs.readdirSync(dir);
    const uncommitted = new Set<string>();
    const swapped: string[] = [];
    for (const name of names) {
      const match = CLEANER_FILE.exec(name);
      if (match?.[3] === 'cleaned') uncommitted.add(match[1]!);
      else if (match?.[2] === 'log') swapped.push(match[1]!);
    }
    for (const base of swapped.filter((b) => !uncommitted.has(b))) {
      const swap = LogSegment.open(dir, Number(base), indexIntervalBytes, logger, SWAP_FILE_SUFFIX);
      swap.recover(undefined, swap.baseOffset);
      const end = Math.max(swap.nextOffset, swap.baseOffset + 1);
      for (const name of names) {
        const match = SEGMENT_FILE.exec(name);
        if (match && Number(match[1]) >= swap.baseOffset && Number(match[1]) < end) fs.rmSync(path.join(dir, name), { force: true });
      }
      swap.changeFileSuffixes(SWAP_FILE_SUFFIX, '');
      swap.close();
      fsyncDirectory(dir);
      logger.info({ dir, baseOffset: swap.baseOffset, nextOffset: swap.nextOffset }, 'completed a segment swap the cleaner had committed before a crash');
    }
  }

  private load(opts: LogOpenOptions): void {
    try {
      this.currentTopicId = this.metadataFile.read();
    } catch (err) {
      this.logger.error({ err: (err as Error).message, dir: this.dir }, 'partition metadata unreadable; the topic id will be assigned again');
    }
    if (opts.hadCleanShutdown) {
      this.activeSegment.loadTailState();
      this.nextOffset = this.activeSegment.nextOffset;
      this.flushedOffset = this.nextOffset;
    } else {
      this.recover(opts.recoveryPoint);
    }
    this.startOffset = Math.min(Math.max(opts.logStartOffset ?? 0, this.segments[0]!.baseOffset), this.nextOffset);
    this.epochCache.truncateFromEnd(this.nextOffset);
    this.epochCache.truncateFromStart(this.startOffset);
    this.rebuildProducerState();
  }

  private recover(recoveryPoint: number): void {
    const first = Math.max(this.segmentIndexFor(recoveryPoint), 0);
    let expectedNext = this.segments[first]!.baseOffset;
    let scannedBytes = 0;
    for (let i = first; i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      if (segment.baseOffset < expectedNext) {
        this.dropSegmentsFrom(i, `segment ${segment.baseOffset} starts before offset ${expectedNext}`);
        break;
      }
      const result = segment.recover(i === first ? recoveryPoint : undefined, expectedNext);
      scannedBytes += result.scannedBytes;
      expectedNext = segment.nextOffset;
      if (result.problem !== undefined) {
        this.logger.warn(
          { topic: this.topic, partition: this.partition, segment: segment.baseOffset, truncatedBytes: result.truncatedBytes, logEndOffset: expectedNext, problem: result.problem },
          'recovery truncated the log at a bad batch',
        );
        this.dropSegmentsFrom(i + 1, result.problem);
        break;
      }
    }
    this.nextOffset = this.activeSegment.nextOffset;
    this.flushedOffset = Math.min(recoveryPoint, this.nextOffset);
    this.logger.info(
      { topic: this.topic, partition: this.partition, recoveryPoint, scannedBytes, logEndOffset: this.nextOffset },
      'recovered log after an unclean shutdown',
    );
  }

  /** Recovery found the log broken before segment `index`: that segment and the later ones go. */
  private dropSegmentsFrom(index: number, problem: string): void {
    const dropped = this.segments.splice(index);
    if (dropped.length === 0) return;
    this.logger.warn(
      { topic: this.topic, partition: this.partition, segments: dropped.map((s) => s.baseOffset), problem },
      'recovery deleted the segments after a bad batch',
    );
    for (const segment of dropped) segment.delete();
  }

  // -------------------------------------------------------------------------------------------------
  // State

  get topicId(): string | undefined {
    return this.currentTopicId;
  }

  get logStartOffset(): number {
    return this.startOffset;
  }

  /** The next offset to assign. */
  get logEndOffset(): number {
    return this.nextOffset;
  }

  /** Bytes on disk across the segments. */
  get size(): number {
    let size = 0;
    for (const segment of this.segments) size += segment.size;
    return size;
  }

  /** Everything below this offset has been fsynced. */
  get recoveryPoint(): number {
    return this.flushedOffset;
  }

  get lastFlushTime(): number {
    return this.lastFlushMs;
  }

  get latestEpoch(): number | undefined {
    return this.epochCache.latestEpoch;
  }

  get numberOfSegments(): number {
    return this.segments.length;
  }

  private get activeSegment(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  /** Records the topic id in partition.metadata. */
  assignTopicId(topicId: string): void {
    this.metadataFile.write(topicId);
    this.currentTopicId = topicId;
  }

  updateConfig(config: LogConfig): void {
    this.config = config;
    for (const segment of this.segments) segment.indexIntervalBytes = config.indexIntervalBytes;
  }

  // -------------------------------------------------------------------------------------------------
  // Appends

  /**
   * Leader append. Validates every batch (CRC, v2, records well-formed, count, max.message.bytes, and
   * idempotent producers' epochs and sequences) before writing anything, then gives the batches their
   * offsets from the log end and the leader epoch, in place in `batches` (both fields are outside the
   * CRC), and appends them. Retries of batches already in the log are not appended again: the answer
   * carries the originals' offsets and `duplicate`. The log keeps a view of `batches` (its tail cache):
   * they must not be modified after the call.
   */
  appendAsLeader(batches: Buffer, leaderEpoch: number): LeaderAppendResult {
    this.ensureOpen();
    const latestEpoch = this.epochCache.latestEpoch;
    if (!Number.isInteger(leaderEpoch) || leaderEpoch < 0) {
      throw new BrookError('INVALID_REQUEST', `a leader append to ${this.name} needs a leader epoch, not ${leaderEpoch}`);
    }
    if (latestEpoch !== undefined && leaderEpoch < latestEpoch) {
      throw new BrookError('FENCED_LEADER_EPOCH', `leader epoch ${leaderEpoch} of ${this.name} is older than its latest epoch ${latestEpoch}`, {
        leaderEpoch,
        latestEpoch,
      });
    }
    const located = this.validate(batches, true);
    let recordCount = 0;
    for (const batch of located) recordCount += batch.recordCount;
    const duplicate = this.producerState.checkLeaderAppend(located);
    if (duplicate !== undefined) {
      const { firstOffset, lastOffset, timestamp } = duplicate;
      return { firstOffset, lastOffset, logAppendTime: timestamp, batchCount: located.length, recordCount, duplicate: true };
    }
    const firstOffset = this.nextOffset;
    let offset = firstOffset;
    for (const batch of located) {
      setBaseOffset(batches, batch.position, offset);
      setPartitionLeaderEpoch(batches, batch.position, leaderEpoch);
      batch.baseOffset = offset;
      batch.lastOffset = offset + batch.lastOffsetDelta;
      batch.partitionLeaderEpoch = leaderEpoch;
      offset = batch.lastOffset + 1;
    }
    this.epochCache.assign(leaderEpoch, firstOffset);
    const now = Date.now();
    this.append(batches, located, now);
    return { firstOffset, lastOffset: offset - 1, logAppendTime: now, batchCount: located.length, recordCount, duplicate: false };
  }

  /**
   * Follower append: the batches carry the leader's offsets, which must continue this log, each batch
   * after the one before; gaps are allowed, as in Kafka, because the leader's cleaner removes whole
   * batches from the compacted part a lagging or new follower fetches. The leader-epoch cache follows the
   * batches' epochs. Each batch's header, CRC and record count are checked;
   * not max.message.bytes, the records one by one nor producer sequences: the leader did that when it
   * accepted the batch (a follower must not get stuck on a batch its leader took), and the CRC covers the
   * bytes since. The producer state follows the batches, so this replica dedupes retries once it leads.
   * As with appendAsLeader, `batches` must not be modified after the call.
   */
  appendAsFollower(batches: Buffer): { firstOffset: number; lastOffset: number } {
    this.ensureOpen();
    const located = this.validate(batches, false);
    let expected = this.nextOffset;
    for (const batch of located) {
      if (batch.baseOffset < expected) {
        throw new BrookError('INVALID_OFFSET', `batch at offset ${batch.baseOffset} does not continue ${this.name} at ${expected}`, {
          expected,
          got: batch.baseOffset,
        });
      }
      expected = batch.lastOffset + 1;
    }
    for (const batch of located) {
      if (batch.partitionLeaderEpoch >= 0) this.epochCache.assign(batch.partitionLeaderEpoch, batch.baseOffset);
    }
    this.append(batches, located, Date.now());
    return { firstOffset: located[0]!.baseOffset, lastOffset: located[located.length - 1]!.lastOffset };
  }

  /** Checks every batch of an append before anything is written: one bad batch refuses them all. */
  private validate(batches: Buffer, fromProducer: boolean): LocatedBatch[] {
    if (batches.length === 0) throw new BrookError('INVALID_RECORD', `no record batches to append to ${this.name}`);
    const located: LocatedBatch[] = [];
    let position = 0;
    while (position < batches.length) {
      const batch = verifyBatch(batches, position) as LocatedBatch;
      batch.position = position;
      if (fromProducer) {
        if (batch.sizeInBytes > this.config.maxMessageBytes) {
          throw new BrookError('PAYLOAD_TOO_LARGE', `record batch of ${batch.sizeInBytes} bytes exceeds max.message.bytes ${this.config.maxMessageBytes}`, {
            maxMessageBytes: this.config.maxMessageBytes,
          });
        }
        if (batch.recordCount === 0 || batch.lastOffsetDelta !== batch.recordCount - 1) {
          throw new BrookError('INVALID_RECORD', `batch of ${batch.recordCount} records has last offset delta ${batch.lastOffsetDelta}`);
        }
        verifyRecords(batches, position, batch);
      }
      located.push(batch);
      position += batch.sizeInBytes;
    }
    return located;
  }

  /** Writes validated batches, rolling to a new segment wherever the active one cannot take the next batch. */
  private append(batches: Buffer, located: LocatedBatch[], now: number): void {
    let from = 0;
    let pendingBytes = 0;
    for (let i = 0; i < located.length; i++) {
      const batch = located[i]!;
      if (this.activeSegment.shouldRoll(batch, pendingBytes, this.config, now)) {
        if (i > from) this.appendToActiveSegment(batches, located, from, i, now);
        this.roll(batch.baseOffset);
        from = i;
        pendingBytes = 0;
      }
      pendingBytes += batch.sizeInBytes;
    }
    this.appendToActiveSegment(batches, located, from, located.length, now);
    if (this.config.flushMessages > 0 && this.nextOffset - this.flushedOffset >= this.config.flushMessages) this.flush();
  }

  /**
   * Writes batches [from, to) to the active segment and applies them to the producer state, so the
   * snapshot of a roll between two writes holds exactly what was written before it.
   */
  private appendToActiveSegment(batches: Buffer, located: LocatedBatch[], from: number, to: number, now: number): void {
    this.activeSegment.append(batches, located, from, to);
    this.nextOffset = located[to - 1]!.lastOffset + 1; // written: should a later write fail, the log stays consistent
    for (let i = from; i < to; i++) this.producerState.update(located[i]!, now);
    this.cacheTail(batches, located, from, to);
  }

  /** Keeps the bytes just written (appended buffers are never modified afterwards) as the newest tail entry. */
  private cacheTail(batches: Buffer, located: LocatedBatch[], from: number, to: number): void {
    const start = located[from]!.position;
    const last = located[to - 1]!;
    const bytes = batches.subarray(start, last.position + last.sizeInBytes);
    const cost = Math.max(bytes.buffer.byteLength, bytes.length);
    if (cost > TAIL_CACHE_BYTES) {
      this.clearTail();
      return;
    }
    const tailBatches: LocatedBatch[] = [];
    for (let i = from; i < to; i++) tailBatches.push({ ...located[i]!, position: located[i]!.position - start });
    this.tail.push({ bytes, batches: tailBatches, cost });
    this.tailCost += cost;
    while (this.tailCost > TAIL_CACHE_BYTES) this.tailCost -= this.tail.shift()!.cost;
  }

  private clearTail(): void {
    this.tail = [];
    this.tailCost = 0;
  }

  /**
   * Starts a new active segment at `baseOffset`, with a producer snapshot there. The old segment and the
   * snapshot are fsynced in the background and the recovery point follows, so the unflushed tail stays
   * about one segment long.
   */
  private roll(baseOffset: number): void {
    this.clearTail();
    this.activeSegment.onBecomeInactive();
    this.segments.push(LogSegment.create(this.dir, baseOffset, this.config.indexIntervalBytes, this.logger));
    const snapshot = this.takeProducerSnapshot(baseOffset, false);
    this.logger.debug({ topic: this.topic, partition: this.partition, baseOffset }, 'rolled a new segment');
    this.flushInBackground(baseOffset, snapshot);
  }

  // -------------------------------------------------------------------------------------------------
  // Reads

  /**
   * Whole batches from the one holding `startOffset`: up to `maxBytes` (at least one batch if there is
   * one), none whose baseOffset >= `maxOffset` (the high watermark, for consumers), across segments.
   */
  read(startOffset: number, options: { maxBytes: number; maxOffset?: number }): ReadResult {
    this.ensureOpen();
    if (!Number.isSafeInteger(startOffset) || startOffset < this.startOffset || startOffset > this.nextOffset) {
      throw new BrookError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${startOffset} is out of range for ${this.name}: it has ${this.startOffset} to ${this.nextOffset}`,
        { earliest: this.startOffset, latest: this.nextOffset },
      );
    }
    const limit = Math.min(options.maxOffset ?? this.nextOffset, this.nextOffset);
    const maxBytes = Math.max(Math.floor(options.maxBytes) || 0, 0);
    if (startOffset < limit && this.tail.length > 0 && startOffset >= this.tail[0]!.batches[0]!.baseOffset) {
      return this.readTail(startOffset, limit, maxBytes);
    }
    const parts: Buffer[] = [];
    let bytes = 0;
    let firstOffset: number | undefined;
    let next = startOffset;
    for (let i = this.segmentIndexFor(startOffset); next < limit && i < this.segments.length; i++) {
      const read = this.segments[i]!.read(next, limit, maxBytes - bytes, parts.length === 0);
      if (read === undefined) continue; // nothing at or after `next` in this segment
      if (read.records.length > 0) {
        parts.push(read.records);
        bytes += read.records.length;
        firstOffset ??= read.firstOffset;
        next = read.nextOffset;
      }
      if (!read.reachedEnd || bytes >= maxBytes) break;
    }
    const records = parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes);
    return { records, firstOffset: firstOffset ?? startOffset, nextOffset: next };
  }

  /**
   * read() from the tail cache, which holds the batch with `startOffset` and every batch after it: the
   * same batches a read of the active segment answers. Consecutive views of one buffer are joined
   * without a copy.
   */
  private readTail(startOffset: number, limit: number, maxBytes: number): ReadResult {
    const parts: Buffer[] = [];
    let bytes = 0;
    let firstOffset: number | undefined;
    let next = startOffset;
    let budget = maxBytes;
    done: for (let e = this.tailEntryFor(startOffset); e < this.tail.length; e++) {
      const entry = this.tail[e]!;
      for (const batch of entry.batches) {
        if (batch.lastOffset < startOffset) continue;
        if (batch.baseOffset >= limit) break done;
        if (firstOffset === undefined) budget = Math.max(maxBytes, batch.sizeInBytes); // at least one batch
        if (bytes + batch.sizeInBytes > budget) break done;
        const view = entry.bytes.subarray(batch.position, batch.position + batch.sizeInBytes);
        const previous = parts[parts.length - 1];
        if (previous !== undefined && previous.buffer === view.buffer && previous.byteOffset + previous.length === view.byteOffset) {
          parts[parts.length - 1] = Buffer.from(view.buffer, previous.byteOffset, previous.length + view.length);
        } else {
          parts.push(view);
        }
        bytes += batch.sizeInBytes;
        firstOffset ??= batch.baseOffset;
        next = batch.lastOffset + 1;
      }
    }
    const records = parts.length === 0 ? Buffer.alloc(0) : parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes);
    return { records, firstOffset: firstOffset ?? startOffset, nextOffset: next };
  }

  /**
   * The last tail entry starting at or before `offset` (a binary search: the tail holds hundreds of small
   * appends at low rates, and every fetch reads from near its end). Earlier entries end before it.
   */
  private tailEntryFor(offset: number): number {
    let lo = 0;
    let hi = this.tail.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.tail[mid]!.batches[0]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The earliest offset whose record timestamp is >= `timestamp` (time index, then a scan); undefined if none. */
  offsetForTimestamp(timestamp: number): number | undefined {
    this.ensureOpen();
    for (const segment of this.segments) {
      if (segment.largestTimestamp < timestamp) continue;
      const offset = segment.findOffsetByTimestamp(timestamp, this.startOffset);
      if (offset !== undefined) return offset;
    }
    return undefined;
  }

  // -------------------------------------------------------------------------------------------------
  // Truncation and retention

  /** Removes everything at and after `offset` (a follower truncating to its leader). */
  truncateTo(offset: number): void {
    this.ensureOpen();
    if (!Number.isSafeInteger(offset) || offset < 0) throw new BrookError('INVALID_OFFSET', `cannot truncate ${this.name} to ${offset}`);
    if (offset >= this.nextOffset) return;
    if (offset < this.segments[0]!.baseOffset) {
      this.truncateFullyAndStartAt(offset);
      return;
    }
    this.truncations++;
    this.clearTail();
    const keep = this.segmentIndexFor(offset) + 1;
    for (const segment of this.segments.splice(keep)) segment.delete();
    const removed = this.activeSegment.truncateTo(offset);
    this.nextOffset = this.activeSegment.nextOffset;
    this.startOffset = Math.min(this.startOffset, this.nextOffset);
    this.epochCache.truncateFromEnd(this.nextOffset);
    // As Kafka: a log without producer state gains none by going back (only expired producers would
    // return), and reloading it could mean replaying the whole log.
    if (this.producerState.isEmpty) this.producerState.deleteSnapshotsAbove(this.nextOffset);
    else this.rebuildProducerState();
    this.logger.info({ topic: this.topic, partition: this.partition, offset, removedFromActiveSegment: removed }, 'truncated log');
    if (this.nextOffset < this.flushedOffset) {
      this.flushedOffset = this.nextOffset;
      this.onRecoveryPointLowered();
    }
    this.onTruncated(this.nextOffset);
  }

  /** Deletes every segment and starts the log empty at `offset`. */
  truncateFullyAndStartAt(offset: number): void {
    this.ensureOpen();
    if (!Number.isSafeInteger(offset) || offset < 0) throw new BrookError('INVALID_OFFSET', `cannot restart ${this.name} at ${offset}`);
    this.truncations++;
    this.clearTail();
    for (const segment of this.segments) segment.delete();
    this.segments = [LogSegment.create(this.dir, offset, this.config.indexIntervalBytes, this.logger)];
    const lowered = offset < this.flushedOffset;
    this.nextOffset = this.startOffset = this.flushedOffset = offset;
    this.epochCache.clear();
    this.producerState.truncateFully();
    this.logger.info({ topic: this.topic, partition: this.partition, offset }, 'truncated log fully');
    if (lowered) this.onRecoveryPointLowered();
    this.onTruncated(offset);
  }

  /**
   * The partition's high watermark, kept here so retention never deletes records consumers have not been
   * allowed to see yet (nor ones a failover might still need). Unlimited for a log no partition manages.
   */
  updateHighWatermark(offset: number): void {
    this.highWatermark = offset;
  }

  /**
   * Retention (cleanup.policy delete or compact,delete; never compact alone): deletes whole segments from
   * the oldest while their largest timestamp is older than retention.ms, then while the log is larger than
   * retention.bytes. When every segment goes, a new empty active segment takes over at the log end first.
   * Answers how many went.
   */
  deleteOldSegments(now: number = Date.now()): number {
    this.ensureOpen();
    if (!deletesOldSegments(this.config)) return 0;
    let deleted = 0;
    const { retentionMs, retentionBytes } = this.config;
    if (retentionMs >= 0) deleted += this.deleteSegmentsWhile((segment) => now - segment.largestTimestamp > retentionMs, 'retention.ms');
    if (retentionBytes >= 0) {
      let excess = this.size - retentionBytes;
      deleted += this.deleteSegmentsWhile((segment) => {
        if (excess < segment.size) return false;
        excess -= segment.size;
        return true;
      }, 'retention.bytes');
    }
    return deleted;
  }

  private deleteSegmentsWhile(shouldDelete: (segment: LogSegment) => boolean, reason: string): number {
    let count = 0;
    while (count < this.segments.length) {
      const segment = this.segments[count]!;
      const isEmptyActive = count === this.segments.length - 1 && segment.size === 0;
      const endOffset = this.segments[count + 1]?.baseOffset ?? this.nextOffset;
      if (isEmptyActive || endOffset > this.highWatermark || !shouldDelete(segment)) break;
      count++;
    }
    if (count === 0) return 0;
    if (count === this.segments.length) this.roll(this.nextOffset);
    const doomed = this.segments.splice(0, count);
    for (const segment of doomed) segment.delete();
    this.startOffset = Math.max(this.startOffset, this.segments[0]!.baseOffset);
    this.flushedOffset = Math.max(this.flushedOffset, this.startOffset);
    this.epochCache.truncateFromStart(this.startOffset);
    this.producerState.deleteSnapshotsBelow(this.startOffset);
    this.logger.info(
      { topic: this.topic, partition: this.partition, segments: doomed.map((s) => s.baseOffset), logStartOffset: this.startOffset, reason },
      'deleted old segments',
    );
    return count;
  }

  // -------------------------------------------------------------------------------------------------
  // Compaction: what the cleaner (Cleaner) reads and replaces

  /** The segments holding offsets in [from, to), oldest first (Kafka's logSegments). */
  logSegments(from: number, to: number): LogSegment[] {
    const found: LogSegment[] = [];
    if (from >= to) return found;
    for (let i = Math.max(this.segmentIndexFor(from), 0); i < this.segments.length && this.segments[i]!.baseOffset < to; i++) found.push(this.segments[i]!);
    return found;
  }

  /**
   * Where cleaning must stop (Kafka's firstUncleanableDirtyOffset, at a segment boundary): the base offset
   * of the first segment that is the active one or not wholly below the high watermark (a failover may
   * still truncate records above it) and the recovery point (so the segments the cleaner replaces are
   * already durable, and no background flush is still working on them).
   */
  get firstUncleanableOffset(): number {
    const limit = Math.min(this.highWatermark, this.flushedOffset, this.activeSegment.baseOffset);
    return this.segments[Math.max(this.segmentIndexFor(limit), 0)]!.baseOffset;
  }

  /** Changes with every truncation: what was read of the log before may no longer be in it (see holdsUnchanged). */
  get truncationCount(): number {
    return this.truncations;
  }

  /**
   * True while the log is open, was not truncated since `truncationCount` was read, and still holds
   * `segments` as consecutive inactive segments (retention has not deleted them): the cleaner checks this
   * whenever it comes back from yielding, and before it replaces them.
   */
  holdsUnchanged(segments: readonly LogSegment[], truncationCount: number): boolean {
    if (this.closed || truncationCount !== this.truncations || segments.length === 0) return false;
    const first = this.segments.indexOf(segments[0]!);
    if (first < 0 || first + segments.length >= this.segments.length) return false;
    return segments.every((segment, i) => this.segments[first + i] === segment);
  }

  /** Each idempotent producer's last data offset (Kafka's lastRecordsOfActiveProducers), for the cleaner to keep its batch. */
  lastRecordsOfActiveProducers(): Map<number, number> {
    return this.producerState.lastDataOffsets();
  }

  /**
   * Puts `cleaned`, a fsynced segment the cleaner wrote with CLEANED_FILE_SUFFIX from `oldSegments`, in
   * their place, in Kafka's crash-safe order:
   *  1. its files are renamed `.swap` and the directory fsynced: the commit point. A crash before it
   *     leaves `.cleaned` files, which the next open deletes, and the old segments whole;
   *  2. the old segments are deleted; a crash from here on leaves a `.log.swap`, and the next open
   *     finishes the swap (completeSwaps);
   *  3. its files take their final names.
   */
  replaceSegments(cleaned: LogSegment, oldSegments: readonly LogSegment[], truncationCount: number): void {
    if (!this.holdsUnchanged(oldSegments, truncationCount) || cleaned.baseOffset !== oldSegments[0]!.baseOffset) {
      throw new BrookError('INTERNAL', `cleaned segment ${cleaned.baseOffset} no longer matches the segments of ${this.name} it replaces`);
    }
    cleaned.changeFileSuffixes(CLEANED_FILE_SUFFIX, SWAP_FILE_SUFFIX);
    fsyncDirectory(this.dir);
    this.segments.splice(this.segments.indexOf(oldSegments[0]!), oldSegments.length, cleaned);
    for (const segment of oldSegments) segment.delete();
    cleaned.changeFileSuffixes(SWAP_FILE_SUFFIX, '');
    fsyncDirectory(this.dir);
    this.logger.debug(
      { topic: this.topic, partition: this.partition, replaced: oldSegments.map((s) => s.baseOffset), size: cleaned.size },
      'replaced segments with a cleaned one',
    );
  }

  // -------------------------------------------------------------------------------------------------
  // Leader epochs

  assignEpochStartOffset(epoch: number, startOffset: number): void {
    this.epochCache.assign(epoch, startOffset);
  }

  /** KIP-101: the end offset of `epoch` on this replica, with the epoch it belongs to. */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } | undefined {
    return this.epochCache.endOffsetFor(epoch, this.nextOffset);
  }

  // -------------------------------------------------------------------------------------------------
  // Producer state

  /**
   * Brings the producer state to the log end: the latest sound snapshot at or below it, then the headers
   * of the batches after it (records are not read), so the cost follows the batches since that snapshot.
   * Replayed batches count as appended now: the log keeps no append times, and expiring a producer early
   * would let its retries through.
   */
  private rebuildProducerState(): void {
    const now = Date.now();
    const from = this.producerState.truncateAndReload(this.segments[0]!.baseOffset, this.nextOffset);
    this.producerState.removeExpiredProducers(now, this.config.producerIdExpirationMs);
    for (let i = Math.max(this.segmentIndexFor(from), 0); i < this.segments.length; i++) {
      this.segments[i]!.forEachBatchHeaderFrom(from, (header) => this.producerState.update(header, now));
    }
  }

  /**
   * Snapshots the producer state at `offset`, the log end, forgetting expired producers first, then
   * deletes the snapshots older than recovery can need. Answers the new file, undefined when it existed.
   */
  private takeProducerSnapshot(offset: number, sync: boolean): string | undefined {
    this.producerState.removeExpiredProducers(Date.now(), this.config.producerIdExpirationMs);
    const file = this.producerState.takeSnapshot(offset, sync);
    this.producerState.deleteSnapshotsBelow(this.minSnapshotOffsetToRetain());
    return file;
  }

  /**
   * Kafka's minSnapshotsOffsetToRetain: a crash cuts the log back no further than its recovery point, and
   * a follower usually truncates within the last segments, so the snapshots from the segment holding the
   * recovery point and from the one before the active segment on are enough.
   */
  private minSnapshotOffsetToRetain(): number {
    const beforeActive = this.segments[Math.max(this.segments.length - 2, 0)]!.baseOffset;
    const holdingRecoveryPoint = this.segments[Math.max(this.segmentIndexFor(this.flushedOffset), 0)]!.baseOffset;
    return Math.min(beforeActive, holdingRecoveryPoint);
  }

  // -------------------------------------------------------------------------------------------------
  // Durability and lifetime

  /** fsyncs every segment with data at or above the recovery point, then moves the recovery point to the log end. */
  flush(): void {
    this.ensureOpen();
    for (let i = Math.max(this.segmentIndexFor(this.flushedOffset), 0); i < this.segments.length; i++) this.segments[i]!.flush();
    this.flushedOffset = this.nextOffset;
    this.lastFlushMs = Date.now();
  }

  /**
   * fsyncs the segments below `upTo` that hold unflushed data and the producer snapshot at `upTo`, off the
   * event loop, one flush after another. The recovery point moves, and the snapshots below it can go.
   */
  private flushInBackground(upTo: number, producerSnapshot: string | undefined): void {
    const from = Math.max(this.segmentIndexFor(this.flushedOffset), 0);
    const segments = this.segments.filter((s, i) => i >= from && s.baseOffset < upTo);
    const truncations = this.truncations;
    this.backgroundFlushes = this.backgroundFlushes
      .then(async () => {
        for (const segment of segments) await segment.flushInBackground();
        if (producerSnapshot !== undefined) await flushProducerSnapshotInBackground(producerSnapshot);
        if (!this.closed && truncations === this.truncations) {
          this.flushedOffset = Math.max(this.flushedOffset, upTo);
          this.producerState.deleteSnapshotsBelow(this.minSnapshotOffsetToRetain());
        }
      })
      .catch((err: unknown) => {
        if (!this.closed) this.logger.error({ topic: this.topic, partition: this.partition, err: (err as Error).message }, 'background flush failed');
      });
  }

  /** Resolves once the background flushes started so far are done. */
  backgroundFlushesDone(): Promise<void> {
    return this.backgroundFlushes;
  }

  /** Closes the segments, after a producer snapshot at the log end (as Kafka's), so a restart replays nothing. */
  close(): void {
    if (this.closed) return;
    try {
      this.takeProducerSnapshot(this.nextOffset, true);
    } catch (err) {
      this.logger.error({ topic: this.topic, partition: this.partition, err: (err as Error).message }, 'could not snapshot the producer state at close');
    }
    this.closed = true;
    this.clearTail();
    for (const segment of this.segments) segment.close();
  }

  /** Closes the log and removes its directory. */
  delete(): void {
    this.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private ensureOpen(): void {
    if (this.closed) throw new BrookError('UNKNOWN_PARTITION', `the log of ${this.name} is closed`, { topic: this.topic, partition: this.partition });
  }

  private get name(): string {
    return `${this.topic}-${this.partition}`;
  }

  /** Index of the last segment whose base offset is <= `offset`; -1 when `offset` is before them all. */
  private segmentIndexFor(offset: number): number {
    let low = 0;
    let high = this.segments.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  }
}
