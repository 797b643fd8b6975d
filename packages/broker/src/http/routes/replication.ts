import { Router } from 'express';
import { sendChunks, type HotRoutes } from '@brook/runtime';
import { encodeFetchResponse, EpochEndOffsetsRequest, parseInput, FETCH_CONTENT_TYPE, parseReplicaFetchRequest } from '@brook/types';
import type { ReplicaManager } from '../../server/ReplicaManager';

/** Routes other brokers use: a follower's fetch (binary answer) and its leader-epoch lookup. */
export function replicationRoutes(replicas: ReplicaManager, hot: HotRoutes): Router {
  const router = Router();
  hot.json(router, '/replica/fetch', async (_req, res, body) => {
    const results = await replicas.fetchForFollower(parseReplicaFetchRequest(body));
    sendChunks(res, FETCH_CONTENT_TYPE, encodeFetchResponse(results));
  });
  router.post('/replica/epoch_end_offsets', (req, res) => {
    res.json(replicas.epochEndOffsets(parseInput(EpochEndOffsetsRequest, req.body)));
  });
  return router;
}
