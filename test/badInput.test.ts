import fs from 'node:fs';
import path from 'node:path';
import { TestCluster } from './harness/TestCluster';

jest.setTimeout(120_000);

/** Every bad request gets a 4xx in the one error shape and changes nothing (DESIGN §6). */
describe('bad input', () => {
  let cluster: TestCluster;
  let broker: string;
  let controller: string;
  const topic = 'ledger';

  beforeAll(async () => {
    cluster = await TestCluster.start({ env: { BROOK_MAX_REQUEST_BYTES: String(256 * 1024) } });
    broker = cluster.brokerUrl(1);
    controller = cluster.controllerUrl;
    await cluster.createTopic(topic, 2);
    const res = await cluster.http.post(`${broker}/events`, { topic, records: [{ partition: 0, value: 'first' }] });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  function expectError(res: { status: number; data: unknown }, status: number, code?: string) {
    expect(res.status).toBe(status);
    const body = res.data as { error: { code: string; message: string } };
    expect(typeof body.error.code).toBe('string');
    expect(typeof body.error.message).toBe('string');
    expect(JSON.stringify(body)).not.toMatch(/at .*\.(js|ts):\d+/); // no stack traces
    if (code) expect(body.error.code).toBe(code);
  }

  async function offsetsOf(partition: number) {
    const res = await cluster.http.get(`${broker}/topics/${topic}/partitions/${partition}/offsets`);
    expect(res.status).toBe(200);
    return res.data;
  }

  async function topicNames(): Promise<string[]> {
    const res = await cluster.http.get(`${controller}/read_records/`, { params: { type: 'TopicRecord' } });
    expect(res.status).toBe(200);
    return res.data.map((r: { payload: { name: string } }) => r.payload.name);
  }

  test('malformed JSON is INVALID_JSON on brokers and the controller', async () => {
    for (const url of [`${broker}/events`, `${controller}/create_topic/`]) {
      // transformRequest passes the bytes as they are: axios would otherwise send a broken JSON text as a JSON string.
      const res = await cluster.http.post(url, '{"topic": "ledger", "value": ', {
        headers: { 'content-type': 'application/json' },
        transformRequest: [(data: string) => data],
      });
      expectError(res, 400, 'INVALID_JSON');
    }
  });

  test('unknown topics and partitions are 404 and write nothing', async () => {
    const before = [await offsetsOf(0), await offsetsOf(1)];
    expectError(await cluster.http.post(`${broker}/events`, { topic: 'nope', value: 1 }), 404, 'UNKNOWN_TOPIC');
    expectError(await cluster.http.get(`${broker}/topics/nope/partitions/0/records`), 404, 'UNKNOWN_TOPIC');
    expectError(await cluster.http.get(`${broker}/topics/${topic}/partitions/7/records`), 404, 'UNKNOWN_PARTITION');
    // One bad record in a batch refuses the whole batch, including the good records before it.
    const res = await cluster.http.post(`${broker}/events`, {
      topic,
      records: [{ partition: 0, value: 'ok' }, { partition: 1, value: 'ok' }, { partition: 9, value: 'bad' }],
    });
    expectError(res, 404, 'UNKNOWN_PARTITION');
    expect([await offsetsOf(0), await offsetsOf(1)]).toEqual(before);
    expectError(await cluster.http.get(`${controller}/topic/nope`), 404, 'UNKNOWN_TOPIC');
  });

  test.each(['../x', 'a/b', '..', '.', '', 'x'.repeat(250), 'white space', 'é'])('topic name %p is refused everywhere', async (name) => {
    const before = await topicNames();
    expectError(await cluster.http.post(`${controller}/create_topic/`, { name, partitions: 1 }), 400);
    expectError(await cluster.http.post(`${controller}/topic`, { name, cluster: 'default' }), 400);
    if (name !== '' && name !== '.' && name !== '..') {
      // Through the path, encoded so that no client or proxy normalises it away.
      expectError(await cluster.http.post(`${broker}/create_topic/${encodeURIComponent(name)}/3`), 400);
      expectError(await cluster.http.post(`${broker}/write/${encodeURIComponent(name)}`, { key: 'k', value: 1 }), 400);
    }
    expectError(await cluster.http.post(`${broker}/events`, { topic: name, value: 1 }), 400);
    expect(await topicNames()).toEqual(before);
    for (const entry of fs.readdirSync(path.join(cluster.dataDir, 'default', 'broker-1'))) {
      expect(entry.startsWith('..') || entry.includes('/')).toBe(false);
    }
  });

  test.each(['-1', 'abc', '1.5', '', '1e3'])('offset %p is refused', async (offset) => {
    expectError(await cluster.http.get(`${broker}/topics/${topic}/partitions/0/records`, { params: { offset } }), 400);
  });

  test('an offset past the end is OFFSET_OUT_OF_RANGE with the valid range', async () => {
    const res = await cluster.http.get(`${broker}/topics/${topic}/partitions/0/records`, { params: { offset: 1000 } });
    expectError(res, 416, 'OFFSET_OUT_OF_RANGE');
    expect(res.data.error.latest).toBe(1);
  });

  test('a body over the limit is 413 and writes nothing', async () => {
    const before = await offsetsOf(0);
    const res = await cluster.http.post(`${broker}/events`, { topic, partition: 0, value: 'x'.repeat(300 * 1024) });
    expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(await offsetsOf(0)).toEqual(before);
  });

  test('records without a value, and wrong types, are refused', async () => {
    expectError(await cluster.http.post(`${broker}/events`, { topic }), 400);
    expectError(await cluster.http.post(`${broker}/events`, { topic, records: [] }), 400);
    expectError(await cluster.http.post(`${broker}/events`, { topic, value: 1, partition: -1 }), 400);
    expectError(await cluster.http.post(`${broker}/events`, { topic, value: 1, key: { a: 1 } }), 400);
    expectError(await cluster.http.post(`${broker}/write/${topic}`, { value: 'no key' }), 400);
    expectError(await cluster.http.post(`${broker}/create_topic/fresh/0`), 400);
    expectError(await cluster.http.post(`${broker}/create_topic/fresh/many`), 400);
  });

  test('a consumer fetch (POST /fetch) with a bad body is 400 in the error shape', async () => {
    const fetchOf = (partitions: unknown, more: object = {}) => cluster.http.post(`${broker}/fetch`, { maxWaitMs: 0, partitions, ...more });
    expectError(await fetchOf([]), 400, 'INVALID_REQUEST');
    expectError(await fetchOf([{ topic, partition: 0, fetchOffset: -1 }]), 400, 'INVALID_REQUEST');
    expectError(await fetchOf([{ topic: '../x', partition: 0, fetchOffset: 0 }]), 400);
    expectError(await fetchOf([{ topic, partition: 0, fetchOffset: 0 }], { maxWaitMs: 60_000 }), 400, 'INVALID_REQUEST');
    expectError(await fetchOf([{ topic, partition: 0, fetchOffset: 0 }], { maxBytesPerPartition: 0 }), 400, 'INVALID_REQUEST');
    expectError(await cluster.http.post(`${broker}/fetch`, { partitions: [{ topic, partition: 0, fetchOffset: 0 }] }), 400, 'INVALID_REQUEST');
  });

  test.each(['../escape', '/tmp/abs', 'controller', '.', 'a/../../b'])('a cluster log_directory %p outside the data directory is refused', async (dir) => {
    const res = await cluster.http.post(`${controller}/cluster`, { name: 'other', num_brokers: 1, log_directory: dir });
    expectError(res, 400);
    const clusters = await cluster.http.get(`${controller}/cluster`);
    expect(JSON.stringify(clusters.data)).not.toContain('"other"');
    expect(fs.existsSync(path.resolve(cluster.dataDir, '../escape'))).toBe(false);
  });

  test('unknown routes are 404 in the error shape', async () => {
    expectError(await cluster.http.get(`${broker}/no/such/route`), 404, 'NOT_FOUND');
    expectError(await cluster.http.get(`${controller}/no/such/route`), 404, 'NOT_FOUND');
  });
});
