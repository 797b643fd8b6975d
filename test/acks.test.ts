import { encodeBatch, encodeProduceFrame, PRODUCE_FRAME_CONTENT_TYPE } from '@brook/types';
import { TestCluster } from './harness/TestCluster';
import { waitFor } from './harness/waitFor';

jest.setTimeout(120_000);

describe('acks and min.insync.replicas', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await TestCluster.start({ env: { BROOK_REPLICA_LAG_TIME_MAX_MS: '1000', BROOK_PRODUCE_TIMEOUT_MS: '3000' } });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  async function partitionState(topic: string, partition = 0) {
    return (await cluster.http.get(`${cluster.controllerUrl}/topic/${topic}`)).data.partitions[partition];
  }

  test('acks=0 answers 202 before the append, acks=1 and acks=all answer offsets', async () => {
    await cluster.createTopic('modes', 1);
    const zero = await cluster.http.post(`${cluster.brokerUrl(1)}/events?acks=0`, { topic: 'modes', value: 'z' });
    expect(zero.status).toBe(202);
    expect(zero.data).toEqual({ offsets: [] });
    await waitFor(async () => (await cluster.http.get(`${cluster.brokerUrl(1)}/topics/modes/partitions/0/offsets`)).data.latest === 1);
    const one = await cluster.http.post(`${cluster.brokerUrl(1)}/events`, { topic: 'modes', value: 'o', acks: 1 });
    expect(one.data.offsets).toEqual([{ partition: 0, offset: 1 }]);
    const all = await cluster.http.post(`${cluster.brokerUrl(1)}/write/modes?acks=all`, { key: 'k', value: 'a' });
    expect(all.data.offsets).toEqual([{ partition: 0, offset: 2 }]);
    expect((await cluster.http.post(`${cluster.brokerUrl(1)}/events?acks=2`, { topic: 'modes', value: 1 })).status).toBe(400);
  });

  test('a stopped follower leaves the ISR; acks=all is then refused with nothing written, and works again once it rejoins', async () => {
    await cluster.createTopic('strict', 1);
    const created = await cluster.http.get(`${cluster.controllerUrl}/topic/strict`);
    expect(created.data.configs['min.insync.replicas']).toBe('2');
    // Raise min.insync.replicas to 3 on a fresh topic so one lagging follower is enough to refuse acks=all.
    const strict = await cluster.http.post(`${cluster.controllerUrl}/create_topic/`, {
      name: 'strict3',
      partitions: 1,
      configs: { 'min.insync.replicas': '3' },
    });
    expect(strict.status).toBe(201);
    await cluster.waitForLeaders('strict3', 1);
    const state = await partitionState('strict3');
    const leaderUrl = cluster.brokerUrl(state.leader);
    expect((await cluster.http.post(`${leaderUrl}/events?acks=all`, { topic: 'strict3', value: 'before' })).status).toBe(200);

    const follower = state.replicas.find((id: number) => id !== state.leader);
    const pid = (await cluster.brokerProcesses()).find((b) => b.id === follower)!.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      await waitFor(async () => (await partitionState('strict3')).isr.length === 2, { timeoutMs: 15_000, what: 'the ISR to shrink' });
      const refused = await cluster.http.post(`${leaderUrl}/events?acks=all`, { topic: 'strict3', value: 'refused' });
      expect(refused.status).toBe(503);
      expect(refused.data.error.code).toBe('NOT_ENOUGH_REPLICAS');
      // Nothing was appended: the next acks=1 write takes offset 1.
      const next = await cluster.http.post(`${leaderUrl}/events?acks=1`, { topic: 'strict3', value: 'one' });
      expect(next.data.offsets).toEqual([{ partition: 0, offset: 1 }]);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor(async () => (await partitionState('strict3')).isr.length === 3, { timeoutMs: 15_000, what: 'the follower to rejoin' });
    const again = await cluster.http.post(`${leaderUrl}/events?acks=all`, { topic: 'strict3', value: 'after' });
    expect(again.status).toBe(200);
    expect(again.data.offsets).toEqual([{ partition: 0, offset: 2 }]);
  });

  test('a broker that does not lead refuses a forwarded produce with NOT_LEADER and the leader\'s address', async () => {
    const state = await partitionState('modes');
    const other = [1, 2, 3].find((id) => id !== state.leader)!;
    const frame = encodeProduceFrame([{ topic: 'modes', partition: 0, batches: encodeBatch([{ key: null, value: Buffer.from('"x"') }]) }]);
    const res = await cluster.http.post(`${cluster.brokerUrl(other)}/produce?acks=1`, frame, {
      headers: { 'content-type': PRODUCE_FRAME_CONTENT_TYPE },
    });
    expect(res.status).toBe(200);
    expect(res.data.results[0]).toMatchObject({
      topic: 'modes',
      partition: 0,
      baseOffset: -1,
      error: { code: 'NOT_LEADER', leader: state.leader, leaderUrl: expect.stringContaining(`:${cluster.brokerPorts[state.leader - 1]}`) },
    });
    const read = await cluster.http.get(`${cluster.brokerUrl(other)}/topics/modes/partitions/0/offsets`, { headers: { 'x-brook-forwarded': '1' } });
    expect(read.status).toBe(421);
    expect(read.data.error.code).toBe('NOT_LEADER');
  });
});
