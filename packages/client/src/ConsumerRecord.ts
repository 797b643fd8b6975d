import { decodeRecordsFrom, iterateBatches, type RecordHeader } from '@brook/types';

/** A record as the Consumer hands it out. Key, value and header values are views into the fetched bytes. */
export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: number;
  /** Milliseconds since the epoch (CreateTime, or LogAppendTime when the topic sets it). */
  timestamp: number;
  key: Buffer | null;
  /** Null for a tombstone (a deleted key of a compacted topic). */
  value: Buffer | null;
  headers: Record<string, Buffer | null>;
}

/**
 * The records of stored batches from `fromOffset` on. Batches may start before it (a fetch lands
 * mid-batch, and compaction leaves batches with holes), so earlier records are skipped.
 */
export function decodeFetchedRecords(topic: string, partition: number, buf: Buffer, fromOffset: number): ConsumerRecord[] {
  const records: ConsumerRecord[] = [];
  const build = (offset: number, timestamp: number, key: Buffer | null, value: Buffer | null, headers: RecordHeader[] | null): ConsumerRecord => ({
    topic,
    partition,
    offset,
    timestamp,
    key,
    value,
    headers: headers ? headerObject(headers) : NO_HEADERS,
  });
  for (const batch of iterateBatches(buf)) {
    if (batch.lastOffset >= fromOffset) decodeRecordsFrom(buf, batch.position, batch, fromOffset, build, records);
  }
  return records;
}

function headerObject(headers: RecordHeader[]): Record<string, Buffer | null> {
  const out: Record<string, Buffer | null> = {};
  for (const h of headers) out[h.key] = h.value;
  return out;
}

/**
 * Where the fetch after these batches starts: past the last complete batch (a batch that compaction
 * emptied still moves it on, so it never stalls), and never before `fromOffset`.
 */
export function offsetAfterBatches(buf: Buffer, fromOffset: number): number {
  let next = fromOffset;
  for (const batch of iterateBatches(buf)) next = Math.max(next, batch.lastOffset + 1);
  return next;
}

/** Shared by every record without headers; frozen so that no caller changes it for the others. */
const NO_HEADERS: Record<string, Buffer | null> = Object.freeze({}) as Record<string, Buffer | null>;
