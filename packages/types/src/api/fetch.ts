/**
 * The fetch frame: how a leader answers a fetch of many partitions, for followers (POST /replica/fetch)
 * and for consumers (POST /fetch). Requests are small JSON; the answer is binary so that record batches
 * travel as the leader stored them, with no re-encoding.
 */
import { z } from 'zod';
import { isValidName } from '../names';
import { parseInput } from '../validation';
import { topicName } from './broker';
import { FrameReader } from './FrameReader';

export const FETCH_CONTENT_TYPE = 'application/vnd.brook.fetch';
export const MAX_FETCH_BYTES = 64 * 1024 * 1024;
export const MAX_FETCH_PARTITIONS = 10_000;

/**
 * A consumer's fetch (Kafka's Fetch from a consumer): records below the high watermark of every listed
 * partition this broker leads. Partitions it does not lead answer NOT_LEADER, with the leader's URL when
 * known; the request is never passed on.
 */
export const ConsumerFetchRequest = z.object({
  /** How long the broker may hold the request while the partitions have fewer than `minBytes` new bytes. */
  maxWaitMs: z.number().int().min(0).max(30_000),
  minBytes: z.number().int().min(1).max(MAX_FETCH_BYTES).default(1),
  /** Upper bound of record bytes per partition in one answer (at least one batch is always sent). */
  maxBytesPerPartition: z.number().int().min(1).max(MAX_FETCH_BYTES).default(1024 * 1024),
  partitions: z
    .array(z.object({ topic: topicName, partition: z.number().int().nonnegative(), fetchOffset: z.number().int().nonnegative() }))
    .min(1)
    .max(MAX_FETCH_PARTITIONS),
});
export type ConsumerFetchRequest = z.infer<typeof ConsumerFetchRequest>;

/**
 * Parses a consumer's fetch exactly as ConsumerFetchRequest does, without zod for the common body, which
 * clients send many times a second: a body this check passes, the schema passes unchanged (less unknown
 * fields); anything else is left to the schema and its errors.
 */
export function parseConsumerFetchRequest(body: unknown): ConsumerFetchRequest {
  const b = body as Partial<Record<keyof ConsumerFetchRequest, unknown>> | null;
  if (
    typeof b === 'object' &&
    b !== null &&
    isIntIn(b.maxWaitMs, 0, 30_000) &&
    (b.minBytes === undefined || isIntIn(b.minBytes, 1, MAX_FETCH_BYTES)) &&
    (b.maxBytesPerPartition === undefined || isIntIn(b.maxBytesPerPartition, 1, MAX_FETCH_BYTES)) &&
    Array.isArray(b.partitions) &&
    b.partitions.length >= 1 &&
    b.partitions.length <= MAX_FETCH_PARTITIONS &&
    b.partitions.every(isPlainPartitionFetch)
  ) {
    return {
      maxWaitMs: b.maxWaitMs,
      minBytes: b.minBytes ?? 1,
      maxBytesPerPartition: b.maxBytesPerPartition ?? 1024 * 1024,
      partitions: b.partitions.map(({ topic, partition, fetchOffset }) => ({ topic, partition, fetchOffset })),
    };
  }
  return parseInput(ConsumerFetchRequest, body);
}

function isPlainPartitionFetch(p: unknown): p is ConsumerFetchRequest['partitions'][number] {
  if (typeof p !== 'object' || p === null) return false;
  const { topic, partition, fetchOffset } = p as Record<string, unknown>;
  return isValidName(topic) && isIntIn(partition, 0, Number.MAX_SAFE_INTEGER) && isIntIn(fetchOffset, 0, Number.MAX_SAFE_INTEGER);
}

/** What zod's z.number().int().min(min).max(max) accepts. */
export function isIntIn(v: unknown, min: number, max: number): v is number {
  return Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
}

/** The error of one partition: a BrookError's code, message and details (e.g. `leaderUrl` on NOT_LEADER). */
export interface FetchPartitionError {
  code: string;
  message: string;
  [detail: string]: unknown;
}

export interface FetchPartitionResult {
  topic: string;
  partition: number;
  error: FetchPartitionError | null;
  highWatermark: number;
  logStartOffset: number;
  logEndOffset: number;
  /** Whole stored batches; the first may start before the fetch offset (compaction, or mid-batch offsets). */
  records: Buffer;
}

/**
 * Layout (big-endian): int32 count, per partition: int16 topicLength, topic, int32 partition,
 * int32 errorLength, error (JSON, empty when none), float64 highWatermark, float64 logStartOffset,
 * float64 logEndOffset, int32 recordsLength, records. Offsets are safe integers, which a float64 holds
 * exactly.
 *
 * Answered as chunks for one gathered socket write: the partitions' headers in one small buffer, and the
 * stored records as they are, never copied (megabytes per answer at large records).
 */
export function encodeFetchResponse(results: FetchPartitionResult[]): Buffer[] {
  const errors = results.map((r) => (r.error ? Buffer.from(JSON.stringify(r.error)) : EMPTY));
  let headerSize = 4;
  results.forEach((r, i) => {
    headerSize += 2 + Buffer.byteLength(r.topic) + 4 + 4 + errors[i]!.length + 24 + 4;
  });
  const headers = Buffer.allocUnsafe(headerSize);
  const chunks: Buffer[] = [];
  let start = 0;
  let pos = headers.writeInt32BE(results.length, 0);
  results.forEach((r, i) => {
    pos = headers.writeInt16BE(Buffer.byteLength(r.topic), pos);
    pos += headers.write(r.topic, pos, 'utf8');
    pos = headers.writeInt32BE(r.partition, pos);
    pos = headers.writeInt32BE(errors[i]!.length, pos);
    pos += errors[i]!.copy(headers, pos);
    pos = headers.writeDoubleBE(r.highWatermark, pos);
    pos = headers.writeDoubleBE(r.logStartOffset, pos);
    pos = headers.writeDoubleBE(r.logEndOffset, pos);
    pos = headers.writeInt32BE(r.records.length, pos);
    if (r.records.length > 0) {
      chunks.push(headers.subarray(start, pos), r.records);
      start = pos;
    }
  });
  if (pos > start) chunks.push(headers.subarray(start, pos));
  return chunks;
}

/** Decodes a fetch answer; the records are views into `buf`. */
export function decodeFetchResponse(buf: Buffer): FetchPartitionResult[] {
  const r = new FrameReader(buf, 'fetch answer');
  const count = r.int32();
  const out: FetchPartitionResult[] = [];
  for (let i = 0; i < count; i++) {
    const topic = r.string(r.int16());
    const partition = r.int32();
    const errorLength = r.int32();
    const error = errorLength > 0 ? (JSON.parse(r.string(errorLength)) as FetchPartitionError) : null;
    const highWatermark = r.double();
    const logStartOffset = r.double();
    const logEndOffset = r.double();
    out.push({ topic, partition, error, highWatermark, logStartOffset, logEndOffset, records: r.bytes(r.int32()) });
  }
  return out;
}

const EMPTY = Buffer.alloc(0);
