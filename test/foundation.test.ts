import { partitionForKey } from '@brook/types';
import { expectExactlyProduced, type ProducedRecord } from './harness/records';
import { TestCluster } from './harness/TestCluster';
import { waitFor } from './harness/waitFor';

jest.setTimeout(120_000);

describe('a cluster of a controller and three broker processes', () => {
  let cluster: TestCluster;
  const topic = 'orders';
  const produced: ProducedRecord[] = [];

  beforeAll(async () => {
    cluster = await TestCluster.start();
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  test('creates a topic with replication factor 3 and one leader per broker', async () => {
    await cluster.createTopic(topic, 3);
    const res = await cluster.http.get(`${cluster.controllerUrl}/topic/${topic}`);
    expect(res.status).toBe(200);
    const partitions = res.data.partitions as Array<{ partition: number; leader: number; replicas: number[]; isr: number[]; leaderEpoch: number }>;
    expect(partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    for (const p of partitions) {
      expect(new Set(p.replicas).size).toBe(3);
      expect(p.replicas[0]).toBe(p.leader);
      expect(p.isr).toContain(p.leader);
      expect(p.leaderEpoch).toBeGreaterThanOrEqual(0);
    }
    expect(new Set(partitions.map((p) => p.leader)).size).toBe(3);
  });

  test('1,000 keyed records produced through every broker read back in order at their offsets', async () => {
    for (let batch = 0; batch < 10; batch++) {
      const records = Array.from({ length: 100 }, (_, i) => {
        const n = batch * 100 + i;
        return { key: `user-${n % 37}`, value: { n, note: `record ${n}`, tags: ['a', n] } };
      });
      const res = await cluster.http.post(`${cluster.brokerUrl(1 + (batch % 3))}/events`, { topic, records });
      expect(res.status).toBe(200);
      expect(res.data.offsets).toHaveLength(100);
      res.data.offsets.forEach((o: { partition: number; offset: number }, i: number) => produced.push({ ...records[i]!, ...o }));
    }
    // Each key lands where Kafka's default partitioner puts it, and one key's records keep their order.
    for (const r of produced) expect(r.partition).toBe(partitionForKey(Buffer.from(r.key!), 3));
    const forKey = produced.filter((r) => r.key === 'user-5');
    expect(forKey.map((r) => r.offset)).toEqual([...forKey.map((r) => r.offset)].sort((a, b) => a - b));
    for (const url of [cluster.brokerUrl(1), cluster.brokerUrl(2), cluster.brokerUrl(3)]) {
      await expectExactlyProduced(cluster.http, url, topic, 3, produced);
    }
  });

  test('a restart of the whole cluster keeps every record', async () => {
    await cluster.stop();
    await cluster.startController();
    await cluster.waitForLeaders(topic, 3);
    await expectExactlyProduced(cluster.http, cluster.brokerUrl(2), topic, 3, produced);
  });

  test('a broker killed with SIGKILL is restarted by the launcher and serves its partitions again', async () => {
    const before = await cluster.brokerProcesses();
    const victim = before.find((b) => b.id === 2)!;
    expect(victim.pid).toBeGreaterThan(0);
    process.kill(victim.pid!, 'SIGKILL');
    await waitFor(
      async () => {
        const now = await cluster.brokerProcesses();
        const b = now.find((x) => x.id === 2);
        return b && b.pid !== victim.pid && b.state === 'active';
      },
      { timeoutMs: 30_000, what: 'broker 2 to be restarted' },
    );
    // Its old registration may still read "active" for a moment: wait for the new process to answer.
    await cluster.waitForActiveBrokers(3);
    await cluster.waitForLeaders(topic, 3);
    await expectExactlyProduced(cluster.http, cluster.brokerUrl(2), topic, 3, produced);

    // It takes writes again, continuing each partition's offsets without a gap.
    const res = await cluster.http.post(`${cluster.brokerUrl(2)}/events`, {
      topic,
      records: [0, 1, 2].map((p) => ({ partition: p, key: null, value: `after-restart-${p}` })),
    });
    expect(res.status).toBe(200);
    for (const o of res.data.offsets) {
      expect(o.offset).toBe(produced.filter((r) => r.partition === o.partition).length);
      produced.push({ key: null, value: `after-restart-${o.partition}`, ...o });
    }
    await expectExactlyProduced(cluster.http, cluster.brokerUrl(3), topic, 3, produced);
  });
});
