/**
 * Kafka's RecordBatch v2 (magic 2), byte for byte: the unit Brook stores on disk, replicates and serves.
 * A batch is encoded once, by the producer or the broker that received JSON, and then only copied; the
 * leader rewrites just the two fields outside the CRC (base offset and partition leader epoch).
 *
 * Header (big-endian, 61 bytes):
 *   baseOffset int64, batchLength int32 (bytes after this field), partitionLeaderEpoch int32, magic int8,
 *   crc uint32 (CRC-32C of attributes..end), attributes int16, lastOffsetDelta int32, baseTimestamp int64,
 *   maxTimestamp int64, producerId int64, producerEpoch int16, baseSequence int32, recordCount int32
 * then each record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
 *   keyLength varint (-1 = null), key, valueLength varint (-1 = null), value, headerCount varint,
 *   headers [keyLength varint, key utf8, valueLength varint (-1 = null), value].
 * Varints are zigzag LEB128 as in protobuf. Offsets and timestamps are JS numbers (safe integers): int64
 * fields are read and written as two 32-bit halves, so the hot path never touches BigInt.
 */
import { crc32c } from '@node-rs/crc32';
import { BrookError, type ErrorCode } from '../errors';

export const BATCH_HEADER_SIZE = 61;
/** baseOffset + batchLength: the bytes of a batch that batchLength does not count. */
export const LOG_OVERHEAD = 12;

const MAGIC = 2;
// Field positions inside a batch, as in Kafka's DefaultRecordBatch.
export const LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORDS_COUNT_OFFSET = 57;

// Batch attributes.
const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08; // set: LogAppendTime, every record's timestamp is maxTimestamp
const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;

/** The smallest record: length, attributes, timestampDelta, offsetDelta, keyLength, valueLength, headerCount. */
const MIN_RECORD_SIZE = 7;
const TWO_POW_32 = 4294967296;

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface RecordInput {
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  /** Milliseconds since the epoch (Kafka's CreateTime); defaults to BatchOptions.timestamp. */
  timestamp?: number;
}

export interface BatchOptions {
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  /** Timestamp of the records that carry none; Date.now() by default. */
  timestamp?: number;
}

export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
  /** Total bytes of the batch, including the 12-byte prefix. */
  sizeInBytes: number;
  lastOffset: number;
}

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

// ---------------------------------------------------------------------------------------------------
// Encoding

/** Body size of each record of the batch being encoded; kept between calls so encoding allocates once. */
let recordSizes = new Int32Array(256);

/** Encodes records as one v2 batch with consecutive offset deltas from 0. */
export function encodeBatch(records: RecordInput[], options: BatchOptions = {}): Buffer {
  const count = records.length;
  if (count === 0) throw new BrookError('INVALID_RECORD', 'a record batch needs at least one record');
  if (recordSizes.length < count) recordSizes = new Int32Array(Math.max(count, recordSizes.length * 2));
  const defaultTimestamp = options.timestamp ?? Date.now();
  const baseTimestamp = records[0]!.timestamp ?? defaultTimestamp;
  let maxTimestamp = baseTimestamp;

  // Pass 1: sizes, so the batch is written into one buffer without intermediate copies.
  let size = BATCH_HEADER_SIZE;
  for (let i = 0; i < count; i++) {
    const record = records[i]!;
    const timestamp = record.timestamp ?? defaultTimestamp;
    checkTimestamp(timestamp, i);
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const body = recordBodySize(timestamp - baseTimestamp, i, record.key, record.value, record.headers);
    recordSizes[i] = body;
    size += sizeOfVarint(body) + body;
  }

  // Pass 2: the bytes.
  const buf = Buffer.allocUnsafe(size);
  let pos = BATCH_HEADER_SIZE;
  for (let i = 0; i < count; i++) {
    const record = records[i]!;
    const timestampDelta = (record.timestamp ?? defaultTimestamp) - baseTimestamp;
    pos = writeRecord(buf, pos, recordSizes[i]!, timestampDelta, i, record.key, record.value, record.headers);
  }
  writeBatchHeader(buf, count, baseTimestamp, maxTimestamp, options);
  return buf;
}

