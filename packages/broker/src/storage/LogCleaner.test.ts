import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeRecords, encodeBatch, iterateBatches, verifyBatch, verifyRecords, type BatchHeader, type BatchOptions } from '@brook/types';
import { Log, type LogOpenOptions, type StorageLogger } from './Log';
import { CLEANER_OFFSET_CHECKPOINT_FILE, LogCleaner } from './LogCleaner';
import { DEFAULT_LOG_CONFIG, type LogConfig } from './LogConfig';
import { segmentFileName } from './LogSegment';

const T0 = 1_700_000_000_000;
const COMPACT: LogConfig = { ...DEFAULT_LOG_CONFIG, segmentBytes: 1024, indexIntervalBytes: 128, cleanupPolicy: 'compact', deleteRetentionMs: 60_000 };
const DELETE_HORIZON_FLAG = 0x40;

let logDir: string;
let dir: string;
let open: Log[] = [];
const errors: string[] = [];
const logger: StorageLogger = { debug() {}, info() {}, warn() {}, error: (_obj, msg) => errors.push(msg ?? '') };

beforeEach(() => {
  logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-cleaner-'));
  dir = path.join(logDir, 'orders-0');
  errors.length = 0;
});

afterEach(async () => {
  for (const log of open) {
    await log.backgroundFlushesDone();
    log.close();
  }
  open = [];
  fs.rmSync(logDir, { recursive: true, force: true });
});

function openLog(config: LogConfig = COMPACT, opts: Partial<LogOpenOptions> = {}, at = dir): Log {
  const log = Log.open(at, 'orders', 0, config, { recoveryPoint: 0, hadCleanShutdown: false, ...opts });
  open.push(log);
  return log;
}

function closeLog(log: Log): void {
  log.flush();
  log.close();
  open = open.filter((l) => l !== log);
}

/** Closes and reopens, as after a clean shutdown or a crash (recovering from `recoveryPoint`). */
function reopen(log: Log, clean: boolean, recoveryPoint = 0): Log {
  const logStartOffset = log.logStartOffset;
  closeLog(log);
  return openLog(log.config, { recoveryPoint, hadCleanShutdown: clean, logStartOffset });
}

function newCleaner(dedupeBufferSize?: number): LogCleaner {
  return new LogCleaner({ logDir, logger, ...(dedupeBufferSize !== undefined ? { dedupeBufferSize } : {}) });
}

interface Rec {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
  header: string | null;
}

let sequence = 0;

/** Appends one batch of [key, value] records, each with its own timestamp and a header; answers them with their offsets. */
function put(log: Log, entries: Array<[string | null, string | null]>, options: BatchOptions = {}): Rec[] {
  const timestamp = (options.timestamp ?? T0) + sequence * 10;
  const records = entries.map(([key, value], i) => ({
    key: key === null ? null : Buffer.from(key),
    value: value === null ? null : Buffer.from(value),
    timestamp: timestamp + i,
    headers: [{ key: 'h', value: Buffer.from(`h-${sequence}-${i}`) }],
  }));
  sequence++;
  const { firstOffset } = log.appendAsLeader(encodeBatch(records, { ...options, timestamp }), 0);
  return records.map((r, i) => ({
    offset: firstOffset + i,
    key: entries[i]![0],
    value: entries[i]![1],
    timestamp: r.timestamp,
    header: r.headers[0]!.value.toString(),
  }));
}

/** `batches` batches of 4 records over `keys` keys (k0, k1, …), with values padded so segments roll. */
function fill(log: Log, batches: number, keys = 10, prefix = 'k'): Rec[] {
  const appended: Rec[] = [];
  for (let b = 0; b < batches; b++) {
    appended.push(...put(log, Array.from({ length: 4 }, (_, i): [string, string] => [`${prefix}${(b * 4 + i) % keys}`, `v${sequence}.${i}-${'x'.repeat(30)}`])));
  }
  return appended;
}

function batchesOf(records: Buffer): Array<BatchHeader & { position: number }> {
  return [...iterateBatches(records)];
}

function contents(log: Log, from = log.logStartOffset): Rec[] {
  const { records } = log.read(from, { maxBytes: 1 << 30 });
  const out: Rec[] = [];
  for (const batch of batchesOf(records)) {
    for (const r of decodeRecords(records, batch.position, batch)) {
      out.push({
        offset: r.offset,
        key: r.key?.toString() ?? null,
        value: r.value?.toString() ?? null,
        timestamp: r.timestamp,
        header: r.headers[0]?.value?.toString() ?? null,
      });
    }
  }
  return out;
}

