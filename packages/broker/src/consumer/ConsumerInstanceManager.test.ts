import { BrookError, type ConsumedRecord } from '@brook/types';
import type { FetchQuery, FetchService } from '../fetch/FetchService';
import { GroupCoordinator } from '../group/GroupCoordinator';
import type { GroupService } from '../group/GroupService';
import type { MetadataCache } from '../metadata/MetadataCache';
import { ConsumerInstanceManager } from './ConsumerInstanceManager';

/** In-memory partitions behind a FetchService-shaped fake; the group calls go to a real coordinator. */
function setup(opts: { instanceTimeoutMs?: number } = {}) {
  const logs = new Map<string, { start: number; records: ConsumedRecord[] }>([
    ['t-0', { start: 0, records: [] }],
    ['t-1', { start: 0, records: [] }],
  ]);
  const log = (topic: string, p: number) => {
    const l = logs.get(`${topic}-${p}`);
    if (!l) throw new BrookError('UNKNOWN_PARTITION', `no ${topic}-${p}`);
    return l;
  };
  const append = (p: number, n: number) => {
    const l = log('t', p);
    for (let i = 0; i < n; i++) l.records.push({ offset: l.start + l.records.length, key: null, value: `p${p}-${l.start + l.records.length}`, timestamp: 1000 + l.records.length, headers: {} });
  };
  const fetch = {
    async fetchRecords(q: FetchQuery) {
      const l = log(q.topic, q.partition);
      const end = l.start + l.records.length;
      if (q.offset < l.start || q.offset > end) throw new BrookError('OFFSET_OUT_OF_RANGE', 'out of range', { earliest: l.start, latest: end });
      if (q.offset === end && q.maxWaitMs > 0) await new Promise((r) => setTimeout(r, Math.min(q.maxWaitMs, 20)));
      return { records: l.records.filter((r) => r.offset >= q.offset).slice(0, q.maxRecords), high_watermark: end };
    },
    async offsets(topic: string, p: number) {
      const l = log(topic, p);
      return { partition: p, earliest: l.start, latest: l.start + l.records.length };
    },
    async offsetForTimestamp(topic: string, p: number, ts: number) {
      const l = log(topic, p);
      const r = l.records.find((x) => x.timestamp >= ts);
      return { partition: p, offset: r ? r.offset : l.start + l.records.length };
    },
  } as unknown as FetchService;
  const coordinator = new GroupCoordinator({
    store: { append: async () => undefined },
    topics: { partitionCount: (t) => (t === 't' ? 2 : undefined) },
    numOffsetsPartitions: 1,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 50,
  });
  coordinator.loadPartition(0, []);
  const groups = { route: async (_g: string, _f: boolean, local: (c: GroupCoordinator) => unknown) => local(coordinator) } as unknown as GroupService;
  const metadata = {
    async requireTopic(name: string) {
      if (name !== 't') throw new BrookError('UNKNOWN_TOPIC', `no topic ${name}`);
      return { name, partitions: [{ partition: 0 }, { partition: 1 }] };
    },
    async requirePartition(name: string, p: number) {
      if (name !== 't' || p > 1) throw new BrookError('UNKNOWN_PARTITION', `no ${name}-${p}`);
      return {};
    },
  } as unknown as MetadataCache;
  const manager = new ConsumerInstanceManager(groups, fetch, metadata, { instanceTimeoutMs: opts.instanceTimeoutMs ?? 60_000, tickMs: 10 });
  return { manager, coordinator, logs, append };
}