function checkTimestamp(timestamp: number, index: number): void {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new BrookError('INVALID_RECORD', `record ${index} has an invalid timestamp ${timestamp}: use milliseconds since the epoch`);
  }
}

/** Bytes of one record after its length varint. */
function recordBodySize(
  timestampDelta: number,
  offsetDelta: number,
  key: Uint8Array | null | undefined,
  value: Uint8Array | null | undefined,
  headers: readonly RecordHeader[] | undefined,
): number {
  let body = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta);
  body += key == null ? 1 : sizeOfVarint(key.length) + key.length;
  body += value == null ? 1 : sizeOfVarint(value.length) + value.length;
  if (headers === undefined || headers.length === 0) return body + 1;
  body += sizeOfVarint(headers.length);
  for (const header of headers) {
    const keyBytes = Buffer.byteLength(header.key, 'utf8');
    body += sizeOfVarint(keyBytes) + keyBytes;
    body += header.value == null ? 1 : sizeOfVarint(header.value.length) + header.value.length;
  }
  return body;
}

/** Writes one record (length varint first) at `pos`; answers the position after it. */
function writeRecord(
  buf: Buffer,
  pos: number,
  body: number,
  timestampDelta: number,
  offsetDelta: number,
  key: Uint8Array | null | undefined,
  value: Uint8Array | null | undefined,
  headers: readonly RecordHeader[] | undefined,
): number {
  pos = writeUnsignedVarint(buf, pos, zigzag32(body));
  buf[pos++] = 0; // record attributes: unused in v2
  pos = writeVarlong(buf, pos, timestampDelta);
  pos = writeUnsignedVarint(buf, pos, zigzag32(offsetDelta));
  pos = writeNullableBytes(buf, pos, key);
  pos = writeNullableBytes(buf, pos, value);
  if (headers === undefined || headers.length === 0) {
    buf[pos++] = 0;
    return pos;
  }
  pos = writeUnsignedVarint(buf, pos, zigzag32(headers.length));
  for (const header of headers) {
    const keyBytes = Buffer.byteLength(header.key, 'utf8');
    pos = writeUnsignedVarint(buf, pos, zigzag32(keyBytes));
    pos += buf.write(header.key, pos, keyBytes, 'utf8');
    pos = writeNullableBytes(buf, pos, header.value);
  }
  return pos;
}

