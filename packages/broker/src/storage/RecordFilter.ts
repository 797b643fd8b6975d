import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_SIZE,
  CRC_OFFSET,
  decodeRecords,
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  sizeOfVarlong,
  TIMESTAMP_TYPE_MASK,
  writeInt64,
  writeVarlong,
  type BatchHeader,
  type DecodedRecord,
} from '@brook/types';
import { crc32c } from '@node-rs/crc32';

/** KIP-534: the batch's baseTimestamp is its delete horizon, the time from which its tombstones may be removed. */
const DELETE_HORIZON_FLAG = 0x40;

/** Which records of a batch survive cleaning (Kafka's MemoryRecords.RecordFilter). */
export interface RecordFilter {
  /**
   * Keep the batch as an empty header when none of its records stays: an idempotent producer's last
   * batch, whose sequence range a producer state rebuilt from the log must find again.
   */
  retainEmpty: boolean;
  /** The delete horizon a batch that keeps a tombstone gets when it has none yet: now + delete.retention.ms. */
  newDeleteHorizonMs: number;
  shouldRetainRecord(record: DecodedRecord, deleteHorizonMs: number | undefined): boolean;
}

/** The batch's delete horizon (KIP-534), once a cleaning has set one. */
export function deleteHorizonMs(header: BatchHeader): number | undefined {
  return (header.attributes & DELETE_HORIZON_FLAG) !== 0 ? header.baseTimestamp : undefined;
}

/**
 * Kafka's MemoryRecords.filterTo for one CRC-checked v2 batch: what to write in its place. The batch
 * itself when every record stays and it needs no delete horizon; nothing, or an empty header
 * (`retainEmpty`), when no record stays; otherwise a new batch of the records that stay.
 *
 * A new batch keeps what Kafka's keeps for v2: the base offset and the last offset delta (so the batch
 * spans the same offsets and the producer's sequence range stays whole; the records keep their offsets,
 * with gaps where records went), the partition leader epoch, attributes, producer id, epoch and base
 * sequence, and each record's bytes (offset and timestamp deltas, key, value, headers). Its record count,
 * maxTimestamp and CRC are new. A batch keeping a tombstone gets a delete horizon the first time: its
 * baseTimestamp becomes the horizon and the records' timestamp deltas are re-encoded against it, so every
 * record keeps its timestamp.
 */
export function filterBatch(buf: Buffer, position: number, header: BatchHeader, filter: RecordFilter): Buffer | undefined {
  const horizon = deleteHorizonMs(header);
  const records = decodeRecords(buf, position, header);
  const retained: number[] = [];
  let keepsTombstone = false;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    if (!filter.shouldRetainRecord(record, horizon)) continue;
    retained.push(i);
    if (record.value === null) keepsTombstone = true;
  }
  if (retained.length === 0) return filter.retainEmpty ? emptyBatch(header) : undefined;
  const setsHorizon = keepsTombstone && horizon === undefined;
  if (retained.length === records.length && !setsHorizon) return buf.subarray(position, position + header.sizeInBytes);

  const baseTimestamp = setsHorizon ? filter.newDeleteHorizonMs : header.baseTimestamp;
  const logAppendTime = (header.attributes & TIMESTAMP_TYPE_MASK) !== 0;
  const spans = recordSpans(buf, position, header);
  const parts: Buffer[] = [];
  let maxTimestamp = logAppendTime ? header.maxTimestamp : -1;
  for (const i of retained) {
    const span = spans[i]!;
    if (!logAppendTime) maxTimestamp = Math.max(maxTimestamp, records[i]!.timestamp);
    if (baseTimestamp === header.baseTimestamp) {
      parts.push(buf.subarray(span.start, span.end));
    } else {
      parts.push(rebasedRecord(buf, span, header.baseTimestamp - baseTimestamp));
    }
  }
  let size = BATCH_HEADER_SIZE;
  for (const part of parts) size += part.length;
  const out = Buffer.allocUnsafe(size);
  let pos = BATCH_HEADER_SIZE;
  for (const part of parts) pos += part.copy(out, pos);
  const attributes = setsHorizon ? header.attributes | DELETE_HORIZON_FLAG : header.attributes;
  writeHeader(out, header, { attributes, baseTimestamp, maxTimestamp, recordCount: retained.length });
  return out;
}

