import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import { createLogger } from '@brook/runtime';
import type { MetadataLog } from '../MetadataLog';
import type { QuorumController } from '../QuorumController';
import { testController, waitUntil } from '../testing';
import { createControllerApp } from './createControllerApp';

const UUID = /^[0-9a-f-]{36}$/;

/** Both spellings of a path: without and with the trailing slash. */
const both = (p: string): [string, string] => [p, `${p}/`];

describe('controller routes', () => {
  let dataDir: string;
  let app: Express;
  let controller: QuorumController;
  let log: MetadataLog;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-routes-'));
    ({ controller, log } = testController({ dataDir }));
    controller.endpoint = { host: 'localhost', port: 9000 };
    app = createControllerApp({ controller, logger: createLogger('test', 'silent'), bodyLimit: 64 * 1024 });
  });
  afterEach(() => {
    controller.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** Registers and unfences a broker through the HTTP API, as a broker process does. */
  async function liveBroker(id: number, route = '/register_broker/'): Promise<number> {
    const reg = await request(app).post(route).send({ brokerId: id, host: 'localhost', port: 9000 + id, incarnationId: `i-${id}` });
    expect(reg.status).toBe(200);
    const first = await request(app)
      .post('/metadata_fetch/')
      .send({ brokerId: id, brokerEpoch: reg.body.brokerEpoch, lastOffset: -1, wantFence: true });
    expect(first.body.kind).toBe('snapshot');
    const second = await request(app)
      .post('/metadata_fetch')
      .send({ brokerId: id, brokerEpoch: reg.body.brokerEpoch, lastOffset: first.body.lastOffset });
    expect(second.status).toBe(200);
    expect(second.body.isFenced).toBe(false);
    return reg.body.brokerEpoch;
  }

  async function threeBrokers(): Promise<number[]> {
    return [await liveBroker(1), await liveBroker(2, '/register'), await liveBroker(3, '/register/')];
  }

  it('registers brokers (register_broker, register) and lists them (brokers, broker/{id})', async () => {
    const reg = await request(app).post('/register_broker').send({ brokerId: 4, host: 'h', port: 1, incarnationId: 'x' });
    expect(reg.body).toEqual({ brokerId: 4, brokerEpoch: expect.any(Number) });
    // Without an incarnation id (by hand): one is made up.
    const byHand = await request(app).post('/register/').send({ brokerId: 5, host: 'h', port: 2 });
    expect(byHand.status).toBe(200);
    await threeBrokers();
    for (const p of both('/brokers')) {
      const res = await request(app).get(p);
      expect(res.status).toBe(200);
      expect(res.body).toHaveLength(5);
      expect(res.body[0]).toEqual({ id: 4, host: 'h', port: 1, state: 'fenced', cluster: 'default', brokerEpoch: reg.body.brokerEpoch, rack: null });
    }
    expect((await request(app).get('/brokers?cluster=default')).body).toHaveLength(5);
    expect((await request(app).get('/brokers?cluster=nope')).body).toEqual([]);
    for (const p of both('/broker/1')) expect((await request(app).get(p)).body).toMatchObject({ id: 1, state: 'active' });
    expect((await request(app).get('/broker/77')).status).toBe(404);
    expect((await request(app).get('/broker/abc')).status).toBe(400);
  });

  it('answers metadata_fetch with deltas, long-polls, and refuses stale epochs', async () => {
    const [e1] = await threeBrokers();
    const high = log.highOffset;
    const held = request(app).post('/metadata_fetch/').send({ brokerId: 1, brokerEpoch: e1, lastOffset: high, maxWaitMs: 10_000 });
    const answer = held.then((r) => r);
    await waitUntil(() => controller.heldFetches === 1, 5000, 'the fetch to be held');
    await request(app).post('/create_topic/').send({ name: 'woke', partitions: 1 }).expect(201);
    const res = await answer;
    expect(res.body.kind).toBe('delta');
    expect(res.body.records.map((r: { type: string }) => r.type)).toEqual(['TopicRecord', 'PartitionRecord']);
    const stale = await request(app).post('/metadata_fetch').send({ brokerId: 1, brokerEpoch: e1 + 1000, lastOffset: high });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('STALE_BROKER_EPOCH');
    const unknown = await request(app).post('/metadata_fetch').send({ brokerId: 42, brokerEpoch: 0, lastOffset: -1 });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('UNKNOWN_BROKER');
  });

  it('creates, reads and deletes topics (create_topic, topic, topics)', async () => {
    await threeBrokers();
    const created = await request(app).post('/create_topic').send({ name: 'orders', partitions: 6, replication_factor: 2, configs: { 'retention.ms': 1000 } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'orders', cluster: 'default', configs: { 'retention.ms': '1000' } });
    expect(created.body.topicId).toMatch(UUID);
    expect(created.body.partitions).toHaveLength(6);
    expect(created.body.partitions[0]).toEqual({
      partition: 0,
      leader: expect.any(Number),
      replicas: expect.any(Array),
      isr: expect.any(Array),
      leaderEpoch: 0,
      partitionEpoch: 0,
    });
    expect((await request(app).post('/create_topic/').send({ name: 'second' })).status).toBe(201);
    // Seed 001's POST /topic is the same logic.
    expect((await request(app).post('/topic').send({ name: 'third', cluster: 'default' })).status).toBe(201);
    expect((await request(app).post('/topic/').send({ name: 'third', cluster: 'default' })).body.error.code).toBe('TOPIC_ALREADY_EXISTS');
    for (const p of both('/topic/orders')) expect((await request(app).get(p)).body).toEqual(created.body);
    expect((await request(app).get('/topic/orders?cluster=default')).body.name).toBe('orders');
    for (const p of both('/topics')) expect((await request(app).get(p)).body.map((t: { name: string }) => t.name)).toEqual(['orders', 'second', 'third']);
    const missing = await request(app).get('/topic/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: 'UNKNOWN_TOPIC', message: expect.any(String), topic: 'nope', cluster: 'default' } });
    expect((await request(app).get('/topic/nope?cluster=other')).body.error.code).toBe('UNKNOWN_TOPIC');
    expect((await request(app).delete('/topic/second')).body).toMatchObject({ name: 'second', deleted: true });
    expect((await request(app).delete('/topic/third/')).body).toMatchObject({ name: 'third', deleted: true });
    expect((await request(app).get('/topics')).body).toHaveLength(1);
    expect((await request(app).delete('/topic/third')).status).toBe(404);
  });

  it('adds partitions and updates them (create_partition, update_partition)', async () => {
    const epochs = await threeBrokers();
    const topic = (await request(app).post('/create_topic/').send({ name: 't', partitions: 1 })).body;
    const added = await request(app).post('/create_partition').send({ topic: 't', count: 2 });
    expect(added.status).toBe(201);
    expect(added.body.partitions).toHaveLength(3);
    expect((await request(app).post('/create_partition/').send({ topicId: topic.topicId })).body.partitions).toHaveLength(4);
    const p = topic.partitions[0];
    // A new partition starts with every replica in sync.
    expect(p.isr).toEqual(p.replicas);
    expect(p.replicas).toHaveLength(3);
    // A leader's AlterPartition: its third replica fell behind and leaves the ISR.
    const isr = [p.leader, p.replicas[1]];
    const alter = await request(app)
      .post('/update_partition/')
      .send({ brokerId: p.leader, brokerEpoch: epochs[p.leader - 1], topicId: topic.topicId, partition: 0, leaderEpoch: 0, partitionEpoch: 0, isr });
    expect(alter.status).toBe(200);
    expect(alter.body).toMatchObject({ topic: 't', partition: 0, isr, partitionEpoch: 1 });
    const stale = await request(app)
      .post('/update_partition')
      .send({ brokerId: p.leader, brokerEpoch: epochs[p.leader - 1], topicId: topic.topicId, partition: 0, leaderEpoch: 0, partitionEpoch: 0, isr: [p.leader] });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('STALE_PARTITION_EPOCH');
    // An operator's update: move the leader.
    const moved = await request(app).post('/update_partition').send({ topic: 't', partition: 0, leader: p.replicas[1], partitionEpoch: 1 });
    expect(moved.body).toMatchObject({ leader: p.replicas[1], leaderEpoch: 1, partitionEpoch: 2 });
  });

  it('handles broker changes (register_broker_change, update_broker, unregister_broker)', async () => {
    await threeBrokers();
    for (const [i, p] of both('/register_broker_change').entries()) {
      const res = await request(app).post(p).send({ brokerId: 1, port: 7000 + i });
      expect(res.body).toMatchObject({ id: 1, port: 7000 + i, state: 'active' });
    }
    for (const p of both('/update_broker')) expect((await request(app).post(p).send({ brokerId: 2, fenced: true })).body.state).toBe('fenced');
    expect((await request(app).post('/update_broker').send({ brokerId: 2, fenced: false })).body.state).toBe('active');
    expect((await request(app).post('/update_broker').send({ brokerId: 9 })).status).toBe(404);
    expect((await request(app).post('/unregister_broker/3')).body).toEqual({ id: 3, deleted: true });
    expect((await request(app).delete('/unregister_broker/2/')).body).toEqual({ id: 2, deleted: true });
    expect((await request(app).post('/unregister_broker/2')).status).toBe(404);
    expect((await request(app).get('/brokers')).body.map((b: { id: number }) => b.id)).toEqual([1]);
  });

  it('hands out producer ids (register_producer, register_producer_broker)', async () => {
    const [e1] = await threeBrokers();
    for (const [i, p] of both('/register_producer').entries()) {
      expect((await request(app).post(p).send({})).body).toEqual({ producerId: i, producerEpoch: 0 });
    }
    // No body at all is fine.
    expect((await request(app).post('/register_producer')).body).toEqual({ producerId: 2, producerEpoch: 0 });
    expect((await request(app).post('/register_producer_broker').send({ brokerId: 1, brokerEpoch: e1 })).body).toEqual({ firstProducerId: 3, size: 1000 });
    expect((await request(app).post('/register_producer_broker/').send({ brokerId: 1, brokerEpoch: e1 })).body.firstProducerId).toBe(1003);
    expect((await request(app).post('/register_producer_broker/').send({ brokerId: 1, brokerEpoch: e1 + 99 })).status).toBe(409);
  });

  it('serves client metadata (metadata_fetch_client, client_mgmt) and broker_mgmt', async () => {
    await threeBrokers();
    await request(app).post('/create_topic').send({ name: 'a', partitions: 2 });
    await request(app).post('/create_topic').send({ name: 'b' });
    for (const p of both('/metadata_fetch_client')) {
      const res = await request(app).get(p);
      expect(res.status).toBe(200);
      expect(res.body.cluster).toBe('default');
      expect(res.body.controller).toEqual({ host: 'localhost', port: 9000 });
      expect(res.body.brokers).toEqual([1, 2, 3].map((id) => ({ id, host: 'localhost', port: 9000 + id, state: 'active' })));
      expect(res.body.topics.map((t: { name: string }) => t.name)).toEqual(['a', 'b']);
      expect(Object.keys(res.body.topics[0]).sort()).toEqual(['configs', 'name', 'partitions', 'topicId']);
    }
    expect((await request(app).get('/metadata_fetch_client?topic=b,zzz')).body.topics.map((t: { name: string }) => t.name)).toEqual(['b']);
    expect((await request(app).get('/metadata_fetch_client?cluster=nope')).status).toBe(404);

    for (const p of both('/broker_mgmt')) {
      expect((await request(app).post(p).send({})).body).toMatchObject({ kind: 'snapshot', lastOffset: log.highOffset });
    }
    const since = log.highOffset - 2;
    const delta = await request(app).post('/broker_mgmt/').send({ offset: since, cluster: 'default' });
    expect(delta.body.kind).toBe('delta');
    expect(delta.body.records).toHaveLength(2);
    expect((await request(app).post('/broker_mgmt').send({ timestamp: Date.now() - 1000 })).body.kind).toBeDefined();

    for (const p of both('/client_mgmt')) {
      const snap = await request(app).get(p);
      expect(snap.body.kind).toBe('snapshot');
      expect(Object.keys(snap.body.snapshot).sort()).toEqual(['brokers', 'offset', 'partitions', 'topics']);
    }
    const clientDelta = await request(app).get(`/client_mgmt?offset=0`);
    expect(clientDelta.body.kind).toBe('delta');
    const types = new Set(clientDelta.body.records.map((r: { type: string }) => r.type));
    expect(types.has('ClusterRecord')).toBe(false);
    expect(types.has('TopicRecord')).toBe(true);
    expect((await request(app).get('/client_mgmt?offset=abc')).status).toBe(400);
  });

  it('creates, reads and deletes records (create_record, read_records, delete_record)', async () => {
    await threeBrokers();
    const topic = await request(app).post('/create_record/').send({ type: 'TopicRecord', data: { name: 'viaRecord', partitions: 2 } });
    expect(topic.status).toBe(201);
    expect(topic.body).toEqual({ id: expect.stringMatching(UUID) });
    const partition = await request(app).post('/create_record').send({ type: 'PartitionRecord', data: { topic: 'viaRecord' } });
    expect(partition.body).toEqual({ id: topic.body.id });
    expect((await request(app).post('/create_record').send({ type: 'RegisterBrokerRecord', data: { brokerId: 8, host: 'h', port: 8 } })).body).toEqual({ id: 8 });
    expect((await request(app).post('/create_record').send({ type: 'ProducerIdsRecord', data: {} })).body).toEqual({ id: 0 });
    const cluster = await request(app).post('/create_record').send({ type: 'ClusterRecord', data: { name: 'viaRecordCluster', num_brokers: 1 } });
    expect(cluster.body).toEqual({ id: 'viaRecordCluster' });
    const other = await request(app).post('/create_record').send({ type: 'PartitionChangeRecord', data: {} });
    expect(other.status).toBe(400);

    for (const p of both('/read_records')) {
      const all = await request(app).get(p);
      expect(all.status).toBe(200);
      expect(all.body).toHaveLength(log.recordCount);
      expect(Object.keys(all.body[0]).sort()).toEqual(['cluster', 'offset', 'payload', 'timestamp', 'type']);
    }
    const topics = await request(app).get('/read_records?type=TopicRecord');
    expect(topics.body.map((r: { payload: { name: string } }) => r.payload.name)).toEqual(['viaRecord']);
    expect((await request(app).get('/read_records?cluster=viaRecordCluster')).body).toHaveLength(1);
    expect((await request(app).get('/read_records?after=3&limit=2')).body.map((r: { offset: number }) => r.offset)).toEqual([4, 5]);
    expect((await request(app).get(`/read_records?since=${Date.now() + 60_000}`)).body).toEqual([]);
    expect((await request(app).get('/read_records?limit=10001')).status).toBe(400);
    expect((await request(app).get('/read_records?type=Bogus')).status).toBe(400);

    expect((await request(app).delete(`/delete_record/${topic.body.id}`)).body).toEqual({ id: topic.body.id, deleted: true });
    expect((await request(app).get('/topic/viaRecord')).status).toBe(404);
    expect((await request(app).delete('/delete_record/8/')).body).toEqual({ id: 8, deleted: true });
    expect((await request(app).delete('/delete_record/8')).status).toBe(404);
    const junk = await request(app).delete('/delete_record/not-an-id');
    expect(junk.status).toBe(404);
    expect(junk.body.error.code).toBe('UNKNOWN_RECORD');
  });

  it('creates and shows clusters (POST /cluster, GET /cluster[/name], /clusters)', async () => {
    const res = await request(app).post('/cluster').send({ name: 'blue', num_brokers: 2, log_directory: 'blue-data', partitions: 3, retention_policies: 24 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'blue', logDirectory: 'blue-data', numBrokers: 2, defaultPartitions: 3, retentionMs: 86_400_000, managed: false });
    expect(fs.existsSync(path.join(dataDir, 'blue-data'))).toBe(false); // unmanaged test controller: no hooks
    for (const p of [...both('/cluster'), ...both('/clusters')]) {
      expect((await request(app).get(p)).body.map((c: { name: string }) => c.name)).toEqual(['default', 'blue']);
    }
    await liveBroker(1);
    for (const p of both('/cluster/default')) {
      expect((await request(app).get(p)).body.brokers).toEqual([
        { id: 1, host: 'localhost', port: 9001, state: 'active', pid: null, process: 'unmanaged', restarts: 0, logFile: null },
      ]);
    }
    expect((await request(app).get('/clusters/nope')).status).toBe(404);
    const bad = await request(app).post('/cluster/').send({ name: 'evil', log_directory: '../escape' });
    expect(bad.status).toBe(400);
  });

  it('answers health', async () => {
    for (const p of both('/health')) expect((await request(app).get(p)).body).toEqual({ status: 'ok', offset: log.highOffset });
  });

  describe('bad input', () => {
    it('is a 4xx in the one error shape, and writes nothing', async () => {
      await threeBrokers();
      const count = log.recordCount;
      const cases: Array<[string, string, unknown, number, string]> = [
        ['post', '/create_topic/', { name: '../x' }, 400, 'INVALID_TOPIC_NAME'],
        ['post', '/create_topic/', { name: 'a/b' }, 400, 'INVALID_TOPIC_NAME'],
        ['post', '/create_topic/', { name: '..' }, 400, 'INVALID_TOPIC_NAME'],
        ['post', '/create_topic/', { name: '' }, 400, 'INVALID_TOPIC_NAME'],
        ['post', '/create_topic/', { name: 'x'.repeat(250) }, 400, 'INVALID_TOPIC_NAME'],
        ['post', '/create_topic/', { name: 'ok', cluster: 'nope' }, 404, 'UNKNOWN_CLUSTER'],
        ['post', '/create_topic/', { name: 'ok', cluster: '../x' }, 400, 'INVALID_REQUEST'],
        ['post', '/create_topic/', { name: 'ok', partitions: 0 }, 400, 'INVALID_PARTITIONS'],
        ['post', '/create_topic/', { name: 'ok', partitions: 'many' }, 400, 'INVALID_REQUEST'],
        ['post', '/create_topic/', { name: 'ok', replication_factor: 5 }, 400, 'INVALID_REPLICATION_FACTOR'],
        ['post', '/create_topic/', { name: 'ok', configs: { bogus: '1' } }, 400, 'INVALID_REQUEST'],
        ['post', '/create_topic/', [1, 2], 400, 'INVALID_REQUEST'],
        ['post', '/create_topic/', 'text', 400, 'INVALID_REQUEST'],
        ['post', '/cluster', { name: 'c', log_directory: '../escape' }, 400, 'INVALID_REQUEST'],
        ['post', '/cluster', { name: 'c', log_directory: '/abs' }, 400, 'INVALID_REQUEST'],
        ['post', '/cluster', { name: 'c', log_directory: 'controller' }, 400, 'INVALID_REQUEST'],
        ['post', '/cluster', { name: 'c', num_brokers: 99 }, 400, 'INVALID_REQUEST'],
        ['post', '/cluster', { name: 'c/d' }, 400, 'INVALID_REQUEST'],
        ['post', '/cluster', { name: 'default' }, 409, 'CLUSTER_ALREADY_EXISTS'],
        ['post', '/register_broker/', { brokerId: -1, host: 'h', port: 1 }, 400, 'INVALID_REQUEST'],
        ['post', '/register_broker/', { brokerId: 1, host: 'h', port: 70000 }, 400, 'INVALID_REQUEST'],
        ['post', '/metadata_fetch/', { brokerId: 1 }, 400, 'INVALID_REQUEST'],
        ['post', '/update_partition/', { topic: 'nope', partition: 0 }, 404, 'UNKNOWN_TOPIC'],
        ['post', '/create_partition/', { topic: 'nope' }, 404, 'UNKNOWN_TOPIC'],
        ['post', '/create_partition/', {}, 400, 'INVALID_REQUEST'],
        ['post', '/create_record/', { type: 'TopicRecord', data: { name: '../x' } }, 400, 'INVALID_TOPIC_NAME'],
        ['post', '/create_record/', { type: 'Nope', data: {} }, 400, 'INVALID_REQUEST'],
        ['post', '/update_broker/', { brokerId: 1, port: 'x' }, 400, 'INVALID_REQUEST'],
        ['post', '/broker_mgmt/', { offset: -5 }, 400, 'INVALID_REQUEST'],
        ['post', '/broker_mgmt/', { cluster: 'nope' }, 404, 'UNKNOWN_CLUSTER'],
        ['get', '/topic/..', undefined, 400, 'INVALID_TOPIC_NAME'],
        ['get', '/nowhere', undefined, 404, 'NOT_FOUND'],
      ];
      for (const [method, url, body, status, code] of cases) {
        const req = method === 'post' ? request(app).post(url).set('content-type', 'application/json').send(JSON.stringify(body)) : request(app).get(url);
        const res = await req;
        expect({ url, body, status: res.status, code: res.body.error?.code }).toEqual({ url, body, status, code });
        expect(Object.keys(res.body)).toEqual(['error']);
        expect(typeof res.body.error.message).toBe('string');
      }
      expect(log.recordCount).toBe(count);
      expect(fs.readdirSync(dataDir)).toEqual([]);
    });

    it('refuses malformed JSON (400 INVALID_JSON) and oversized bodies (413)', async () => {
      const count = log.recordCount;
      const malformed = await request(app).post('/create_topic/').set('content-type', 'application/json').send('{"name": "x"');
      expect(malformed.status).toBe(400);
      expect(malformed.body).toEqual({ error: { code: 'INVALID_JSON', message: expect.any(String) } });
      const huge = await request(app)
        .post('/create_topic/')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ name: 'big', configs: { 'retention.ms': '1'.repeat(70 * 1024) } }));
      expect(huge.status).toBe(413);
      expect(huge.body.error.code).toBe('PAYLOAD_TOO_LARGE');
      expect(log.recordCount).toBe(count);
    });
  });
});
