import { Router } from 'express';
import { z } from 'zod';
import { AcksQuery, nonNegativeInt, parseInput, topicName, WriteRequest } from '@brook/types';
import { toOutgoingRecord } from '../../produce/JsonRecordCodec';
import type { BrokerServices } from '../BrokerServices';

const CreateTopicPath = z.object({
  topic: topicName,
  num_partitions: nonNegativeInt.pipe(z.number().min(1, { error: 'must be at least 1' }).max(10_000)),
});
const TopicPath = z.object({ topic: topicName });

/** Seed 004's pub-sub API: topics with N partitions, and writes whose key picks the partition. */
export function pubsubRoutes(s: BrokerServices): Router {
  const router = Router();
  router.post('/create_topic/:topic/:num_partitions', async (req, res) => {
    const p = parseInput(CreateTopicPath, req.params);
    res.status(201).json(await s.topics.createTopic(p.topic, p.num_partitions));
  });
  router.delete('/delete_topic/:topic', async (req, res) => {
    const p = parseInput(TopicPath, req.params);
    res.json(await s.topics.deleteTopic(p.topic));
  });
  router.post('/write/:topic', async (req, res) => {
    const { topic } = parseInput(TopicPath, req.params);
    const body = parseInput(WriteRequest, req.body);
    const acks = parseInput(AcksQuery, req.query).acks ?? 'all';
    res.status(acks === '0' ? 202 : 200).json({ offsets: await s.produce.produce(topic, [toOutgoingRecord(body)], acks) });
  });
  return router;
}
