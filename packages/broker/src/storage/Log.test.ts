import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BrookError, decodeRecords, encodeBatch, iterateBatches, readBatchHeader, setBaseOffset, setPartitionLeaderEpoch } from '@brook/types';
import { Log, type LeaderAppendResult, type LogOpenOptions } from './Log';
import { DEFAULT_LOG_CONFIG, type LogConfig } from './LogConfig';
import { segmentFileName } from './LogSegment';

const T0 = 1_700_000_000_000;
const SMALL_SEGMENTS: LogConfig = { ...DEFAULT_LOG_CONFIG, segmentBytes: 1024, indexIntervalBytes: 128 };

let dir: string;
let open: Log[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-log-'));
});

afterEach(async () => {
  for (const log of open) {
    await log.backgroundFlushesDone();
    log.close();
  }
  open = [];
  fs.rmSync(dir, { recursive: true, force: true });
});

function openLog(config: LogConfig = SMALL_SEGMENTS, opts: Partial<LogOpenOptions> = {}): Log {
  const log = Log.open(dir, 'orders', 0, config, { recoveryPoint: 0, hadCleanShutdown: false, ...opts });
  open.push(log);
  return log;
}

/** Closes and reopens, as after a clean shutdown (flushed, everything trusted) or a crash. */
function reopen(log: Log, config: LogConfig, clean: boolean, recoveryPoint = log.recoveryPoint): Log {
  if (clean) log.flush();
  log.close();
  open = open.filter((l) => l !== log);
  return openLog(config, { recoveryPoint, hadCleanShutdown: clean, logStartOffset: log.logStartOffset });
}

function batch(values: string[], timestamp = T0): Buffer {
  return encodeBatch(values.map((v) => ({ key: null, value: Buffer.from(v) })), { timestamp });
}

/** Appends `count` batches of `perBatch` records named `<prefix><offset-in-sequence>`; answers the values in order. */
function appendMany(log: Log, count: number, perBatch: number, prefix = 'v', epoch = 0, timestamp = T0): string[] {
  const values: string[] = [];
  for (let b = 0; b < count; b++) {
    const chunk = Array.from({ length: perBatch }, (_, r) => `${prefix}${b * perBatch + r}-${'x'.repeat(20)}`);
    log.appendAsLeader(batch(chunk, timestamp), epoch);
    values.push(...chunk);
  }
  return values;
}

function valuesOf(records: Buffer): string[] {
  const out: string[] = [];
  for (const b of iterateBatches(records)) for (const r of decodeRecords(records, b.position, b)) out.push(r.value!.toString());
  return out;
}

function readAll(log: Log, from = log.logStartOffset): string[] {
  return valuesOf(log.read(from, { maxBytes: 1 << 30 }).records);
}

function segmentFiles(suffix: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith(suffix)).sort();
}

function errorOf(fn: () => unknown): BrookError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BrookError) return e;
    throw e;
  }
  throw new Error('expected a BrookError');
}

