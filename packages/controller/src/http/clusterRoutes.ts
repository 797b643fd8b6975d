import { Router } from 'express';
import {
  parseInput,
  validateName,
  type ClusterRecord,
  CreateClusterRequest,
  type ClusterBrokerView,
  type ClusterView,
} from '@brook/types';
import type { ClusterLauncher } from '../ClusterLauncher';
import type { QuorumController } from '../QuorumController';

/** Seed 001's clusters: creation (which launches the brokers) and views with each broker's process. */
export class ClusterService {
  constructor(
    private readonly controller: QuorumController,
    private readonly launcher: ClusterLauncher | undefined,
  ) {}

  async create(body: unknown): Promise<ClusterView> {
    const record = await this.controller.createCluster(parseInput(CreateClusterRequest, body));
    return this.view(record);
  }

  list(): ClusterView[] {
    return this.controller.log.clusters().map((c) => this.view(c));
  }

  get(name: string): ClusterView {
    return this.view(this.controller.requireCluster(validateName('cluster', name)));
  }

  view(c: ClusterRecord): ClusterView {
    const registered = new Map(this.controller.log.brokers(c.name).map((b) => [b.brokerId, b]));
    const ids = [...c.brokerIds, ...[...registered.keys()].filter((id) => !c.brokerIds.includes(id)).sort((a, b) => a - b)];
    const brokers = ids.map((id): ClusterBrokerView => {
      const reg = registered.get(id);
      const reserved = c.brokerIds.indexOf(id);
      const proc = this.launcher?.status(c.name, id);
      return {
        id,
        host: reg?.host ?? 'localhost',
        port: reg?.port ?? c.brokerPorts[reserved] ?? 0,
        state: reg?.state ?? 'unregistered',
        pid: proc?.pid ?? null,
        process: proc?.process ?? (c.managed && reserved >= 0 ? 'stopped' : 'unmanaged'),
        restarts: proc?.restarts ?? 0,
        logFile: proc?.logFile ?? null,
      };
    });
    return {
      name: c.name,
      logDirectory: c.logDirectory,
      numBrokers: c.numBrokers,
      defaultPartitions: c.defaultPartitions,
      retentionMs: c.retentionMs,
      managed: c.managed,
      brokers,
      topics: this.controller.log.topics(c.name).map((t) => t.name),
    };
  }
}

export function clusterRoutes(clusters: ClusterService): Router {
  const router = Router();
  router.post('/cluster', async (req, res) => {
    res.status(201).json(await clusters.create(req.body));
  });
  for (const base of ['/cluster', '/clusters']) {
    router.get(base, (_req, res) => {
      res.json(clusters.list());
    });
    router.get(`${base}/:name`, (req, res) => {
      res.json(clusters.get(req.params.name));
    });
  }
  return router;
}
