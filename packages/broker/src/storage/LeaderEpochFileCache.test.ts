import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LEADER_EPOCH_CHECKPOINT_FILE, LeaderEpochFileCache } from './LeaderEpochFileCache';
import type { StorageLogger } from './Log';

let dir: string;
const warnings: string[] = [];
const logger: StorageLogger = {
  debug() {},
  info() {},
  warn: (_obj, msg) => warnings.push(msg ?? ''),
  error: (_obj, msg) => warnings.push(msg ?? ''),
};

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-epochs-'));
  warnings.length = 0;
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const checkpoint = () => fs.readFileSync(path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE), 'utf8');

describe('LeaderEpochFileCache', () => {
  it('assigns epochs in order and writes Kafka’s checkpoint format', () => {
    const cache = LeaderEpochFileCache.load(dir, logger);
    expect(cache.latestEpoch).toBeUndefined();
    cache.assign(0, 0);
    cache.assign(0, 5); // same epoch later: nothing to record
    cache.assign(2, 10);
    cache.assign(5, 10); // several epochs may start at the same offset... only the newest stays
    expect(cache.epochEntries()).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 5, startOffset: 10 },
    ]);
    expect(checkpoint()).toBe('0\n2\n0 0\n5 10\n');
    expect(LeaderEpochFileCache.load(dir, logger).epochEntries()).toEqual(cache.epochEntries());
  });

  it('drops entries that a new epoch contradicts, as Kafka does', () => {
    const cache = LeaderEpochFileCache.load(dir, logger);
    cache.assign(1, 0);
    cache.assign(2, 10);
    cache.assign(3, 20);
    cache.assign(2, 15); // epoch 2 again, at a later offset than epoch 2's start: 2@10 and 3@20 are dropped
    expect(cache.epochEntries()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 15 },
    ]);
    expect(warnings).toContain('new leader epoch truncated conflicting entries');
  });

  it('answers end offsets per KIP-101', () => {
    const cache = LeaderEpochFileCache.load(dir, logger);
    expect(cache.endOffsetFor(0, 100)).toBeUndefined();
    cache.assign(2, 10);
    cache.assign(4, 30);
    cache.assign(7, 50);
    expect(cache.endOffsetFor(7, 100)).toEqual({ epoch: 7, endOffset: 100 }); // the latest epoch ends at the log end
    expect(cache.endOffsetFor(4, 100)).toEqual({ epoch: 4, endOffset: 50 });
    expect(cache.endOffsetFor(5, 100)).toEqual({ epoch: 4, endOffset: 50 }); // unknown epoch: the one below it
    expect(cache.endOffsetFor(1, 100)).toEqual({ epoch: 1, endOffset: 10 }); // older than all: where the first starts
    expect(cache.endOffsetFor(8, 100)).toBeUndefined();
    expect(cache.endOffsetFor(-1, 100)).toBeUndefined();
  });

  it('truncates from the end and from the start', () => {
    const cache = LeaderEpochFileCache.load(dir, logger);
    cache.assign(1, 0);
    cache.assign(2, 10);
    cache.assign(3, 20);
    cache.truncateFromEnd(20);
    expect(cache.epochEntries()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 10 },
    ]);
    cache.assign(3, 25);
    cache.truncateFromStart(12);
    expect(cache.epochEntries()).toEqual([
      { epoch: 2, startOffset: 12 },
      { epoch: 3, startOffset: 25 },
    ]);
    expect(checkpoint()).toBe('0\n2\n2 12\n3 25\n');
    cache.truncateFromStart(5); // before the first entry: nothing to do
    expect(cache.epochEntries()[0]).toEqual({ epoch: 2, startOffset: 12 });
    cache.clear();
    expect(checkpoint()).toBe('0\n0\n');
  });

  it('starts empty, loudly, from an unreadable checkpoint', () => {
    for (const content of ['1\n0\n', '0\n2\n1 0\n', '0\n1\nx y\n', '0\n2\n3 0\n2 5\n']) {
      fs.writeFileSync(path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE), content);
      expect(LeaderEpochFileCache.load(dir, logger).epochEntries()).toEqual([]);
    }
    expect(warnings).toHaveLength(4);
  });

  it('refuses impossible entries', () => {
    const cache = LeaderEpochFileCache.load(dir, logger);
    expect(() => cache.assign(-1, 0)).toThrow(/invalid leader epoch/);
    expect(() => cache.assign(0, -5)).toThrow(/invalid leader epoch/);
  });
});
