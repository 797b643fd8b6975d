import { Router } from 'express';
import { AcksQuery, parseEventsProduceRequest, parseInput, type ProducedOffset } from '@brook/types';
import { toOutgoingRecords } from '../../produce/JsonRecordCodec';
import type { BrokerServices } from '../BrokerServices';

/** Seed 001: `POST /events` with one record or a `records` batch. */
export function eventsRoutes(s: BrokerServices): Router {
  const router = Router();
  router.post('/events', async (req, res) => {
    const body = parseEventsProduceRequest(req.body);
    const acks = parseInput(AcksQuery, req.query).acks ?? body.acks ?? 'all';
    const records = 'records' in body ? body.records : [body];
    const idempotence =
      body.producer_id === undefined
        ? undefined
        : { producerId: body.producer_id, producerEpoch: body.producer_epoch ?? 0, baseSequence: body.sequence ?? 0 };
    const offsets = await s.produce.produce(body.topic, toOutgoingRecords(records), acks, idempotence);
    res.status(acks === '0' ? 202 : 200).set('content-type', 'application/json; charset=utf-8').send(offsetsJson(offsets));
  });
  return router;
}

/**
 * `{"offsets": [...]}` as JSON text, the same as JSON.stringify gives: a batch answers one object per
 * record, and building the text directly costs a fraction of stringifying a thousand objects.
 */
function offsetsJson(offsets: readonly ProducedOffset[]): string {
  let json = '{"offsets":[';
  for (let i = 0; i < offsets.length; i++) {
    const o = offsets[i]!;
    json += `${i === 0 ? '' : ','}{"partition":${o.partition},"offset":${o.offset}}`;
  }
  return `${json}]}`;
}
