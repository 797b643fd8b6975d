import { Admin, Producer, type RecordMetadata } from '@brook/client';
import { partitionForKey } from '@brook/types';
import { TestCluster } from './harness/TestCluster';
import { readPartition } from './harness/records';
import { waitFor } from './harness/waitFor';

jest.setTimeout(180_000);

/** @brook/client against a real controller and three real brokers. */
describe('@brook/client', () => {
  let cluster: TestCluster;
  let admin: Admin;

  beforeAll(async () => {
    cluster = await TestCluster.start();
    admin = new Admin({ controllerUrl: cluster.controllerUrl });
  });
  afterAll(async () => {
    await admin?.close();
    await cluster?.destroy();
  });

  async function createTopic(topic: string, partitions: number): Promise<void> {
    await admin.createTopic({ topic, partitions, replicationFactor: 3 });
    await cluster.waitForLeaders(topic, partitions);
  }

  /** Every acked record is read back once, at its offset, and each partition holds exactly those. */
  async function expectReadBack(topic: string, partitions: number, sent: Array<{ value: unknown; meta: RecordMetadata }>, brokerId = 1) {
    for (let p = 0; p < partitions; p++) {
      const mine = sent.filter((s) => s.meta.partition === p);
      const { records, highWatermark } = await readPartition(cluster.http, cluster.brokerUrl(brokerId), topic, p);
      expect(highWatermark).toBe(mine.length);
      expect(records.map((r) => r.offset)).toEqual(mine.map((_, i) => i));
      // In send order per partition: offsets grow with the send index.
      expect(mine.map((s) => s.meta.offset)).toEqual(mine.map((_, i) => i));
      expect(records.map((r) => r.value)).toEqual(mine.map((s) => s.value));
    }
  }

  test('10,000 sends with linger become far fewer produce requests, read back in order at their offsets', async () => {
    const topic = 'client-batching';
    await createTopic(topic, 3);
    const producer = new Producer({ controllerUrl: cluster.controllerUrl, lingerMs: 10 });
    await producer.connect();
    const values = Array.from({ length: 10_000 }, (_, i) => ({ i, pad: 'x'.repeat(80) }));
    const started = Date.now();
    const metas = await Promise.all(values.map((value) => producer.send({ topic, value })));
    const ms = Date.now() - started;
    await producer.disconnect();
    expect(producer.stats.recordsAcked).toBe(10_000);
    expect(producer.stats.requests).toBeLessThan(200);
    // Sticky partitioning spreads keyless records over the partitions.
    expect(new Set(metas.map((m) => m.partition)).size).toBeGreaterThan(1);
    await expectReadBack(topic, 3, values.map((value, i) => ({ value, meta: metas[i]! })));
    console.log(`client: 10000 sends (~100 B values, acks=all) in ${ms} ms = ${Math.round(10_000 / (ms / 1000))} records/s, ${producer.stats.requests} requests, ${producer.stats.batchesSent} batches`);
  });

  test('keyed records land on partitionForKey; headers, strings and Buffers round-trip', async () => {
    const topic = 'client-keys';
    await createTopic(topic, 4);
    const producer = new Producer({ controllerUrl: cluster.controllerUrl });
    await producer.connect();
    const keys = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    const metas = await Promise.all(keys.map((key) => producer.send({ topic, key, value: { key }, headers: { trace: key } })));
    metas.forEach((m, i) => expect(m.partition).toBe(partitionForKey(Buffer.from(keys[i]!), 4)));
    const str = await producer.send({ topic, partition: 0, value: 'plain text' });
    await producer.disconnect();
    const { records } = await readPartition(cluster.http, cluster.brokerUrl(2), topic, metas[0]!.partition);
    const first = records.find((r) => r.offset === metas[0]!.offset)!;
    expect(first).toMatchObject({ key: keys[0], value: { key: keys[0] }, headers: { trace: keys[0] } });
    const p0 = await readPartition(cluster.http, cluster.brokerUrl(1), topic, 0);
    expect(p0.records.find((r) => r.offset === str.offset)!.value).toBe('plain text');
  });

  test('a leader killed (-9) during a stream of sends (acks=all, idempotent): nothing lost, nothing duplicated', async () => {
    const topic = 'client-failover';
    await createTopic(topic, 3);
    const producer = new Producer({ controllerUrl: cluster.controllerUrl, lingerMs: 2, retries: 50, retryBackoffMs: 50, requestTimeoutMs: 15_000 });
    await producer.connect();
    const sent: Array<{ value: unknown; promise: Promise<RecordMetadata> }> = [];
    let stop = false;
    const stream = (async () => {
      for (let i = 0; !stop && i < 200_000; i++) {
        const value = { i };
        sent.push({ value, promise: producer.send({ topic, partition: i % 3, value }) });
        if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const killed: number[] = [];
    // Two rounds: kill -9 the leader of partition 0, then (once it is back) the leader of partition 1.
    for (const round of [0, 1]) {
      const ackedBefore = producer.stats.recordsAcked;
      await waitFor(async () => producer.stats.recordsAcked > ackedBefore + 2000, { timeoutMs: 30_000, what: 'acks before the kill' });
      const before = (await admin.describeTopic(topic)).partitions[round]!;
      const pid = await cluster.brokerPid(before.leader);
      cluster.signalPid(pid, 'SIGKILL');
      killed.push(before.leader);
      await waitFor(
        async () => {
          const now = (await admin.describeTopic(topic)).partitions[round]!;
          return now.leader !== before.leader && now.leader >= 0;
        },
        { timeoutMs: 30_000, what: 'a new leader' },
      );
      const ackedAtFailover = producer.stats.recordsAcked;
      await waitFor(async () => producer.stats.recordsAcked > ackedAtFailover + 2000, { timeoutMs: 30_000, what: 'acks after the failover' });
      // The controller restarts the killed broker.
      await cluster.waitForActiveBrokers(3);
    }
    stop = true;
    await stream;
    const metas = await Promise.all(sent.map((s) => s.promise));
    await producer.disconnect();
    expect(producer.stats.retries).toBeGreaterThan(0);
    const reader = [1, 2, 3].find((id) => !killed.includes(id)) ?? 1;
    // Each partition: exactly the records sent to it, once each, in send order, at their acked offsets.
    await expectReadBack(topic, 3, sent.map((s, i) => ({ value: s.value, meta: metas[i]! })), reader);
    console.log(`client failover: ${sent.length} sends, ${producer.stats.retries} batch retries, ${producer.stats.requests} requests`);
  });

  test('acks=1 without idempotence, and unknown topics and partitions are refused', async () => {
    const topic = 'client-acks1';
    await createTopic(topic, 2);
    const producer = new Producer({ controllerUrl: cluster.controllerUrl, acks: 1, idempotent: false });
    await producer.connect();
    expect(producer.producerIdentity.producerId).toBe(-1);
    const values = Array.from({ length: 500 }, (_, i) => i);
    const metas = await Promise.all(values.map((value) => producer.send({ topic, partition: 1, value })));
    await expect(producer.send({ topic: 'client-nope', value: 1 })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' });
    await expect(producer.send({ topic, partition: 5, value: 1 })).rejects.toMatchObject({ code: 'UNKNOWN_PARTITION' });
    await producer.disconnect();
    await waitFor(async () => (await readPartition(cluster.http, cluster.brokerUrl(1), topic, 1)).highWatermark === 500, { timeoutMs: 10_000, what: 'the high watermark' });
    await expectReadBack(topic, 2, values.map((value, i) => ({ value, meta: metas[i]! })));
  });

  test('backpressure: with a tiny bufferMemory, sends wait instead of buffering more', async () => {
    const topic = 'client-backpressure';
    await createTopic(topic, 2);
    const producer = new Producer({ controllerUrl: cluster.controllerUrl, bufferMemory: 4096, batchSize: 2048, lingerMs: 5 });
    await producer.connect();
    const values = Array.from({ length: 1000 }, (_, i) => `value-${i}-${'y'.repeat(90)}`);
    const metas = await Promise.all(values.map((value, i) => producer.send({ topic, partition: i % 2, value })));
    await producer.disconnect();
    expect(producer.stats.backpressureWaits).toBeGreaterThan(0);
    expect(producer.stats.maxBufferedBytes).toBeLessThanOrEqual(4096);
    await expectReadBack(topic, 2, values.map((value, i) => ({ value, meta: metas[i]! })));
  });

  test('Admin round trip: topics, brokers, cluster, groups', async () => {
    const created = await admin.createTopic({ topic: 'client-admin', partitions: 2, replicationFactor: 2, configs: { 'retention.ms': '3600000' } });
    expect(created.partitions).toHaveLength(2);
    expect((await admin.listTopics()).map((t) => t.name)).toContain('client-admin');
    const described = await admin.describeTopic('client-admin');
    expect(described.configs['retention.ms']).toBe('3600000');
    expect(described.partitions[0]!.replicas).toHaveLength(2);
    expect((await admin.brokers()).map((b) => b.id).sort()).toEqual([1, 2, 3]);
    expect((await admin.cluster()).name).toBe('default');
    // A group with a committed offset, then reset to earliest.
    await cluster.waitForLeaders('client-admin', 2);
    const producer = new Producer({ controllerUrl: cluster.controllerUrl });
    await producer.connect();
    await Promise.all([0, 1, 2].map((i) => producer.send({ topic: 'client-admin', partition: 0, value: i })));
    await producer.disconnect();
    // The first commit creates __consumer_offsets: retry while its coordinator loads.
    await waitFor(
      async () => (await cluster.http.post(`${cluster.brokerUrl(1)}/groups/client-g/offsets`, { offsets: [{ topic: 'client-admin', partition: 0, offset: 2 }] })).status === 200,
      { timeoutMs: 30_000, what: 'a committed offset' },
    );
    await waitFor(async () => (await admin.listGroups()).some((g) => g.groupId === 'client-g'), { timeoutMs: 10_000, what: 'the group listed' });
    expect((await admin.describeGroup('client-g')).offsets).toEqual(expect.arrayContaining([expect.objectContaining({ topic: 'client-admin', partition: 0, offset: 2 })]));
    const reset = await admin.resetOffsets('client-g', { to: 'earliest', topic: 'client-admin' });
    expect(reset.offsets).toEqual(expect.arrayContaining([expect.objectContaining({ partition: 0, offset: 0 })]));
    await admin.deleteTopic('client-admin');
    await expect(admin.describeTopic('client-admin')).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' });
  });
});