describe('Log appends and reads', () => {
  it('assigns offsets from the log end and reads back across segment rolls', () => {
    const log = openLog();
    const first = log.appendAsLeader(Buffer.concat([batch(['a', 'b']), batch(['c'])]), 0);
    expect(first).toMatchObject({ firstOffset: 0, lastOffset: 2, batchCount: 2, recordCount: 3 });
    const values = ['a', 'b', 'c', ...appendMany(log, 60, 3)];
    expect(log.logEndOffset).toBe(183);
    expect(segmentFiles('.log').length).toBeGreaterThan(5);
    expect(log.numberOfSegments).toBe(segmentFiles('.log').length);
    expect(segmentFiles('.log')[1]).toMatch(/^0{18}\d\d\.log$/);
    for (const f of segmentFiles('.log')) expect(fs.statSync(path.join(dir, f)).size).toBeLessThanOrEqual(1024);
    expect(log.size).toBe(segmentFiles('.log').reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0));
    expect(readAll(log)).toEqual(values);
    // Every offset reads from the batch that holds it, offsets and epochs as stamped.
    for (let offset = 0; offset < log.logEndOffset; offset += 7) {
      const read = log.read(offset, { maxBytes: 1 });
      const header = readBatchHeader(read.records, 0);
      expect(header.baseOffset).toBeLessThanOrEqual(offset);
      expect(header.lastOffset).toBeGreaterThanOrEqual(offset);
      expect(read.firstOffset).toBe(header.baseOffset);
      expect(read.nextOffset).toBe(header.lastOffset + 1);
      expect(header.partitionLeaderEpoch).toBe(0);
    }
  });

  it('stamps offsets and the leader epoch into the caller’s buffer, keeping the CRC valid', () => {
    const log = openLog();
    log.appendAsLeader(batch(['a']), 3);
    const input = batch(['b', 'c']);
    log.appendAsLeader(input, 3);
    expect(readBatchHeader(input, 0)).toMatchObject({ baseOffset: 1, partitionLeaderEpoch: 3 });
    const read = log.read(1, { maxBytes: 1000 });
    expect(read.records.equals(input)).toBe(true);
  });

  it('honours maxBytes (but returns at least one batch) and maxOffset', () => {
    const log = openLog({ ...DEFAULT_LOG_CONFIG });
    for (let i = 0; i < 10; i++) log.appendAsLeader(batch([`r${i}a`, `r${i}b`]), 0);
    const size = readBatchHeader(log.read(0, { maxBytes: 1 }).records, 0).sizeInBytes;
    expect(valuesOf(log.read(0, { maxBytes: 1 }).records)).toEqual(['r0a', 'r0b']);
    expect(log.read(0, { maxBytes: 0 }).nextOffset).toBe(2);
    expect(valuesOf(log.read(2, { maxBytes: size * 2.5 }).records)).toEqual(['r1a', 'r1b', 'r2a', 'r2b']);
    // From the middle of a batch: the whole batch comes back.
    const mid = log.read(5, { maxBytes: size });
    expect(mid).toMatchObject({ firstOffset: 4, nextOffset: 6 });
    // The high watermark: no batch starting at or after it, even the first.
    expect(log.read(0, { maxBytes: 1 << 20, maxOffset: 6 }).nextOffset).toBe(6);
    expect(log.read(0, { maxBytes: 1 << 20, maxOffset: 5 }).nextOffset).toBe(6); // the batch 4-5 starts below 5
    const atHw = log.read(6, { maxBytes: 1 << 20, maxOffset: 6 });
    expect(atHw.records.length).toBe(0);
    expect(atHw).toMatchObject({ firstOffset: 6, nextOffset: 6 });
    const atEnd = log.read(20, { maxBytes: 1 << 20 });
    expect(atEnd.records.length).toBe(0);
    expect(atEnd.nextOffset).toBe(20);
  });

  it('reads across segment boundaries within maxBytes', () => {
    const log = openLog();
    const values = appendMany(log, 30, 2);
    const segmentsBefore = log.numberOfSegments;
    expect(segmentsBefore).toBeGreaterThan(3);
    let offset = 0;
    const seen: string[] = [];
    while (offset < log.logEndOffset) {
      const read = log.read(offset, { maxBytes: 1500 }); // more than a segment
      expect(read.records.length).toBeLessThanOrEqual(1500);
      seen.push(...valuesOf(read.records));
      offset = read.nextOffset;
    }
    expect(seen).toEqual(values);
  });

  it('answers OFFSET_OUT_OF_RANGE with the earliest and latest offsets', () => {
    const log = openLog();
    appendMany(log, 3, 2);
    const past = errorOf(() => log.read(7, { maxBytes: 100 }));
    expect(past.code).toBe('OFFSET_OUT_OF_RANGE');
    expect(past.details).toEqual({ earliest: 0, latest: 6 });
    expect(errorOf(() => log.read(-1, { maxBytes: 100 })).code).toBe('OFFSET_OUT_OF_RANGE');
    log.truncateFullyAndStartAt(100);
    expect(errorOf(() => log.read(99, { maxBytes: 100 })).details).toEqual({ earliest: 100, latest: 100 });
  });

  it('writes nothing when one batch of an append is bad', () => {
    const log = openLog();
    appendMany(log, 2, 2);
    const sizeBefore = log.size;
    const good = batch(['good']);
    const corrupt = batch(['corrupt']);
    corrupt[corrupt.length - 1]! ^= 0xff;
    expect(errorOf(() => log.appendAsLeader(Buffer.concat([good, good, corrupt]), 0)).code).toBe('CORRUPT_RECORD');
    expect(errorOf(() => log.appendAsLeader(Buffer.concat([good, good.subarray(0, 30)]), 0)).code).toBe('CORRUPT_RECORD');
    expect(errorOf(() => log.appendAsLeader(Buffer.alloc(0), 0)).code).toBe('INVALID_RECORD');
    const compressed = batch(['z']);
    compressed.writeInt16BE(1, 21);
    expect(errorOf(() => log.appendAsLeader(Buffer.concat([good, compressed]), 0)).code).toBe('CORRUPT_RECORD'); // CRC covers attributes
    expect(log.logEndOffset).toBe(4);
    expect(log.size).toBe(sizeBefore);
    expect(readBatchHeader(good, 0).baseOffset).toBe(0); // not stamped either
  });

  it('refuses batches over max.message.bytes and appends from a fenced leader epoch', () => {
    const log = openLog({ ...SMALL_SEGMENTS, maxMessageBytes: 200 });
    const big = errorOf(() => log.appendAsLeader(batch(['x'.repeat(300)]), 0));
    expect(big.code).toBe('PAYLOAD_TOO_LARGE');
    log.appendAsLeader(batch(['a']), 5);
    expect(errorOf(() => log.appendAsLeader(batch(['b']), 4)).code).toBe('FENCED_LEADER_EPOCH');
    expect(log.logEndOffset).toBe(1);
  });

  it('puts a batch larger than segment.bytes alone in a segment', () => {
    const log = openLog({ ...SMALL_SEGMENTS, maxMessageBytes: 10_000 });
    appendMany(log, 2, 1);
    log.appendAsLeader(batch(['y'.repeat(3000)]), 0);
    log.appendAsLeader(batch(['after']), 0);
    expect(readAll(log).slice(-2)).toEqual(['y'.repeat(3000), 'after']);
    const sizes = segmentFiles('.log').map((f) => fs.statSync(path.join(dir, f)).size);
    expect(sizes.some((s) => s > 3000)).toBe(true);
  });

  it('rolls when the records span more than segment.ms', () => {
    const log = openLog({ ...DEFAULT_LOG_CONFIG, segmentMs: 1000 });
    log.appendAsLeader(batch(['a'], T0), 0);
    log.appendAsLeader(batch(['b'], T0 + 1000), 0);
    expect(log.numberOfSegments).toBe(1);
    log.appendAsLeader(batch(['c'], T0 + 1001), 0);
    expect(log.numberOfSegments).toBe(2);
    expect(segmentFiles('.log')).toEqual([segmentFileName(0, '.log'), segmentFileName(2, '.log')]);
  });
});

