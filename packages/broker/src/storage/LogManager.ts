import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BrookError, isValidName, validateName } from '@brook/types';
import { fsyncDirectory, writeFileAtomically } from './CheckpointFile';
import { Log, type StorageLogger } from './Log';
import type { LogConfig } from './LogConfig';
import { LogCleaner } from './LogCleaner';
import { OffsetCheckpointFile, type TopicPartitionOffset } from './OffsetCheckpointFile';

export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint';
/** Written last by a clean shutdown, removed once the logs are open: its presence means nothing needs recovery. */
export const CLEAN_SHUTDOWN_FILE = '.clean-shutdown';
const DELETE_DIR_SUFFIX = '-delete';
/** `<topic>-<partition>`: the partition is what follows the last dash. */
const PARTITION_DIR = /^(.+)-(0|[1-9]\d{0,9})$/;
const INT32_MAX = 2 ** 31 - 1;
const MAX_FILE_NAME_BYTES = 255;

export interface LogManagerOptions {
  logDir: string;
  defaults: LogConfig;
  logger: StorageLogger;
  /** How often logs with flush.ms are checked for a due flush. */
  flushCheckIntervalMs?: number;
  retentionCheckIntervalMs?: number;
  checkpointIntervalMs?: number;
  /** log.cleaner.backoff.ms: how often the cleaner looks for compacted logs to clean (default 15000). */
  cleanerBackoffMs?: number;
  /** log.cleaner.dedupe.buffer.size (default 128 MiB). */
  dedupeBufferSize?: number;
}

/**
 * The partition logs of one broker's log directory (Kafka's LogManager): opens them at startup
 * (recovering after a crash), creates and deletes them, and runs retention, time-based flushes, the
 * recovery-point / log-start-offset checkpoints and the log cleaner (compaction) on timers.
 */
