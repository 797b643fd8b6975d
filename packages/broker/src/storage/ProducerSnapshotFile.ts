import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { BrookError } from '@brook/types';
import { writeFileAtomically } from './CheckpointFile';
import { segmentFileName } from './LogSegment';
import { NUM_BATCHES_TO_RETAIN, ProducerStateEntry, type BatchMetadata } from './ProducerStateEntry';

const PRODUCER_SNAPSHOT_FILE_SUFFIX = '.snapshot';
const SNAPSHOT_FILE = /^(\d{20})\.snapshot$/;

/*
 * A producer snapshot `<offset:20 digits>.snapshot` holds the producer state of a log after every batch
 * below `offset` (Kafka's producer snapshot), big-endian:
 *   version int16, crc uint32 (CRC-32 of every byte after it), offset int64, producerCount int32,
 *   then per producer: producerId int64, producerEpoch int16, batchCount int8 (1-5),
 *   then per batch, oldest first: firstSeq int32, lastSeq int32, firstOffset int64, lastOffset int64, timestamp int64.
 * Unlike Kafka's, which keeps only the last batch, every kept batch is written: a retry of any of them is
 * still recognised after a restart.
 */
const VERSION = 1;
const CRC_OFFSET = 2;
const CRC_COVERS_FROM = CRC_OFFSET + 4;
const HEADER_SIZE = CRC_COVERS_FROM + 8 + 4;
const PRODUCER_HEADER_SIZE = 8 + 2 + 1;
const BATCH_SIZE = 4 + 4 + 8 + 8 + 8;

export function producerSnapshotPath(dir: string, offset: number): string {
  return path.join(dir, segmentFileName(offset, PRODUCER_SNAPSHOT_FILE_SUFFIX));
}

/** The offsets of the snapshots in `dir`, in increasing order. */
export function listProducerSnapshotOffsets(dir: string): number[] {
  const offsets: number[] = [];
  for (const name of fs.readdirSync(dir)) {
    const match = SNAPSHOT_FILE.exec(name);
    if (match) offsets.push(Number(match[1]));
  }
  return offsets.sort((a, b) => a - b);
}

/**
 * Writes the snapshot at `offset`, under a temporary name renamed into place. With `sync` it is durable on
 * return; without, the caller fsyncs it later (flushProducerSnapshotInBackground), and a crash before that
 * can leave it torn, which its CRC reveals to the next reader.
 */
export function writeProducerSnapshot(dir: string, offset: number, entries: Iterable<ProducerStateEntry>, sync: boolean): string {
  const file = producerSnapshotPath(dir, offset);
  const bytes = encodeSnapshot(offset, [...entries]);
  if (sync) {
    writeFileAtomically(file, bytes);
  } else {
    fs.writeFileSync(`${file}.tmp`, bytes);
    fs.renameSync(`${file}.tmp`, file);
  }
  return file;
}

/** Removes a snapshot file; one already gone is fine. */
export function deleteProducerSnapshot(dir: string, offset: number): void {
  fs.rmSync(producerSnapshotPath(dir, offset), { force: true });
}

/** fsyncs a snapshot written without `sync`, and its directory, off the event loop; one deleted since is fine. */
export async function flushProducerSnapshotInBackground(file: string): Promise<void> {
  for (const target of [file, path.dirname(file)]) {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(target, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

/** The entries of the snapshot at `offset`. Throws CORRUPT_RECORD when the file is torn, damaged or not that snapshot. */
export function readProducerSnapshot(dir: string, offset: number): ProducerStateEntry[] {
  const file = producerSnapshotPath(dir, offset);
  const buf = fs.readFileSync(file);
  const corrupt = (why: string) => new BrookError('CORRUPT_RECORD', `producer snapshot ${file} is unusable: ${why}`);
  if (buf.length < HEADER_SIZE) throw corrupt(`${buf.length} bytes is shorter than its header`);
  const version = buf.readInt16BE(0);
  if (version !== VERSION) throw corrupt(`unsupported version ${version}`);
  const crc = crc32(buf.subarray(CRC_COVERS_FROM));
  if (crc !== buf.readUInt32BE(CRC_OFFSET)) throw corrupt(`CRC ${buf.readUInt32BE(CRC_OFFSET)} does not match its content (${crc})`);
  const storedOffset = readInt64(buf, CRC_COVERS_FROM);
  if (storedOffset !== offset) throw corrupt(`it holds offset ${storedOffset}`);
  const count = buf.readInt32BE(CRC_COVERS_FROM + 8);
  const entries: ProducerStateEntry[] = [];
  let pos = HEADER_SIZE;
  for (let i = 0; i < count; i++) {
    if (pos + PRODUCER_HEADER_SIZE > buf.length) throw corrupt(`producer ${i} runs past the end`);
    const producerId = readInt64(buf, pos);
    const producerEpoch = buf.readInt16BE(pos + 8);
    const batchCount = buf.readInt8(pos + 10);
    pos += PRODUCER_HEADER_SIZE;
    if (batchCount < 1 || batchCount > NUM_BATCHES_TO_RETAIN || pos + batchCount * BATCH_SIZE > buf.length) {
      throw corrupt(`producer ${producerId} has ${batchCount} batches`);
    }
    const batches: BatchMetadata[] = [];
    for (let b = 0; b < batchCount; b++, pos += BATCH_SIZE) {
      batches.push({
        firstSeq: buf.readInt32BE(pos),
        lastSeq: buf.readInt32BE(pos + 4),
        firstOffset: readInt64(buf, pos + 8),
        lastOffset: readInt64(buf, pos + 16),
        timestamp: readInt64(buf, pos + 24),
      });
    }
    entries.push(new ProducerStateEntry(producerId, producerEpoch, batches));
  }
  if (pos !== buf.length) throw corrupt(`${buf.length - pos} bytes after the last producer`);
  return entries;
}

function encodeSnapshot(offset: number, entries: ProducerStateEntry[]): Buffer {
  let size = HEADER_SIZE;
  for (const entry of entries) size += PRODUCER_HEADER_SIZE + entry.batches.length * BATCH_SIZE;
  const buf = Buffer.alloc(size);
  buf.writeInt16BE(VERSION, 0);
  writeInt64(buf, CRC_COVERS_FROM, offset);
  buf.writeInt32BE(entries.length, CRC_COVERS_FROM + 8);
  let pos = HEADER_SIZE;
  for (const entry of entries) {
    writeInt64(buf, pos, entry.producerId);
    buf.writeInt16BE(entry.producerEpoch, pos + 8);
    buf.writeInt8(entry.batches.length, pos + 10);
    pos += PRODUCER_HEADER_SIZE;
    for (const batch of entry.batches) {
      buf.writeInt32BE(batch.firstSeq, pos);
      buf.writeInt32BE(batch.lastSeq, pos + 4);
      writeInt64(buf, pos + 8, batch.firstOffset);
      writeInt64(buf, pos + 16, batch.lastOffset);
      writeInt64(buf, pos + 24, batch.timestamp);
      pos += BATCH_SIZE;
    }
  }
  buf.writeUInt32BE(crc32(buf.subarray(CRC_COVERS_FROM)), CRC_OFFSET);
  return buf;
}

function readInt64(buf: Buffer, pos: number): number {
  return Number(buf.readBigInt64BE(pos));
}

function writeInt64(buf: Buffer, pos: number, value: number): void {
  buf.writeBigInt64BE(BigInt(value), pos);
}