describe('Log indexes', () => {
  it('keeps sparse indexes that stay correct after a reopen', () => {
    const config: LogConfig = { ...DEFAULT_LOG_CONFIG, segmentBytes: 20_000, indexIntervalBytes: 300 };
    const log = openLog(config);
    const values = appendMany(log, 150, 2, 'v', 0);
    const indexSizes = segmentFiles('.index').map((f) => fs.statSync(path.join(dir, f)).size);
    const entries = indexSizes.reduce((a, b) => a + b, 0) / 8;
    expect(indexSizes.every((s) => s % 8 === 0)).toBe(true);
    expect(entries).toBeGreaterThan(10);
    expect(entries).toBeLessThan(150 / 2); // sparse: far fewer entries than batches
    expect(segmentFiles('.timeindex').every((f) => fs.statSync(path.join(dir, f)).size % 12 === 0)).toBe(true);

    for (const clean of [true, false]) {
      const reopened = reopen(open[open.length - 1]!, config, clean);
      expect(reopened.logEndOffset).toBe(300);
      for (let offset = 0; offset < 300; offset++) {
        const read = reopened.read(offset, { maxBytes: 1 });
        const [first] = [...iterateBatches(read.records)];
        expect(first!.baseOffset).toBeLessThanOrEqual(offset);
        expect(first!.lastOffset).toBeGreaterThanOrEqual(offset);
      }
      expect(readAll(reopened)).toEqual(values);
    }
  });

  it('rebuilds a corrupt or missing index of an old segment on first use', () => {
    const log = openLog();
    const values = appendMany(log, 40, 2);
    const indexes = segmentFiles('.index');
    expect(indexes.length).toBeGreaterThan(3);
    const firstIndex = path.join(dir, indexes[0]!);
    const good = fs.readFileSync(firstIndex);
    expect(good.length).toBeGreaterThanOrEqual(16);
    log.flush();
    log.close();
    open = [];

    // Entries out of order, then a torn size, then no file at all.
    const swapped = Buffer.concat([good.subarray(8, 16), good.subarray(0, 8), good.subarray(16)]);
    for (const damage of [swapped, good.subarray(0, good.length - 3), undefined]) {
      if (damage) fs.writeFileSync(firstIndex, damage);
      else fs.rmSync(firstIndex);
      const reopened = openLog(SMALL_SEGMENTS, { hadCleanShutdown: true });
      expect(reopened.read(3, { maxBytes: 1 }).firstOffset).toBe(2);
      expect(fs.readFileSync(firstIndex).equals(good)).toBe(true);
      expect(readAll(reopened)).toEqual(values);
      reopened.close();
      open = [];
    }
  });

  it('finds offsets by timestamp', () => {
    const log = openLog();
    for (let i = 0; i < 40; i++) log.appendAsLeader(batch([`a${i}`, `b${i}`], T0 + i * 1000), 0);
    expect(log.numberOfSegments).toBeGreaterThan(3);
    expect(log.offsetForTimestamp(T0)).toBe(0);
    expect(log.offsetForTimestamp(T0 - 5)).toBe(0);
    expect(log.offsetForTimestamp(T0 + 1)).toBe(2);
    expect(log.offsetForTimestamp(T0 + 17_000)).toBe(34);
    expect(log.offsetForTimestamp(T0 + 39_000)).toBe(78);
    expect(log.offsetForTimestamp(T0 + 39_001)).toBeUndefined();
    // Records out of timestamp order inside a batch.
    log.appendAsLeader(encodeBatch([{ key: null, value: null, timestamp: T0 + 50_000 }, { key: null, value: null, timestamp: T0 + 45_000 }]), 0);
    expect(log.offsetForTimestamp(T0 + 44_000)).toBe(80);
    const reopened = reopen(log, SMALL_SEGMENTS, true);
    expect(reopened.offsetForTimestamp(T0 + 17_000)).toBe(34);
  });
});

describe('Log recovery', () => {
  function lastSegment(): string {
    return path.join(dir, segmentFiles('.log').at(-1)!);
  }

  it('truncates a torn tail and appends from the end of the last good batch', () => {
    const log = openLog();
    const values = appendMany(log, 30, 2);
    const tail = batch(['torn-1', 'torn-2']);
    log.appendAsLeader(tail, 0);
    log.close();
    open = [];
    const file = lastSegment();
    fs.truncateSync(file, fs.statSync(file).size - 10); // the last batch loses its end

    const recovered = openLog(SMALL_SEGMENTS, { recoveryPoint: 20, hadCleanShutdown: false });
    expect(recovered.logEndOffset).toBe(60);
    expect(readAll(recovered)).toEqual(values);
    recovered.appendAsLeader(batch(['after']), 0);
    expect(recovered.logEndOffset).toBe(61);
    expect(readAll(recovered, 58)).toEqual([values[58], values[59], 'after']);
  });

  it('truncates at a batch whose CRC fails, dropping every later segment', () => {
    const log = openLog();
    const values = appendMany(log, 30, 2);
    const segmentsBefore = segmentFiles('.log');
    log.close();
    open = [];
    // Flip a byte inside the records of batch 20 (offsets 40-41): it and everything after must go.
    const segmentOf40 = segmentsBefore.filter((f) => Number(f.slice(0, 20)) <= 40).at(-1)!;
    const file = path.join(dir, segmentOf40);
    const bytes = fs.readFileSync(file);
    const target = [...iterateBatches(bytes)].find((b) => b.baseOffset === 40)!;
    bytes[target.position + target.sizeInBytes - 3]! ^= 0x40;
    fs.writeFileSync(file, bytes);

    const recovered = openLog(SMALL_SEGMENTS, { recoveryPoint: 30, hadCleanShutdown: false });
    expect(recovered.logEndOffset).toBe(40);
    expect(readAll(recovered)).toEqual(values.slice(0, 40));
    expect(segmentFiles('.log').at(-1)).toBe(segmentOf40);
    expect(fs.statSync(file).size).toBe(target.position);
    recovered.appendAsLeader(batch(['new']), 1);
    expect(readAll(recovered, 38)).toEqual([values[38], values[39], 'new']);
    // A clean reopen keeps the recovered state.
    const again = reopen(recovered, SMALL_SEGMENTS, true);
    expect(again.logEndOffset).toBe(41);
  });

  it('keeps everything on a clean reopen', () => {
    const log = openLog();
    const values = appendMany(log, 25, 3);
    log.assignEpochStartOffset(4, log.logEndOffset);
    log.appendAsLeader(batch(['e4']), 4);
    const reopened = reopen(log, SMALL_SEGMENTS, true);
    expect(reopened.logEndOffset).toBe(76);
    expect(reopened.recoveryPoint).toBe(76);
    expect(readAll(reopened)).toEqual([...values, 'e4']);
    expect(reopened.latestEpoch).toBe(4);
    reopened.appendAsLeader(batch(['more']), 4);
    expect(readAll(reopened, 75)).toEqual(['e4', 'more']);
  });

  it('removes files a crash left behind', () => {
    const log = openLog();
    appendMany(log, 10, 2);
    log.close();
    open = [];
    for (const leftover of ['00000000000000000005.log.deleted', '00000000000000000000.log.cleaned', '00000000000000000000.log.swap', 'leader-epoch-checkpoint.tmp', '00000000000000099999.index']) {
      fs.writeFileSync(path.join(dir, leftover), 'junk');
    }
    const reopened = openLog(SMALL_SEGMENTS, { hadCleanShutdown: true });
    expect(fs.readdirSync(dir).filter((f) => /deleted|cleaned|swap|tmp|99999/.test(f))).toEqual([]);
    expect(reopened.logEndOffset).toBe(20);
  });

  it('reads only the unflushed tail: old segments are not scanned', () => {
    const config: LogConfig = { ...DEFAULT_LOG_CONFIG, segmentBytes: 64 * 1024, indexIntervalBytes: 4096 };
    const log = openLog(config);
    const record = 'r'.repeat(200);
    for (let i = 0; i < 1000; i++) log.appendAsLeader(batch(Array(10).fill(record)), 0); // ~2 MB, ~33 segments
    log.flush();
    const flushedEnd = log.logEndOffset;
    for (let i = 0; i < 3; i++) log.appendAsLeader(batch(['tail']), 0); // unflushed
    const totalBytes = log.size;
    log.close();
    open = [];
    expect(segmentFiles('.log').length).toBeGreaterThan(20);

    // Corrupt a batch in an old, flushed segment: recovery must not even see it.
    const oldFile = path.join(dir, segmentFiles('.log')[2]!);
    const old = fs.readFileSync(oldFile);
    old[old.length - 5]! ^= 0xff;
    fs.writeFileSync(oldFile, old);

    const realReadSync = fs.readSync;
    let bytesRead = 0;
    const readSync = jest.spyOn(fs, 'readSync').mockImplementation(((...args: [number, NodeJS.ArrayBufferView, number, number, number]) => {
      const n = realReadSync(...args);
      bytesRead += n;
      return n;
    }) as typeof fs.readSync);
    let recovered: Log;
    try {
      recovered = openLog(config, { recoveryPoint: flushedEnd, hadCleanShutdown: false });
    } finally {
      readSync.mockRestore();
    }
    expect(recovered.logEndOffset).toBe(flushedEnd + 3);
    // The tail: the bytes after the last index entry below the recovery point, and the head of that segment.
    expect(bytesRead).toBeLessThan(16 * 1024);
    expect(bytesRead).toBeLessThan(totalBytes / 100);

    // The same log with the corruption in the unflushed tail is truncated there.
    recovered.close();
    open = [];
    const lastFile = path.join(dir, segmentFiles('.log').at(-1)!);
    const last = fs.readFileSync(lastFile);
    last[last.length - 5]! ^= 0xff;
    fs.writeFileSync(lastFile, last);
    expect(openLog(config, { recoveryPoint: flushedEnd, hadCleanShutdown: false }).logEndOffset).toBe(flushedEnd + 2);
  });

  it('scans every segment when nothing was ever flushed', () => {
    const log = openLog();
    const values = appendMany(log, 20, 2);
    log.close();
    open = [];
    const firstFile = path.join(dir, segmentFiles('.log')[0]!);
    const bytes = fs.readFileSync(firstFile);
    const lastBatch = [...iterateBatches(bytes)].at(-1)!;
    bytes[bytes.length - 2]! ^= 0x01;
    fs.writeFileSync(firstFile, bytes);
    const recovered = openLog(SMALL_SEGMENTS, { recoveryPoint: 0, hadCleanShutdown: false });
    expect(recovered.numberOfSegments).toBe(1);
    expect(recovered.logEndOffset).toBe(lastBatch.baseOffset);
    expect(readAll(recovered)).toEqual(values.slice(0, lastBatch.baseOffset));
  });
});

