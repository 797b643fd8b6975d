import { Router, type Request } from 'express';
import { requestParams } from '@brook/runtime';
import {
  BrookError,
  parseInput,
  validateName,
  ClientMetadataQuery,
  ClusterQuery,
  CreatePartitionsRequest,
  CreateRecordRequest,
  CreateTopicRequest,
  MetadataUpdatesRequest,
  ReadRecordsQuery,
  RegisterProducerRequest,
  UpdateBrokerRequest,
  type CreateRecordResponse,
  type DeleteRecordResponse,
} from '@brook/types';
import type { QuorumController } from '../QuorumController';
import { brokerView, topicView } from '../views';
import { parseRegisterBroker } from './brokerRoutes';
import type { ClusterService } from './clusterRoutes';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DIGITS = /^\d{1,9}$/;

/**
 * Seed 000's CRD, broker management and client management routes, and the topic routes: thin adapters
 * over the same logic the broker protocol uses.
 */
export function adminRoutes(controller: QuorumController, clusters: ClusterService): Router {
  const router = Router();
  const { replication, clusters: clusterControl, producerIds, log } = controller;

  // ---- CRD ----
  router.post('/create_record', async (req, res) => {
    const { type, data } = parseInput(CreateRecordRequest, req.body);
    let id: string | number;
    switch (type) {
      case 'TopicRecord':
        id = replication.createTopic(parseInput(CreateTopicRequest, data, 'data')).topicId;
        break;
      case 'RegisterBrokerRecord':
        id = controller.registerBroker(parseRegisterBroker(data)).brokerId;
        break;
      case 'PartitionRecord':
        id = replication.createPartitions(parseInput(CreatePartitionsRequest, data, 'data')).topic.topicId;
        break;
      case 'ProducerIdsRecord':
        id = producerIds.registerProducer().producerId;
        break;
      case 'ClusterRecord':
        id = (await clusters.create(data)).name;
        break;
    }
    res.status(201).json({ id } satisfies CreateRecordResponse);
  });

  router.get('/read_records', (req, res) => {
    const q = parseInput(ReadRecordsQuery, requestParams(req), 'query');
    res.json(log.readRecords({ type: q.type, cluster: q.cluster, afterOffset: q.after, sinceTimestamp: q.since, limit: q.limit }));
  });

  router.delete('/delete_record/:id', (req, res) => {
    const id = req.params.id;
    if (UUID.test(id)) {
      replication.deleteTopic({ topicId: id.toLowerCase() });
      res.json({ id, deleted: true } satisfies DeleteRecordResponse);
    } else if (DIGITS.test(id)) {
      clusterControl.unregisterBroker(Number(id));
      res.json({ id: Number(id), deleted: true } satisfies DeleteRecordResponse);
    } else {
      throw new BrookError('UNKNOWN_RECORD', `no record ${JSON.stringify(id)}: give a topic id (uuid) or a broker id`);
    }
  });

  // ---- brokers ----
  const updateBroker = (req: Request) => brokerView(clusterControl.updateBroker(parseInput(UpdateBrokerRequest, req.body)));
  router.post('/register_broker_change', (req, res) => {
    res.json(updateBroker(req));
  });
  router.post('/update_broker', (req, res) => {
    res.json(updateBroker(req));
  });

  const unregister = (req: Request) => {
    const id = brokerIdParam(req.params.id);
    clusterControl.unregisterBroker(id);
    return { id, deleted: true } satisfies DeleteRecordResponse;
  };
  router.post('/unregister_broker/:id', (req, res) => {
    res.json(unregister(req));
  });
  router.delete('/unregister_broker/:id', (req, res) => {
    res.json(unregister(req));
  });

  router.get('/brokers', (req, res) => {
    const { cluster } = parseInput(ClusterQuery, requestParams(req), 'query');
    res.json(log.brokers(cluster).map(brokerView));
  });
  router.get('/broker/:id', (req, res) => {
    res.json(brokerView(clusterControl.requireBroker(brokerIdParam(req.params.id))));
  });

  router.post('/broker_mgmt', (req, res) => {
    res.json(controller.metadataUpdates(parseInput(MetadataUpdatesRequest, req.body ?? {})));
  });

  // ---- clients ----
  router.post('/register_producer', (req, res) => {
    const { cluster } = parseInput(RegisterProducerRequest, req.body);
    if (cluster !== undefined) controller.requireCluster(cluster);
    res.json(producerIds.registerProducer());
  });

  router.get('/metadata_fetch_client', (req, res) => {
    const q = parseInput(ClientMetadataQuery, requestParams(req), 'query');
    res.json(controller.clientMetadata(q.cluster, q.topic));
  });

  router.get('/client_mgmt', (req, res) => {
    res.json(controller.clientUpdates(parseInput(MetadataUpdatesRequest, requestParams(req), 'query')));
  });

  // ---- topics ----
  const createTopic = (req: Request) => topicView(replication.createTopic(parseInput(CreateTopicRequest, req.body)));
  router.post('/create_topic', (req, res) => {
    res.status(201).json(createTopic(req));
  });
  router.post('/topic', (req, res) => {
    res.status(201).json(createTopic(req));
  });

  router.get('/topics', (req, res) => {
    const { cluster } = parseInput(ClusterQuery, requestParams(req), 'query');
    res.json(log.topics(cluster).map(topicView));
  });
  router.get('/topic/:name', (req, res) => {
    const { cluster } = parseInput(ClusterQuery, requestParams(req), 'query');
    res.json(topicView(replication.requireTopic({ topic: validateName('topic', req.params.name), cluster })));
  });
  router.delete('/topic/:name', (req, res) => {
    const { cluster } = parseInput(ClusterQuery, requestParams(req), 'query');
    const t = replication.deleteTopic({ topic: validateName('topic', req.params.name), cluster });
    res.json({ name: t.name, topicId: t.topicId, cluster: t.cluster, deleted: true });
  });

  router.post('/create_partition', (req, res) => {
    const { topic } = replication.createPartitions(parseInput(CreatePartitionsRequest, req.body));
    res.status(201).json(topicView(topic));
  });

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok', offset: log.highOffset });
  });

  return router;
}

function brokerIdParam(raw: string | string[] | undefined): number {
  if (typeof raw !== 'string' || !DIGITS.test(raw)) {
    throw new BrookError('INVALID_REQUEST', `broker id must be a non-negative whole number, not ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}
