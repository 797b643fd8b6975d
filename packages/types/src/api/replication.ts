/**
 * The replication protocol between brokers (Kafka's Fetch from followers and OffsetsForLeaderEpoch).
 * Requests are small JSON; the fetch answer is binary so that record batches travel as the leader stored
 * them, with no re-encoding.
 */
import { z } from 'zod';
import { topicName } from './broker';
import { FrameReader } from './FrameReader';

export const REPLICA_FETCH_CONTENT_TYPE = 'application/vnd.brook.fetch';

const partitionRef = { topic: topicName, partition: z.number().int().nonnegative() };

export const ReplicaFetchRequest = z.object({
  replicaId: z.number().int().nonnegative(),
  /** How long the leader may hold the request while none of the partitions has new data. */
  maxWaitMs: z.number().int().min(0).max(30_000),
  /** Upper bound of record bytes per partition in one answer. */
  maxBytesPerPartition: z.number().int().min(1).max(64 * 1024 * 1024).default(1024 * 1024),
  partitions: z
    .array(
      z.object({
        ...partitionRef,
        /** The follower's log end offset: what it has, and where to read from. */
        fetchOffset: z.number().int().nonnegative(),
        /** The leader epoch the follower knows; a mismatch is refused so nobody follows a deposed leader. */
        leaderEpoch: z.number().int().nonnegative(),
      }),
    )
    .max(10_000),
});
export type ReplicaFetchRequest = z.infer<typeof ReplicaFetchRequest>;

export interface ReplicaFetchPartitionResult {
  topic: string;
  partition: number;
  error: { code: string; message: string } | null;
  highWatermark: number;
  logStartOffset: number;
  logEndOffset: number;
  records: Buffer;
}

export const EpochEndOffsetsRequest = z.object({
  replicaId: z.number().int().nonnegative(),
  partitions: z
    .array(
      z.object({
        ...partitionRef,
        leaderEpoch: z.number().int().nonnegative(),
        /** The follower's latest epoch, whose end offset on the leader it asks for. */
        requestedEpoch: z.number().int().nonnegative(),
      }),
    )
    .max(10_000),
});
export type EpochEndOffsetsRequest = z.infer<typeof EpochEndOffsetsRequest>;

export interface EpochEndOffsetsResponse {
  partitions: Array<{
    topic: string;
    partition: number;
    error: { code: string; message: string } | null;
    /** The largest epoch at or below the requested one that the leader has, -1 if none. */
    epoch: number;
    /** Where that epoch ends on the leader (the next epoch's start, or the log end). */
    endOffset: number;
  }>;
}

/**
 * Layout (big-endian): int32 count, per partition: int16 topicLength, topic, int32 partition,
 * int32 errorLength, error (JSON of {code, message}, empty when none), float64 highWatermark,
 * float64 logStartOffset, float64 logEndOffset, int32 recordsLength, records. Offsets are safe
 * integers, which a float64 holds exactly.
 */
export function encodeReplicaFetchResponse(results: ReplicaFetchPartitionResult[]): Buffer {
  const errors = results.map((r) => (r.error ? Buffer.from(JSON.stringify(r.error)) : EMPTY));
  let size = 4;
  results.forEach((r, i) => {
    size += 2 + Buffer.byteLength(r.topic) + 4 + 4 + errors[i]!.length + 24 + 4 + r.records.length;
  });
  const out = Buffer.allocUnsafe(size);
  let pos = out.writeInt32BE(results.length, 0);
  results.forEach((r, i) => {
    pos = out.writeInt16BE(Buffer.byteLength(r.topic), pos);
    pos += out.write(r.topic, pos, 'utf8');
    pos = out.writeInt32BE(r.partition, pos);
    pos = out.writeInt32BE(errors[i]!.length, pos);
    pos += errors[i]!.copy(out, pos);
    pos = out.writeDoubleBE(r.highWatermark, pos);
    pos = out.writeDoubleBE(r.logStartOffset, pos);
    pos = out.writeDoubleBE(r.logEndOffset, pos);
    pos = out.writeInt32BE(r.records.length, pos);
    pos += r.records.copy(out, pos);
  });
  return out;
}

/** Decodes a fetch answer; the records are views into `buf`. */
export function decodeReplicaFetchResponse(buf: Buffer): ReplicaFetchPartitionResult[] {
  const r = new FrameReader(buf, 'replica fetch answer');
  const count = r.int32();
  const out: ReplicaFetchPartitionResult[] = [];
  for (let i = 0; i < count; i++) {
    const topic = r.string(r.int16());
    const partition = r.int32();
    const errorLength = r.int32();
    const error = errorLength > 0 ? (JSON.parse(r.string(errorLength)) as { code: string; message: string }) : null;
    const highWatermark = r.double();
    const logStartOffset = r.double();
    const logEndOffset = r.double();
    out.push({ topic, partition, error, highWatermark, logStartOffset, logEndOffset, records: r.bytes(r.int32()) });
  }
  return out;
}

const EMPTY = Buffer.alloc(0);