describe('Log flushing', () => {
  it('fsyncs rolled segments in the background and moves the recovery point', async () => {
    const log = openLog();
    appendMany(log, 10, 2);
    expect(log.numberOfSegments).toBeGreaterThan(1);
    await log.backgroundFlushesDone();
    const activeBase = Number(segmentFiles('.log').at(-1)!.slice(0, 20));
    expect(log.recoveryPoint).toBe(activeBase);
    log.flush();
    expect(log.recoveryPoint).toBe(log.logEndOffset);
  });

  it('flushes every flush.messages records', () => {
    const log = openLog({ ...DEFAULT_LOG_CONFIG, flushMessages: 5 });
    appendMany(log, 2, 2);
    expect(log.recoveryPoint).toBe(0);
    appendMany(log, 1, 2);
    expect(log.recoveryPoint).toBe(6);
  });
});

describe('Log truncation and retention', () => {
  it('truncates to an offset inside an old segment and appends from there', () => {
    const log = openLog();
    const values = appendMany(log, 40, 2);
    log.assignEpochStartOffset(2, 50);
    expect(log.latestEpoch).toBe(2);
    log.truncateTo(44);
    expect(log.logEndOffset).toBe(44);
    expect(readAll(log)).toEqual(values.slice(0, 44));
    expect(log.latestEpoch).toBe(0);
    expect(Number(segmentFiles('.log').at(-1)!.slice(0, 20))).toBeLessThanOrEqual(44);
    log.appendAsLeader(batch(['x', 'y']), 3);
    expect(readAll(log, 42)).toEqual([values[42], values[43], 'x', 'y']);
    const reopened = reopen(log, SMALL_SEGMENTS, false);
    expect(reopened.logEndOffset).toBe(46);
    expect(readAll(reopened)).toEqual([...values.slice(0, 44), 'x', 'y']);
    // Beyond the end: nothing changes. Into the middle of a batch: the whole batch goes.
    reopened.truncateTo(100);
    expect(reopened.logEndOffset).toBe(46);
    reopened.truncateTo(45);
    expect(reopened.logEndOffset).toBe(44);
  });

  it('truncates fully and restarts at any offset', () => {
    const log = openLog();
    appendMany(log, 10, 2);
    log.assignEpochStartOffset(1, 20);
    log.truncateFullyAndStartAt(1000);
    expect(log).toMatchObject({ logStartOffset: 1000, logEndOffset: 1000, size: 0, latestEpoch: undefined });
    expect(segmentFiles('.log')).toEqual([segmentFileName(1000, '.log')]);
    log.appendAsLeader(batch(['z']), 2);
    expect(readAll(log)).toEqual(['z']);
    expect(reopen(log, SMALL_SEGMENTS, false).logEndOffset).toBe(1001);
  });

  it('deletes whole segments older than retention.ms and moves the log start', () => {
    const config: LogConfig = { ...SMALL_SEGMENTS, retentionMs: 60_000 };
    const log = openLog(config);
    appendMany(log, 20, 2, 'old', 0, T0);
    const boundary = log.logEndOffset;
    log.assignEpochStartOffset(1, boundary);
    const fresh = appendMany(log, 20, 2, 'new', 1, T0 + 120_000);
    const segments = log.numberOfSegments;

    expect(log.deleteOldSegments(T0 + 60_000)).toBe(0);
    const deleted = log.deleteOldSegments(T0 + 120_001);
    expect(deleted).toBeGreaterThan(0);
    expect(log.numberOfSegments).toBe(segments - deleted);
    expect(log.logStartOffset).toBe(Number(segmentFiles('.log')[0]!.slice(0, 20)));
    expect(log.logStartOffset).toBeLessThanOrEqual(boundary);
    expect(readAll(log).slice(-fresh.length)).toEqual(fresh);
    expect(errorOf(() => log.read(0, { maxBytes: 100 })).code).toBe('OFFSET_OUT_OF_RANGE');
    expect(log.endOffsetForEpoch(0)).toEqual({ epoch: 0, endOffset: boundary });

    // Everything expired, the active segment too: an empty segment at the log end takes over.
    expect(log.deleteOldSegments(T0 + 10 * 60_000)).toBe(segments - deleted);
    expect(log).toMatchObject({ logStartOffset: 80, logEndOffset: 80, size: 0, numberOfSegments: 1 });
    expect(log.deleteOldSegments(T0 + 10 * 60_000)).toBe(0);
    log.appendAsLeader(batch(['after']), 1);
    expect(readAll(log)).toEqual(['after']);
    const reopened = reopen(log, config, true);
    expect(reopened.logStartOffset).toBe(80);
  });

  it('never deletes past the high watermark: retention waits for records to be committed', () => {
    const log = openLog({ ...SMALL_SEGMENTS, retentionMs: 60_000 });
    appendMany(log, 20, 2, 'old', 0, T0);
    expect(log.numberOfSegments).toBeGreaterThan(2);
    log.updateHighWatermark(0);
    expect(log.deleteOldSegments(T0 + 10 * 60_000)).toBe(0);
    expect(log.logStartOffset).toBe(0);
    // With the high watermark inside the third segment, only the two segments below it may go.
    const third = Number(segmentFiles('.log')[2]!.slice(0, 20));
    log.updateHighWatermark(third + 1);
    expect(log.deleteOldSegments(T0 + 10 * 60_000)).toBe(2);
    expect(log.logStartOffset).toBe(third);
  });

  it('deletes the oldest segments while the log is larger than retention.bytes', () => {
    const log = openLog({ ...SMALL_SEGMENTS, retentionMs: -1, retentionBytes: 2000 });
    appendMany(log, 40, 2);
    expect(log.size).toBeGreaterThan(4000);
    const deleted = log.deleteOldSegments();
    expect(deleted).toBeGreaterThan(0);
    // As in Kafka, a segment goes only if the log stays at least retention.bytes large without it.
    expect(log.size).toBeGreaterThanOrEqual(2000);
    const oldest = fs.statSync(path.join(dir, segmentFiles('.log')[0]!)).size;
    expect(log.size - oldest).toBeLessThan(2000);
    expect(log.logEndOffset).toBe(80);
    expect(log.logStartOffset).toBeGreaterThan(0);
    expect(readAll(log).length).toBe(80 - log.logStartOffset);
  });

  it('leaves compacted topics to compaction, unless their policy is compact,delete', () => {
    const log = openLog({ ...SMALL_SEGMENTS, retentionBytes: 0, cleanupPolicy: 'compact' });
    appendMany(log, 20, 2);
    expect(log.deleteOldSegments()).toBe(0);
    log.updateConfig({ ...log.config, cleanupPolicy: 'compact,delete' });
    expect(log.deleteOldSegments()).toBeGreaterThan(0);
  });
});