/** What compaction leaves: below `upTo`, the latest record of each key (and every keyless one); from `upTo` on, everything. */
function compacted(appended: readonly Rec[], upTo: number): Rec[] {
  const latest = new Map<string, number>();
  for (const r of appended) if (r.offset < upTo && r.key !== null) latest.set(r.key, r.offset);
  return appended.filter((r) => r.offset >= upTo || r.key === null || latest.get(r.key) === r.offset);
}

function segmentBases(at = dir): number[] {
  return fs
    .readdirSync(at)
    .filter((f) => /^\d{20}\.log$/.test(f))
    .map((f) => Number(f.slice(0, 20)))
    .sort((a, b) => a - b);
}

function leftovers(at = dir): string[] {
  return fs.readdirSync(at).filter((f) => /cleaned|swap|deleted/.test(f));
}

describe('LogCleaner compaction', () => {
  it('keeps the latest record of each key at its original offset, in valid batches spanning the original offsets', async () => {
    const log = openLog();
    const appended = fill(log, 60);
    log.flush();
    const upTo = log.firstUncleanableOffset;
    const bases = segmentBases();
    expect(upTo).toBe(bases[bases.length - 1]); // the active segment is never cleaned
    const originalBatches = batchesOf(log.read(0, { maxBytes: 1 << 30 }).records).map((b) => [b.baseOffset, b.lastOffset]);
    const sizeBefore = log.size;
    const logEndOffset = log.logEndOffset;

    const result = await newCleaner().clean(log, T0);
    expect(result?.endOffset).toBe(upTo);
    const expected = compacted(appended, upTo);
    expect(expected.length).toBeLessThan(appended.length / 2);
    expect(contents(log)).toEqual(expected); // offsets, keys, values, timestamps and headers as appended
    const { records } = log.read(0, { maxBytes: 1 << 30 });
    for (const batch of batchesOf(records)) {
      verifyBatch(records, batch.position);
      verifyRecords(records, batch.position);
      expect(originalBatches).toContainEqual([batch.baseOffset, batch.lastOffset]);
    }
    expect(log.size).toBeLessThan(sizeBefore / 2);
    expect(leftovers()).toEqual([]);

    // Appends go on at the same log end.
    expect(log.logEndOffset).toBe(logEndOffset);
    expect(put(log, [['k1', 'after']])[0]!.offset).toBe(logEndOffset);
    expect(contents(log, logEndOffset).map((r) => r.value)).toEqual(['after']);

    // The next cleaning merges the small segments the first one left (Kafka's groupSegmentsBySize).
    const more = fill(log, 30);
    log.flush();
    const segmentsBefore = segmentBases().length;
    await newCleaner().clean(log, T0);
    expect(segmentBases().length).toBeLessThan(segmentsBefore - 5);
    expect(contents(log)).toEqual(compacted([...expected, ...more], log.firstUncleanableOffset).filter((r) => r.value !== 'after' || r.key !== 'k1'));
  });

  it('serves reads across the gaps compaction leaves, for any offset and within maxBytes and maxOffset', async () => {
    const log = openLog();
    for (let b = 0; b < 40; b++) {
      put(log, Array.from({ length: 4 }, (_, i): [string, string] => [(b * 4 + i) % 3 === 0 ? `once${b * 4 + i}` : `k${(b * 4 + i) % 5}`, `v${'x'.repeat(30)}`]));
    }
    log.flush();
    await newCleaner().clean(log, T0);
    const survivors = contents(log);
    expect(survivors[survivors.length - 1]!.offset - survivors[0]!.offset + 1).toBeGreaterThan(survivors.length);

    for (let offset = 0; offset < log.logEndOffset; offset++) {
      // One batch: the first one ending at or after the offset. It may hold no record at or after it, as a
      // batch keeps its offset range when its last records go (Kafka keeps lastOffset for v2 batches).
      const read = log.read(offset, { maxBytes: 1 });
      const [batch, ...others] = batchesOf(read.records);
      expect(others).toEqual([]);
      expect(batch!.lastOffset).toBeGreaterThanOrEqual(offset);
      expect(batch!.baseOffset).toBeLessThanOrEqual(survivors.find((r) => r.offset >= offset)!.offset);
      expect(read.nextOffset).toBe(batch!.lastOffset + 1);
      expect(contents(log, offset).filter((r) => r.offset >= offset)).toEqual(survivors.filter((r) => r.offset >= offset));
    }
    // A consumer paging through with nextOffset sees every survivor once.
    const paged: number[] = [];
    for (let offset = 0; offset < log.logEndOffset; ) {
      const read = log.read(offset, { maxBytes: 300 });
      for (const batch of batchesOf(read.records)) {
        for (const r of decodeRecords(read.records, batch.position, batch)) if (r.offset >= offset) paged.push(r.offset);
      }
      offset = read.nextOffset;
    }
    expect(paged).toEqual(survivors.map((r) => r.offset));
    // maxOffset (the high watermark) inside a gap: no batch starting at or after it.
    const gapAt = survivors.findIndex((r, i) => i > 0 && r.offset > survivors[i - 1]!.offset + 1);
    const inGap = survivors[gapAt]!.offset - 1;
    for (const batch of batchesOf(log.read(0, { maxBytes: 1 << 30, maxOffset: inGap }).records)) expect(batch.baseOffset).toBeLessThan(inGap);
  });

  it('removes a tombstone only once delete.retention.ms has passed since the cleaning that first kept it', async () => {
    const log = openLog();
    const cleaner = newCleaner();
    put(log, [['gone', 'a'], ['stays', 'b']]);
    const [tombstone] = put(log, [['gone', null]]);
    fill(log, 12, 10, 'f');
    log.flush();
    const t1 = T0 + 1000;
    await cleaner.clean(log, t1);
    let found = contents(log).filter((r) => r.key === 'gone' || r.key === 'stays');
    expect(found).toEqual([expect.objectContaining({ key: 'stays', value: 'b' }), tombstone]); // same offset, timestamp and header
    const { records } = log.read(tombstone!.offset, { maxBytes: 1 });
    const header = batchesOf(records)[0]!;
    expect(header.attributes & DELETE_HORIZON_FLAG).toBe(DELETE_HORIZON_FLAG);
    expect(header.baseTimestamp).toBe(t1 + 60_000); // KIP-534: the horizon, with the records' timestamps kept
    verifyBatch(records, 0);

    fill(log, 12, 10, 'f');
    log.flush();
    await cleaner.clean(log, t1 + 59_999);
    expect(contents(log).filter((r) => r.key === 'gone')).toEqual([tombstone]);

    fill(log, 12, 10, 'f');
    log.flush();
    await cleaner.clean(log, t1 + 60_000);
    found = contents(log).filter((r) => r.key === 'gone' || r.key === 'stays');
    expect(found).toEqual([expect.objectContaining({ key: 'stays', value: 'b' })]);
  });

  it('keeps records without a key', async () => {
    const log = openLog();
    const keyless = put(log, [[null, 'n1'], ['k', 'old'], [null, 'n2']]);
    put(log, [['k', 'new']]);
    fill(log, 12, 10, 'f');
    log.flush();
    await newCleaner().clean(log, T0);
    expect(contents(log).filter((r) => r.key === null || r.key === 'k').map((r) => r.value)).toEqual(['n1', 'n2', 'new']);
    expect(contents(log).find((r) => r.value === 'n2')).toEqual(keyless[2]);
  });

  it('leaves the active segment and the segment holding the high watermark byte for byte', async () => {
    const log = openLog();
    const appended = fill(log, 60);
    log.flush();
    const bases = segmentBases();
    log.updateHighWatermark(bases[4]! + 2);
    expect(log.firstUncleanableOffset).toBe(bases[4]);
    const untouched = bases.slice(4).map((b) => fs.readFileSync(path.join(dir, segmentFileName(b, '.log'))));

    await newCleaner().clean(log, T0);
    expect(bases.slice(4).map((b) => fs.readFileSync(path.join(dir, segmentFileName(b, '.log'))))).toEqual(untouched);
    expect(contents(log)).toEqual(compacted(appended, bases[4]!));
  });

  it('cleans only below the recovery point, where the segments are durable', () => {
    const log = openLog();
    fill(log, 60);
    const bases = segmentBases();
    const reopened = reopen(log, false, bases[3]! + 1); // a crash with the checkpointed recovery point in the fourth segment
    expect(reopened.firstUncleanableOffset).toBe(bases[3]);
    reopened.flush();
    expect(reopened.firstUncleanableOffset).toBe(bases[bases.length - 1]);
  });

  it('gives the same content after a clean or an unclean reopen', async () => {
    let log = openLog();
    fill(log, 40);
    log.flush();
    await newCleaner().clean(log, T0);
    const expected = contents(log);
    const logEndOffset = log.logEndOffset;
    log = reopen(log, true);
    expect(contents(log)).toEqual(expected);
    log = reopen(log, false, 0); // every batch checked again, every index rebuilt
    expect(contents(log)).toEqual(expected);
    expect(log.logEndOffset).toBe(logEndOffset);
    for (const b of segmentBases()) fs.rmSync(path.join(dir, segmentFileName(b, '.index')));
    log = reopen(log, true);
    expect(contents(log)).toEqual(expected);
    expect(put(log, [['k0', 'next']])[0]!.offset).toBe(logEndOffset);
  });

  it('finds offsets by timestamp among the records that stay', async () => {
    let log = openLog();
    const appended = fill(log, 40);
    log.flush();
    await newCleaner().clean(log, T0);
    const survivors = contents(log);
    const check = (l: Log): void => {
      for (let t = appended[0]!.timestamp - 5; t <= survivors[survivors.length - 1]!.timestamp + 5; t += 3) {
        expect(l.offsetForTimestamp(t)).toBe(survivors.find((r) => r.timestamp >= t)?.offset);
      }
    };
    check(log);
    log = reopen(log, true);
    check(log);
  });

  it('cleans in steps when the offset map fills up, and ends where one full cleaning would', async () => {
    const log = openLog();
    const appended = [...fill(log, 20, 3, 'a'), ...fill(log, 20, 3, 'b'), ...fill(log, 20, 3, 'c'), ...fill(log, 5, 3, 'd')];
    log.flush();
    const upTo = log.firstUncleanableOffset;
    const cleaner = newCleaner(4 * (2 + 80)); // room for 4 keys
    const first = await cleaner.clean(log, T0);
    expect(first!.endOffset).toBeLessThan(upTo);
    expect(contents(log)).toEqual(compacted(appended, first!.endOffset));
    let rounds = 1;
    for (let end = first!.endOffset; end < upTo; rounds++) end = (await cleaner.clean(log, T0))!.endOffset;
    expect(rounds).toBeGreaterThanOrEqual(3);
    expect(contents(log)).toEqual(compacted(appended, upTo));
    expect(fs.readFileSync(path.join(logDir, CLEANER_OFFSET_CHECKPOINT_FILE), 'utf8')).toBe(`0\n1\norders 0 ${upTo}\n`);
  });

  it('resumes from the cleaner-offset-checkpoint: only the dirty part is read for the map', async () => {
    const log = openLog();
    fill(log, 40);
    log.flush();
    const first = await newCleaner().clean(log, T0);
    expect(first!.endOffset).toBe(log.firstUncleanableOffset);
    const again = await newCleaner().clean(log, T0); // a new cleaner reads the checkpoint
    expect(again).toEqual({ endOffset: first!.endOffset, bytesRead: 0, bytesWritten: 0 });
    const cleaner = newCleaner();
    cleaner.maybeTruncateCheckpoint('orders', 0, 10);
    expect(fs.readFileSync(path.join(logDir, CLEANER_OFFSET_CHECKPOINT_FILE), 'utf8')).toBe('0\n1\norders 0 10\n');
    cleaner.forgetLog('orders', 0);
    expect(fs.readFileSync(path.join(logDir, CLEANER_OFFSET_CHECKPOINT_FILE), 'utf8')).toBe('0\n0\n');
  });

  it('keeps an idempotent producer’s last batch as an empty header, so retries are still duplicates after the state is rebuilt from the log', async () => {
    let log = openLog();
    const retry = (): Buffer => encodeBatch([{ key: Buffer.from('p'), value: Buffer.from('1') }], { producerId: 7, producerEpoch: 0, baseSequence: 0, timestamp: T0 });
    const original = log.appendAsLeader(retry(), 0);
    const eight = [0, 1].map((seq) =>
      log.appendAsLeader(encodeBatch([{ key: Buffer.from(`q${seq}`), value: Buffer.from('v') }], { producerId: 8, producerEpoch: 0, baseSequence: seq, timestamp: T0 }), 0),
    );
    put(log, [['p', 'overwritten'], ['q0', 'overwritten'], ['q1', 'overwritten']]);
    fill(log, 12, 10, 'f');
    log.flush();
    await newCleaner().clean(log, T0);

    const producerBatches = batchesOf(log.read(0, { maxBytes: 1 << 30 }).records).filter((b) => b.producerId >= 0);
    // Producer 7's only batch lost its record but stays, empty, over its offsets and sequence; producer 8's
    // first batch is not its last and goes; its last one is kept, empty too.
    expect(producerBatches.map((b) => ({ producerId: b.producerId, baseOffset: b.baseOffset, lastOffset: b.lastOffset, baseSequence: b.baseSequence, recordCount: b.recordCount }))).toEqual([
      { producerId: 7, baseOffset: original.firstOffset, lastOffset: original.lastOffset, baseSequence: 0, recordCount: 0 },
      { producerId: 8, baseOffset: eight[1]!.firstOffset, lastOffset: eight[1]!.lastOffset, baseSequence: 1, recordCount: 0 },
    ]);
    expect(log.appendAsLeader(retry(), 0)).toMatchObject({ duplicate: true, firstOffset: original.firstOffset });

    const logEndOffset = log.logEndOffset;
    closeLog(log);
    for (const f of fs.readdirSync(dir).filter((name) => name.endsWith('.snapshot'))) fs.rmSync(path.join(dir, f));
    log = openLog(COMPACT, { recoveryPoint: 0, hadCleanShutdown: false });
    expect(log.appendAsLeader(retry(), 0)).toMatchObject({ duplicate: true, firstOffset: original.firstOffset });
    const next = encodeBatch([{ key: Buffer.from('p'), value: Buffer.from('2') }], { producerId: 7, producerEpoch: 0, baseSequence: 1, timestamp: T0 });
    expect(log.appendAsLeader(next, 0)).toMatchObject({ duplicate: false, firstOffset: logEndOffset });
  });

  it('lets a new follower replicate a compacted leader, gaps and all', async () => {
    const leader = openLog();
    fill(leader, 40);
    leader.flush();
    await newCleaner().clean(leader, T0);
    const follower = openLog(COMPACT, {}, path.join(logDir, 'orders-1'));
    while (follower.logEndOffset < leader.logEndOffset) follower.appendAsFollower(leader.read(follower.logEndOffset, { maxBytes: 500 }).records);
    expect(follower.logEndOffset).toBe(leader.logEndOffset);
    expect(contents(follower)).toEqual(contents(leader));
  });
});

