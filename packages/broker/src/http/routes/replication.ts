import { Router } from 'express';
import { encodeReplicaFetchResponse, EpochEndOffsetsRequest, parseInput, REPLICA_FETCH_CONTENT_TYPE, ReplicaFetchRequest } from '@brook/types';
import type { ReplicaManager } from '../../server/ReplicaManager';

/** Routes other brokers use: a follower's fetch (binary answer) and its leader-epoch lookup. */
export function replicationRoutes(replicas: ReplicaManager): Router {
  const router = Router();
  router.post('/replica/fetch', async (req, res) => {
    const request = parseInput(ReplicaFetchRequest, req.body);
    const results = await replicas.fetchForFollower(request);
    res.type(REPLICA_FETCH_CONTENT_TYPE).send(encodeReplicaFetchResponse(results));
  });
  router.post('/replica/epoch_end_offsets', (req, res) => {
    res.json(replicas.epochEndOffsets(parseInput(EpochEndOffsetsRequest, req.body)));
  });
  return router;
}