/** Fills the 61-byte header of the batch that is all of `buf`, CRC last. */
function writeBatchHeader(buf: Buffer, count: number, baseTimestamp: number, maxTimestamp: number, options: BatchOptions): void {
  writeInt64(buf, 0, options.baseOffset ?? 0);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, LENGTH_OFFSET);
  buf.writeInt32BE(options.partitionLeaderEpoch ?? -1, PARTITION_LEADER_EPOCH_OFFSET);
  buf[MAGIC_OFFSET] = MAGIC;
  buf.writeInt16BE(0, ATTRIBUTES_OFFSET);
  buf.writeInt32BE(count - 1, LAST_OFFSET_DELTA_OFFSET);
  writeInt64(buf, BASE_TIMESTAMP_OFFSET, baseTimestamp);
  writeInt64(buf, MAX_TIMESTAMP_OFFSET, maxTimestamp);
  writeInt64(buf, PRODUCER_ID_OFFSET, options.producerId ?? -1);
  buf.writeInt16BE(options.producerEpoch ?? -1, PRODUCER_EPOCH_OFFSET);
  buf.writeInt32BE(options.baseSequence ?? -1, BASE_SEQUENCE_OFFSET);
  buf.writeInt32BE(count, RECORDS_COUNT_OFFSET);
  buf.writeUInt32BE(crc32c(buf.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
}

function writeNullableBytes(buf: Buffer, pos: number, bytes: Uint8Array | null | undefined): number {
  if (bytes == null) {
    buf[pos] = 1; // zigzag(-1)
    return pos + 1;
  }
  pos = writeUnsignedVarint(buf, pos, zigzag32(bytes.length));
  buf.set(bytes, pos);
  return pos + bytes.length;
}

/**
 * Builds one v2 batch record by record (Kafka's MemoryRecordsBuilder): each record is written into the
 * batch's buffer as it is appended, so a producer keeps no object per record, and the header (producer
 * id, sequence, CRC) is written once, by build(). Same bytes as encodeBatch of the same records.
 */
export class RecordBatchBuilder {
  private buf: Buffer;
  private pos = BATCH_HEADER_SIZE;
  private count = 0;
  private baseTimestamp = 0;
  private maxTimestamp = 0;

  /** `capacity`: bytes to start with; the buffer doubles when a record does not fit. */
  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, BATCH_HEADER_SIZE + MIN_RECORD_SIZE));
  }

  get recordCount(): number {
    return this.count;
  }

  /** Bytes of the batch so far, header included. */
  get sizeInBytes(): number {
    return this.pos;
  }

  /** Appends a record at the next offset delta; `timestamp` in ms since the epoch. */
  append(timestamp: number, key: Uint8Array | null, value: Uint8Array | null, headers?: readonly RecordHeader[]): void {
    checkTimestamp(timestamp, this.count);
    if (this.count === 0) this.baseTimestamp = this.maxTimestamp = timestamp;
    else if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    const timestampDelta = timestamp - this.baseTimestamp;
    const body = recordBodySize(timestampDelta, this.count, key, value, headers);
    const end = this.pos + sizeOfVarint(body) + body;
    if (end > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(end, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.pos);
      this.buf = grown;
    }
    this.pos = writeRecord(this.buf, this.pos, body, timestampDelta, this.count, key, value, headers);
    this.count++;
  }

  /** Writes the header and CRC; answers the batch (a view of the builder's buffer). */
  build(options: Pick<BatchOptions, 'producerId' | 'producerEpoch' | 'baseSequence'> = {}): Buffer {
    if (this.count === 0) throw new BrookError('INVALID_RECORD', 'a record batch needs at least one record');
    const buf = this.buf.subarray(0, this.pos);
    writeBatchHeader(buf, this.count, this.baseTimestamp, this.maxTimestamp, options);
    return buf;
  }
}

// ---------------------------------------------------------------------------------------------------
// Reading

/**
 * Reads and sanity-checks the header of the batch at `position`. Only the 61 header bytes need to be in
 * `buf` (storage scans headers of batches whose records it does not load); verifyBatch needs them all.
 * Throws CORRUPT_RECORD when the header is truncated or impossible.
 */
export function readBatchHeader(buf: Buffer, position: number): BatchHeader {
  return parseHeader(buf, position);
}