describe('Log leader epochs and followers', () => {
  it('answers end offsets per epoch (KIP-101) and keeps the cache across reopens', () => {
    const log = openLog();
    log.assignEpochStartOffset(1, 0);
    appendMany(log, 5, 2, 'e1', 1);
    log.assignEpochStartOffset(3, 10);
    appendMany(log, 5, 2, 'e3', 3);
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 3, endOffset: 20 });
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 1, endOffset: 10 });
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 10 });
    expect(log.endOffsetForEpoch(0)).toEqual({ epoch: 0, endOffset: 0 });
    expect(log.endOffsetForEpoch(4)).toBeUndefined();
    expect(fs.readFileSync(path.join(dir, 'leader-epoch-checkpoint'), 'utf8')).toBe('0\n2\n1 0\n3 10\n');

    const reopened = reopen(log, SMALL_SEGMENTS, true);
    expect(reopened.latestEpoch).toBe(3);
    expect(reopened.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 10 });
    reopened.truncateTo(8);
    expect(reopened.latestEpoch).toBe(1);
    expect(reopened.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 8 });
    expect(fs.readFileSync(path.join(dir, 'leader-epoch-checkpoint'), 'utf8')).toBe('0\n1\n1 0\n');
  });

  it('appends a leader’s batches as a follower, following their epochs', () => {
    const leaderDir = dir;
    const leader = openLog();
    appendMany(leader, 3, 2, 'a', 1);
    leader.assignEpochStartOffset(2, 6);
    appendMany(leader, 3, 2, 'b', 2);
    const fetched = leader.read(0, { maxBytes: 1 << 20 });

    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-follower-'));
    try {
      const follower = openLog();
      expect(follower.appendAsFollower(fetched.records)).toEqual({ firstOffset: 0, lastOffset: 11 });
      expect(follower.logEndOffset).toBe(12);
      expect(follower.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 6 });
      expect(follower.latestEpoch).toBe(2);
      expect(follower.read(0, { maxBytes: 1 << 20 }).records.equals(fetched.records)).toBe(true);

      // Offsets that go back are refused, and nothing is written.
      const again = errorOf(() => follower.appendAsFollower(fetched.records));
      expect(again.code).toBe('INVALID_OFFSET');
      expect(again.details).toEqual({ expected: 12, got: 0 });
      const next = batch(['n1', 'n2']);
      setBaseOffset(next, 0, 12);
      const overlapping = batch(['n3']);
      setBaseOffset(overlapping, 0, 13);
      expect(errorOf(() => follower.appendAsFollower(Buffer.concat([next, overlapping]))).code).toBe('INVALID_OFFSET');
      expect(follower.logEndOffset).toBe(12);
      // Gaps are taken, as a leader's cleaner leaves them where it removed whole batches.
      const gap = batch(['gap']);
      setBaseOffset(gap, 0, 13);
      setPartitionLeaderEpoch(gap, 0, 2);
      expect(follower.appendAsFollower(gap)).toEqual({ firstOffset: 13, lastOffset: 13 });
      const skip = batch(['n4']);
      setBaseOffset(skip, 0, 20);
      expect(follower.appendAsFollower(skip)).toEqual({ firstOffset: 20, lastOffset: 20 });
      expect(follower.logEndOffset).toBe(21);
      expect(valuesOf(follower.read(12, { maxBytes: 1 << 20 }).records)).toEqual(['gap', 'n4']);
      follower.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      dir = leaderDir;
      open = open.filter((l) => l === leader);
    }
  });
});