describe('LogCleaner safety', () => {
  it('abandons a cleaning when the log is truncated under it, leaving no files behind', async () => {
    const log = openLog({ ...COMPACT, segmentBytes: 256 * 1024 });
    for (let b = 0; b < 300; b++) put(log, Array.from({ length: 10 }, (_, i): [string, string] => [`k${(b * 10 + i) % 50}`, 'x'.repeat(1000)]));
    log.flush();
    const before = contents(log);
    const cleaner = newCleaner();
    const cleaning = cleaner.clean(log, T0);
    await new Promise((resolve) => setImmediate(resolve)); // the cleaner has read its first MiB and yielded
    log.truncateTo(1000);
    expect(await cleaning).toBeUndefined();
    expect(leftovers()).toEqual([]);
    expect(contents(log)).toEqual(before.filter((r) => r.offset < 1000));
    expect(fs.existsSync(path.join(logDir, CLEANER_OFFSET_CHECKPOINT_FILE))).toBe(false);
  });

  it('refuses to launder a corrupt batch, and a round skips the log from then on', async () => {
    const log = openLog();
    fill(log, 40);
    log.flush();
    const file = path.join(dir, segmentFileName(segmentBases()[1]!, '.log'));
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 3] ^= 0xff;
    fs.writeFileSync(file, bytes);
    const cleaner = newCleaner();
    await expect(cleaner.clean(log, T0)).rejects.toMatchObject({ code: 'CORRUPT_RECORD' });
    expect(leftovers()).toEqual([]);
    await cleaner.cleanFilthiestLogs(() => [log]);
    await cleaner.cleanFilthiestLogs(() => [log]);
    expect(errors).toEqual(['log cleaning failed; the log is not cleaned again until it is reopened']);
  });

  it('refuses logs that are not compacted', async () => {
    const log = openLog({ ...COMPACT, cleanupPolicy: 'delete' });
    await expect(newCleaner().clean(log)).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  describe('recovers from a crash at any step of a segment swap', () => {
    /** A log cleaned once (many small segments), then appended to: the next cleaning merges and compacts those segments. */
    let beforeDir: string;
    let afterDir: string;
    let before: Rec[];
    let after: Rec[];
    /** The old segments the second cleaning's first group replaced, and the new segment's next offset. */
    let group: number[];
    let swapNextOffset: number;
    let recoveryPoint: number;

    beforeEach(async () => {
      let log = openLog();
      fill(log, 40);
      log.flush();
      const cleaner = newCleaner();
      await cleaner.clean(log, T0);
      fill(log, 40, 5); // half the keys again: the next cleaning drops their older records from the merged segments
      log.flush();
      before = contents(log);
      recoveryPoint = log.logEndOffset;
      closeLog(log);
      beforeDir = path.join(logDir, 'before');
      fs.cpSync(dir, beforeDir, { recursive: true });
      log = openLog(COMPACT, { recoveryPoint, hadCleanShutdown: true });
      await cleaner.clean(log, T0);
      after = contents(log);
      closeLog(log);
      afterDir = path.join(logDir, 'after');
      fs.cpSync(dir, afterDir, { recursive: true });

      const newBases = segmentBases(afterDir);
      group = segmentBases(beforeDir).filter((b) => b < newBases[1]!);
      expect(group.length).toBeGreaterThan(1);
      expect(after.filter((r) => r.offset < newBases[1]!).length).toBeLessThan(before.filter((r) => r.offset < newBases[1]!).length);
      const newFirst = batchesOf(fs.readFileSync(path.join(afterDir, segmentFileName(0, '.log'))));
      swapNextOffset = newFirst[newFirst.length - 1]!.lastOffset + 1;
      fs.rmSync(dir, { recursive: true });
      fs.cpSync(beforeDir, dir, { recursive: true });
    });

    /** Puts the new first segment's files into the crashed directory under `suffixes` (per .log, .index, .timeindex). */
    function placeNewSegment(suffixes: { log: string; index: string; timeindex: string }): void {
      for (const kind of ['log', 'index', 'timeindex'] as const) {
        fs.copyFileSync(path.join(afterDir, segmentFileName(0, `.${kind}`)), path.join(dir, segmentFileName(0, `.${kind}`) + suffixes[kind]));
      }
    }

    function deleteOldSegments(bases: number[]): void {
      for (const b of bases) for (const kind of ['.log', '.index', '.timeindex']) fs.rmSync(path.join(dir, segmentFileName(b, kind)), { force: true });
    }

    /** The swap completed: the new segment, then the old segments it did not cover (past its last batch). */
    function swapped(): Rec[] {
      const keptFrom = segmentBases(beforeDir).find((b) => b >= swapNextOffset)!;
      return [...after.filter((r) => r.offset < swapNextOffset), ...before.filter((r) => r.offset >= keptFrom)];
    }

    function recovered(): Rec[] {
      const log = openLog(COMPACT, { recoveryPoint, hadCleanShutdown: false });
      expect(leftovers()).toEqual([]);
      const records = contents(log);
      expect(put(log, [['k1', 'later']])[0]!.offset).toBe(recoveryPoint);
      return records;
    }

    it('before the commit: .cleaned files go and the old segments stay', () => {
      placeNewSegment({ log: '.cleaned', index: '.cleaned', timeindex: '.cleaned' });
      expect(recovered()).toEqual(before);
    });

    it('during the commit (indexes renamed .swap, log still .cleaned): rolled back', () => {
      placeNewSegment({ log: '.cleaned', index: '.swap', timeindex: '.swap' });
      expect(recovered()).toEqual(before);
    });

    it('after the commit, before any old segment was deleted: the swap completes', () => {
      placeNewSegment({ log: '.swap', index: '.swap', timeindex: '.swap' });
      expect(recovered()).toEqual(swapped());
    });

    it('while the old segments were being deleted: the swap completes', () => {
      placeNewSegment({ log: '.swap', index: '.swap', timeindex: '.swap' });
      deleteOldSegments(group.slice(0, 1));
      fs.renameSync(path.join(dir, segmentFileName(group[1]!, '.log')), path.join(dir, segmentFileName(group[1]!, '.log.deleted')));
      expect(recovered()).toEqual(swapped());
    });

    it('during the final renames (indexes renamed, log still .swap): the swap completes', () => {
      deleteOldSegments(group);
      placeNewSegment({ log: '.swap', index: '', timeindex: '' });
      expect(recovered()).toEqual(swapped());
    });
  });
});
