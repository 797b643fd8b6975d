import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import {
  AllocateProducerIdsRequest,
  AlterPartitionRequest,
  MetadataFetchRequest,
  RegisterBrokerRequest,
  parseInput,
  UpdatePartitionRequest,
} from '@brook/types';
import type { QuorumController } from '../QuorumController';

/**
 * The broker-facing protocol (schemas in @brook/types api/controller.ts): registration, the heartbeat that
 * is also the metadata fetch (a long poll), AlterPartition and producer-id blocks.
 */
export function brokerRoutes(controller: QuorumController): Router {
  const router = Router();

  const register = (req: { body: unknown }) => controller.registerBroker(parseRegisterBroker(req.body));
  router.post('/register_broker', (req, res) => {
    res.json(register(req));
  });
  router.post('/register', (req, res) => {
    res.json(register(req));
  });

  router.post('/metadata_fetch', async (req, res) => {
    const request = parseInput(MetadataFetchRequest, req.body);
    const abort = new AbortController();
    // A broker that goes away while its fetch is held frees the wait at once.
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const answer = await controller.metadataFetch(request, abort.signal);
    if (!res.destroyed) res.json(answer);
  });

  router.post('/update_partition', (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body === 'object' && body !== null && 'brokerEpoch' in body) {
      res.json(controller.alterPartition(parseInput(AlterPartitionRequest, body)));
      return;
    }
    res.json(controller.replication.updatePartition(parseInput(UpdatePartitionRequest, body)));
  });

  router.post('/register_producer_broker', (req, res) => {
    const { brokerId, brokerEpoch } = parseInput(AllocateProducerIdsRequest, req.body);
    res.json(controller.allocateProducerIds(brokerId, brokerEpoch));
  });

  return router;
}

/** A registration; `incarnationId` may be left out by a person registering a broker by hand. */
export function parseRegisterBroker(body: unknown): RegisterBrokerRequest {
  const input =
    body !== null && typeof body === 'object' && !Array.isArray(body) && (body as { incarnationId?: unknown }).incarnationId === undefined
      ? { ...body, incarnationId: randomUUID() }
      : body;
  return parseInput(RegisterBrokerRequest, input);
}
