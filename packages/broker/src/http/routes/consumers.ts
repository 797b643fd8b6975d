import { Router, type Request, type Response } from 'express';
import {
  BrookError,
  ConsumerCommitRequest,
  ConsumerGroupPath,
  ConsumerInstancePath,
  ConsumerPartitionsRequest,
  ConsumerRecordsQuery,
  ConsumerSeekRequest,
  CreateConsumerRequest,
  parseInput,
  SubscriptionRequest,
  topicName,
  TopicStreamQuery,
} from '@brook/types';
import { z } from 'zod';
import type { ConsumerInstanceManager, InstanceRecord, PositionSpec } from '../../consumer/ConsumerInstanceManager';
import type { BrokerServices } from '../BrokerServices';

const REST_PROXY_V2 = 'application/vnd.kafka.v2+json';
const TopicPath = z.object({ topic: topicName });

/**
 * Confluent REST Proxy v2 consumers over ConsumerInstanceManager: instances live on the broker that
 * created them (base_uri points there). Also the SSE stream of a topic.
 */
export function consumerRoutes(s: BrokerServices): Router {
  const router = Router();
  const m = s.consumers;

  router.post('/consumers/:group', (req, res) => {
    const { group } = parseInput(ConsumerGroupPath, req.params);
    const body = parseInput(CreateConsumerRequest, req.body ?? {});
    const inst = m.create(group, {
      name: body.name,
      format: body.format,
      autoOffsetReset: body['auto.offset.reset'] as 'earliest' | 'latest' | undefined,
      autoCommit: body['auto.commit.enable'],
    });
    res.type(REST_PROXY_V2).json({ instance_id: inst.instanceId, base_uri: `${baseUrl(s, req)}/consumers/${encodeURIComponent(group)}/instances/${encodeURIComponent(inst.instanceId)}` });
  });

  router.delete('/consumers/:group/instances/:instance', async (req, res) => {
    const { group, instance } = parseInput(ConsumerInstancePath, req.params);
    await m.delete(group, instance);
    res.status(204).end();
  });

  router.post('/consumers/:group/instances/:instance/subscription', async (req, res) => {
    const { group, instance } = parseInput(ConsumerInstancePath, req.params);
    const { topics } = parseInput(SubscriptionRequest, req.body);
    await m.subscribe(group, instance, topics);
    res.status(204).end();
  });

  router.get('/consumers/:group/instances/:instance/subscription', (req, res) => {
    const { group, instance } = parseInput(ConsumerInstancePath, req.params);
    res.type(REST_PROXY_V2).json({ topics: m.describe(group, instance).topics });
  });

  router.delete('/consumers/:group/instances/:instance/subscription', async (req, res) => {
    const { group, instance } = parseInput(ConsumerInstancePath, req.params);
    await m.unsubscribe(group, instance);
    res.status(204).end();
  });

  /** Brook's view of an instance: member id, epoch, assignment. */
  router.get('/consumers/:group/instances/:instance/assignments', (req, res) => {
    const { group, instance } = parseInput(ConsumerInstancePath, req.params);
    const v = m.describe(group, instance);
    res.type(REST_PROXY_V2).json({ partitions: v.assignment, member_id: v.memberId, member_epoch: v.memberEpoch });
  });

  router.get('/consumers/:group/instances/:instance/records', async (req, res) => {
    const { group, instance } = parseInput(ConsumerInstancePath, req.params);
    const q = parseInput(ConsumerRecordsQuery, req.query);
    const format = m.describe(group, instance).format;
    const records = await m.poll(group, instance, { maxRecords: q.max_records, maxBytes: q.max_bytes, timeoutMs: q.timeout ?? 0 });
    res.type(format === 'binary' ? 'application/vnd.kafka.binary.v2+json' : 'application/vnd.kafka.json.v2+json').json(records.map(restRecord));
  });

  router.post('/consumers/:group/instances/:instance/offsets', async (req, res) => {
    const { group, instance } = parseInput(ConsumerInstancePath, req.params);
    const body = parseInput(ConsumerCommitRequest, req.body ?? {});
    const offsets = await m.commit(group, instance, body.offsets && body.offsets.length > 0 ? body.offsets : undefined);
    res.type(REST_PROXY_V2).json({ offsets });
  });

  router.get('/consumers/:group/instances/:instance/offsets', async (req, res) => {
    const { group, instance } = parseInput(ConsumerInstancePath, req.params);
    const body = parseInput(ConsumerPartitionsRequest.partial(), req.body ?? {});
    let partitions = body.partitions;
    if (!partitions && typeof req.query.topic === 'string') {
      const topic = parseInput(topicName, req.query.topic, 'topic');
      const p = req.query.partition === undefined ? undefined : parseInput(z.coerce.number().int().nonnegative(), req.query.partition, 'partition');
      const count = (await s.metadata.requireTopic(topic, 0)).partitions.length;
      partitions = p === undefined ? Array.from({ length: count }, (_, i) => ({ topic, partition: i })) : [{ topic, partition: p }];
    }
    const committed = await m.committed(group, instance, partitions);
    res.type(REST_PROXY_V2).json({ offsets: committed.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, metadata: o.metadata })) });
  });

  /** Brook extension: the current positions (next offset to read) of the assigned partitions. */
  router.get('/consumers/:group/instances/:instance/positions', (req, res) => {
    const { group, instance } = parseInput(ConsumerInstancePath, req.params);
    res.type(REST_PROXY_V2).json({ offsets: m.positions(group, instance) });
  });

  router.post('/consumers/:group/instances/:instance/positions', async (req, res) => {
    const { group, instance } = parseInput(ConsumerInstancePath, req.params);
    const body = parseInput(ConsumerSeekRequest, req.body);
    const specs: PositionSpec[] = [...(body.offsets ?? []), ...(body.timestamps ?? [])];
    if (specs.length === 0) throw new BrookError('INVALID_REQUEST', 'offsets (or timestamps) must list at least one partition');
    for (const sp of specs) {
      if (sp.timestamp !== undefined && !Number.isFinite(sp.timestamp)) throw new BrookError('INVALID_REQUEST', 'timestamp must be a number or an ISO-8601 date');
    }
    res.type(REST_PROXY_V2).json({ offsets: await m.seek(group, instance, specs) });
  });

  for (const where of ['beginning', 'end'] as const) {
    router.post(`/consumers/:group/instances/:instance/positions/${where}`, async (req, res) => {
      const { group, instance } = parseInput(ConsumerInstancePath, req.params);
      const { partitions } = parseInput(ConsumerPartitionsRequest, req.body);
      res.type(REST_PROXY_V2).json({ offsets: await m.seekTo(group, instance, where, partitions) });
    });
  }

  router.get('/topics/:topic/stream', async (req, res) => {
    const { topic } = parseInput(TopicPath, req.params);
    const q = parseInput(TopicStreamQuery, req.query);
    const t = await s.metadata.requireTopic(topic, 0);
    const lastEventId = parseLastEventId(req.headers['last-event-id']);
    if (q.group === undefined && q.partition === undefined) throw new BrookError('INVALID_REQUEST', 'give group, or partition (and offset)');
    if (q.partition !== undefined && q.partition >= t.partitions.length) {
      throw new BrookError('UNKNOWN_PARTITION', `topic ${topic} has no partition ${q.partition}`, { topic, partition: q.partition });
    }
    await streamSse(s, m, req, res, topic, q, lastEventId);
  });

  return router;
}

