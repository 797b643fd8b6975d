import express, { Router } from 'express';
import { z } from 'zod';
import { requestParams } from '@brook/runtime';
import {
  AcksQuery,
  decodeProduceFrame,
  FetchRecordsQuery,
  nonNegativeInt,
  parseInput,
  PartitionPath,
  PRODUCE_FRAME_CONTENT_TYPE,
  type ProduceFrameResponse,
} from '@brook/types';
import { FORWARDED_HEADER } from '../../network/BrokerPeers';
import type { BrokerServices } from '../BrokerServices';

/** `?timestamp=` asks for the first offset at or after a time instead of the earliest and latest. */
const TimestampQuery = z.object({ timestamp: nonNegativeInt.optional() });

/** Brook's canonical data routes: binary produce, and JSON reads of one partition. */
export function recordRoutes(s: BrokerServices, bodyLimit: number): Router {
  const router = Router();

  router.post('/produce', express.raw({ type: PRODUCE_FRAME_CONTENT_TYPE, limit: bodyLimit }), async (req, res) => {
    const acks = parseInput(AcksQuery, req.query).acks ?? 'all';
    const frame = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const answer: ProduceFrameResponse = { results: await s.produce.appendLocal(decodeProduceFrame(frame), acks) };
    res.json(answer);
  });

  router.get('/topics/:topic/partitions/:partition/records', async (req, res) => {
    const q = parseInput(FetchRecordsQuery, requestParams(req));
    const result = await s.fetch.fetchRecords(
      { topic: q.topic, partition: q.partition, offset: q.offset, maxRecords: q.max_records, maxWaitMs: q.max_wait_ms, maxBytes: q.max_bytes },
      req.headers[FORWARDED_HEADER] !== undefined,
    );
    res.json(result);
  });

  router.get('/topics/:topic/partitions/:partition/offsets', async (req, res) => {
    const q = parseInput(PartitionPath, req.params);
    const { timestamp } = parseInput(TimestampQuery, req.query);
    const forwarded = req.headers[FORWARDED_HEADER] !== undefined;
    res.json(
      timestamp === undefined
        ? await s.fetch.offsets(q.topic, q.partition, forwarded)
        : await s.fetch.offsetForTimestamp(q.topic, q.partition, timestamp, forwarded),
    );
  });

  return router;
}
