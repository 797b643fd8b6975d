/**
 * The replication protocol between brokers (Kafka's Fetch from followers and OffsetsForLeaderEpoch).
 * Requests are small JSON; the fetch answer is the binary fetch frame of ./fetch.ts, which consumers'
 * fetches share.
 */
import { z } from 'zod';
import { isValidName } from '../names';
import { parseInput } from '../validation';
import { topicName } from './broker';
import { isIntIn, MAX_FETCH_BYTES, MAX_FETCH_PARTITIONS } from './fetch';

const partitionRef = { topic: topicName, partition: z.number().int().nonnegative() };

export const ReplicaFetchRequest = z.object({
  replicaId: z.number().int().nonnegative(),
  /** How long the leader may hold the request while none of the partitions has new data. */
  maxWaitMs: z.number().int().min(0).max(30_000),
  /** Upper bound of record bytes per partition in one answer. */
  maxBytesPerPartition: z.number().int().min(1).max(MAX_FETCH_BYTES).default(1024 * 1024),
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
    .max(MAX_FETCH_PARTITIONS),
});
export type ReplicaFetchRequest = z.infer<typeof ReplicaFetchRequest>;

/**
 * Parses a follower's fetch exactly as ReplicaFetchRequest does, without zod for the common body (every
 * follower sends several a second per leader): a body this check passes, the schema passes unchanged
 * (less unknown fields); anything else is left to the schema and its errors.
 */
export function parseReplicaFetchRequest(body: unknown): ReplicaFetchRequest {
  const b = body as Partial<Record<keyof ReplicaFetchRequest, unknown>> | null;
  if (
    typeof b === 'object' &&
    b !== null &&
    isIntIn(b.replicaId, 0, Number.MAX_SAFE_INTEGER) &&
    isIntIn(b.maxWaitMs, 0, 30_000) &&
    (b.maxBytesPerPartition === undefined || isIntIn(b.maxBytesPerPartition, 1, MAX_FETCH_BYTES)) &&
    Array.isArray(b.partitions) &&
    b.partitions.length <= MAX_FETCH_PARTITIONS &&
    b.partitions.every(isPlainReplicaPartitionFetch)
  ) {
    return {
      replicaId: b.replicaId,
      maxWaitMs: b.maxWaitMs,
      maxBytesPerPartition: b.maxBytesPerPartition ?? 1024 * 1024,
      partitions: b.partitions.map(({ topic, partition, fetchOffset, leaderEpoch }) => ({ topic, partition, fetchOffset, leaderEpoch })),
    };
  }
  return parseInput(ReplicaFetchRequest, body);
}

function isPlainReplicaPartitionFetch(p: unknown): p is ReplicaFetchRequest['partitions'][number] {
  if (typeof p !== 'object' || p === null) return false;
  const { topic, partition, fetchOffset, leaderEpoch } = p as Record<string, unknown>;
  return (
    isValidName(topic) &&
    isIntIn(partition, 0, Number.MAX_SAFE_INTEGER) &&
    isIntIn(fetchOffset, 0, Number.MAX_SAFE_INTEGER) &&
    isIntIn(leaderEpoch, 0, Number.MAX_SAFE_INTEGER)
  );
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
