import querystring from 'node:querystring';
import { Router } from 'express';
import { z } from 'zod';
import { requestParams, sendChunks, type HotRoutes } from '@brook/runtime';
import {
  AcksQuery,
  type AcksMode,
  encodeFetchResponse,
  FETCH_CONTENT_TYPE,
  decodeProduceFrame,
  FetchRecordsQuery,
  nonNegativeInt,
  parseConsumerFetchRequest,
  parseInput,
  PartitionPath,
  PRODUCE_FRAME_CONTENT_TYPE,
  type ProduceFrameResponse,
} from '@brook/types';
import { FORWARDED_HEADER } from '../../network/BrokerPeers';
import type { BrokerServices } from '../BrokerServices';

/** `?timestamp=` asks for the first offset at or after a time instead of the earliest and latest. */
const TimestampQuery = z.object({ timestamp: nonNegativeInt.optional() });

/** Brook's canonical data routes: binary produce, consumers' binary fetch of many partitions, and JSON reads of one partition. */
export function recordRoutes(s: BrokerServices, hot: HotRoutes): Router {
  const router = Router();

  hot.binary(router, '/produce', PRODUCE_FRAME_CONTENT_TYPE, async (req, res, frame) => {
    const acks = acksOf(req.url!);
    const answer: ProduceFrameResponse = { results: await s.produce.appendLocal(decodeProduceFrame(frame), acks) };
    sendChunks(res, 'application/json; charset=utf-8', [Buffer.from(JSON.stringify(answer))]);
  });

  hot.json(router, '/fetch', async (_req, res, body) => {
    const results = await s.consumerFetch.fetch(parseConsumerFetchRequest(body));
    sendChunks(res, FETCH_CONTENT_TYPE, encodeFetchResponse(results));
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

/** `?acks=` as AcksQuery reads express's query (the 'simple' parser is querystring's); `all` without zod. */
function acksOf(url: string): AcksMode {
  const at = url.indexOf('?');
  const query = at < 0 ? {} : querystring.parse(url.slice(at + 1));
  if (query.acks === 'all' || query.acks === undefined) return 'all';
  return parseInput(AcksQuery, query).acks ?? 'all';
}
