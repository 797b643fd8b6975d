import type { Express } from 'express';
import { createApp, finishApp, HotRoutes, type Logger } from '@brook/runtime';
import type { BrokerServices } from './BrokerServices';
import { eventsRoutes } from './routes/events';
import { pubsubRoutes } from './routes/pubsub';
import { recordRoutes } from './routes/records';
import { replicationRoutes } from './routes/replication';
import { groupRoutes } from './routes/groups';
import { restProxyRoutes } from './routes/restProxy';
import { consumerRoutes } from './routes/consumers';
import { seedConsumerRoutes } from './routes/seedConsumers';

export function createBrokerApp(s: BrokerServices, logger: Logger, bodyLimit: number): Express {
  const hotRoutes = new HotRoutes(bodyLimit, logger);
  const app = createApp({ logger, bodyLimit, hotRoutes });
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', brokerId: s.brokerId, metadataOffset: s.metadata.offset, metadataLoaded: s.metadata.loaded });
  });
  app.use(recordRoutes(s, hotRoutes));
  app.use(replicationRoutes(s.replicas, hotRoutes));
  app.use(groupRoutes(s.groups, s.groupAdmin));
  app.use(eventsRoutes(s));
  app.use(pubsubRoutes(s));
  app.use(restProxyRoutes(s));
  app.use(consumerRoutes(s));
  app.use(seedConsumerRoutes(s.seedConsumers));
  return finishApp(app, logger);
}