/** The header plus where the batch starts; what iterateBatches yields. */
function parseHeader(buf: Buffer, position: number): BatchHeader & { position: number } {
  const remaining = buf.length - position;
  if (position < 0 || remaining < BATCH_HEADER_SIZE) {
    throw corrupt(`truncated batch header at position ${position}: ${Math.max(remaining, 0)} of ${BATCH_HEADER_SIZE} bytes`);
  }
  const batchLength = buf.readInt32BE(position + LENGTH_OFFSET);
  if (batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD) {
    throw corrupt(`batch at position ${position} has an impossible length ${batchLength}`);
  }
  const magic = buf[position + MAGIC_OFFSET]!;
  if (magic !== MAGIC) throw corrupt(`batch at position ${position} has magic ${magic}; only v2 (magic 2) is supported`);
  const baseOffset = readInt64(buf, position);
  const lastOffsetDelta = buf.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET);
  const lastOffset = baseOffset + lastOffsetDelta;
  if (baseOffset < 0 || lastOffsetDelta < 0 || !Number.isSafeInteger(lastOffset)) {
    throw corrupt(`batch at position ${position} has impossible offsets ${baseOffset}+${lastOffsetDelta}`);
  }
  return {
    baseOffset,
    batchLength,
    partitionLeaderEpoch: buf.readInt32BE(position + PARTITION_LEADER_EPOCH_OFFSET),
    magic,
    crc: buf.readUInt32BE(position + CRC_OFFSET),
    attributes: buf.readInt16BE(position + ATTRIBUTES_OFFSET),
    lastOffsetDelta,
    baseTimestamp: readInt64(buf, position + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64(buf, position + MAX_TIMESTAMP_OFFSET),
    producerId: readInt64(buf, position + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(position + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(position + BASE_SEQUENCE_OFFSET),
    recordCount: buf.readInt32BE(position + RECORDS_COUNT_OFFSET),
    sizeInBytes: batchLength + LOG_OVERHEAD,
    lastOffset,
    position,
  };
}

/**
 * Checks a whole batch as it came off the network or the disk: header, CRC-32C and a record count its
 * bytes and offsets can hold. Does not walk the records (verifyRecords does). Throws CORRUPT_RECORD.
 */
export function verifyBatch(buf: Buffer, position: number): BatchHeader {
  const header = parseHeader(buf, position);
  const end = position + header.sizeInBytes;
  if (end > buf.length) {
    throw corrupt(`truncated batch at position ${position}: ${buf.length - position} of ${header.sizeInBytes} bytes`);
  }
  const crc = crc32c(buf.subarray(position + ATTRIBUTES_OFFSET, end));
  if (crc !== header.crc) {
    throw corrupt(`batch at offset ${header.baseOffset} fails its CRC (stored ${header.crc}, computed ${crc})`);
  }
  const count = header.recordCount;
  if (count < 0 || count > header.lastOffsetDelta + 1 || count * MIN_RECORD_SIZE > header.sizeInBytes - BATCH_HEADER_SIZE) {
    throw corrupt(`batch at offset ${header.baseOffset} claims an impossible ${count} records`);
  }
  return header;
}

/**
 * Walks every record of a verified batch: lengths and varints consistent, offset deltas increasing and
 * within the batch, nothing left over; and refuses what Brook does not store (compressed, transactional
 * and control batches). What a leader runs on a producer's batch before accepting it. Throws INVALID_RECORD.
 */
export function verifyRecords(buf: Buffer, position: number, header: BatchHeader = readBatchHeader(buf, position)): void {
  const unsupported = header.attributes & (COMPRESSION_CODEC_MASK | TRANSACTIONAL_FLAG_MASK | CONTROL_FLAG_MASK);
  if (unsupported !== 0) {
    throw new BrookError('INVALID_RECORD', `batch attributes ${header.attributes} are not supported: Brook stores uncompressed, non-transactional batches`);
  }
  walkRecords(buf, position, header, 'INVALID_RECORD', 0, null, null);
}

/**
 * Decodes the records of the batch at `position`. Keys, values and header values are views into `buf`,
 * not copies. Does not check the CRC (verifyBatch does). Throws CORRUPT_RECORD on malformed records and
 * INVALID_RECORD on a compressed batch.
 */
export function decodeRecords(buf: Buffer, position: number, header: BatchHeader = readBatchHeader(buf, position)): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  decodeRecordsFrom(buf, position, header, 0, toDecodedRecord, out);
  return out;
}

/** Makes one decoded record from its fields; `headers` is null when the record has none. */
export type RecordBuilder<T> = (offset: number, timestamp: number, key: Buffer | null, value: Buffer | null, headers: RecordHeader[] | null) => T;

/**
 * Decodes the records of the batch at `position` from `fromOffset` on, each made by `build` and appended
 * to `out`: a consumer's path, with no intermediate record objects, and earlier records (a fetch that
 * lands mid-batch) skipped without being decoded. Same views and errors as decodeRecords.
 */
export function decodeRecordsFrom<T>(buf: Buffer, position: number, header: BatchHeader, fromOffset: number, build: RecordBuilder<T>, out: T[]): void {
  if ((header.attributes & COMPRESSION_CODEC_MASK) !== 0) {
    throw new BrookError('INVALID_RECORD', `batch at offset ${header.baseOffset} is compressed; Brook does not support compression`);
  }
  if (position + header.sizeInBytes > buf.length) {
    throw corrupt(`truncated batch at position ${position}: ${buf.length - position} of ${header.sizeInBytes} bytes`);
  }
  walkRecords(buf, position, header, 'CORRUPT_RECORD', fromOffset, build, out);
}

function toDecodedRecord(offset: number, timestamp: number, key: Buffer | null, value: Buffer | null, headers: RecordHeader[] | null): DecodedRecord {
  return { offset, timestamp, key, value, headers: headers ?? [] };
}

/** Walks a buffer of concatenated batches; stops at a partial trailing batch, throws on a corrupt header. */
export function* iterateBatches(buf: Buffer): Generator<BatchHeader & { position: number }> {
  let position = 0;
  while (buf.length - position >= LOG_OVERHEAD) {
    const size = buf.readInt32BE(position + LENGTH_OFFSET) + LOG_OVERHEAD;
    if (size > buf.length - position) return;
    const header = parseHeader(buf, position);
    yield header;
    position += header.sizeInBytes;
  }
}

/** Sets the base offset in place; the field is outside the CRC, as in Kafka, so the batch stays valid. */
export function setBaseOffset(buf: Buffer, position: number, baseOffset: number): void {
  writeInt64(buf, position, baseOffset);
}

/** Sets the partition leader epoch in place; outside the CRC too. */
export function setPartitionLeaderEpoch(buf: Buffer, position: number, epoch: number): void {
  buf.writeInt32BE(epoch, position + PARTITION_LEADER_EPOCH_OFFSET);
}

/** Validates (out === null) or decodes (with build, into out) the records of one batch at or after `fromOffset`. */
function walkRecords<T>(buf: Buffer, position: number, header: BatchHeader, errorCode: ErrorCode, fromOffset: number, build: RecordBuilder<T> | null, out: T[] | null): void {
  const batchEnd = position + header.sizeInBytes;
  const logAppendTime = (header.attributes & TIMESTAMP_TYPE_MASK) !== 0;
  const fail = (why: string): BrookError =>
    new BrookError(errorCode, `malformed record in batch at offset ${header.baseOffset}: ${why}`);
  let pos = position + BATCH_HEADER_SIZE;
  let previousOffsetDelta = -1;
  for (let i = 0; i < header.recordCount; i++) {
    const length = readVarint(buf, pos, batchEnd, fail);
    pos = cursor;
    const end = pos + length;
    if (length < MIN_RECORD_SIZE - 1 || end > batchEnd) throw fail(`record ${i} has length ${length}`);
    pos++; // attributes
    const timestampDelta = readVarlong(buf, pos, end, fail);
    const offsetDelta = readVarint(buf, cursor, end, fail);
    if (offsetDelta <= previousOffsetDelta || offsetDelta > header.lastOffsetDelta) {
      throw fail(`record ${i} has offset delta ${offsetDelta} out of order`);
    }
    previousOffsetDelta = offsetDelta;
    if (header.baseOffset + offsetDelta < fromOffset) {
      pos = end; // before the fetch position: not decoded
      continue;
    }
    const keyLength = readVarint(buf, cursor, end, fail);
    const keyStart = cursor;
    if (keyLength < -1 || keyStart + keyLength > end) throw fail(`record ${i} has key length ${keyLength}`);
    pos = keyStart + Math.max(keyLength, 0);
    const valueLength = readVarint(buf, pos, end, fail);
    const valueStart = cursor;
    if (valueLength < -1 || valueStart + valueLength > end) throw fail(`record ${i} has value length ${valueLength}`);
    pos = valueStart + Math.max(valueLength, 0);
    const headerCount = readVarint(buf, pos, end, fail);
    pos = cursor;
    if (headerCount < 0) throw fail(`record ${i} has header count ${headerCount}`);
    let headers: RecordHeader[] | null = null;
    for (let h = 0; h < headerCount; h++) {
      const headerKeyLength = readVarint(buf, pos, end, fail);
      const headerKeyStart = cursor;
      if (headerKeyLength < 0 || headerKeyStart + headerKeyLength > end) throw fail(`record ${i} has header key length ${headerKeyLength}`);
      const headerValueLength = readVarint(buf, headerKeyStart + headerKeyLength, end, fail);
      const headerValueStart = cursor;
      if (headerValueLength < -1 || headerValueStart + headerValueLength > end) {
        throw fail(`record ${i} has header value length ${headerValueLength}`);
      }
      pos = headerValueStart + Math.max(headerValueLength, 0);
      if (out !== null) {
        (headers ??= []).push({
          key: buf.toString('utf8', headerKeyStart, headerKeyStart + headerKeyLength),
          value: headerValueLength < 0 ? null : buf.subarray(headerValueStart, pos),
        });
      }
    }
    if (pos !== end) throw fail(`record ${i} is ${length} bytes long but its fields take ${pos - (end - length)}`);
    if (out !== null) {
      out.push(
        build!(
          header.baseOffset + offsetDelta,
          logAppendTime ? header.maxTimestamp : header.baseTimestamp + timestampDelta,
          keyLength < 0 ? null : buf.subarray(keyStart, keyStart + keyLength),
          valueLength < 0 ? null : buf.subarray(valueStart, valueStart + valueLength),
          headers,
        ),
      );
    }
  }
  if (pos !== batchEnd) throw fail(`${batchEnd - pos} bytes after the last of ${header.recordCount} records`);
}

// ---------------------------------------------------------------------------------------------------
// Integers

function corrupt(message: string): BrookError {
  return new BrookError('CORRUPT_RECORD', message);
}

function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_POW_32 + buf.readUInt32BE(pos + 4);
}

