import { Router, type Request } from 'express';
import { z } from 'zod';
import { AcksQuery, BrookError, parseInput, parseRestProxyProduceRequest, topicName } from '@brook/types';
import { toOutgoingRecords } from '../../produce/JsonRecordCodec';
import type { OutgoingRecord } from '../../produce/ProduceService';
import type { BrokerServices } from '../BrokerServices';

const TopicPath = z.object({ topic: topicName });
const REST_PROXY_CONTENT_TYPE = 'application/vnd.kafka.v2+json';

/**
 * Confluent REST Proxy v2 compatibility, so scripts written for it work unchanged: produce with the json
 * or binary (base64) embedded format, and the topic listing routes.
 */
export function restProxyRoutes(s: BrokerServices): Router {
  const router = Router();

  router.post('/topics/:topic', async (req, res) => {
    const { topic } = parseInput(TopicPath, req.params);
    const body = parseRestProxyProduceRequest(req.body);
    const records: OutgoingRecord[] = isBinaryFormat(req)
      ? body.records.map((r, i) => ({ partition: r.partition, key: base64Field(r.key, `records.${i}.key`), value: base64Field(r.value, `records.${i}.value`) }))
      : toOutgoingRecords(body.records.map((r) => ({ partition: r.partition, key: jsonKey(r.key), value: r.value })));
    const acks = parseInput(AcksQuery, req.query).acks ?? 'all';
    const offsets = await s.produce.produce(topic, records, acks);
    res.status(acks === '0' ? 202 : 200).type(REST_PROXY_CONTENT_TYPE).json({
      key_schema_id: null,
      value_schema_id: null,
      offsets: offsets.map((o) => ({ partition: o.partition, offset: o.offset, error_code: null, error: null })),
    });
  });

  router.get('/topics', (_req, res) => {
    res.type(REST_PROXY_CONTENT_TYPE).json(s.metadata.topics().map((t) => t.name).sort());
  });

  router.get('/topics/:topic', async (req, res) => {
    const { topic } = parseInput(TopicPath, req.params);
    const t = await s.metadata.requireTopic(topic, 0);
    res.type(REST_PROXY_CONTENT_TYPE).json({
      name: t.name,
      configs: t.configs,
      partitions: t.partitions.map((p) => ({
        partition: p.partition,
        leader: p.leader,
        replicas: p.replicas.map((b) => ({ broker: b, leader: b === p.leader, in_sync: p.isr.includes(b) })),
      })),
    });
  });

  return router;
}

function isBinaryFormat(req: Request): boolean {
  return /application\/vnd\.kafka\.binary\.v2\+json/.test(String(req.headers['content-type'] ?? ''));
}

/** JSON keys: strings pass as they are (so they hash like Kafka's string keys); other JSON as its text. */
function jsonKey(key: unknown): string | null {
  if (key === undefined || key === null) return null;
  return typeof key === 'string' ? key : JSON.stringify(key);
}

function base64Field(value: unknown, where: string): Buffer | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new BrookError('INVALID_REQUEST', `${where}: the binary format needs base64 strings`);
  }
  return Buffer.from(value, 'base64');
}