async function until(probe: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('ConsumerInstanceManager', () => {
  test('poll reads every assigned partition round-robin, advances positions and auto-commits', async () => {
    const { manager, coordinator, append } = setup();
    append(0, 3);
    append(1, 2);
    manager.create('g', { name: 'a', autoOffsetReset: 'earliest' });
    await manager.subscribe('g', 'a', ['t']);
    const first = await manager.poll('g', 'a', { maxRecords: 2 });
    expect(first).toHaveLength(2);
    const rest = await manager.poll('g', 'a', { maxRecords: 10 });
    expect([...first, ...rest].map((r) => r.value).sort()).toEqual(['p0-0', 'p0-1', 'p0-2', 'p1-0', 'p1-1']);
    expect(coordinator.fetchOffsets('g').map((o) => [o.partition, o.offset]).sort()).toEqual([[0, 3], [1, 2]]);
    expect(await manager.poll('g', 'a', { timeoutMs: 50 })).toEqual([]);
    await manager.stop();
  });

  test('without auto-commit nothing is committed until asked; a new instance resumes from the commit', async () => {
    const { manager, coordinator, append } = setup();
    append(0, 4);
    manager.create('g', { name: 'a', autoOffsetReset: 'earliest', autoCommit: false });
    await manager.subscribe('g', 'a', ['t']);
    expect(await manager.poll('g', 'a', { maxRecords: 10 })).toHaveLength(4);
    expect(coordinator.fetchOffsets('g')).toEqual([]);
    await manager.commit('g', 'a', [{ topic: 't', partition: 0, offset: 2 }]);
    await manager.delete('g', 'a');
    expect(coordinator.describeGroup('g').members).toHaveLength(0);
    manager.create('g', { name: 'b', autoOffsetReset: 'latest' });
    await manager.subscribe('g', 'b', ['t']);
    expect((await manager.poll('g', 'b')).map((r) => r.offset)).toEqual([2, 3]);
    await expect(manager.commit('g', 'b', [{ topic: 't', partition: 0, offset: -1 }])).rejects.toMatchObject({ code: 'INVALID_OFFSET' });
    await manager.stop();
  });

  test('a new instance takes a partition over at the position the old one had reached (auto-commit)', async () => {
    const { manager, coordinator, append } = setup();
    append(0, 3);
    append(1, 3);
    manager.create('g', { name: 'a', autoOffsetReset: 'earliest' });
    await manager.subscribe('g', 'a', ['t']);
    expect(await manager.poll('g', 'a', { maxRecords: 10 })).toHaveLength(6);
    // Positions not committed yet when the rebalance comes.
    await manager.seek('g', 'a', [{ topic: 't', partition: 0, offset: 1 }, { topic: 't', partition: 1, offset: 2 }]);
    manager.create('g', { name: 'b', autoOffsetReset: 'latest' });
    await manager.subscribe('g', 'b', ['t']);
    await until(() => manager.describe('g', 'b').assignment.length === 1);
    expect(manager.describe('g', 'a').assignment).toHaveLength(1);
    const [moved] = manager.describe('g', 'b').assignment;
    const resumed = await manager.poll('g', 'b', { maxRecords: 10 });
    expect(resumed.map((r) => r.offset)).toEqual(moved!.partition === 0 ? [1, 2] : [2]);
    expect(coordinator.describeGroup('g').state).toBe('Stable');
    await manager.stop();
  });

  test('an idle instance expires and leaves its group', async () => {
    const { manager, coordinator } = setup({ instanceTimeoutMs: 150 });
    manager.create('g', { name: 'idle' });
    await manager.subscribe('g', 'idle', ['t']);
    const epoch = coordinator.describeGroup('g').members[0]!.memberEpoch;
    expect(epoch).toBeGreaterThan(0);
    await until(() => !manager.exists('g', 'idle'));
    await until(() => coordinator.describeGroup('g').members.length === 0);
    await expect(manager.poll('g', 'idle')).rejects.toMatchObject({ code: 'UNKNOWN_CONSUMER_INSTANCE' });
    await manager.stop();
  });

  test('a member whose session expired rejoins at its next poll and reads on from the committed offsets', async () => {
    const { manager, coordinator, append } = setup();
    append(0, 3);
    manager.create('g', { name: 'a', autoOffsetReset: 'latest' });
    await manager.subscribe('g', 'a', ['t']);
    await manager.seekTo('g', 'a', 'beginning', [{ topic: 't', partition: 0 }]);
    expect(await manager.poll('g', 'a', { maxRecords: 2 })).toHaveLength(2);
    coordinator.expireMembers(Date.now() + 60_000);
    expect(coordinator.describeGroup('g').members).toHaveLength(0);
    append(0, 1);
    await until(() => coordinator.describeGroup('g').members.length === 1);
    const after = await manager.poll('g', 'a', { maxRecords: 10 });
    expect(after.map((r) => r.offset)).toEqual([2, 3]);
    await manager.stop();
  });

  test('out-of-range positions reset to auto.offset.reset; seeks move positions', async () => {
    const { manager, logs, append } = setup();
    append(0, 5);
    manager.create('g', { name: 'a', autoOffsetReset: 'earliest' });
    await manager.subscribe('g', 'a', ['t']);
    await manager.seek('g', 'a', [{ topic: 't', partition: 0, offset: 99 }]);
    // Retention removed the first two records meanwhile.
    const l = logs.get('t-0')!;
    l.records.splice(0, 2);
    l.start = 2;
    expect((await manager.poll('g', 'a', { maxRecords: 10 })).map((r) => r.offset)).toEqual([2, 3, 4]);
    await manager.seekTo('g', 'a', 'beginning', [{ topic: 't', partition: 0 }]);
    expect(manager.positions('g', 'a').find((p) => p.partition === 0)!.offset).toBe(2);
    await manager.seek('g', 'a', [{ topic: 't', partition: 0, timestamp: 1003 }]);
    expect((await manager.poll('g', 'a', { maxRecords: 1 }))[0]!.offset).toBe(3);
    await expect(manager.seek('g', 'a', [{ topic: 't', partition: 0, offset: -3 }])).rejects.toMatchObject({ code: 'INVALID_OFFSET' });
    await expect(manager.subscribe('g', 'a', ['nope'])).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' });
    await manager.stop();
  });
});
