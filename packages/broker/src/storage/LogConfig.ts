import { BrookError } from '@brook/types';

/** Kafka's cleanup.policy values: 'delete' is retention by time and size, 'compact' keeps the latest record per key. */
export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

/** A partition log's settings, each named after the Kafka topic config it is parsed from. */
export interface LogConfig {
  /** segment.bytes: the active segment rolls before it would grow past this. */
  segmentBytes: number;
  /** segment.ms: the active segment rolls once its records span this long. */
  segmentMs: number;
  /** retention.ms: whole segments older than this are deleted; -1 keeps them forever. */
  retentionMs: number;
  /** retention.bytes: oldest segments are deleted while the log is larger; -1 means no limit. */
  retentionBytes: number;
  /** index.interval.bytes: bytes appended between two entries of the sparse indexes. */
  indexIntervalBytes: number;
  /** flush.messages: fsync after this many unflushed records; 0 never forces one by count. */
  flushMessages: number;
  /** flush.ms: fsync logs with data unflushed this long; 0 never forces one by time. */
  flushMs: number;
  cleanupPolicy: CleanupPolicy;
  /**
   * delete.retention.ms: how long the cleaner keeps a tombstone (a record with a null value) after the
   * cleaning that first kept it, so a consumer reading a compacted log from its start within that time
   * still sees the delete.
   */
  deleteRetentionMs: number;
  /** min.cleanable.dirty.ratio: the cleaner takes a compacted log once this share of it is dirty (not yet cleaned). */
  minCleanableDirtyRatio: number;
  /** max.message.bytes: the largest record batch a producer may append. */
  maxMessageBytes: number;
  /**
   * producer.id.expiration.ms: an idempotent producer idle this long is forgotten when the log next
   * snapshots its producer state. A broker config in Kafka, so topics cannot override it.
   */
  producerIdExpirationMs: number;
}

const DAY_MS = 24 * 3600 * 1000;
const INT32_MAX = 2 ** 31 - 1;

/**
 * Kafka's defaults. Flushing is left to the OS page cache: durability comes from replication, as in
 * Kafka, and flush.messages / flush.ms buy local durability at the cost of throughput.
 */
export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 64 * 1024 * 1024,
  segmentMs: 7 * DAY_MS,
  retentionMs: 7 * DAY_MS,
  retentionBytes: -1,
  indexIntervalBytes: 4096,
  flushMessages: 0,
  flushMs: 0,
  cleanupPolicy: 'delete',
  deleteRetentionMs: DAY_MS,
  minCleanableDirtyRatio: 0.5,
  maxMessageBytes: 8 * 1024 * 1024,
  producerIdExpirationMs: DAY_MS,
});

type IntegerField = Exclude<keyof LogConfig, 'cleanupPolicy' | 'minCleanableDirtyRatio'>;

/** The integer configs this layer owns and the range each accepts (positions in a segment are int32). */
const INTEGER_CONFIGS: ReadonlyArray<readonly [name: string, field: IntegerField, min: number, max: number]> = [
  ['segment.bytes', 'segmentBytes', 1024, INT32_MAX],
  ['segment.ms', 'segmentMs', 1, Number.MAX_SAFE_INTEGER],
  ['retention.ms', 'retentionMs', -1, Number.MAX_SAFE_INTEGER],
  ['retention.bytes', 'retentionBytes', -1, Number.MAX_SAFE_INTEGER],
  ['index.interval.bytes', 'indexIntervalBytes', 0, INT32_MAX],
  ['flush.messages', 'flushMessages', 0, Number.MAX_SAFE_INTEGER],
  ['flush.ms', 'flushMs', 0, Number.MAX_SAFE_INTEGER],
  ['max.message.bytes', 'maxMessageBytes', 0, INT32_MAX],
  ['delete.retention.ms', 'deleteRetentionMs', 0, Number.MAX_SAFE_INTEGER],
];

/**
 * Applies a topic's Kafka-named configs over the broker's defaults. Names this layer does not own (such
 * as min.insync.replicas) are left to their owners; a bad value of one it owns is INVALID_REQUEST.
 */
export function parseLogConfig(overrides: Record<string, string>, defaults: LogConfig): LogConfig {
  const config: LogConfig = { ...defaults };
  for (const [name, field, min, max] of INTEGER_CONFIGS) {
    const raw = overrides[name];
    if (raw !== undefined) config[field] = parseInteger(name, raw, min, max);
  }
  const ratio = overrides['min.cleanable.dirty.ratio'];
  if (ratio !== undefined) config.minCleanableDirtyRatio = parseRatio('min.cleanable.dirty.ratio', ratio);
  const policy = overrides['cleanup.policy'];
  if (policy !== undefined) config.cleanupPolicy = parseCleanupPolicy(policy);
  return config;
}

/** True when retention deletes old segments of this log: 'delete' and 'compact,delete', never 'compact' alone. */
export function deletesOldSegments(config: LogConfig): boolean {
  return config.cleanupPolicy !== 'compact';
}

/** True when the log cleaner compacts this log: 'compact' and 'compact,delete'. */
export function compacts(config: LogConfig): boolean {
  return config.cleanupPolicy !== 'delete';
}

function parseInteger(name: string, raw: unknown, min: number, max: number): number {
  const text = typeof raw === 'string' ? raw.trim() : '';
  const value = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    throw new BrookError('INVALID_REQUEST', `invalid ${name} ${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`, {
      config: name,
    });
  }
  return value;
}

function parseRatio(name: string, raw: unknown): number {
  const text = typeof raw === 'string' ? raw.trim() : '';
  const value = /^\d*\.?\d+$|^\d+\.$/.test(text) ? Number(text) : NaN;
  if (!(value >= 0 && value <= 1)) {
    throw new BrookError('INVALID_REQUEST', `invalid ${name} ${JSON.stringify(raw)}: expected a number from 0 to 1`, { config: name });
  }
  return value;
}

function parseCleanupPolicy(raw: unknown): CleanupPolicy {
  const parts = typeof raw === 'string' ? raw.split(',').map((p) => p.trim().toLowerCase()) : [];
  const set = new Set(parts);
  if (parts.length > 0 && parts.length === set.size && [...set].every((p) => p === 'delete' || p === 'compact')) {
    return set.size === 2 ? 'compact,delete' : (parts[0] as CleanupPolicy);
  }
  throw new BrookError('INVALID_REQUEST', `invalid cleanup.policy ${JSON.stringify(raw)}: expected delete, compact or compact,delete`, {
    config: 'cleanup.policy',
  });
}