function restRecord(r: InstanceRecord) {
  return { topic: r.topic, key: r.key, value: r.value, partition: r.partition, offset: r.offset, timestamp: r.timestamp, headers: r.headers };
}

function baseUrl(s: BrokerServices, req: Request): string {
  const self = s.metadata.broker(s.brokerId);
  if (self) return `http://${self.host}:${self.port}`;
  return `${req.protocol}://${req.get('host')}`;
}

function parseLastEventId(header: string | string[] | undefined): { partition: number; offset: number } | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  const match = v ? /^(\d{1,9}):(\d{1,16})$/.exec(v.trim()) : null;
  return match ? { partition: Number(match[1]), offset: Number(match[2]) } : undefined;
}

/**
 * Server-Sent Events: `id: <partition>:<offset>` and `data: <record JSON>` per record, `: keep-alive`
 * comments while idle, until the client goes away. With `group`, an instance of that group (deleted at the
 * end); else one partition from `offset`. Last-Event-ID resumes after the event it names.
 */
async function streamSse(
  s: BrokerServices,
  m: ConsumerInstanceManager,
  req: Request,
  res: Response,
  topic: string,
  q: z.output<typeof TopicStreamQuery>,
  lastEventId: { partition: number; offset: number } | undefined,
): Promise<void> {
  let open = true;
  res.on('close', () => (open = false));
  const keepAliveMs = q.keepalive_ms ?? 15_000;
  let instance: string | undefined;
  const group = q.group;
  if (group !== undefined) {
    instance = m.create(group, { autoOffsetReset: q['auto.offset.reset'] ?? 'latest', autoCommit: true }).instanceId;
    try {
      await m.subscribe(group, instance, [topic]);
      if (lastEventId && m.describe(group, instance).assignment.some((tp) => tp.topic === topic && tp.partition === lastEventId.partition)) {
        await m.seek(group, instance, [{ topic, partition: lastEventId.partition, offset: lastEventId.offset + 1 }]);
      }
    } catch (err) {
      await m.delete(group, instance).catch(() => undefined);
      throw err;
    }
  }
  res.status(200).set({ 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.flushHeaders();
  res.write(': connected\n\n');
  let lastWrite = Date.now();
  const send = (r: { partition: number; offset: number }, data: unknown) => {
    res.write(`id: ${r.partition}:${r.offset}\ndata: ${JSON.stringify(data)}\n\n`);
    lastWrite = Date.now();
  };
  const partition = q.partition ?? 0;
  let offset = lastEventId && lastEventId.partition === partition ? lastEventId.offset + 1 : q.offset ?? 0;
  try {
    while (open) {
      const waitMs = Math.min(1000, keepAliveMs);
      if (group !== undefined && instance !== undefined) {
        const records = await m.poll(group, instance, { maxRecords: 500, timeoutMs: waitMs });
        if (!open) break;
        for (const r of records) send(r, { topic: r.topic, key: r.key, value: r.value, partition: r.partition, offset: r.offset, timestamp: r.timestamp, headers: r.headers });
      } else {
        const { records } = await s.fetch.fetchRecords({ topic, partition, offset, maxRecords: 500, maxWaitMs: waitMs, maxBytes: 4 * 1024 * 1024 }, false);
        if (!open) break;
        for (const r of records) send({ partition, offset: r.offset }, { topic, partition, ...r });
        if (records.length > 0) offset = records[records.length - 1]!.offset + 1;
      }
      if (Date.now() - lastWrite >= keepAliveMs) {
        res.write(': keep-alive\n\n');
        lastWrite = Date.now();
      }
    }
  } catch (err) {
    if (open) {
      const e = err instanceof BrookError ? err : new BrookError('INTERNAL', 'stream failed');
      res.write(`event: error\ndata: ${JSON.stringify(e.toBody())}\n\n`);
    }
  } finally {
    if (group !== undefined && instance !== undefined) await m.delete(group, instance).catch(() => undefined);
    res.end();
  }
  void req;
}
