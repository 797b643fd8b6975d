import type { Express } from 'express';
import { createApp, finishApp, type Logger } from '@brook/runtime';
import type { ClusterLauncher } from '../ClusterLauncher';
import type { QuorumController } from '../QuorumController';
import { adminRoutes } from './adminRoutes';
import { brokerRoutes } from './brokerRoutes';
import { ClusterService, clusterRoutes } from './clusterRoutes';

export interface ControllerAppOptions {
  controller: QuorumController;
  launcher?: ClusterLauncher;
  logger: Logger;
  /** Largest request body, in bytes. */
  bodyLimit: number;
}

/** The controller's HTTP API: thin routes over QuorumController (no listening here; see Controller). */
export function createControllerApp(options: ControllerAppOptions): Express {
  const app = createApp({ logger: options.logger, bodyLimit: options.bodyLimit });
  const clusters = new ClusterService(options.controller, options.launcher);
  app.use(brokerRoutes(options.controller));
  app.use(adminRoutes(options.controller, clusters));
  app.use(clusterRoutes(clusters));
  return finishApp(app, options.logger);
}