describe('Log idempotent producers', () => {
  /** A batch of `count` records from an idempotent producer, from `baseSequence` on. */
  function producerBatch(producerId: number, producerEpoch: number, baseSequence: number, count = 2, valueBytes = 8): Buffer {
    const records = Array.from({ length: count }, (_, i) => ({ key: null, value: Buffer.from(`${producerId}/${baseSequence + i}`.padEnd(valueBytes, '.')) }));
    return encodeBatch(records, { producerId, producerEpoch, baseSequence, timestamp: T0 });
  }

  /** Leaves in `dir` what a crash of `log` would: its files as written, without what close() adds. */
  function crash(log: Log): void {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-crash-'));
    fs.cpSync(dir, copy, { recursive: true });
    log.close();
    open = open.filter((l) => l !== log);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(copy, dir);
  }

  function snapshotOffsets(): number[] {
    return segmentFiles('.snapshot').map((f) => Number(f.slice(0, 20)));
  }

  /** Producer 7's batches of 2 records from sequence 0, each followed by other records so the log rolls. */
  function appendProducerBatches(log: Log, count: number): LeaderAppendResult[] {
    const results: LeaderAppendResult[] = [];
    for (let i = 0; i < count; i++) {
      results.push(log.appendAsLeader(producerBatch(7, 0, i * 2), 0));
      appendMany(log, 2, 2);
    }
    return results;
  }

  it('answers a retried batch with its original offsets and writes nothing', () => {
    const log = openLog();
    log.appendAsLeader(batch(['plain']), 0);
    const first = log.appendAsLeader(producerBatch(7, 0, 0, 3), 0);
    expect(first).toMatchObject({ firstOffset: 1, lastOffset: 3, duplicate: false });
    log.appendAsLeader(producerBatch(8, 0, 0, 1), 0);
    log.appendAsLeader(producerBatch(7, 0, 3), 0);
    const { logEndOffset, size } = log;
    const values = readAll(log);

    const retry = producerBatch(7, 0, 0, 3);
    expect(log.appendAsLeader(retry, 0)).toEqual({ ...first, duplicate: true });
    expect(log.appendAsLeader(producerBatch(7, 0, 3), 0)).toMatchObject({ firstOffset: 5, lastOffset: 6, duplicate: true });
    expect(log.appendAsLeader(producerBatch(8, 0, 0, 1), 0)).toMatchObject({ firstOffset: 4, lastOffset: 4, duplicate: true });
    expect(log).toMatchObject({ logEndOffset, size });
    expect(readAll(log)).toEqual(values);
    expect(readBatchHeader(retry, 0).baseOffset).toBe(0); // not stamped either
    expect(log.appendAsLeader(producerBatch(7, 0, 5, 1), 0)).toMatchObject({ firstOffset: 7, duplicate: false });
  });

  it('refuses an out-of-order sequence and writes nothing', () => {
    const log = openLog();
    log.appendAsLeader(producerBatch(7, 0, 0), 0);
    const { logEndOffset, size } = log;
    for (const sequence of [3, 1, 0]) {
      const error = errorOf(() => log.appendAsLeader(producerBatch(7, 0, sequence, 1), 0));
      expect(error.code).toBe('OUT_OF_ORDER_SEQUENCE');
      expect(error.details).toMatchObject({ producerId: 7, expectedSequence: 2 });
    }
    // One bad batch refuses the whole append, and a retry cannot ride along with a new batch.
    expect(errorOf(() => log.appendAsLeader(Buffer.concat([producerBatch(7, 0, 2, 1), producerBatch(7, 0, 4, 1)]), 0)).code).toBe('OUT_OF_ORDER_SEQUENCE');
    expect(errorOf(() => log.appendAsLeader(Buffer.concat([producerBatch(7, 0, 0), producerBatch(7, 0, 2)]), 0)).code).toBe('OUT_OF_ORDER_SEQUENCE');
    expect(log).toMatchObject({ logEndOffset, size });
    expect(log.appendAsLeader(Buffer.concat([producerBatch(7, 0, 2, 1), producerBatch(7, 0, 3, 1)]), 0)).toMatchObject({ firstOffset: 2, lastOffset: 3 });
  });

  it('starts over at sequence 0 in a new producer epoch and fences the old one', () => {
    const log = openLog();
    log.appendAsLeader(producerBatch(7, 0, 0), 0);
    log.appendAsLeader(producerBatch(7, 0, 2), 0);
    expect(errorOf(() => log.appendAsLeader(producerBatch(7, 1, 4), 0)).details).toMatchObject({ expectedSequence: 0 });
    expect(log.appendAsLeader(producerBatch(7, 1, 0), 0)).toMatchObject({ firstOffset: 4, duplicate: false });
    for (const zombie of [producerBatch(7, 0, 4), producerBatch(7, 0, 2)]) {
      const error = errorOf(() => log.appendAsLeader(zombie, 0));
      expect(error.code).toBe('INVALID_PRODUCER_EPOCH');
      expect(error.details).toMatchObject({ producerId: 7, producerEpoch: 0, currentProducerEpoch: 1 });
    }
    expect(log.appendAsLeader(producerBatch(7, 1, 0), 0)).toMatchObject({ firstOffset: 4, duplicate: true });
    expect(log.appendAsLeader(producerBatch(7, 1, 2), 0)).toMatchObject({ firstOffset: 6, duplicate: false });
    expect(log.logEndOffset).toBe(8);
  });

  it('leaves batches without a producer id alone', () => {
    const log = openLog();
    const plain = batch(['a', 'b']);
    expect(log.appendAsLeader(Buffer.from(plain), 0)).toMatchObject({ firstOffset: 0, duplicate: false });
    log.appendAsLeader(producerBatch(7, 0, 0), 0);
    expect(log.appendAsLeader(Buffer.from(plain), 0)).toMatchObject({ firstOffset: 4, duplicate: false });
    const reopened = reopen(log, SMALL_SEGMENTS, true);
    expect(reopened.appendAsLeader(Buffer.from(plain), 0)).toMatchObject({ firstOffset: 6, duplicate: false });
    expect(readAll(reopened).filter((v) => v === 'a')).toHaveLength(3);
    expect(reopened.appendAsLeader(producerBatch(7, 0, 0), 0)).toMatchObject({ firstOffset: 2, duplicate: true });
  });

  it('dedupes on a follower that becomes leader the retries its leader appended', () => {
    const leader = openLog();
    const originals = appendProducerBatches(leader, 8);
    expect(leader.numberOfSegments).toBeGreaterThan(2);
    const fetched = leader.read(0, { maxBytes: 1 << 20 });

    const leaderDir = dir;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-follower-'));
    try {
      const follower = openLog();
      follower.appendAsFollower(fetched.records);
      expect(follower.logEndOffset).toBe(leader.logEndOffset);
      // Failover: the follower leads in epoch 1, and the producer retries its unanswered batches there.
      follower.assignEpochStartOffset(1, follower.logEndOffset);
      for (let i = 3; i < 8; i++) {
        const { firstOffset, lastOffset } = originals[i]!;
        expect(follower.appendAsLeader(producerBatch(7, 0, i * 2), 1)).toMatchObject({ firstOffset, lastOffset, duplicate: true });
      }
      expect(follower.logEndOffset).toBe(leader.logEndOffset);
      expect(errorOf(() => follower.appendAsLeader(producerBatch(7, 0, 17), 1)).code).toBe('OUT_OF_ORDER_SEQUENCE');
      expect(follower.appendAsLeader(producerBatch(7, 0, 16), 1)).toMatchObject({ firstOffset: leader.logEndOffset, duplicate: false });
      follower.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      dir = leaderDir;
      open = open.filter((l) => l === leader);
    }
  });

  it('keeps the producer state across a clean restart', () => {
    const log = openLog();
    const originals = appendProducerBatches(log, 8);
    const reopened = reopen(log, SMALL_SEGMENTS, true);
    expect(snapshotOffsets()).toContain(reopened.logEndOffset);
    for (let i = 3; i < 8; i++) {
      expect(reopened.appendAsLeader(producerBatch(7, 0, i * 2), 0)).toMatchObject({ firstOffset: originals[i]!.firstOffset, duplicate: true });
    }
    expect(errorOf(() => reopened.appendAsLeader(producerBatch(7, 0, 4), 0)).code).toBe('OUT_OF_ORDER_SEQUENCE'); // older than the last 5
    expect(reopened.appendAsLeader(producerBatch(7, 0, 16), 0)).toMatchObject({ duplicate: false });
  });

  it('recovers the producer state after a crash, without the torn batch', async () => {
    const log = openLog();
    const originals = appendProducerBatches(log, 6);
    // One append of two batches with a roll between them: the roll's snapshot must hold the first.
    log.appendAsLeader(batch(['x'.repeat(950)]), 0);
    const pair = log.appendAsLeader(Buffer.concat([producerBatch(7, 0, 12, 1, 600), producerBatch(7, 0, 13, 1, 600)]), 0);
    expect(segmentFiles('.log')).toContain(segmentFileName(pair.lastOffset, '.log'));
    const torn = log.appendAsLeader(producerBatch(7, 0, 14), 0);
    await log.backgroundFlushesDone();
    const recoveryPoint = log.recoveryPoint;
    crash(log);
    expect(snapshotOffsets().at(-1)).toBe(pair.lastOffset);
    const lastFile = path.join(dir, segmentFiles('.log').at(-1)!);
    fs.truncateSync(lastFile, fs.statSync(lastFile).size - 5);

    const recovered = openLog(SMALL_SEGMENTS, { recoveryPoint, hadCleanShutdown: false });
    expect(recovered.logEndOffset).toBe(torn.firstOffset);
    // The torn batch is gone and its sequence with it: the retry is a new batch, where the torn one was.
    expect(recovered.appendAsLeader(producerBatch(7, 0, 14), 0)).toMatchObject({ firstOffset: torn.firstOffset, duplicate: false });
    expect(recovered.appendAsLeader(producerBatch(7, 0, 13, 1, 600), 0)).toMatchObject({ firstOffset: pair.lastOffset, duplicate: true });
    expect(recovered.appendAsLeader(producerBatch(7, 0, 12, 1, 600), 0)).toMatchObject({ firstOffset: pair.firstOffset, duplicate: true });
    expect(recovered.appendAsLeader(producerBatch(7, 0, 10), 0)).toMatchObject({ firstOffset: originals[5]!.firstOffset, duplicate: true });
  });

  it('rebuilds the state at startup from the latest snapshot, reading nothing below it', async () => {
    const log = openLog();
    const early = log.appendAsLeader(producerBatch(7, 0, 0), 0);
    appendMany(log, 200, 2);
    log.appendAsLeader(producerBatch(8, 0, 0), 0); // replayed from the active segment
    await log.backgroundFlushesDone();
    const recoveryPoint = log.recoveryPoint;
    crash(log);
    const latestSnapshot = snapshotOffsets().at(-1)!;
    expect(latestSnapshot).toBe(Number(segmentFiles('.log').at(-1)!.slice(0, 20)));
    // Every segment below the snapshot is wiped: reading any of it would fail.
    const wiped = segmentFiles('.log').filter((f) => Number(f.slice(0, 20)) < latestSnapshot);
    expect(wiped.length).toBeGreaterThan(20);
    for (const f of wiped) fs.writeFileSync(path.join(dir, f), Buffer.alloc(fs.statSync(path.join(dir, f)).size));

    const realReadSync = fs.readSync;
    let bytesRead = 0;
    const readSync = jest.spyOn(fs, 'readSync').mockImplementation(((...args: [number, NodeJS.ArrayBufferView, number, number, number]) => {
      const n = realReadSync(...args);
      bytesRead += n;
      return n;
    }) as typeof fs.readSync);
    let recovered: Log;
    try {
      recovered = openLog(SMALL_SEGMENTS, { recoveryPoint, hadCleanShutdown: false });
    } finally {
      readSync.mockRestore();
    }
    expect(bytesRead).toBeLessThan(3 * SMALL_SEGMENTS.segmentBytes);
    expect(recovered.appendAsLeader(producerBatch(7, 0, 0), 0)).toMatchObject({ firstOffset: early.firstOffset, duplicate: true });
    expect(recovered.appendAsLeader(producerBatch(8, 0, 0), 0)).toMatchObject({ duplicate: true });
  });

  it('ignores a corrupt snapshot and rebuilds from an older one', () => {
    const log = openLog();
    const originals = appendProducerBatches(log, 8);
    const end = log.logEndOffset;
    log.close();
    open = [];
    const newest = path.join(dir, segmentFileName(end, '.snapshot'));
    const bytes = fs.readFileSync(newest);
    bytes[bytes.length - 1]! ^= 0x01;
    fs.writeFileSync(newest, bytes);

    const reopened = openLog(SMALL_SEGMENTS, { hadCleanShutdown: true });
    expect(fs.existsSync(newest)).toBe(false);
    for (let i = 3; i < 8; i++) {
      expect(reopened.appendAsLeader(producerBatch(7, 0, i * 2), 0)).toMatchObject({ firstOffset: originals[i]!.firstOffset, duplicate: true });
    }
  });

  it('rolls the producer state back when the log is truncated', () => {
    const log = openLog();
    const originals = appendProducerBatches(log, 10);
    const cut = originals[7]!.firstOffset;
    expect(snapshotOffsets().some((o) => o > cut)).toBe(true);
    log.truncateTo(cut);
    expect(snapshotOffsets().every((o) => o <= cut)).toBe(true);
    expect(log.appendAsLeader(producerBatch(7, 0, 12), 0)).toMatchObject({ firstOffset: originals[6]!.firstOffset, duplicate: true });
    expect(errorOf(() => log.appendAsLeader(producerBatch(7, 0, 16), 0)).details).toMatchObject({ expectedSequence: 14 });
    expect(log.appendAsLeader(producerBatch(7, 0, 14), 0)).toMatchObject({ firstOffset: cut, duplicate: false });

    // Back into the first segment, below every snapshot: the state is replayed from the log start.
    log.truncateTo(originals[1]!.firstOffset);
    expect(log.appendAsLeader(producerBatch(7, 0, 0), 0)).toMatchObject({ firstOffset: 0, duplicate: true });
    expect(log.appendAsLeader(producerBatch(7, 0, 2), 0)).toMatchObject({ firstOffset: originals[1]!.firstOffset, duplicate: false });

    log.truncateFullyAndStartAt(500);
    expect(snapshotOffsets()).toEqual([]);
    expect(log.appendAsLeader(producerBatch(7, 0, 0), 0)).toMatchObject({ firstOffset: 500, duplicate: false });
  });

  it('keeps few snapshots, and none below the log start', async () => {
    const log = openLog({ ...SMALL_SEGMENTS, retentionMs: 60_000 });
    const original = log.appendAsLeader(producerBatch(7, 0, 0), 0);
    appendMany(log, 30, 2, 'old', 0, T0);
    await log.backgroundFlushesDone();
    expect(snapshotOffsets().length).toBeLessThanOrEqual(3);
    appendMany(log, 30, 2, 'new', 0, T0 + 120_000);
    expect(log.deleteOldSegments(T0 + 120_001)).toBeGreaterThan(0);
    expect(snapshotOffsets().every((o) => o >= log.logStartOffset)).toBe(true);
    // The producer's batches went with their segments, not the producer (KIP-360): its retry is still answered.
    expect(log.appendAsLeader(producerBatch(7, 0, 0), 0)).toMatchObject({ firstOffset: original.firstOffset, duplicate: true });
    const reopened = reopen(log, { ...SMALL_SEGMENTS, retentionMs: 60_000 }, false);
    expect(reopened.appendAsLeader(producerBatch(7, 0, 0), 0)).toMatchObject({ firstOffset: original.firstOffset, duplicate: true });
  });

  it('forgets producers idle for producer.id.expiration.ms when it snapshots', () => {
    const log = openLog({ ...SMALL_SEGMENTS, producerIdExpirationMs: 60_000 });
    const start = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(start);
    try {
      const original = log.appendAsLeader(producerBatch(7, 0, 0), 0);
      const rollAt = (now: number) => {
        clock.mockReturnValue(now);
        const segments = log.numberOfSegments;
        log.appendAsLeader(batch(['x'.repeat(950)]), 0);
        expect(log.numberOfSegments).toBe(segments + 1);
      };
      rollAt(start + 59_999);
      expect(log.appendAsLeader(producerBatch(7, 0, 0), 0)).toMatchObject({ firstOffset: original.firstOffset, duplicate: true });
      rollAt(start + 60_000);
      expect(log.appendAsLeader(producerBatch(7, 0, 0), 0)).toMatchObject({ firstOffset: log.logEndOffset - 2, duplicate: false });
    } finally {
      clock.mockRestore();
    }
  });
});

