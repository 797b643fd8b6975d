import { BrookError, type MetadataFetchResponse, type PartitionRecord } from '@brook/types';
import type { QuorumController } from './QuorumController';
import { alterIsr, heartbeat, startBroker, testController, waitUntil } from './testing';

async function threeBrokers(options: Parameters<typeof testController>[0] = {}) {
  const t = testController(options);
  const epochs = new Map<number, number>();
  for (const id of [1, 2, 3]) epochs.set(id, await startBroker(t.controller, id));
  return { ...t, epochs };
}

function partitions(controller: QuorumController, topic: string): PartitionRecord[] {
  return controller.log.topicByName('default', topic)!.partitions;
}

function expectCode(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(BrookError);
  expect((thrown as BrookError).code).toBe(code);
}

async function expectRejects(p: Promise<unknown>, code: string): Promise<void> {
  await expect(p).rejects.toMatchObject({ code });
}

describe('broker registration and heartbeats', () => {
  it('registers fenced, unfences once caught up, and is idempotent for the same incarnation', async () => {
    const { controller, log } = testController();
    const request = { brokerId: 1, cluster: 'default', host: 'localhost', port: 9001, incarnationId: 'a', rack: null };
    const { brokerEpoch } = controller.registerBroker(request);
    expect(brokerEpoch).toBe(log.highOffset);
    expect(log.broker(1)!.state).toBe('fenced');
    const count = log.recordCount;
    expect(controller.registerBroker(request)).toEqual({ brokerId: 1, brokerEpoch });
    expect(log.recordCount).toBe(count);

    // Still catching up (wantFence) → stays fenced; a snapshot first since it has nothing.
    const first = await heartbeat(controller, 1, brokerEpoch, -1, { wantFence: true });
    expect(first).toMatchObject({ kind: 'snapshot', isFenced: true, shouldShutDown: false });
    // Behind its own registration → stays fenced.
    expect((await heartbeat(controller, 1, brokerEpoch, brokerEpoch - 1)).isFenced).toBe(true);
    const caughtUp = await heartbeat(controller, 1, brokerEpoch, first.lastOffset);
    expect(caughtUp.isFenced).toBe(false);
    expect(log.broker(1)!.state).toBe('active');
    // The unfence record is in the answer, so the broker learns it at once.
    expect(caughtUp.kind === 'delta' && caughtUp.records.map((r) => r.type)).toEqual(['BrokerRegistrationChangeRecord']);
  });

  it('refuses unknown brokers and stale epochs', async () => {
    const { controller } = await threeBrokers();
    await expectRejects(heartbeat(controller, 9, 0, -1), 'UNKNOWN_BROKER');
    const epoch = controller.log.broker(1)!.brokerEpoch;
    await expectRejects(heartbeat(controller, 1, epoch + 1, -1), 'STALE_BROKER_EPOCH');
    expectCode(() => controller.allocateProducerIds(1, epoch - 1), 'STALE_BROKER_EPOCH');
  });

  it('replaces an old incarnation at once: fenced first (leadership moves), then registered fenced', async () => {
    const { controller, log, epochs } = await threeBrokers();
    controller.replication.createTopic({ name: 't', partitions: 3, replicationFactor: 3 });
    const led = partitions(controller, 't').filter((p) => p.leader === 2);
    expect(led.length).toBe(1);
    const { brokerEpoch } = controller.registerBroker({ brokerId: 2, cluster: 'default', host: 'localhost', port: 9002, incarnationId: 'new', rack: null });
    expect(brokerEpoch).toBeGreaterThan(epochs.get(2)!);
    expect(log.broker(2)).toMatchObject({ brokerEpoch, incarnationId: 'new', state: 'fenced' });
    for (const p of partitions(controller, 't')) {
      expect(p.leader).not.toBe(2);
      expect(p.isr).not.toContain(2);
    }
    // The old process is refused and re-registers.
    await expectRejects(heartbeat(controller, 2, epochs.get(2)!, log.highOffset), 'STALE_BROKER_EPOCH');
  });

  it('keeps a managed cluster\'s broker ids to that cluster', () => {
    const { controller } = testController();
    controller.clusters.createCluster({ name: 'blue', logDirectory: 'blue', numBrokers: 2, defaultPartitions: 1, retentionMs: 1000 }, true, [7001, 7002]);
    const blue = controller.log.cluster('blue')!;
    expect(blue.brokerIds).toEqual([1, 2]);
    const count = controller.log.recordCount;
    expectCode(
      () => controller.registerBroker({ brokerId: 2, cluster: 'default', host: 'h', port: 1, incarnationId: 'x', rack: null }),
      'BROKER_ID_CONFLICT',
    );
    expectCode(
      () => controller.registerBroker({ brokerId: 3, cluster: 'nope', host: 'h', port: 1, incarnationId: 'x', rack: null }),
      'UNKNOWN_CLUSTER',
    );
    controller.registerBroker({ brokerId: 2, cluster: 'blue', host: 'h', port: 1, incarnationId: 'x', rack: null });
    controller.registerBroker({ brokerId: 5, cluster: 'default', host: 'h', port: 1, incarnationId: 'y', rack: null });
    expectCode(
      () => controller.registerBroker({ brokerId: 5, cluster: 'blue', host: 'h', port: 1, incarnationId: 'z', rack: null }),
      'BROKER_ID_CONFLICT',
    );
    expect(controller.log.recordCount).toBe(count + 2);
    // The next managed cluster gets ids nobody reserved or registered.
    expect(controller.clusters.nextFreeBrokerIds(3)).toEqual([3, 4, 6]);
  });

  it('fences an active broker that asks to be fenced', async () => {
    const { controller, log, epochs } = await threeBrokers();
    const answer = await heartbeat(controller, 3, epochs.get(3)!, log.highOffset, { wantFence: true });
    expect(answer.isFenced).toBe(true);
    expect(log.broker(3)!.state).toBe('fenced');
  });
});

