import path from 'node:path';
import { BrookError } from '@brook/types';
import { Cleaner, type CleanResult } from './Cleaner';
import type { Log, StorageLogger } from './Log';
import { compacts } from './LogConfig';
import { OffsetCheckpointFile, type TopicPartitionOffset } from './OffsetCheckpointFile';

export const CLEANER_OFFSET_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';
/** Kafka's default log.cleaner.dedupe.buffer.size. */
const DEFAULT_DEDUPE_BUFFER_SIZE = 128 * 1024 * 1024;

export interface LogCleanerOptions {
  /** The log directory, whose cleaner-offset-checkpoint this cleaner keeps. */
  logDir: string;
  logger: StorageLogger;
  /** log.cleaner.dedupe.buffer.size: the memory the offset map of one cleaning may use. */
  dedupeBufferSize?: number;
}

/**
 * The log cleaner of one log directory (Kafka's LogCleaner and LogCleanerManager): compacts the logs
 * whose cleanup.policy includes compact, one cleaning at a time, and keeps in cleaner-offset-checkpoint
 * where each log's dirty part starts. LogManager starts a round every log.cleaner.backoff.ms
 * (cleanFilthiestLogs); clean() cleans one log at once, whatever its dirty ratio.
 */
export class LogCleaner {
  private readonly checkpoint: OffsetCheckpointFile;
  /** The first dirty offset of each log, by `<topic>-<partition>`. */
  private readonly firstDirtyOffsets = new Map<string, TopicPartitionOffset>();
  /** Logs a cleaning failed on (Kafka's uncleanable partitions): skipped until they are opened again. */
  private readonly uncleanable = new WeakSet<Log>();
  private readonly cleaner: Cleaner;
  private readonly logger: StorageLogger;
  /** The tail of the cleanings queued so far: they run one after another. */
  private queue: Promise<unknown> = Promise.resolve();
  private roundRunning = false;
  private stopped = false;

  constructor(opts: LogCleanerOptions) {
    this.logger = opts.logger;
    this.cleaner = new Cleaner(opts.dedupeBufferSize ?? DEFAULT_DEDUPE_BUFFER_SIZE, opts.logger);
    this.checkpoint = new OffsetCheckpointFile(path.join(opts.logDir, CLEANER_OFFSET_CHECKPOINT_FILE));
    try {
      for (const entry of this.checkpoint.read()) this.firstDirtyOffsets.set(key(entry.topic, entry.partition), entry);
    } catch (err) {
      // It only costs cleaning the logs again from their start.
      this.logger.warn({ file: this.checkpoint.path, err: (err as Error).message }, 'ignoring an unreadable checkpoint');
    }
  }

  /** Cleans `log` now, whatever its dirty ratio. Undefined when the log changed under the cleaning (it is retried later). */
  clean(log: Log, now: number = Date.now()): Promise<CleanResult | undefined> {
    const cleaning = this.queue.then(() => this.cleanLog(log, now));
    this.queue = cleaning.catch(() => {});
    return cleaning;
  }

  /**
   * One round of the cleaner (Kafka's cleanFilthiestLog, repeated): the log with the largest dirty ratio
   * at or above its min.cleanable.dirty.ratio, then the next, until none is left. A failing log is logged
   * and skipped from then on; a round already running makes this one a no-op.
   */
  async cleanFilthiestLogs(logs: () => Iterable<Log>): Promise<void> {
    if (this.roundRunning) return;
    this.roundRunning = true;
    try {
      for (let log = this.grabFilthiestLog(logs()); log !== undefined && !this.stopped; log = this.grabFilthiestLog(logs())) {
        try {
          if ((await this.clean(log)) === undefined) return; // the log changed under the cleaning: the next round tries again
        } catch (err) {
          this.uncleanable.add(log);
          this.logger.error({ topic: log.topic, partition: log.partition, err: (err as Error).message }, 'log cleaning failed; the log is not cleaned again until it is reopened');
        }
      }
    } finally {
      this.roundRunning = false;
    }
  }

  /** Kafka's maybeTruncateCheckpoint: a truncated log's dirty part starts no later than its new end. */
  maybeTruncateCheckpoint(topic: string, partition: number, logEndOffset: number): void {
    const entry = this.firstDirtyOffsets.get(key(topic, partition));
    if (entry === undefined || entry.offset <= logEndOffset) return;
    entry.offset = logEndOffset;
    this.writeCheckpoint();
  }

  /** The log was deleted: its checkpoint goes (a log of the same name starts dirty). */
  forgetLog(topic: string, partition: number): void {
    if (this.firstDirtyOffsets.delete(key(topic, partition))) this.writeCheckpoint();
  }

  /** No new cleaning starts; one under way is abandoned when the log manager closes its log. */
  shutdown(): void {
    this.stopped = true;
  }

  private async cleanLog(log: Log, now: number): Promise<CleanResult | undefined> {
    if (!compacts(log.config)) {
      throw new BrookError('INVALID_REQUEST', `${log.topic}-${log.partition} has cleanup.policy ${log.config.cleanupPolicy}: it is not compacted`);
    }
    const started = Date.now();
    const firstDirtyOffset = this.firstDirtyOffset(log);
    const result = await this.cleaner.clean(log, firstDirtyOffset, now);
    if (result === undefined) {
      this.logger.info({ topic: log.topic, partition: log.partition }, 'abandoned a log cleaning: the log changed under it');
      return undefined;
    }
    this.firstDirtyOffsets.set(key(log.topic, log.partition), { topic: log.topic, partition: log.partition, offset: result.endOffset });
    this.writeCheckpoint();
    this.logger.info({ topic: log.topic, partition: log.partition, firstDirtyOffset, ...result, ms: Date.now() - started }, 'cleaned log');
    return result;
  }

  /**
   * Kafka's cleanableOffsets: the checkpointed offset, or the log start when there is none or it is out
   * of the log (retention deleted past it, or the log lost its end).
   */
  private firstDirtyOffset(log: Log): number {
    const checkpointed = this.firstDirtyOffsets.get(key(log.topic, log.partition))?.offset;
    if (checkpointed === undefined || checkpointed < log.logStartOffset || checkpointed > log.logEndOffset) return log.logStartOffset;
    return checkpointed;
  }

  /** Kafka's grabFilthiestCompactedLog. */
  private grabFilthiestLog(logs: Iterable<Log>): Log | undefined {
    let filthiest: Log | undefined;
    let highest = -1;
    for (const log of logs) {
      if (!compacts(log.config) || this.uncleanable.has(log)) continue;
      const firstDirty = this.firstDirtyOffset(log);
      const cleanBytes = sizeOf(log.logSegments(log.logStartOffset, firstDirty));
      const cleanableBytes = sizeOf(log.logSegments(firstDirty, log.firstUncleanableOffset));
      const ratio = cleanableBytes / (cleanBytes + cleanableBytes);
      if (cleanableBytes > 0 && ratio >= log.config.minCleanableDirtyRatio && ratio > highest) {
        filthiest = log;
        highest = ratio;
      }
    }
    return filthiest;
  }

  private writeCheckpoint(): void {
    this.checkpoint.write([...this.firstDirtyOffsets.values()]);
  }
}

function key(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

function sizeOf(segments: readonly { size: number }[]): number {
  let size = 0;
  for (const segment of segments) size += segment.size;
  return size;
}
