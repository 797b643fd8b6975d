import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BrookError, encodeBatch, readBatchHeader, type BatchHeader } from '@brook/types';
import { producerSnapshotPath } from './ProducerSnapshotFile';
import { ProducerStateManager } from './ProducerStateManager';

const INT32_MAX = 2 ** 31 - 1;
const SILENT = { debug() {}, info() {}, warn() {}, error() {} };

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-producers-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The header of a batch of `count` records from a producer (producerId -1: not idempotent). */
function batch(producerId: number, producerEpoch: number, baseSequence: number, count: number, baseOffset = 0): BatchHeader {
  const records = Array.from({ length: count }, () => ({ key: null, value: Buffer.from('v') }));
  return readBatchHeader(encodeBatch(records, { producerId, producerEpoch, baseSequence, baseOffset }), 0);
}

/** A manager that has applied `batches`, laid out one after another from offset 0. */
function managerWith(...batches: Array<[producerId: number, producerEpoch: number, baseSequence: number, count: number]>): ProducerStateManager {
  const manager = ProducerStateManager.open(dir, SILENT);
  let offset = 0;
  for (const [producerId, epoch, sequence, count] of batches) {
    manager.update(batch(producerId, epoch, sequence, count, offset), 1000);
    offset += count;
  }
  return manager;
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

describe('ProducerStateManager leader checks', () => {
  it('lets an unknown producer start anywhere, then wants each next sequence', () => {
    const manager = managerWith([7, 0, 42, 2]);
    expect(manager.checkLeaderAppend([batch(8, 0, 1000, 1)])).toBeUndefined();
    expect(manager.checkLeaderAppend([batch(7, 0, 44, 3)])).toBeUndefined();
    for (const sequence of [45, 43, 0]) {
      const error = errorOf(() => manager.checkLeaderAppend([batch(7, 0, sequence, 1)]));
      expect(error.code).toBe('OUT_OF_ORDER_SEQUENCE');
      expect(error.details).toMatchObject({ producerId: 7, producerEpoch: 0, baseSequence: sequence, expectedSequence: 44 });
    }
  });

  it('answers a retry of any of the last 5 batches with its original offsets', () => {
    // Six batches of 2 records from sequence 0, at offsets 0-1, 2-3, ... 10-11.
    const manager = managerWith(...Array.from({ length: 6 }, (_, i) => [3, 1, i * 2, 2] as [number, number, number, number]));
    for (let i = 1; i < 6; i++) {
      expect(manager.checkLeaderAppend([batch(3, 1, i * 2, 2)])).toEqual({ firstOffset: i * 2, lastOffset: i * 2 + 1, timestamp: 1000 });
    }
    // The oldest fell out of the window; a batch overlapping a kept one is no retry of it.
    expect(errorOf(() => manager.checkLeaderAppend([batch(3, 1, 0, 2)])).code).toBe('OUT_OF_ORDER_SEQUENCE');
    expect(errorOf(() => manager.checkLeaderAppend([batch(3, 1, 10, 1)])).code).toBe('OUT_OF_ORDER_SEQUENCE');
    expect(errorOf(() => manager.checkLeaderAppend([batch(3, 1, 10, 3)])).code).toBe('OUT_OF_ORDER_SEQUENCE');
  });

  it('fences lower epochs and starts a new epoch at sequence 0', () => {
    const manager = managerWith([5, 3, 0, 2], [5, 3, 2, 2]);
    const fenced = errorOf(() => manager.checkLeaderAppend([batch(5, 2, 4, 1)]));
    expect(fenced.code).toBe('INVALID_PRODUCER_EPOCH');
    expect(fenced.details).toMatchObject({ producerId: 5, producerEpoch: 2, currentProducerEpoch: 3 });
    expect(errorOf(() => manager.checkLeaderAppend([batch(5, 4, 4, 1)])).details).toMatchObject({ expectedSequence: 0 });
    expect(manager.checkLeaderAppend([batch(5, 4, 0, 1)])).toBeUndefined();

    manager.update(batch(5, 4, 0, 1, 4), 2000);
    expect(manager.checkLeaderAppend([batch(5, 4, 0, 1)])).toEqual({ firstOffset: 4, lastOffset: 4, timestamp: 2000 });
    expect(manager.checkLeaderAppend([batch(5, 4, 1, 1)])).toBeUndefined();
    // The old epoch's batches are forgotten: a retry of one now comes from a fenced producer.
    expect(errorOf(() => manager.checkLeaderAppend([batch(5, 3, 2, 2)])).code).toBe('INVALID_PRODUCER_EPOCH');
  });

  it('wraps sequences from int32 max to 0', () => {
    const manager = managerWith([9, 0, INT32_MAX - 1, 2]);
    expect(manager.checkLeaderAppend([batch(9, 0, 0, 1)])).toBeUndefined();
    expect(errorOf(() => manager.checkLeaderAppend([batch(9, 0, 1, 1)])).details).toMatchObject({ expectedSequence: 0 });
    // A batch across the wrap ends at sequence 1; its retry is recognised and 2 comes next.
    manager.update(batch(10, 0, INT32_MAX, 3, 2), 1000);
    expect(manager.checkLeaderAppend([batch(10, 0, INT32_MAX, 3)])).toMatchObject({ firstOffset: 2, lastOffset: 4 });
    expect(manager.checkLeaderAppend([batch(10, 0, 2, 1)])).toBeUndefined();
    expect(errorOf(() => manager.checkLeaderAppend([batch(10, 0, 1, 1)])).details).toMatchObject({ expectedSequence: 2 });
  });

  it('checks the batches of one append together, as if the earlier ones were written', () => {
    const manager = managerWith([1, 0, 0, 2], [1, 0, 2, 2], [2, 0, 0, 1]);
    expect(manager.checkLeaderAppend([batch(1, 0, 4, 1), batch(1, 0, 5, 2), batch(3, 0, 9, 1), batch(-1, -1, -1, 1)])).toBeUndefined();
    expect(errorOf(() => manager.checkLeaderAppend([batch(1, 0, 4, 1), batch(1, 0, 4, 1)])).code).toBe('OUT_OF_ORDER_SEQUENCE');
    // Retries together: the originals' range when they were appended together, refused otherwise.
    expect(manager.checkLeaderAppend([batch(1, 0, 0, 2), batch(1, 0, 2, 2)])).toEqual({ firstOffset: 0, lastOffset: 3, timestamp: 1000 });
    expect(manager.checkLeaderAppend([batch(1, 0, 2, 2), batch(2, 0, 0, 1)])).toMatchObject({ firstOffset: 2, lastOffset: 4 });
    expect(errorOf(() => manager.checkLeaderAppend([batch(1, 0, 2, 2), batch(1, 0, 0, 2)])).code).toBe('OUT_OF_ORDER_SEQUENCE');
    // A retry mixed with new batches, idempotent or not.
    for (const mixed of [batch(1, 0, 4, 1), batch(-1, -1, -1, 1), batch(4, 0, 0, 1)]) {
      expect(errorOf(() => manager.checkLeaderAppend([batch(1, 0, 2, 2), mixed])).code).toBe('OUT_OF_ORDER_SEQUENCE');
    }
    expect(errorOf(() => manager.checkLeaderAppend([batch(6, 0, -1, 1)])).code).toBe('INVALID_RECORD');
    expect(errorOf(() => manager.checkLeaderAppend([batch(6, -1, 0, 1)])).code).toBe('INVALID_RECORD');
    // Checking changed nothing.
    expect(manager.checkLeaderAppend([batch(1, 0, 4, 1)])).toBeUndefined();
  });

  it('follows the batches a follower is given without checking them', () => {
    const manager = managerWith([4, 5, 10, 1]);
    manager.update(batch(4, 2, 7, 2, 1), 1000); // what the leader wrote, whatever its reasons
    expect(manager.checkLeaderAppend([batch(4, 2, 7, 2)])).toMatchObject({ firstOffset: 1, lastOffset: 2 });
    expect(manager.checkLeaderAppend([batch(4, 2, 9, 1)])).toBeUndefined();
    manager.update(batch(-1, -1, -1, 3, 3), 1000);
    expect(manager.isEmpty).toBe(false);
  });

  it('expires producers idle for producer.id.expiration.ms', () => {
    const manager = managerWith([1, 0, 0, 1]);
    manager.update(batch(2, 0, 0, 1, 1), 5000);
    manager.removeExpiredProducers(60_999, 60_000);
    expect(manager.checkLeaderAppend([batch(1, 0, 0, 1)])).toBeDefined();
    manager.removeExpiredProducers(61_000, 60_000);
    // Producer 1 is unknown again: its retry is a new batch; producer 2 is still known.
    expect(manager.checkLeaderAppend([batch(1, 0, 0, 1)])).toBeUndefined();
    expect(manager.checkLeaderAppend([batch(2, 0, 0, 1)])).toBeDefined();
    manager.removeExpiredProducers(65_000, 60_000);
    expect(manager.isEmpty).toBe(true);
  });
});

describe('ProducerStateManager snapshots', () => {
  const sixBatches = Array.from({ length: 6 }, (_, i) => [3, 1, i * 2, 2] as [number, number, number, number]);

  it('writes every kept batch and reads them back', () => {
    const manager = managerWith(...sixBatches, [8, 0, 100, 1]);
    expect(manager.takeSnapshot(13, true)).toBe(producerSnapshotPath(dir, 13));
    expect(manager.takeSnapshot(13, true)).toBeUndefined(); // the log has not moved

    const reloaded = ProducerStateManager.open(dir, SILENT);
    expect(reloaded.truncateAndReload(0, 13)).toBe(13);
    for (let i = 1; i < 6; i++) expect(reloaded.checkLeaderAppend([batch(3, 1, i * 2, 2)])).toMatchObject({ firstOffset: i * 2 });
    expect(reloaded.checkLeaderAppend([batch(8, 0, 100, 1)])).toEqual({ firstOffset: 12, lastOffset: 12, timestamp: 1000 });
    expect(errorOf(() => reloaded.checkLeaderAppend([batch(3, 1, 0, 2)])).code).toBe('OUT_OF_ORDER_SEQUENCE');
    expect(reloaded.checkLeaderAppend([batch(3, 1, 12, 1)])).toBeUndefined();
  });

  it('deletes a damaged, torn or misplaced snapshot and falls back to an older one', () => {
    const older = managerWith([3, 1, 0, 2]);
    older.takeSnapshot(2, true);
    const good = fs.readFileSync(producerSnapshotPath(dir, 2));
    managerWith(...sixBatches).takeSnapshot(12, true);
    const newest = fs.readFileSync(producerSnapshotPath(dir, 12));
    const flipped = Buffer.from(newest);
    flipped[flipped.length - 3]! ^= 0x10;

    for (const damaged of [flipped, newest.subarray(0, newest.length - 5), newest.subarray(0, 4), good]) {
      fs.writeFileSync(producerSnapshotPath(dir, 12), damaged); // `good` holds offset 2, not 12
      const reloaded = ProducerStateManager.open(dir, SILENT);
      expect(reloaded.truncateAndReload(0, 12)).toBe(2);
      expect(fs.existsSync(producerSnapshotPath(dir, 12))).toBe(false);
      expect(reloaded.checkLeaderAppend([batch(3, 1, 0, 2)])).toMatchObject({ firstOffset: 0, lastOffset: 1 });
      expect(reloaded.checkLeaderAppend([batch(3, 1, 2, 2)])).toBeUndefined();
    }

    fs.writeFileSync(producerSnapshotPath(dir, 2), flipped);
    const empty = ProducerStateManager.open(dir, SILENT);
    expect(empty.truncateAndReload(0, 12)).toBe(0);
    expect(empty.isEmpty).toBe(true);
  });

  it('drops the snapshots outside the log and reloads the latest inside it', () => {
    const manager = managerWith([1, 0, 0, 5]);
    for (const offset of [5, 10, 20]) manager.takeSnapshot(offset, false);
    const reloaded = ProducerStateManager.open(dir, SILENT);
    expect(reloaded.truncateAndReload(8, 15)).toBe(10);
    expect(fs.readdirSync(dir)).toEqual([path.basename(producerSnapshotPath(dir, 10))]);
    reloaded.deleteSnapshotsAbove(9);
    reloaded.takeSnapshot(9, false);
    reloaded.deleteSnapshotsBelow(9);
    expect(fs.readdirSync(dir)).toEqual([path.basename(producerSnapshotPath(dir, 9))]);
    reloaded.truncateFully();
    expect(reloaded.isEmpty).toBe(true);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
