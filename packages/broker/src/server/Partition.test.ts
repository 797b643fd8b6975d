import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BrookError, encodeBatch, type PartitionRecord } from '@brook/types';
import { DEFAULT_LOG_CONFIG, Log } from '../storage';
import { Partition } from './Partition';

/** A leader partition on broker 1 with followers 2 and 3, a real log, a manual clock and a recording ISR proposer. */
function setup(state: Partial<PartitionRecord> = {}, minIsr = 2) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-partition-'));
  const log = Log.open(path.join(dir, 't-0'), 't', 0, DEFAULT_LOG_CONFIG, { recoveryPoint: 0, hadCleanShutdown: true });
  let now = 1000;
  const proposals: number[][] = [];
  let answer: (isr: number[]) => Promise<PartitionRecord> = (isr) =>
    Promise.resolve({ ...full, isr, partitionEpoch: partition.partitionEpoch + 1 });
  const partition = new Partition('t', 0, 'id', log, 1, 0, (_p, isr) => {
    proposals.push(isr);
    return answer(isr);
  }, () => now);
  const full: PartitionRecord = { topicId: 'id', partition: 0, replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1, leaderEpoch: 0, partitionEpoch: 0, ...state };
  partition.update(full, minIsr);
  return {
    partition,
    log,
    proposals,
    advance: (ms: number) => (now += ms),
    refuseProposals: () => (answer = () => Promise.reject(new BrookError('STALE_PARTITION_EPOCH', 'stale'))),
    cleanup: () => {
      log.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const batch = (n = 1) => encodeBatch(Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`) })));
const settled = () => new Promise((r) => setImmediate(r));

describe('Partition as leader', () => {
  test('the high watermark is the smallest log end offset of the ISR; acks=all completes only then', async () => {
    const { partition, cleanup } = setup();
    const { lastOffset } = partition.appendAsLeader(batch(3));
    expect(partition.highWatermark).toBe(0);
    let acked = false;
    const ack = partition.waitForHighWatermark(lastOffset + 1, 5000).then(() => (acked = true));
    partition.fetchForFollower(2, 3, 0, 1 << 20);
    await settled();
    expect(partition.highWatermark).toBe(0); // follower 3 has nothing yet
    expect(acked).toBe(false);
    partition.fetchForFollower(3, 3, 0, 1 << 20);
    await ack;
    expect(partition.highWatermark).toBe(3);
    cleanup();
  });

  test('a follower fetch returns the raw batches after its offset', () => {
    const { partition, cleanup } = setup();
    partition.appendAsLeader(batch(2));
    partition.appendAsLeader(batch(1));
    expect(partition.fetchForFollower(2, 0, 0, 1 << 20).length).toBeGreaterThan(0);
    expect(partition.fetchForFollower(2, 3, 0, 1 << 20).length).toBe(0);
    expect(() => partition.fetchForFollower(2, 9, 0, 1 << 20)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    cleanup();
  });

  test('acks=all is refused before appending when the ISR is smaller than min.insync.replicas', () => {
    const { partition, log, cleanup } = setup({ isr: [1] });
    expect(() => partition.checkEnoughReplicas()).toThrow(expect.objectContaining({ code: 'NOT_ENOUGH_REPLICAS' }));
    expect(log.logEndOffset).toBe(0);
    cleanup();
  });

  test('a follower that stops catching up leaves the ISR after the lag time, and the high watermark moves on', async () => {
    const { partition, proposals, advance, cleanup } = setup();
    partition.appendAsLeader(batch(1));
    const ack = partition.waitForHighWatermark(1, 60_000);
    partition.fetchForFollower(2, 1, 0, 1 << 20); // 2 is caught up, 3 never fetches
    advance(500);
    partition.maybeShrinkIsr(1000);
    expect(proposals).toEqual([]); // within the lag time
    advance(600);
    partition.fetchForFollower(2, 1, 0, 1 << 20);
    partition.maybeShrinkIsr(1000);
    expect(proposals).toEqual([[1, 2]]);
    await ack; // ISR [1, 2] both have offset 0: committed
    expect(partition.isr).toEqual([1, 2]);
    expect(partition.highWatermark).toBe(1);
    cleanup();
  });

  test('a follower at the leader\'s log end stays in the ISR however long it has been quiet', () => {
    const { partition, proposals, advance, cleanup } = setup();
    partition.appendAsLeader(batch(1));
    partition.fetchForFollower(2, 1, 0, 1 << 20);
    partition.fetchForFollower(3, 1, 0, 1 << 20);
    advance(60_000); // an idle partition: nobody needed to fetch anything new
    partition.maybeShrinkIsr(1000);
    expect(proposals).toEqual([]);
    partition.appendAsLeader(batch(1)); // now they are behind, and have been quiet for longer than the lag time
    partition.maybeShrinkIsr(1000);
    expect(proposals).toEqual([[1]]);
    cleanup();
  });

  test('reads between the high watermark and the log end are empty, past the log end out of range', () => {
    const { partition, cleanup } = setup();
    partition.appendAsLeader(batch(3));
    partition.fetchForFollower(2, 1, 0, 1 << 20);
    partition.fetchForFollower(3, 1, 0, 1 << 20);
    expect(partition.highWatermark).toBe(1);
    expect(partition.read(0, 1 << 20).records.length).toBeGreaterThan(0);
    expect(partition.read(2, 1 << 20).records.length).toBe(0);
    expect(partition.read(3, 1 << 20).records.length).toBe(0);
    expect(() => partition.read(4, 1 << 20)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    cleanup();
  });

  test('a follower that catches up again is proposed back into the ISR', async () => {
    const { partition, proposals, cleanup } = setup({ isr: [1, 2] });
    partition.appendAsLeader(batch(2));
    partition.fetchForFollower(2, 2, 0, 1 << 20);
    expect(partition.highWatermark).toBe(2);
    partition.fetchForFollower(3, 1, 0, 1 << 20); // behind the high watermark: not yet
    expect(proposals).toEqual([]);
    partition.fetchForFollower(3, 2, 0, 1 << 20);
    expect(proposals).toEqual([[1, 2, 3]]);
    await settled();
    expect(partition.isr).toEqual([1, 2, 3]);
    cleanup();
  });

  test('a refused proposal leaves the ISR as the controller has it', async () => {
    const { partition, proposals, advance, refuseProposals, cleanup } = setup();
    refuseProposals();
    advance(5000);
    partition.maybeShrinkIsr(1000);
    expect(proposals).toHaveLength(1);
    await settled();
    expect(partition.isr).toEqual([1, 2, 3]);
    cleanup();
  });

  test('losing leadership fails produces waiting for acknowledgement, and refuses new ones', async () => {
    const { partition, cleanup } = setup();
    partition.appendAsLeader(batch(1));
    const ack = partition.waitForHighWatermark(1, 60_000);
    partition.update({ topicId: 'id', partition: 0, replicas: [1, 2, 3], isr: [2, 3], leader: 2, leaderEpoch: 1, partitionEpoch: 1 }, 2);
    await expect(ack).rejects.toMatchObject({ code: 'NOT_LEADER' });
    expect(() => partition.appendAsLeader(batch(1))).toThrow(expect.objectContaining({ code: 'NOT_LEADER' }));
    cleanup();
  });

  test('an acks=all produce that the ISR does not confirm in time is REQUEST_TIMED_OUT', async () => {
    const { partition, cleanup } = setup();
    partition.appendAsLeader(batch(1));
    await expect(partition.waitForHighWatermark(1, 20)).rejects.toMatchObject({ code: 'REQUEST_TIMED_OUT' });
    cleanup();
  });

  test('fetches with a stale or unknown leader epoch are refused', () => {
    const { partition, cleanup } = setup({ leaderEpoch: 3 });
    expect(() => partition.fetchForFollower(2, 0, 2, 1 << 20)).toThrow(expect.objectContaining({ code: 'FENCED_LEADER_EPOCH' }));
    expect(() => partition.fetchForFollower(2, 0, 4, 1 << 20)).toThrow(expect.objectContaining({ code: 'LEADER_NOT_AVAILABLE' }));
    cleanup();
  });

  test('a new leader epoch starts at the log end in the epoch cache, and end offsets answer per epoch (KIP-101)', () => {
    const { partition, log, cleanup } = setup();
    partition.appendAsLeader(batch(2));
    partition.update({ topicId: 'id', partition: 0, replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1, leaderEpoch: 1, partitionEpoch: 1 }, 2);
    partition.appendAsLeader(batch(3));
    expect(log.latestEpoch).toBe(1);
    expect(partition.endOffsetForEpoch(1, 0)).toEqual({ epoch: 0, endOffset: 2 });
    expect(partition.endOffsetForEpoch(1, 1)).toEqual({ epoch: 1, endOffset: 5 });
    cleanup();
  });
});
