import type { OffsetsRecord } from './OffsetsStore';

/** The committed position of a group in one partition (Kafka's OffsetAndMetadata). */
export interface OffsetCommitValue {
  offset: number;
  metadata: string;
  commitTimestamp: number;
}

/** A decoded record of __consumer_offsets: an offset commit, or its tombstone when `value` is null. */
export interface OffsetCommitRecord {
  group: string;
  topic: string;
  partition: number;
  value: OffsetCommitValue | null;
}

/** The key's first element names the record type, as Kafka's key version does; a new layout gets a new name. */
const OFFSET_COMMIT = 'offset';

/**
 * Encodes an offset commit. The key is the same bytes for every commit of (group, topic, partition), so
 * compaction of __consumer_offsets keeps only the latest one (or drops all of them after a tombstone).
 */
export function encodeOffsetCommit({ group, topic, partition, value }: OffsetCommitRecord): OffsetsRecord {
  return {
    key: Buffer.from(JSON.stringify([OFFSET_COMMIT, group, topic, partition])),
    value: value && Buffer.from(JSON.stringify({ offset: value.offset, metadata: value.metadata, commitTimestamp: value.commitTimestamp })),
  };
}

/** Decodes a record; undefined for one it does not understand (another type, or damaged). */
export function decodeOffsetsRecord(record: OffsetsRecord): OffsetCommitRecord | undefined {
  try {
    const key: unknown = JSON.parse(record.key.toString('utf8'));
    if (!Array.isArray(key) || key.length !== 4 || key[0] !== OFFSET_COMMIT) return undefined;
    const [, group, topic, partition] = key as [string, unknown, unknown, unknown];
    if (typeof group !== 'string' || typeof topic !== 'string' || !Number.isInteger(partition)) return undefined;
    if (record.value === null) return { group, topic, partition: partition as number, value: null };
    const v = JSON.parse(record.value.toString('utf8')) as Partial<OffsetCommitValue> | null;
    if (!v || !Number.isInteger(v.offset) || typeof v.metadata !== 'string' || typeof v.commitTimestamp !== 'number') return undefined;
    return { group, topic, partition: partition as number, value: { offset: v.offset!, metadata: v.metadata, commitTimestamp: v.commitTimestamp } };
  } catch {
    return undefined;
  }
}