export class LogManager {
  readonly cleaner: LogCleaner;
  private readonly logs = new Map<string, Log>();
  private readonly logDir: string;
  private readonly logger: StorageLogger;
  private readonly recoveryPointCheckpoint: OffsetCheckpointFile;
  private readonly logStartOffsetCheckpoint: OffsetCheckpointFile;
  /** Checkpointed offsets by directory name, for logs opened later than startup. */
  private recoveryPoints = new Map<string, number>();
  private logStartOffsets = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly opts: LogManagerOptions) {
    this.logDir = path.resolve(opts.logDir);
    this.logger = opts.logger;
    this.recoveryPointCheckpoint = new OffsetCheckpointFile(path.join(this.logDir, RECOVERY_POINT_CHECKPOINT_FILE));
    this.logStartOffsetCheckpoint = new OffsetCheckpointFile(path.join(this.logDir, LOG_START_OFFSET_CHECKPOINT_FILE));
    this.cleaner = new LogCleaner({
      logDir: this.logDir,
      logger: this.logger,
      ...(opts.dedupeBufferSize !== undefined ? { dedupeBufferSize: opts.dedupeBufferSize } : {}),
    });
  }

  /** Opens every partition log in the log directory and starts the timers. */
  startup(): void {
    const started = Date.now();
    fs.mkdirSync(this.logDir, { recursive: true });
    const cleanShutdownFile = path.join(this.logDir, CLEAN_SHUTDOWN_FILE);
    const hadCleanShutdown = fs.existsSync(cleanShutdownFile);
    this.recoveryPoints = this.readCheckpoint(this.recoveryPointCheckpoint);
    this.logStartOffsets = this.readCheckpoint(this.logStartOffsetCheckpoint);
    for (const entry of fs.readdirSync(this.logDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      if (entry.name.endsWith(DELETE_DIR_SUFFIX)) {
        this.removeInBackground(path.join(this.logDir, entry.name));
        continue;
      }
      const parsed = parsePartitionDir(entry.name);
      if (!parsed) {
        this.logger.warn({ dir: entry.name }, 'ignoring a directory that is not a partition log');
        continue;
      }
      try {
        this.logs.set(entry.name, this.openLog(parsed.topic, parsed.partition, this.opts.defaults, hadCleanShutdown));
      } catch (err) {
        this.logger.error({ dir: entry.name, err: (err as Error).message }, 'could not open a partition log; leaving it on disk');
      }
    }
    // Recovery may have truncated below the checkpointed recovery points: they must not outlive it.
    this.checkpointRecoveryPointsAndLogStartOffsets();
    // Only now: a crash while opening must find the marker again. Durably gone before any new append.
    if (hadCleanShutdown) {
      fs.rmSync(cleanShutdownFile, { force: true });
      fsyncDirectory(this.logDir);
    }
    this.logger.info({ logDir: this.logDir, logs: this.logs.size, hadCleanShutdown, ms: Date.now() - started }, 'loaded partition logs');
    this.startTimers();
  }

  getLog(topic: string, partition: number): Log | undefined {
    return this.logs.get(partitionDirName(topic, partition));
  }

  /**
   * The log of a partition, created (directory and partition.metadata) when it does not exist, with
   * `config` applied. An existing log of another topic id is a stray of a deleted topic of the same
   * name: it is deleted and a fresh log created.
   */
  getOrCreateLog(topic: string, partition: number, topicId: string, config: LogConfig): Log {
    validateName('topic', topic);
    if (!Number.isInteger(partition) || partition < 0 || partition > INT32_MAX) {
      throw new BrookError('INVALID_PARTITIONS', `invalid partition ${partition} of topic ${topic}`);
    }
    const name = partitionDirName(topic, partition);
    let log = this.logs.get(name);
    if (log === undefined) {
      const dir = path.join(this.logDir, name);
      const existed = fs.existsSync(dir);
      fs.mkdirSync(dir, { recursive: true });
      if (!existed) fsyncDirectory(this.logDir);
      // A directory this manager did not open at startup (it could not then) is recovered like after a crash.
      log = this.openLog(topic, partition, config, !existed);
      this.logs.set(name, log);
      if (existed) this.checkpointRecoveryPointsAndLogStartOffsets();
    }
    if (log.topicId !== undefined && log.topicId !== topicId) {
      this.logger.warn({ topic, partition, topicId, strayTopicId: log.topicId }, 'replacing a stray log of an earlier topic with the same name');
      this.deleteLog(topic, partition);
      return this.getOrCreateLog(topic, partition, topicId, config);
    }
    if (log.topicId === undefined) log.assignTopicId(topicId);
    log.updateConfig(config);
    return log;
  }

  /**
   * Deletes a partition log: closed, renamed to `<topic>-<partition>.<id>-delete` at once (so a log of
   * the same name can be created right away, and a crash finishes the job at the next startup), and
   * removed from disk in the background.
   */
  deleteLog(topic: string, partition: number): void {
    const name = partitionDirName(topic, partition);
    const log = this.logs.get(name);
    if (log === undefined) return;
    this.logs.delete(name);
    this.recoveryPoints.delete(name);
    this.logStartOffsets.delete(name);
    log.close();
    this.cleaner.forgetLog(topic, partition);
    const doomed = path.join(this.logDir, deleteDirName(topic, partition));
    fs.renameSync(log.dir, doomed);
    fsyncDirectory(this.logDir);
    this.logger.info({ topic, partition }, 'deleted partition log');
    this.removeInBackground(doomed);
  }

  allLogs(): Log[] {
    return [...this.logs.values()];
  }

  checkpointRecoveryPointsAndLogStartOffsets(): void {
    const recoveryPoints: TopicPartitionOffset[] = [];
    const logStartOffsets: TopicPartitionOffset[] = [];
    for (const log of this.logs.values()) {
      recoveryPoints.push({ topic: log.topic, partition: log.partition, offset: log.recoveryPoint });
      logStartOffsets.push({ topic: log.topic, partition: log.partition, offset: log.logStartOffset });
    }
    this.recoveryPointCheckpoint.write(recoveryPoints);
    this.logStartOffsetCheckpoint.write(logStartOffsets);
  }

  /** Stops the timers, flushes and closes every log, writes the checkpoints and then the clean-shutdown marker. */
  shutdown(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.cleaner.shutdown();
    let clean = true;
    for (const log of this.logs.values()) {
      try {
        log.flush();
      } catch (err) {
        clean = false;
        this.logger.error({ topic: log.topic, partition: log.partition, err: (err as Error).message }, 'could not flush a log at shutdown');
      }
    }
    try {
      this.checkpointRecoveryPointsAndLogStartOffsets();
    } catch (err) {
      clean = false;
      this.logger.error({ err: (err as Error).message }, 'could not write the offset checkpoints at shutdown');
    }
    for (const log of this.logs.values()) log.close();
    this.logs.clear();
    if (clean) writeFileAtomically(path.join(this.logDir, CLEAN_SHUTDOWN_FILE), '');
    this.logger.info({ logDir: this.logDir, clean }, 'log manager shut down');
  }

  private openLog(topic: string, partition: number, config: LogConfig, hadCleanShutdown: boolean): Log {
    const name = partitionDirName(topic, partition);
    const logStartOffset = this.logStartOffsets.get(name);
    return Log.open(path.join(this.logDir, name), topic, partition, config, {
      recoveryPoint: this.recoveryPoints.get(name) ?? 0,
      hadCleanShutdown,
      ...(logStartOffset !== undefined ? { logStartOffset } : {}),
      logger: this.logger,
      onRecoveryPointLowered: () => this.checkpointRecoveryPointsAndLogStartOffsets(),
      onTruncated: (logEndOffset) => this.cleaner.maybeTruncateCheckpoint(topic, partition, logEndOffset),
    });
  }

  /** A checkpoint that cannot be read only costs a longer recovery: every log is then checked from its start. */
  private readCheckpoint(file: OffsetCheckpointFile): Map<string, number> {
    try {
      return new Map(file.read().map((e) => [partitionDirName(e.topic, e.partition), e.offset]));
    } catch (err) {
      this.logger.warn({ file: file.path, err: (err as Error).message }, 'ignoring an unreadable checkpoint');
      return new Map();
    }
  }

  private startTimers(): void {
    const every = (ms: number, task: string, run: () => void) => {
      const timer = setInterval(() => {
        try {
          run();
        } catch (err) {
          this.logger.error({ task, err: (err as Error).message }, 'log maintenance task failed');
        }
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.opts.retentionCheckIntervalMs ?? 5 * 60_000, 'retention', () => {
      for (const log of this.logs.values()) {
        try {
          log.deleteOldSegments();
        } catch (err) {
          this.logger.error({ topic: log.topic, partition: log.partition, err: (err as Error).message }, 'retention failed');
        }
      }
    });
    every(this.opts.flushCheckIntervalMs ?? 1000, 'flush', () => this.flushDueLogs());
    every(this.opts.checkpointIntervalMs ?? 60_000, 'checkpoint', () => this.checkpointRecoveryPointsAndLogStartOffsets());
    // One cleaning at a time, in slices that yield to the event loop (see Cleaner); failures are logged there.
    every(this.opts.cleanerBackoffMs ?? 15_000, 'cleaner', () => void this.cleaner.cleanFilthiestLogs(() => this.logs.values()));
  }

  /** flush.ms: fsyncs the logs whose unflushed data has waited that long. */
  private flushDueLogs(): void {
    const now = Date.now();
    for (const log of this.logs.values()) {
      const { flushMs } = log.config;
      if (flushMs > 0 && log.recoveryPoint < log.logEndOffset && now - log.lastFlushTime >= flushMs) log.flush();
    }
  }

  private removeInBackground(dir: string): void {
    fs.rm(dir, { recursive: true, force: true }, (err) => {
      if (err) this.logger.warn({ dir, err: err.message }, 'could not remove a deleted log directory');
    });
  }
}

function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

function parsePartitionDir(name: string): { topic: string; partition: number } | undefined {
  const match = PARTITION_DIR.exec(name);
  if (!match || !isValidName(match[1]) || Number(match[2]) > INT32_MAX) return undefined;
  return { topic: match[1]!, partition: Number(match[2]) };
}

/** Kafka's delete-directory name, with the topic shortened so the name stays a legal file name. */
function deleteDirName(topic: string, partition: number): string {
  const suffix = `-${partition}.${randomUUID().replace(/-/g, '')}${DELETE_DIR_SUFFIX}`;
  return topic.slice(0, MAX_FILE_NAME_BYTES - suffix.length) + suffix;
}
