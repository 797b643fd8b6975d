import fs from 'node:fs';
import path from 'node:path';
import { partitionForKey } from '@brook/types';
import { readPartition } from './harness/records';
import { TestCluster } from './harness/TestCluster';
import { waitFor } from './harness/waitFor';

jest.setTimeout(120_000);

/** The seeds' routes, end to end against real processes. */
describe('seed routes', () => {
  let cluster: TestCluster;
  let broker: string;
  let controller: string;

  beforeAll(async () => {
    cluster = await TestCluster.start({ sessionTimeoutMs: 2000 });
    broker = cluster.brokerUrl(1);
    controller = cluster.controllerUrl;
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  test('seed 000: brokers, topics and metadata through the controller, with and without trailing slashes', async () => {
    for (const p of ['/brokers', '/brokers/']) {
      const res = await cluster.http.get(`${controller}${p}`);
      expect(res.status).toBe(200);
      expect(res.data.map((b: { id: number }) => b.id).sort()).toEqual([1, 2, 3]);
      for (const b of res.data) {
        expect(b).toMatchObject({ host: expect.any(String), port: expect.any(Number), state: 'active' });
      }
    }
    const one = await cluster.http.get(`${controller}/broker/2`);
    expect(one.status).toBe(200);
    expect(one.data).toMatchObject({ id: 2, port: cluster.brokerPorts[1], state: 'active' });

    const created = await cluster.http.post(`${controller}/create_topic`, { name: 'metrics', partitions: 2 });
    expect(created.status).toBe(201);
    const view = await cluster.http.get(`${controller}/topic/metrics/`);
    expect(view.data.partitions).toHaveLength(2);

    const client = await cluster.http.get(`${controller}/metadata_fetch_client/`, { params: { topic: 'metrics' } });
    expect(client.status).toBe(200);
    expect(client.data.topics.map((t: { name: string }) => t.name)).toEqual(['metrics']);
    expect(client.data.brokers).toHaveLength(3);

    const records = await cluster.http.get(`${controller}/read_records`, { params: { type: 'PartitionRecord' } });
    expect(records.data.filter((r: { payload: { topicId: string } }) => r.payload.topicId === created.data.topicId)).toHaveLength(2);
  });

  test('seed 000: a broker that stops heartbeating is fenced within its session timeout, and unfenced when it resumes', async () => {
    const victim = (await cluster.brokerProcesses()).find((b) => b.id === 3)!;
    const stoppedAt = Date.now();
    process.kill(victim.pid!, 'SIGSTOP');
    try {
      await waitFor(async () => (await cluster.http.get(`${controller}/broker/3`)).data.state === 'fenced', {
        timeoutMs: 10_000,
        what: 'broker 3 fenced',
      });
      // Session timeout 2 s; the check runs often, so fencing comes well within a second of it.
      expect(Date.now() - stoppedAt).toBeLessThan(2000 + 1500);
    } finally {
      process.kill(victim.pid!, 'SIGCONT');
    }
    await cluster.waitForActiveBrokers(3);
  });

  test('seed 001: /cluster creates a named cluster whose brokers run as their own processes', async () => {
    const res = await cluster.http.post(`${controller}/cluster`, {
      name: 'analytics',
      num_brokers: 1,
      log_directory: 'analytics-data',
      partitions: 2,
      retention_policies: 24,
    });
    expect(res.status).toBe(201);
    const info = await waitFor(
      async () => {
        const c = await cluster.http.get(`${controller}/cluster/analytics`);
        return c.status === 200 && c.data.brokers.length === 1 && c.data.brokers[0].state === 'active' && c.data;
      },
      { timeoutMs: 30_000, what: 'the analytics broker' },
    );
    const b = info.brokers[0];
    expect(b.pid).toBeGreaterThan(0);
    expect(b.pid).not.toBe(process.pid);

    const topic = await cluster.http.post(`${controller}/topic`, { name: 'clicks', cluster: 'analytics' });
    expect(topic.status).toBe(201);
    expect(topic.data.partitions).toHaveLength(2); // the cluster's default partition count
    expect(topic.data.configs['retention.ms']).toBe(String(24 * 3600 * 1000));
    // Topics belong to their cluster.
    expect((await cluster.http.get(`${controller}/topic/clicks`)).status).toBe(404);

    const url = `http://127.0.0.1:${b.port}`;
    const produced = await waitFor(async () => {
      const r = await cluster.http.post(`${url}/events`, { topic: 'clicks', value: { page: '/home' }, partition: 1 });
      return r.status === 200 && r.data;
    });
    expect(produced.offsets).toEqual([{ partition: 1, offset: 0 }]);
    const read = await readPartition(cluster.http, url, 'clicks', 1);
    expect(read.records.map((r) => r.value)).toEqual([{ page: '/home' }]);
    expect(fs.existsSync(path.join(cluster.dataDir, 'analytics-data', `broker-${b.id}`, 'clicks-1'))).toBe(true);
  });

  test('seed 001: POST /events with one record, a key, headers, and JSON of every kind', async () => {
    await cluster.createTopic('events', 3);
    const values = [{ a: 1, nested: { b: [1, 2] } }, 'text', 42, true, null, [1, 'two']];
    const offsets = [];
    for (const value of values) {
      const res = await cluster.http.post(`${cluster.brokerUrl(2)}/events`, { topic: 'events', key: 'k1', value, headers: { trace: 'abc' } });
      expect(res.status).toBe(200);
      offsets.push(res.data.offsets[0]);
    }
    const partition = partitionForKey(Buffer.from('k1'), 3);
    expect(offsets.map((o) => o.partition)).toEqual(values.map(() => partition));
    const read = await readPartition(cluster.http, cluster.brokerUrl(3), 'events', partition);
    expect(read.records.map((r) => r.value)).toEqual(values);
    expect(read.records.map((r) => r.key)).toEqual(values.map(() => 'k1'));
    expect(read.records[0]!.headers).toEqual({ trace: 'abc' });
    expect(read.records[0]!.timestamp).toBeGreaterThan(Date.now() - 60_000);
  });

  test('records without a key are spread round-robin', async () => {
    await cluster.createTopic('spread', 3);
    const res = await cluster.http.post(`${broker}/events`, { topic: 'spread', records: Array.from({ length: 9 }, (_, i) => ({ value: i })) });
    expect(res.status).toBe(200);
    const counts = [0, 0, 0];
    for (const o of res.data.offsets) counts[o.partition]++;
    expect(counts).toEqual([3, 3, 3]);
  });

  test('a read at the end waits for the next record (long poll)', async () => {
    await cluster.createTopic('live', 1);
    const started = Date.now();
    const pending = cluster.http.get(`${cluster.brokerUrl(2)}/topics/live/partitions/0/records`, { params: { offset: 0, max_wait_ms: 10_000 } });
    await new Promise((r) => setTimeout(r, 300)); // let the read park before the write
    const write = await cluster.http.post(`${cluster.brokerUrl(3)}/events`, { topic: 'live', value: 'hello' });
    expect(write.status).toBe(200);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.data.records.map((r: { value: unknown }) => r.value)).toEqual(['hello']);
    expect(Date.now() - started).toBeLessThan(5000);
    // With nothing new, it answers empty after the wait.
    const empty = await cluster.http.get(`${broker}/topics/live/partitions/0/records`, { params: { offset: 1, max_wait_ms: 200 } });
    expect(empty.data).toEqual({ records: [], high_watermark: 1 });
  });

  test('seed 004: create a topic on a broker, write by key, delete it', async () => {
    const created = await cluster.http.post(`${cluster.brokerUrl(2)}/create_topic/news/3`);
    expect(created.status).toBe(201);
    const write = await cluster.http.post(`${cluster.brokerUrl(3)}/write/news`, { key: 'user123', value: 'Breaking news update' });
    expect(write.status).toBe(200);
    expect(write.data.offsets).toEqual([{ partition: partitionForKey(Buffer.from('user123'), 3), offset: 0 }]);
    const deleted = await cluster.http.delete(`${broker}/delete_topic/news`);
    expect(deleted.status).toBe(200);
    expect((await cluster.http.get(`${controller}/topic/news`)).status).toBe(404);
    await waitFor(async () => (await cluster.http.post(`${cluster.brokerUrl(3)}/write/news`, { key: 'k', value: 1 })).status === 404);
    // Its partition directories are gone from every broker.
    await waitFor(() =>
      [1, 2, 3].every((id) => !fs.readdirSync(path.join(cluster.dataDir, 'default', `broker-${id}`)).some((d) => d.startsWith('news-'))),
    );
  });

  test('Confluent REST Proxy v2: produce in the json and binary formats, list and describe topics', async () => {
    await cluster.createTopic('proxy', 2);
    const json = await cluster.http.post(
      `${broker}/topics/proxy`,
      { records: [{ key: 'a', value: { x: 1 } }, { value: [1, 2], partition: 1 }] },
      { headers: { 'content-type': 'application/vnd.kafka.json.v2+json' } },
    );
    expect(json.status).toBe(200);
    expect(json.data.offsets).toEqual([
      { partition: partitionForKey(Buffer.from('a'), 2), offset: expect.any(Number), error_code: null, error: null },
      { partition: 1, offset: expect.any(Number), error_code: null, error: null },
    ]);
    const binary = await cluster.http.post(
      `${broker}/topics/proxy`,
      { records: [{ value: Buffer.from('raw bytes').toString('base64'), partition: 0 }] },
      { headers: { 'content-type': 'application/vnd.kafka.binary.v2+json' } },
    );
    expect(binary.status).toBe(200);
    const read = await readPartition(cluster.http, broker, 'proxy', 0);
    expect(read.records.map((r) => r.value)).toContain('raw bytes');
    const list = await cluster.http.get(`${broker}/topics`);
    expect(list.data).toEqual(expect.arrayContaining(['proxy', 'events']));
    const describe = await cluster.http.get(`${broker}/topics/proxy`);
    expect(describe.data.partitions).toHaveLength(2);
  });
});
