import { Router, type Request } from 'express';
import {
  parseInput,
  SeedConsumeRequest,
  SeedEventsConsumeRequest,
  SeedOffsetRequest,
  SeedPublishRequest,
  SeedReadPath,
  SeedRegisterConsumerRequest,
  SeedRegisterProducerRequest,
  SeedRegisterTopicRequest,
  SeedUserTopicPath,
} from '@brook/types';
import type { SeedConsumers } from '../../consumer/SeedConsumers';

/** Body fields, with query fields filling in what the body lacks (curl users send either). */
const input = (req: Request): Record<string, unknown> => ({ ...(req.query as Record<string, unknown>), ...(isObject(req.body) ? req.body : {}) });
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const numberFields = (o: Record<string, unknown>, ...names: string[]) => {
  for (const n of names) if (typeof o[n] === 'string' && /^\d+$/.test(o[n] as string)) o[n] = Number(o[n]);
  return o;
};

/**
 * The seeds' consumers over SeedConsumers (and through it the consumer instances):
 * seed 001 `GET /events`, `POST /offset`; seed 002 `POST /register/topic|producer|consumer`, `POST /publish`,
 * `POST /consume`; seed 004 `POST /subscribe/:email/:topic`, `POST /unsubscribe/:email/:topic`,
 * `GET /read/:email/:topic/:key`.
 */
export function seedConsumerRoutes(seeds: SeedConsumers): Router {
  const router = Router();

  // seed 001
  router.get('/events', async (req, res) => {
    const q = parseInput(SeedEventsConsumeRequest, numberFields(input(req), 'max_records', 'timeout_ms'));
    res.json(await seeds.events(q.consumer_id, q.topic, q.max_records, q.timeout_ms));
  });
  router.post('/offset', async (req, res) => {
    const { consumer_id } = parseInput(SeedOffsetRequest, input(req));
    res.json({ consumer_id, offsets: await seeds.commit(consumer_id) });
  });

  // seed 002
  router.post('/register/topic', async (req, res) => {
    const body = parseInput(SeedRegisterTopicRequest, input(req));
    const r = await seeds.registerTopic(body.topic, body.partitions);
    res.status(r.created ? 201 : 200).json(r);
  });
  router.post('/register/producer', async (req, res) => {
    const body = parseInput(SeedRegisterProducerRequest, input(req));
    res.json(await seeds.registerProducer(body.topic, body.producer_id));
  });
  router.post('/register/consumer', async (req, res) => {
    const body = parseInput(SeedRegisterConsumerRequest, input(req));
    res.json(await seeds.registerConsumer(body.topic, body.consumer_id));
  });
  router.post('/publish', async (req, res) => {
    const body = parseInput(SeedPublishRequest, req.body);
    res.json(await seeds.publish(body.topic, body.value, body.key));
  });
  router.post('/consume', async (req, res) => {
    const body = parseInput(SeedConsumeRequest, input(req));
    const m = await seeds.consume(body.consumer_id);
    if (!m) {
      res.status(204).end();
      return;
    }
    res.json({ topic: m.topic, offset: m.offset, value: m.value, key: m.key, partition: m.partition, timestamp: m.timestamp });
  });

  // seed 004
  router.post('/subscribe/:email/:topic', async (req, res) => {
    const p = parseInput(SeedUserTopicPath, req.params);
    res.json({ ...(await seeds.subscribe(p.email, p.topic)), subscribed: p.topic });
  });
  router.post('/unsubscribe/:email/:topic', async (req, res) => {
    const p = parseInput(SeedUserTopicPath, req.params);
    res.json({ ...(await seeds.unsubscribe(p.email, p.topic)), unsubscribed: p.topic });
  });
  router.get('/read/:email/:topic/:key', async (req, res) => {
    const p = parseInput(SeedReadPath, req.params);
    res.json({ email: p.email, topic: p.topic, key: p.key, ...(await seeds.read(p.email, p.topic, p.key)) });
  });

  return router;
}
