import { TestCluster } from './harness/TestCluster';
import { waitFor } from './harness/waitFor';

jest.setTimeout(120_000);

/** A retried idempotent produce is answered with its original offsets, on the leader and after a failover. */
describe('idempotent producer', () => {
  let cluster: TestCluster;
  const topic = 'payments';

  beforeAll(async () => {
    cluster = await TestCluster.start();
    await cluster.createTopic(topic, 2);
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  async function leaderOf(partition: number): Promise<{ leader: number; leaderEpoch: number; isr: number[] }> {
    const res = await cluster.http.get(`${cluster.controllerUrl}/topic/${topic}`);
    return res.data.partitions[partition];
  }

  async function highWatermark(partition: number): Promise<number> {
    const res = await cluster.http.get(`${cluster.brokerUrl(1)}/topics/${topic}/partitions/${partition}/offsets`);
    return res.data.latest;
  }

  test('a retry gets the original offsets and appends nothing, even after the leader is killed', async () => {
    const registered = await cluster.http.post(`${cluster.controllerUrl}/register_producer/`, {});
    expect(registered.status).toBe(200);
    const producerId = registered.data.producerId as number;
    const send = (sequence: number, values: string[], via = 1) =>
      cluster.http.post(`${cluster.brokerUrl(via)}/events?acks=all`, {
        topic,
        producer_id: producerId,
        producer_epoch: 0,
        sequence,
        records: values.map((value) => ({ partition: 0, value })),
      });

    const first = await send(0, ['a', 'b']);
    expect(first.status).toBe(200);
    expect(first.data.offsets).toEqual([{ partition: 0, offset: 0 }, { partition: 0, offset: 1 }]);
    const retry = await send(0, ['a', 'b'], 2);
    expect(retry.status).toBe(200);
    expect(retry.data.offsets).toEqual(first.data.offsets);
    expect(await highWatermark(0)).toBe(2);

    const next = await send(2, ['c']);
    expect(next.data.offsets).toEqual([{ partition: 0, offset: 2 }]);

    // A gap in the sequence is refused and writes nothing.
    const gap = await send(7, ['x']);
    expect(gap.status).toBe(409);
    expect(gap.data.error.code).toBe('OUT_OF_ORDER_SEQUENCE');
    expect(await highWatermark(0)).toBe(3);

    // The followers keep the producer state: after the leader dies, the new leader knows the retry.
    const before = await leaderOf(0);
    expect(before.isr).toHaveLength(3);
    const victim = (await cluster.brokerProcesses()).find((b) => b.id === before.leader)!;
    process.kill(victim.pid!, 'SIGKILL');
    const after = await waitFor(async () => {
      const p = await leaderOf(0);
      return p.leader >= 0 && p.leaderEpoch > before.leaderEpoch && p;
    });
    const via = [1, 2, 3].find((id) => id !== before.leader)!;
    const retried = await waitFor(async () => {
      const res = await send(2, ['c'], via);
      return res.status === 200 && res;
    });
    expect(retried.data.offsets).toEqual([{ partition: 0, offset: 2 }]);
    expect(after.leader).not.toBe(before.leader);
    const read = await cluster.http.get(`${cluster.brokerUrl(via)}/topics/${topic}/partitions/0/records`, { params: { offset: 0 } });
    expect(read.data.records.map((r: { value: string }) => r.value)).toEqual(['a', 'b', 'c']);
  });

  test('an idempotent request must target one partition', async () => {
    await cluster.waitForActiveBrokers(3); // the broker killed above is restarted by the launcher
    const res = await cluster.http.post(`${cluster.brokerUrl(1)}/events`, {
      topic,
      producer_id: 1,
      producer_epoch: 0,
      sequence: 0,
      records: [{ partition: 0, value: 1 }, { partition: 1, value: 2 }],
    });
    expect(res.status).toBe(400);
  });
});