describe('tail cache', () => {
  test('reads of the tail answer exactly what reads of the files answer', () => {
    const config: LogConfig = { ...DEFAULT_LOG_CONFIG, segmentBytes: 64 * 1024, indexIntervalBytes: 256 };
    const log = openLog(config);
    // Appends of one to three batches each, as producers and followers make them.
    for (let a = 0; a < 40; a++) {
      const batches = Array.from({ length: 1 + (a % 3) }, (_, b) => batch(Array.from({ length: 1 + ((a + b) % 4) }, (_, r) => `a${a}-b${b}-r${r}`)));
      log.appendAsLeader(Buffer.concat(batches), 0);
    }
    const cold = Log.open(dir, 'orders', 0, config, { recoveryPoint: 0, hadCleanShutdown: false });
    try {
      for (let offset = 0; offset <= log.logEndOffset; offset += 3) {
        for (const maxBytes of [0, 100, 500, 4000, 1 << 20]) {
          for (const maxOffset of [undefined, offset + 5, log.logEndOffset - 7]) {
            const hot = log.read(offset, { maxBytes, maxOffset });
            const fromFiles = cold.read(offset, { maxBytes, maxOffset });
            expect(hot.records.equals(fromFiles.records)).toBe(true);
            expect([hot.firstOffset, hot.nextOffset]).toEqual([fromFiles.firstOffset, fromFiles.nextOffset]);
          }
        }
      }
    } finally {
      cold.close();
    }
  });

  test('a truncation or a roll empties it: reads go to the files again', () => {
    const log = openLog();
    appendMany(log, 3, 2);
    log.truncateTo(4);
    expect(valuesOf(log.read(0, { maxBytes: 1 << 20 }).records)).toHaveLength(4);
    const values = appendMany(log, 30, 2, 'w'); // small segments: rolls on the way
    expect(log.numberOfSegments).toBeGreaterThan(1);
    expect(valuesOf(log.read(4, { maxBytes: 1 << 20 }).records).slice(-values.length)).toEqual(values);
  });
});