describe('delta or snapshot', () => {
  it('answers -1 and out-of-range offsets with a snapshot, otherwise with the missing records', async () => {
    const { controller, log } = await threeBrokers();
    const high = log.highOffset;
    expect(controller.updatesFor('default', -1)).toMatchObject({ kind: 'snapshot', lastOffset: high });
    expect(controller.updatesFor('default', high + 5).kind).toBe('snapshot');
    expect(controller.updatesFor('default', high)).toEqual({ kind: 'delta', records: [], lastOffset: high });
    controller.replication.createTopic({ name: 't', partitions: 2 });
    const delta = controller.updatesFor('default', high);
    expect(delta.kind).toBe('delta');
    expect(delta.kind === 'delta' && delta.records.map((r) => r.type)).toEqual(['TopicRecord', 'PartitionRecord', 'PartitionRecord']);
    expect(delta.lastOffset).toBe(log.highOffset);
    // Records no longer kept → snapshot.
    log.deleteRecordsBefore(high + 2);
    expect(controller.updatesFor('default', high).kind).toBe('snapshot');
    expect(controller.updatesFor('default', high + 1).kind).toBe('delta');
  });

  it('sends a snapshot when the first missing record is older than metadataDeltaMaxAgeMs', async () => {
    const { controller, log, clock } = await threeBrokers({ metadataDeltaMaxAgeMs: 1000 });
    const before = log.highOffset;
    controller.replication.createTopic({ name: 't' });
    clock.advance(999);
    expect(controller.updatesFor('default', before).kind).toBe('delta');
    clock.advance(2);
    expect(controller.updatesFor('default', before).kind).toBe('snapshot');
    // Up to date: nothing is missing, so nothing is too old.
    expect(controller.updatesFor('default', log.highOffset)).toEqual({ kind: 'delta', records: [], lastOffset: log.highOffset });
    // By timestamp (broker_mgmt): the offset at that time, then the same rule.
    expect(controller.metadataUpdates({ timestamp: clock.now() }).kind).toBe('delta');
    expect(controller.metadataUpdates({ timestamp: clock.now() - 5000 }).kind).toBe('snapshot');
  });

  it('skips other clusters\' records but moves the broker past them', async () => {
    const { controller, log } = await threeBrokers();
    controller.clusters.createCluster({ name: 'other', logDirectory: 'other', numBrokers: 1, defaultPartitions: 1, retentionMs: 1 }, false, []);
    const before = log.highOffset - 1;
    const answer = controller.updatesFor('default', before);
    expect(answer).toEqual({ kind: 'delta', records: [], lastOffset: log.highOffset });
    expect(controller.updatesFor('other', before).kind === 'delta' && controller.updatesFor('other', before)).toMatchObject({
      records: [{ type: 'ClusterRecord', cluster: 'other' }],
    });
  });

  it('caps a delta and continues from its last record', async () => {
    const { controller, log } = await threeBrokers({ maxDeltaRecords: 2 });
    const before = log.highOffset;
    controller.replication.createTopic({ name: 't', partitions: 3 });
    const first = controller.updatesFor('default', before);
    expect(first.kind === 'delta' && first.records.length).toBe(2);
    expect(first.lastOffset).toBe(before + 2);
    const second = controller.updatesFor('default', first.lastOffset);
    expect(second.kind === 'delta' && second.records.map((r) => r.offset)).toEqual([before + 3, before + 4]);
  });
});