/** Kafka's DefaultRecordBatch.writeEmptyHeader: the batch's offsets, producer fields and max timestamp, no records. */
function emptyBatch(header: BatchHeader): Buffer {
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE);
  const attributes = header.attributes & ~DELETE_HORIZON_FLAG;
  writeHeader(out, header, { attributes, baseTimestamp: header.maxTimestamp, maxTimestamp: header.maxTimestamp, recordCount: 0 });
  return out;
}

/** Writes the header of a batch whose records are already in `out` after it, and its CRC. */
function writeHeader(
  out: Buffer,
  original: BatchHeader,
  fields: { attributes: number; baseTimestamp: number; maxTimestamp: number; recordCount: number },
): void {
  writeInt64(out, 0, original.baseOffset);
  out.writeInt32BE(out.length - LOG_OVERHEAD, LENGTH_OFFSET);
  out.writeInt32BE(original.partitionLeaderEpoch, PARTITION_LEADER_EPOCH_OFFSET);
  out[MAGIC_OFFSET] = original.magic;
  out.writeInt16BE(fields.attributes, ATTRIBUTES_OFFSET);
  out.writeInt32BE(original.lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
  writeInt64(out, BASE_TIMESTAMP_OFFSET, fields.baseTimestamp);
  writeInt64(out, MAX_TIMESTAMP_OFFSET, fields.maxTimestamp);
  writeInt64(out, PRODUCER_ID_OFFSET, original.producerId);
  out.writeInt16BE(original.producerEpoch, PRODUCER_EPOCH_OFFSET);
  out.writeInt32BE(original.baseSequence, BASE_SEQUENCE_OFFSET);
  out.writeInt32BE(fields.recordCount, RECORDS_COUNT_OFFSET);
  out.writeUInt32BE(crc32c(out.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
}

// ---------------------------------------------------------------------------------------------------
// Records as bytes. decodeRecords has checked their structure; this only finds where each one lies.

interface RecordSpan {
  /** Where the record's length varint starts. */
  start: number;
  end: number;
  /** Where the record's attributes byte is; its timestamp delta follows. */
  attributesPosition: number;
  timestampDelta: number;
  /** Where the fields after the timestamp delta start. */
  afterTimestampDelta: number;
}

function recordSpans(buf: Buffer, position: number, header: BatchHeader): RecordSpan[] {
  const spans: RecordSpan[] = [];
  let pos = position + BATCH_HEADER_SIZE;
  for (let i = 0; i < header.recordCount; i++) {
    const length = readVarlong(buf, pos);
    const attributesPosition = cursor;
    const timestampDelta = readVarlong(buf, attributesPosition + 1);
    spans.push({ start: pos, end: attributesPosition + length, attributesPosition, timestampDelta, afterTimestampDelta: cursor });
    pos = attributesPosition + length;
  }
  return spans;
}

/** The record with its timestamp delta moved by `shift` (its batch's baseTimestamp moved by -shift). */
function rebasedRecord(buf: Buffer, span: RecordSpan, shift: number): Buffer {
  const delta = span.timestampDelta + shift;
  const bodyLength = 1 + sizeOfVarlong(delta) + (span.end - span.afterTimestampDelta);
  const out = Buffer.allocUnsafe(sizeOfVarlong(bodyLength) + bodyLength);
  let pos = writeVarlong(out, 0, bodyLength);
  out[pos++] = buf[span.attributesPosition]!;
  pos = writeVarlong(out, pos, delta);
  buf.copy(out, pos, span.afterTimestampDelta, span.end);
  return out;
}

/** Position after the last varint read. */
let cursor = 0;

/** A zigzag varint or varlong (the same encoding; records' are at most 10 bytes, within JS's safe integers). */
function readVarlong(buf: Buffer, pos: number): number {
  let z = 0;
  let multiplier = 1;
  for (;;) {
    const b = buf[pos++]!;
    z += (b & 0x7f) * multiplier;
    if ((b & 0x80) === 0) break;
    multiplier *= 0x80;
  }
  cursor = pos;
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}