/** Writes a safe integer as a big-endian int64 without BigInt (two 32-bit halves). */
export function writeInt64(buf: Buffer, pos: number, value: number): void {
  const high = Math.floor(value / TWO_POW_32);
  buf.writeInt32BE(high, pos);
  buf.writeUInt32BE(value - high * TWO_POW_32, pos + 4);
}

/** For any int32, the zigzag value as an unsigned 32-bit number (equal to the 64-bit zigzag of the same value). */
function zigzag32(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

function sizeOfUnsignedVarint(u: number): number {
  return u < 0x80 ? 1 : u < 0x4000 ? 2 : u < 0x200000 ? 3 : u < 0x10000000 ? 4 : 5;
}

function sizeOfVarint(value: number): number {
  return sizeOfUnsignedVarint(zigzag32(value));
}

/** Bytes of a zigzag varlong (Kafka's record encoding). */
export function sizeOfVarlong(value: number): number {
  if ((value | 0) === value) return sizeOfVarint(value);
  let z = value >= 0 ? value * 2 : -value * 2 - 1;
  let size = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 0x80);
    size++;
  }
  return size;
}

function writeUnsignedVarint(buf: Buffer, pos: number, u: number): number {
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

/** Writes a zigzag varlong at `pos`; answers the position after it. */
export function writeVarlong(buf: Buffer, pos: number, value: number): number {
  if ((value | 0) === value) return writeUnsignedVarint(buf, pos, zigzag32(value));
  let z = value >= 0 ? value * 2 : -value * 2 - 1; // beyond int32: arithmetic instead of bit operations
  while (z >= 0x80) {
    buf[pos++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  buf[pos++] = z;
  return pos;
}

/** Position after the last varint read: lets the readers return a plain number instead of an object. */
let cursor = 0;

/** Kafka's readVarint: at most 5 bytes, zigzag-decoded to an int32. */
function readVarint(buf: Buffer, pos: number, end: number, fail: (why: string) => BrookError): number {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (pos >= end) throw fail('varint runs past the end');
    const b = buf[pos++]!;
    value |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
    if (shift > 28) throw fail('varint longer than 5 bytes');
  }
  cursor = pos;
  return (value >>> 1) ^ -(value & 1);
}

/** Kafka's readVarlong: at most 10 bytes; values beyond JS's safe integers are refused. */
function readVarlong(buf: Buffer, pos: number, end: number, fail: (why: string) => BrookError): number {
  let z = 0;
  let multiplier = 1;
  for (let i = 0; ; i++) {
    if (pos >= end) throw fail('varlong runs past the end');
    if (i === 10) throw fail('varlong longer than 10 bytes');
    const b = buf[pos++]!;
    z += (b & 0x7f) * multiplier;
    if ((b & 0x80) === 0) break;
    multiplier *= 0x80;
  }
  if (z > Number.MAX_SAFE_INTEGER) throw fail('varlong beyond 2^53');
  cursor = pos;
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}
