import http from 'node:http';
import { GroupCoordinator } from '../packages/broker/src/group/GroupCoordinator';
import { partitionForKey } from '../packages/types/src';
import { TestCluster } from './harness/TestCluster';
import { waitFor } from './harness/waitFor';

jest.setTimeout(120_000);

interface Rec {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: unknown;
  timestamp: number;
}

interface SseEvent {
  id: string;
  data: Rec;
}

/** Reads a Server-Sent Events stream with Node's http client until `n` events arrived, then hangs up. */
function readSse(url: string, n: number, headers: Record<string, string> = {}, comments: string[] = []): Promise<{ events: SseEvent[]; comments: string[] }> {
  return new Promise((resolve, reject) => {
    const events: SseEvent[] = [];
    let buffer = '';
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`stream answered ${res.statusCode}`));
        req.destroy();
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let i: number;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          let id = '';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) events.push({ id, data: JSON.parse(data) });
          if (events.length >= n) {
            clearTimeout(timer);
            req.destroy();
            resolve({ events, comments });
            return;
          }
        }
      });
    });
    req.on('error', (err) => {
      if (events.length < n) reject(err);
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`only ${events.length} of ${n} events arrived`));
    }, 20_000);
  });
}

describe('consumer instances (REST Proxy v2) and the seeds\' consumers', () => {
  let cluster: TestCluster;
  const url = (id: number, path: string) => `${cluster.brokerUrl(id)}${path}`;

  beforeAll(async () => {
    cluster = await TestCluster.start({ env: { BROOK_GROUP_SESSION_TIMEOUT_MS: '3000', BROOK_OFFSETS_TOPIC_PARTITIONS: '3' } });
    await cluster.createTopic('rp', 3);
    await cluster.createTopic('split', 4);
    await cluster.createTopic('seek', 1);
    await cluster.createTopic('sse', 2);
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  async function produce(topic: string, records: Array<Record<string, unknown>>): Promise<void> {
    const res = await cluster.http.post(url(2, '/events'), { topic, records });
    if (res.status !== 200) throw new Error(`produce: ${res.status} ${JSON.stringify(res.data)}`);
  }

  async function createInstance(broker: number, group: string, body: Record<string, unknown> = {}): Promise<string> {
    const res = await cluster.http.post(url(broker, `/consumers/${group}`), body);
    expect(res.status).toBe(200);
    const uri = new URL(res.data.base_uri);
    expect(uri.port).toBe(String(cluster.brokerPorts[broker - 1]));
    expect(uri.pathname).toBe(`/consumers/${group}/instances/${res.data.instance_id}`);
    return res.data.base_uri as string;
  }

  /** Polls `base` until `n` records arrived in total (each poll waits up to 1 s). */
  async function pollUntil(base: string, n: number, query = 'timeout=1000'): Promise<Rec[]> {
    const got: Rec[] = [];
    await waitFor(
      async () => {
        const res = await cluster.http.get(`${base}/records?${query}`);
        if (res.status !== 200) throw new Error(`poll: ${res.status} ${JSON.stringify(res.data)}`);
        got.push(...res.data);
        return got.length >= n;
      },
      { timeoutMs: 30_000, what: `${n} records` },
    );
    return got;
  }

  test('create, subscribe, poll, commit, delete; a new instance of the group resumes after the committed offsets', async () => {
    const base = await createInstance(1, 'rp-group', { name: 'first', format: 'json', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' });
    expect(new URL(base).port).toBe(String(cluster.brokerPorts[0]));
    expect((await cluster.http.post(`${base}/subscription`, { topics: ['rp'] })).status).toBe(204);
    expect((await cluster.http.get(`${base}/subscription`)).data).toEqual({ topics: ['rp'] });

    await produce('rp', Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, key: `k${i}`, value: { n: i }, headers: { h: 'x' } })));
    const first = await pollUntil(base, 30, 'timeout=1000&max_records=7');
    expect(first).toHaveLength(30);
    expect(first.map((r) => (r.value as { n: number }).n).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(first[0]).toEqual(expect.objectContaining({ topic: 'rp', headers: { h: 'x' } }));
    for (const r of first) expect(r.key).toBe(`k${(r.value as { n: number }).n}`);

    const commit = await cluster.http.post(`${base}/offsets`, {});
    expect(commit.status).toBe(200);
    const committed = await cluster.http.get(`${base}/offsets`, { data: { partitions: [0, 1, 2].map((p) => ({ topic: 'rp', partition: p })) } });
    expect(committed.status).toBe(200);
    expect(committed.data.offsets.map((o: Rec) => [o.partition, o.offset]).sort()).toEqual([[0, 10], [1, 10], [2, 10]]);
    const byQuery = await cluster.http.get(`${base}/offsets?topic=rp`);
    expect(byQuery.data.offsets).toHaveLength(3);

    expect((await cluster.http.delete(base)).status).toBe(204);
    const gone = await cluster.http.get(`${base}/records`);
    expect(gone.status).toBe(404);
    expect(gone.data.error.code).toBe('UNKNOWN_CONSUMER_INSTANCE');

    await produce('rp', Array.from({ length: 6 }, (_, i) => ({ partition: i % 3, value: { n: 100 + i } })));
    const second = await createInstance(3, 'rp-group', { 'auto.offset.reset': 'earliest' });
    expect((await cluster.http.post(`${second}/subscription`, { topics: ['rp'] })).status).toBe(204);
    const resumed = await pollUntil(second, 6);
    expect(resumed.map((r) => (r.value as { n: number }).n).sort((a, b) => a - b)).toEqual([100, 101, 102, 103, 104, 105]);
    // Nothing more: no committed record comes back.
    expect((await cluster.http.get(`${second}/records?timeout=300`)).data).toEqual([]);
    expect((await cluster.http.delete(`${second}/subscription`)).status).toBe(204);
    expect((await cluster.http.get(`${second}/subscription`)).data).toEqual({ topics: [] });
    expect((await cluster.http.delete(second)).status).toBe(204);
  });

  test('two instances of one group split the partitions and each reads only its own', async () => {
    const a = await createInstance(1, 'split-group', { 'auto.offset.reset': 'earliest' });
    const b = await createInstance(2, 'split-group', { 'auto.offset.reset': 'earliest' });
    await cluster.http.post(`${a}/subscription`, { topics: ['split'] });
    await cluster.http.post(`${b}/subscription`, { topics: ['split'] });
    const owned = (x: { data: { partitions: Array<{ partition: number }> } }) => x.data.partitions.map((p) => p.partition).sort();
    const [pa, pb] = await waitFor(
      async () => {
        const [ra, rb] = await Promise.all([cluster.http.get(`${a}/assignments`), cluster.http.get(`${b}/assignments`)]);
        const oa = owned(ra);
        const ob = owned(rb);
        return oa.length === 2 && ob.length === 2 && new Set([...oa, ...ob]).size === 4 && [oa, ob];
      },
      { timeoutMs: 20_000, what: 'two partitions each' },
    );
    await produce('split', Array.from({ length: 40 }, (_, i) => ({ partition: i % 4, value: i })));
    const got: { a: Rec[]; b: Rec[] } = { a: [], b: [] };
    await waitFor(
      async () => {
        const [ra, rb] = await Promise.all([cluster.http.get(`${a}/records?timeout=500`), cluster.http.get(`${b}/records?timeout=500`)]);
        got.a.push(...ra.data);
        got.b.push(...rb.data);
        return got.a.length + got.b.length >= 40;
      },
      { timeoutMs: 30_000, what: '40 records between the two' },
    );
    expect(new Set(got.a.map((r) => r.partition))).toEqual(new Set(pa));
    expect(new Set(got.b.map((r) => r.partition))).toEqual(new Set(pb));
    expect([...got.a, ...got.b].map((r) => r.value as number).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    await cluster.http.delete(a);
    await cluster.http.delete(b);
  });

  test('seek to the beginning, the end, an offset and a timestamp', async () => {
    const base = Date.now();
    await produce('seek', Array.from({ length: 10 }, (_, i) => ({ value: i, timestamp: base + i * 10 })));
    const inst = await createInstance(2, 'seek-group', { 'auto.offset.reset': 'earliest' });
    await cluster.http.post(`${inst}/subscription`, { topics: ['seek'] });
    expect(await pollUntil(inst, 10)).toHaveLength(10);
    const partitions = [{ topic: 'seek', partition: 0 }];

    const begin = await cluster.http.post(`${inst}/positions/beginning`, { partitions });
    expect(begin.status).toBe(200);
    expect((await pollUntil(inst, 1))[0]!.offset).toBe(0);

    expect((await cluster.http.post(`${inst}/positions/end`, { partitions })).status).toBe(200);
    expect((await cluster.http.get(`${inst}/records?timeout=200`)).data).toEqual([]);

    expect((await cluster.http.post(`${inst}/positions`, { offsets: [{ topic: 'seek', partition: 0, offset: 3 }] })).status).toBe(200);
    expect((await pollUntil(inst, 1))[0]!.offset).toBe(3);

    const byTime = await cluster.http.post(`${inst}/positions`, { offsets: [{ topic: 'seek', partition: 0, timestamp: base + 55 }] });
    expect(byTime.status).toBe(200);
    expect(byTime.data.offsets[0].offset).toBe(6);
    expect((await pollUntil(inst, 1))[0]!.offset).toBe(6);

    const negative = await cluster.http.post(`${inst}/positions`, { offsets: [{ topic: 'seek', partition: 0, offset: -1 }] });
    expect(negative.status).toBe(400);
    const negativeCommit = await cluster.http.post(`${inst}/offsets`, { offsets: [{ topic: 'seek', partition: 0, offset: -5 }] });
    expect(negativeCommit.status).toBe(400);
    const notAssigned = await cluster.http.post(`${inst}/positions`, { offsets: [{ topic: 'rp', partition: 0, offset: 1 }] });
    expect(notAssigned.status).toBe(400);
    await cluster.http.delete(inst);
  });

  test('the binary format answers base64 keys and values', async () => {
    const inst = await createInstance(3, 'binary-group', { format: 'binary', 'auto.offset.reset': 'earliest' });
    await cluster.http.post(`${inst}/subscription`, { topics: ['seek'] });
    const [first] = await pollUntil(inst, 1, 'timeout=1000&max_records=1');
    expect(first!.offset).toBe(0);
    expect(first!.value).toBe(Buffer.from('0').toString('base64'));
    await cluster.http.delete(inst);
  });

  test('unknown instances and topics', async () => {
    const missing = await cluster.http.get(url(1, '/consumers/g/instances/nobody/records'));
    expect(missing.status).toBe(404);
    expect(missing.data.error.code).toBe('UNKNOWN_CONSUMER_INSTANCE');
    expect((await cluster.http.delete(url(1, '/consumers/g/instances/nobody'))).status).toBe(404);
    const inst = await createInstance(1, 'bad-group');
    // An instance lives only on the broker that made it.
    expect((await cluster.http.get(inst.replace(String(cluster.brokerPorts[0]), String(cluster.brokerPorts[1])) + '/subscription')).status).toBe(404);
    const unknownTopic = await cluster.http.post(`${inst}/subscription`, { topics: ['nope'] });
    expect(unknownTopic.status).toBe(404);
    expect(unknownTopic.data.error.code).toBe('UNKNOWN_TOPIC');
    const duplicate = await cluster.http.post(url(1, '/consumers/bad-group'), { name: inst.split('/').pop() });
    expect(duplicate.status).toBe(409);
    expect(duplicate.data.error.code).toBe('CONSUMER_INSTANCE_EXISTS');
    expect((await cluster.http.post(url(1, '/consumers/a%40b'), {})).status).toBe(400);
    await cluster.http.delete(inst);
  });

  test('seed 001: GET /events subscribes and reads; POST /offset commits', async () => {
    await cluster.createTopic('liked', 2);
    await produce('liked', [{ value: 'a', partition: 0 }, { value: 'b', partition: 1 }, { value: 'c', partition: 0 }]);
    const got: Rec[] = [];
    await waitFor(
      async () => {
        const res = await cluster.http.get(url(3, '/events?topic=liked&consumer_id=42&timeout_ms=500'));
        if (res.status !== 200) throw new Error(`GET /events: ${res.status} ${JSON.stringify(res.data)}`);
        got.push(...res.data.records);
        return got.length >= 3;
      },
      { timeoutMs: 20_000, what: 'three events' },
    );
    expect(got.map((r) => r.value).sort()).toEqual(['a', 'b', 'c']);
    const commit = await cluster.http.post(url(3, '/offset'), { consumer_id: 42 });
    expect(commit.status).toBe(200);
    expect(commit.data.offsets.map((o: Rec) => [o.partition, o.offset]).sort()).toEqual([[0, 2], [1, 1]]);
    const committed = await cluster.http.get(url(1, '/groups/42/offsets'));
    expect(committed.data.offsets.map((o: Rec) => [o.partition, o.offset]).sort()).toEqual([[0, 2], [1, 1]]);
    expect((await cluster.http.post(url(1, '/offset'), { consumer_id: 43 })).status).toBe(404);
    // Without a consumer id, one is made up and answered.
    const anonymous = await cluster.http.get(url(1, '/events'), { data: { topic: 'liked' } });
    expect(anonymous.status).toBe(200);
    expect(anonymous.data.consumer_id).toMatch(/^consumer-/);
  });

  test('seed 002: register topic, producer and consumer; publish; consume one message at a time', async () => {
    const t = await cluster.http.post(url(1, '/register/topic'), { topic: 'mini' });
    expect(t.status).toBe(201);
    expect((await cluster.http.post(url(2, '/register/topic'), { topic: 'mini' })).status).toBe(200);
    const producer = await cluster.http.post(url(1, '/register/producer'), { topic: 'mini' });
    expect(producer.data.producer_id).toEqual(expect.any(String));
    const consumer = await cluster.http.post(url(1, '/register/consumer'), { topic: 'mini' });
    expect(consumer.status).toBe(200);
    const id = consumer.data.consumer_id as string;
    for (const value of ['one', 'two', 'three']) {
      const p = await cluster.http.post(url(2, '/publish'), { topic: 'mini', value, key: 'k' });
      expect(p.status).toBe(200);
    }
    const seen: Array<{ offset: number; value: string; topic: string; key: string }> = [];
    await waitFor(
      async () => {
        const res = await cluster.http.post(url(1, '/consume'), { consumer_id: id });
        if (res.status === 200) seen.push(res.data);
        return seen.length >= 3;
      },
      { timeoutMs: 20_000, what: 'three messages' },
    );
    expect(seen.map((m) => [m.offset, m.value, m.key, m.topic])).toEqual([[0, 'one', 'k', 'mini'], [1, 'two', 'k', 'mini'], [2, 'three', 'k', 'mini']]);
    expect((await cluster.http.post(url(1, '/consume'), { consumer_id: id })).status).toBe(204);
    // A second consumer has its own offset.
    const other = await cluster.http.post(url(1, '/register/consumer'), { topic: 'mini', consumer_id: 'reader-2' });
    expect(other.data.consumer_id).toBe('reader-2');
    const first = await waitFor(async () => {
      const res = await cluster.http.post(url(1, '/consume'), { consumer_id: 'reader-2' });
      return res.status === 200 && res.data;
    }, { timeoutMs: 10_000, what: 'the first message for reader-2' });
    expect(first.offset).toBe(0);
    expect((await cluster.http.post(url(1, '/consume'), { consumer_id: 'unknown-consumer' })).status).toBe(404);
  });

  test('seed 004: subscribe by email, read the key\'s partition from the committed offset, unsubscribe', async () => {
    expect((await cluster.http.post(url(1, '/create_topic/news/3'))).status).toBe(201);
    await cluster.waitForLeaders('news', 3);
    const email = 'john@example.com';
    expect((await cluster.http.post(url(2, `/subscribe/${email}/news`))).status).toBe(200);
    for (const v of ['u1', 'u2', 'u3']) expect((await cluster.http.post(url(1, '/write/news'), { key: 'user123', value: v })).status).toBe(200);
    const read = await cluster.http.get(url(2, `/read/${email}/news/user123`));
    expect(read.status).toBe(200);
    expect(read.data.partition).toBe(partitionForKey(Buffer.from('user123'), 3));
    expect(read.data.messages.filter((m: Rec) => m.key === 'user123').map((m: Rec) => m.value)).toEqual(['u1', 'u2', 'u3']);
    expect((await cluster.http.get(url(2, `/read/${email}/news/user123`))).data.messages).toEqual([]);
    await cluster.http.post(url(1, '/write/news'), { key: 'user123', value: 'u4' });
    expect((await cluster.http.get(url(2, `/read/${email}/news/user123`))).data.messages.map((m: Rec) => m.value)).toEqual(['u4']);
    // Another user starts from the beginning of the partition.
    await cluster.http.post(url(2, '/subscribe/jane@example.com/news'));
    expect((await cluster.http.get(url(2, '/read/jane@example.com/news/user123'))).data.messages.map((m: Rec) => m.value)).toEqual(['u1', 'u2', 'u3', 'u4']);
    expect((await cluster.http.post(url(2, `/unsubscribe/${email}/news`))).status).toBe(200);
    expect((await cluster.http.get(url(2, `/read/${email}/news/user123`))).status).toBe(404);
    expect((await cluster.http.post(url(2, `/unsubscribe/${email}/news`))).status).toBe(404);
  });

  test('SSE: a group stream and a partition stream from an offset, resuming after Last-Event-ID', async () => {
    await produce('sse', Array.from({ length: 6 }, (_, i) => ({ partition: i % 2, value: `e${i}` })));
    const { events } = await readSse(url(2, '/topics/sse/stream?group=sse-group&auto.offset.reset=earliest'), 6);
    expect(events.map((e) => e.data.value).sort()).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5']);
    for (const e of events) expect(e.id).toBe(`${e.data.partition}:${e.data.offset}`);
    // The stream's instance left the group when the client hung up.
    await waitFor(async () => {
      const res = await cluster.http.get(url(3, '/consumer-groups/sse-group'));
      return res.status === 200 && res.data.members.length === 0;
    }, { timeoutMs: 10_000, what: 'the stream\'s member to leave' });

    const fromOffset = await readSse(url(1, '/topics/sse/stream?partition=0&offset=1'), 2);
    expect(fromOffset.events.map((e) => e.id)).toEqual(['0:1', '0:2']);
    const resumed = await readSse(url(3, '/topics/sse/stream?partition=1&offset=0'), 1, { 'last-event-id': '1:1' });
    expect(resumed.events.map((e) => [e.id, e.data.value])).toEqual([['1:2', 'e5']]);

    // Live records arrive while the stream is open; keep-alive comments flow while it is idle.
    const comments: string[] = [];
    const live = readSse(url(1, '/topics/sse/stream?partition=0&offset=3&keepalive_ms=200'), 1, {}, comments);
    await waitFor(() => comments.includes('keep-alive'), { timeoutMs: 10_000, what: 'a keep-alive comment' });
    await produce('sse', [{ partition: 0, value: 'live' }]);
    expect((await live).events[0]!.data.value).toBe('live');
  });
  test('an instance keeps consuming, without losing records, after its group coordinator is killed', async () => {
    await cluster.createTopic('fo', 3);
    const offsetsTopic = (await cluster.http.get(`${cluster.controllerUrl}/topic/__consumer_offsets`)).data;
    const coordinator = offsetsTopic.partitions[GroupCoordinator.partitionFor('fo-group', offsetsTopic.partitions.length)].leader as number;
    const home = [1, 2, 3].find((b) => b !== coordinator)!;
    const producer = [1, 2, 3].find((b) => b !== coordinator && b !== home)!;
    const inst = await createInstance(home, 'fo-group', { 'auto.offset.reset': 'earliest' });
    await cluster.http.post(`${inst}/subscription`, { topics: ['fo'] });
    const send = async (from: number, n: number) => {
      for (let i = 0; i < n; i++) {
        await waitFor(async () => (await cluster.http.post(url(producer, '/events'), { topic: 'fo', partition: i % 3, value: from + i })).status === 200, {
          timeoutMs: 20_000,
          what: 'an acknowledged produce',
        });
      }
    };
    await send(0, 9);
    const before = await pollUntil(inst, 9);
    await cluster.signalBroker(coordinator, 'SIGKILL');
    await send(100, 9);
    // Redelivery of uncommitted records is allowed (at least once); loss is not.
    const values = before.map((r) => r.value as number);
    await waitFor(
      async () => {
        const res = await cluster.http.get(`${inst}/records?timeout=1000`);
        if (res.status !== 200) throw new Error(`poll: ${res.status} ${JSON.stringify(res.data)}`);
        values.push(...res.data.map((r: Rec) => r.value as number));
        return new Set(values).size >= 18;
      },
      { timeoutMs: 30_000, what: 'the records produced after the kill' },
    );
    expect([...new Set(values)].sort((a, b) => a - b)).toEqual([...Array.from({ length: 9 }, (_, i) => i), ...Array.from({ length: 9 }, (_, i) => 100 + i)]);
    await cluster.http.delete(inst);
    await cluster.waitForActiveBrokers(3);
  });
});
