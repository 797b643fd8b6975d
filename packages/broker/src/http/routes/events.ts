import { Router } from 'express';
import { EventsProduceRequest, parseInput } from '@brook/types';
import { toOutgoingRecord } from '../../produce/JsonRecordCodec';
import type { BrokerServices } from '../BrokerServices';

/** Seed 001: `POST /events` with one record or a `records` batch. */
export function eventsRoutes(s: BrokerServices): Router {
  const router = Router();
  router.post('/events', async (req, res) => {
    const body = parseInput(EventsProduceRequest, req.body);
    const records = 'records' in body ? body.records : [body];
    res.json({ offsets: await s.produce.produce(body.topic, records.map(toOutgoingRecord)) });
  });
  return router;
}
