import { Router } from 'express';
import { AcksQuery, EventsProduceRequest, parseInput } from '@brook/types';
import { toOutgoingRecord } from '../../produce/JsonRecordCodec';
import type { BrokerServices } from '../BrokerServices';

/** Seed 001: `POST /events` with one record or a `records` batch. */
export function eventsRoutes(s: BrokerServices): Router {
  const router = Router();
  router.post('/events', async (req, res) => {
    const body = parseInput(EventsProduceRequest, req.body);
    const acks = parseInput(AcksQuery, req.query).acks ?? body.acks ?? 'all';
    const records = 'records' in body ? body.records : [body];
    const idempotence =
      body.producer_id === undefined
        ? undefined
        : { producerId: body.producer_id, producerEpoch: body.producer_epoch ?? 0, baseSequence: body.sequence ?? 0 };
    const offsets = await s.produce.produce(body.topic, records.map(toOutgoingRecord), acks, idempotence);
    res.status(acks === '0' ? 202 : 200).json({ offsets });
  });
  return router;
}