describe('long poll', () => {
  it('answers a held fetch as soon as a relevant record is appended', async () => {
    const { controller, log, epochs } = await threeBrokers();
    const high = log.highOffset;
    const started = Date.now();
    const fetch = heartbeat(controller, 1, epochs.get(1)!, high, { maxWaitMs: 10_000 });
    let settled: MetadataFetchResponse | undefined;
    void fetch.then((r) => (settled = r));
    // Another cluster's record does not wake it.
    expect(controller.heldFetches).toBe(1);
    controller.clusters.createCluster({ name: 'other', logDirectory: 'other', numBrokers: 1, defaultPartitions: 1, retentionMs: 1 }, false, []);
    await new Promise((r) => setImmediate(r));
    expect(settled).toBeUndefined();
    expect(controller.heldFetches).toBe(1);
    controller.replication.createTopic({ name: 't' });
    const answer = await fetch;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(answer.kind).toBe('delta');
    expect(answer.kind === 'delta' && answer.records.map((r) => r.type)).toEqual(['TopicRecord', 'PartitionRecord']);
    expect(answer.lastOffset).toBe(log.highOffset);
  });

  it('answers with an empty delta when maxWaitMs passes, and on abort', async () => {
    const { controller, log, epochs } = await threeBrokers();
    const started = Date.now();
    const answer = await heartbeat(controller, 1, epochs.get(1)!, log.highOffset, { maxWaitMs: 60 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    expect(answer).toEqual({ kind: 'delta', records: [], lastOffset: log.highOffset, isFenced: false, shouldShutDown: false });

    const abort = new AbortController();
    const held = controller.metadataFetch(
      { brokerId: 1, brokerEpoch: epochs.get(1)!, lastOffset: log.highOffset, maxWaitMs: 30_000, wantFence: false, wantShutDown: false },
      abort.signal,
    );
    abort.abort();
    expect((await held).kind).toBe('delta');
  });

  it('keeps the session of a broker whose fetch is held, and fences it once it stops fetching', async () => {
    const { controller, log, clock, epochs } = await threeBrokers();
    const held = heartbeat(controller, 1, epochs.get(1)!, log.highOffset, { maxWaitMs: 10_000 });
    clock.advance(20_000);
    await heartbeat(controller, 2, epochs.get(2)!, log.highOffset);
    await heartbeat(controller, 3, epochs.get(3)!, log.highOffset);
    expect(controller.fenceExpiredBrokers()).toEqual([]);
    controller.stop(); // answers held fetches
    await held;
    clock.advance(6001);
    expect(controller.fenceExpiredBrokers()).toEqual([1, 2, 3]);
  });
});

describe('topics', () => {
  it('places replicas with balanced leaders and an ISR of all the replicas', async () => {
    const { controller } = await threeBrokers();
    const topic = controller.replication.createTopic({ name: 'orders', partitions: 6 });
    const leaders = topic.partitions.map((p) => p.leader);
    for (const id of [1, 2, 3]) expect(leaders.filter((l) => l === id)).toHaveLength(2);
    for (const p of topic.partitions) {
      expect(new Set(p.replicas).size).toBe(3);
      expect(p.leader).toBe(p.replicas[0]);
      // Every replica of a new partition is empty, so all are in sync (Kafka's rule).
      expect(p.isr).toEqual(p.replicas);
      expect(p).toMatchObject({ leaderEpoch: 0, partitionEpoch: 0 });
    }
    // min.insync.replicas defaults to min(2, replication factor).
    expect(topic.configs).toEqual({ 'retention.ms': String(168 * 3_600_000), 'min.insync.replicas': '2' });
    const more = controller.replication.createPartitions({ topic: 'orders', cluster: 'default', count: 2 });
    expect(more.created).toEqual([6, 7]);
    expect(more.topic.partitions).toHaveLength(8);
    for (const p of more.topic.partitions.slice(6)) {
      expect(new Set(p.replicas).size).toBe(3);
      expect(p.isr).toEqual(p.replicas);
      expect(p).toMatchObject({ leader: p.replicas[0], leaderEpoch: 0, partitionEpoch: 0 });
    }
    // Never above the replication factor, and a value the request sets is kept.
    const single = controller.replication.createTopic({ name: 'single', partitions: 1, replicationFactor: 1 });
    expect(single.configs['min.insync.replicas']).toBe('1');
    expect(single.partitions[0]).toMatchObject({ isr: single.partitions[0]!.replicas });
    const explicit = controller.replication.createTopic({ name: 'explicit', configs: { 'min.insync.replicas': '1' } });
    expect(explicit.configs['min.insync.replicas']).toBe('1');
  });

  it('defaults the replication factor to min(3, live brokers) and names are unique per cluster', async () => {
    const { controller } = testController();
    await startBroker(controller, 1);
    await startBroker(controller, 2);
    expect(controller.replication.createTopic({ name: 't' }).partitions[0]!.replicas).toHaveLength(2);
    expectCode(() => controller.replication.createTopic({ name: 't' }), 'TOPIC_ALREADY_EXISTS');
    controller.clusters.createCluster({ name: 'other', logDirectory: 'other', numBrokers: 1, defaultPartitions: 4, retentionMs: 5 }, false, []);
    await startBroker(controller, 3, 'other');
    const other = controller.replication.createTopic({ name: 't', cluster: 'other' });
    expect(other.partitions).toHaveLength(4);
    expect(other.configs['retention.ms']).toBe('5');
  });

  it('changes nothing on a bad create', async () => {
    const { controller, log } = await threeBrokers();
    controller.replication.createTopic({ name: 'exists' });
    const count = log.recordCount;
    const snapshot = log.snapshot();
    const bad: Array<[Parameters<typeof controller.replication.createTopic>[0], string]> = [
      [{ name: '../x' }, 'INVALID_TOPIC_NAME'],
      [{ name: 'a/b' }, 'INVALID_TOPIC_NAME'],
      [{ name: '..' }, 'INVALID_TOPIC_NAME'],
      [{ name: '.' }, 'INVALID_TOPIC_NAME'],
      [{ name: '' }, 'INVALID_TOPIC_NAME'],
      [{ name: 'x'.repeat(250) }, 'INVALID_TOPIC_NAME'],
      [{ name: 42 }, 'INVALID_TOPIC_NAME'],
      [{ name: 'ok', cluster: 'nope' }, 'UNKNOWN_CLUSTER'],
      [{ name: 'exists' }, 'TOPIC_ALREADY_EXISTS'],
      [{ name: 'ok', partitions: 0 }, 'INVALID_PARTITIONS'],
      [{ name: 'ok', partitions: 10_001 }, 'INVALID_PARTITIONS'],
      [{ name: 'ok', partitions: 1.5 }, 'INVALID_PARTITIONS'],
      [{ name: 'ok', replicationFactor: 4 }, 'INVALID_REPLICATION_FACTOR'],
      [{ name: 'ok', replicationFactor: 0 }, 'INVALID_REPLICATION_FACTOR'],
      [{ name: 'ok', configs: { 'retention.hours': '1' } }, 'INVALID_REQUEST'],
      [{ name: 'ok', configs: { 'retention.ms': 'soon' } }, 'INVALID_REQUEST'],
      [{ name: 'ok', configs: { 'cleanup.policy': 'shred' } }, 'INVALID_REQUEST'],
    ];
    for (const [input, code] of bad) expectCode(() => controller.replication.createTopic(input), code);
    expectCode(() => controller.replication.createPartitions({ topic: 'exists', count: 0 }), 'INVALID_PARTITIONS');
    expectCode(() => controller.replication.createPartitions({ topic: 'nope', count: 1 }), 'UNKNOWN_TOPIC');
    expect(log.recordCount).toBe(count);
    expect(log.snapshot()).toEqual(snapshot);
  });

  it('refuses topic creation while no broker is live', () => {
    const { controller, log } = testController();
    const count = log.recordCount;
    expectCode(() => controller.replication.createTopic({ name: 't' }), 'BROKER_NOT_AVAILABLE');
    expect(log.recordCount).toBe(count);
  });
});

describe('AlterPartition and the admin update', () => {
  it('lets only the current leader change the ISR, under the current epochs', async () => {
    const { controller, epochs } = await threeBrokers();
    const topic = controller.replication.createTopic({ name: 't', partitions: 1 });
    const p = topic.partitions[0]!;
    const follower = p.replicas[1]!;
    const base = {
      brokerId: p.leader,
      brokerEpoch: epochs.get(p.leader)!,
      topicId: topic.topicId,
      partition: 0,
      leaderEpoch: 0,
      partitionEpoch: 0,
    };
    const grown = controller.alterPartition({ ...base, isr: [p.leader, follower] });
    expect(grown).toMatchObject({ isr: [p.leader, follower], leaderEpoch: 0, partitionEpoch: 1, topic: 't' });
    const count = controller.log.recordCount;
    expectCode(() => controller.alterPartition({ ...base, isr: [p.leader] }), 'STALE_PARTITION_EPOCH');
    expectCode(() => controller.alterPartition({ ...base, partitionEpoch: 1, leaderEpoch: 1, isr: [p.leader] }), 'FENCED_LEADER_EPOCH');
    expectCode(
      () => controller.alterPartition({ ...base, brokerId: follower, brokerEpoch: epochs.get(follower)!, partitionEpoch: 1, isr: [follower] }),
      'NOT_LEADER',
    );
    expectCode(() => controller.alterPartition({ ...base, brokerEpoch: 999, partitionEpoch: 1, isr: [p.leader] }), 'STALE_BROKER_EPOCH');
    expectCode(() => controller.alterPartition({ ...base, partitionEpoch: 1, isr: [follower] }), 'INVALID_REQUEST');
    expectCode(() => controller.alterPartition({ ...base, partitionEpoch: 1, isr: [p.leader, 9] }), 'INVALID_REQUEST');
    expectCode(() => controller.alterPartition({ ...base, partitionEpoch: 1, isr: [p.leader, p.leader] }), 'INVALID_REQUEST');
    expectCode(() => controller.alterPartition({ ...base, partition: 5, partitionEpoch: 1, isr: [p.leader] }), 'UNKNOWN_PARTITION');
    expectCode(() => controller.alterPartition({ ...base, topicId: 'nope', isr: [p.leader] }), 'UNKNOWN_TOPIC');
    expect(controller.log.recordCount).toBe(count);
    // A fenced replica cannot join the ISR.
    controller.clusters.fenceBroker(p.replicas[2]!);
    expectCode(() => controller.alterPartition({ ...base, partitionEpoch: 1, isr: [...p.replicas] }), 'INVALID_REQUEST');
    expect(controller.alterPartition({ ...base, partitionEpoch: 1, isr: [p.leader] })).toMatchObject({ isr: [p.leader], partitionEpoch: 2 });
  });

  it('lets an operator move leadership and replicas, checked against the partition epoch', async () => {
    const { controller } = await threeBrokers();
    const created = controller.replication.createTopic({ name: 't', partitions: 1 }).partitions[0]!;
    const other = created.replicas[1]!;
    // The leader drops its third replica from the ISR (the real AlterPartition path): partition epoch 1.
    const p = alterIsr(controller, created.topicId, 0, [created.leader, other]);
    expect(p).toMatchObject({ isr: [created.leader, other], leader: created.leader, leaderEpoch: 0, partitionEpoch: 1 });
    expectCode(() => controller.replication.updatePartition({ topic: 't', partition: 0, leader: other, partitionEpoch: 0 }), 'STALE_PARTITION_EPOCH');
    const moved = controller.replication.updatePartition({ topic: 't', partition: 0, leader: other, partitionEpoch: 1 });
    expect(moved).toMatchObject({ leader: other, leaderEpoch: 1, partitionEpoch: 2 });
    const shrunk = controller.replication.updatePartition({ topic: 't', partition: 0, replicas: [other, p.leader] });
    expect(shrunk).toMatchObject({ replicas: [other, p.leader], isr: [p.leader, other], leader: other, leaderEpoch: 1, partitionEpoch: 3 });
    const count = controller.log.recordCount;
    expectCode(() => controller.replication.updatePartition({ topic: 't', partition: 0, leader: 99 }), 'INVALID_REQUEST');
    expectCode(() => controller.replication.updatePartition({ topic: 't', partition: 0, isr: [p.replicas[2]!] }), 'INVALID_REQUEST');
    expectCode(() => controller.replication.updatePartition({ topic: 't', partition: 0, replicas: [1, 1] }), 'INVALID_REQUEST');
    expectCode(() => controller.replication.updatePartition({ topic: 't', partition: 0, replicas: [42] }), 'UNKNOWN_BROKER');
    expect(controller.log.recordCount).toBe(count);
  });
});

describe('liveness', () => {
  it('fences a broker whose session expired: leadership moves to the live ISR, or the partition goes offline', async () => {
    const { controller, log, clock, epochs } = await threeBrokers();
    controller.replication.createTopic({ name: 'replicated', partitions: 3 });
    for (const p of partitions(controller, 'replicated')) expect(p.isr).toEqual(p.replicas);
    controller.replication.createTopic({ name: 'single', partitions: 3 });
    // Each leader of 'single' shrinks its ISR to itself (followers fell behind), through AlterPartition.
    for (const p of partitions(controller, 'single')) {
      expect(alterIsr(controller, p.topicId, p.partition, [p.leader])).toMatchObject({ isr: [p.leader], leaderEpoch: 0, partitionEpoch: 1 });
    }
    const before = new Map(
      [...partitions(controller, 'replicated'), ...partitions(controller, 'single')].map((p) => [`${p.topicId}-${p.partition}`, p]),
    );
    // Broker 2 leads one partition of each topic, so both failover paths below are taken.
    expect([...before.values()].filter((p) => p.leader === 2)).toHaveLength(2);
    clock.advance(5000);
    await heartbeat(controller, 1, epochs.get(1)!, log.highOffset);
    await heartbeat(controller, 3, epochs.get(3)!, log.highOffset);
    clock.advance(1500);
    expect(controller.fenceExpiredBrokers()).toEqual([2]);
    expect(log.broker(2)!.state).toBe('fenced');
    expect(controller.fenceExpiredBrokers()).toEqual([]);

    for (const p of partitions(controller, 'replicated')) {
      const old = before.get(`${p.topicId}-${p.partition}`)!;
      expect(p.isr).toEqual(old.isr.filter((id) => id !== 2));
      if (old.leader === 2) {
        expect(p.leader).toBe(old.replicas.find((id) => id !== 2));
        expect(p.leaderEpoch).toBe(old.leaderEpoch + 1);
        expect(p.partitionEpoch).toBe(old.partitionEpoch + 1);
      } else {
        expect(p.leader).toBe(old.leader);
        expect(p.leaderEpoch).toBe(old.leaderEpoch);
        expect(p.partitionEpoch).toBe(old.partitionEpoch + 1);
      }
    }
    for (const p of partitions(controller, 'single')) {
      const old = before.get(`${p.topicId}-${p.partition}`)!;
      if (old.leader === 2) {
        // Its only in-sync replica is gone: offline, ISR kept, no unclean election.
        expect(p).toMatchObject({ leader: -1, isr: [2], leaderEpoch: old.leaderEpoch + 1, partitionEpoch: old.partitionEpoch + 1 });
      } else {
        expect(p).toEqual(old);
      }
    }

    // Back (same registration, caught up): unfenced and elected for its offline partitions.
    const back = await heartbeat(controller, 2, epochs.get(2)!, log.highOffset);
    expect(back.isFenced).toBe(false);
    for (const p of partitions(controller, 'single')) expect(p.leader).not.toBe(-1);
    const reElected = partitions(controller, 'single').find((p) => before.get(`${p.topicId}-${p.partition}`)!.leader === 2)!;
    expect(reElected).toMatchObject({ leader: 2, isr: [2] });
    expect(reElected.leaderEpoch).toBe(2);
  });

  it('starts every registered broker with a fresh session after a controller restart', async () => {
    const first = await threeBrokers();
    first.clock.advance(60_000);
    const restarted = testController({ log: first.log, now: first.clock.now });
    expect(restarted.controller.fenceExpiredBrokers()).toEqual([]);
    first.clock.advance(6001);
    expect(restarted.controller.fenceExpiredBrokers()).toEqual([1, 2, 3]);
  });

  it('runs the liveness check on a timer', async () => {
    const { controller, log, clock } = await threeBrokers({ livenessCheckIntervalMs: 10 });
    controller.start();
    try {
      clock.advance(7000);
      await waitUntil(() => log.brokers().every((b) => b.state === 'fenced'), 5000, 'the timer to fence the brokers');
      expect(log.brokers().map((b) => b.state)).toEqual(['fenced', 'fenced', 'fenced']);
    } finally {
      controller.stop();
    }
  });

  it('moves leadership away on controlled shutdown, then lets the broker stop', async () => {
    const { controller, log, epochs } = await threeBrokers();
    controller.replication.createTopic({ name: 'replicated', partitions: 3 });
    for (const p of partitions(controller, 'replicated')) expect(p.isr).toEqual(p.replicas);
    controller.replication.createTopic({ name: 'single', partitions: 3 });
    // Each leader of 'single' shrinks its ISR to itself, through AlterPartition.
    for (const p of partitions(controller, 'single')) alterIsr(controller, p.topicId, p.partition, [p.leader]);
    const answer = await heartbeat(controller, 1, epochs.get(1)!, log.highOffset, { wantShutDown: true, maxWaitMs: 5000 });
    expect(answer.shouldShutDown).toBe(true);
    expect(log.countPartitionsLedBy(1)).toBe(0);
    for (const p of partitions(controller, 'replicated')) {
      expect(p.leader).not.toBe(1);
      expect(p.leader).not.toBe(-1);
      expect(p.isr).not.toContain(1);
    }
    const offline = partitions(controller, 'single').filter((p) => p.leader === -1);
    expect(offline).toHaveLength(1);
    expect(offline[0]!.isr).toEqual([1]);
    expect(log.broker(1)!.state).toBe('fenced');
    const changes = log.readRecords({ type: 'BrokerRegistrationChangeRecord', afterOffset: log.highOffset - 10 }).map((r) => r.payload);
    expect(changes).toEqual(expect.arrayContaining([expect.objectContaining({ brokerId: 1, inControlledShutdown: true })]));
  });

  it('unregisters a broker: fenced first, then removed', async () => {
    const { controller, log } = await threeBrokers();
    controller.replication.createTopic({ name: 't', partitions: 3 });
    controller.clusters.unregisterBroker(3);
    expect(log.broker(3)).toBeUndefined();
    for (const p of partitions(controller, 't')) expect([p.leader, ...p.isr]).not.toContain(3);
    expectCode(() => controller.clusters.unregisterBroker(3), 'UNKNOWN_BROKER');
  });
});

describe('producer ids', () => {
  it('hands out ids once: single ids to clients, blocks of 1000 to brokers', async () => {
    const { controller, epochs } = await threeBrokers();
    expect(controller.producerIds.registerProducer()).toEqual({ producerId: 0, producerEpoch: 0 });
    expect(controller.allocateProducerIds(1, epochs.get(1)!)).toEqual({ firstProducerId: 1, size: 1000 });
    expect(controller.producerIds.registerProducer()).toEqual({ producerId: 1001, producerEpoch: 0 });
    expect(controller.log.nextProducerId).toBe(1002);
  });
});
