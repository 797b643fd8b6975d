import fs from 'node:fs';
import path from 'node:path';
import type { Express } from 'express';
import { listen, type ListeningServer, type Logger, type RunningService } from '@brook/runtime';
import { CONTROLLER_DIR } from './ClusterControl';
import { ClusterLauncher, allocateFreePorts } from './ClusterLauncher';
import type { ControllerConfig } from './config';
import { createControllerApp } from './http/createControllerApp';
import { MetadataLog } from './MetadataLog';
import { QuorumController } from './QuorumController';

/**
 * One controller process: the metadata log in `<data-dir>/controller/metadata.db`, the quorum controller
 * (logic + liveness), the HTTP API, and — unless `launch` is off — the launcher that runs the brokers of
 * every managed cluster (creating the `default` cluster on first start).
 */
export class Controller implements RunningService {
  private constructor(
    readonly config: ControllerConfig,
    readonly log: MetadataLog,
    readonly quorum: QuorumController,
    readonly launcher: ClusterLauncher | undefined,
    readonly app: Express,
    private readonly server: ListeningServer,
    private readonly logger: Logger,
  ) {}

  static async start(config: ControllerConfig, logger: Logger): Promise<Controller> {
    const dataDir = path.resolve(config.dataDir);
    const log = new MetadataLog({ file: path.join(dataDir, CONTROLLER_DIR, 'metadata.db') });
    let url = '';
    let quorum: QuorumController | undefined;
    const launcher = config.launch
      ? new ClusterLauncher({
          dataDir,
          brokerEntry: config.brokerEntry,
          controllerUrl: () => url,
          logger,
          onBrokerExit: (brokerId) => quorum?.brokerProcessExited(brokerId),
        })
      : undefined;
    quorum = new QuorumController({
      log,
      dataDir,
      sessionTimeoutMs: config.sessionTimeoutMs,
      metadataDeltaMaxAgeMs: config.metadataDeltaMaxAgeMs,
      manageClusters: config.launch,
      logger,
      hooks: {
        allocatePorts: (count) => {
          const taken = new Set(log.clusters().flatMap((c) => c.brokerPorts));
          taken.add(config.port);
          return allocateFreePorts(count, taken);
        },
        prepareDirectory: (c) => fs.mkdirSync(path.resolve(dataDir, c.logDirectory), { recursive: true }),
        created: (c) => launcher?.launch(c),
      },
    });
    const defaultCluster = quorum.clusters.ensureDefaultCluster({
      managed: config.launch,
      numBrokers: config.brokers,
      brokerPorts: config.brokerPorts,
    });
    fs.mkdirSync(path.resolve(dataDir, defaultCluster.logDirectory), { recursive: true });
    const app = createControllerApp({ controller: quorum, launcher, logger, bodyLimit: config.maxRequestBytes });
    let server: ListeningServer;
    try {
      server = await listen(app, config.port, config.bind);
    } catch (err) {
      quorum.stop();
      log.close();
      throw err;
    }
    url = `http://${config.host}:${server.port}`;
    quorum.endpoint = { host: config.host, port: server.port };
    quorum.start();
    if (launcher) for (const c of log.clusters()) launcher.launch(c);
    logger.info({ url, dataDir, launch: config.launch, offset: log.highOffset }, 'controller started');
    return new Controller(config, log, quorum, launcher, app, server, logger);
  }

  get port(): number {
    return this.server.port;
  }

  get url(): string {
    return `http://${this.config.host}:${this.server.port}`;
  }

  /** One line per listener: the controller, then every broker it runs. */
  listenerLines(): string[] {
    const lines = [`controller ${this.url}`];
    for (const c of this.log.clusters()) {
      if (!c.managed) continue;
      c.brokerIds.forEach((id, i) => lines.push(`broker ${id} (cluster ${c.name}) http://localhost:${c.brokerPorts[i]}`));
    }
    return lines;
  }

  /**
   * Stops the brokers first while the API still answers (they shut down in a controlled way, moving
   * leadership through the controller), then the API and the log.
   */
  async stop(): Promise<void> {
    await this.launcher?.stop();
    this.quorum.stop();
    await this.server.close();
    this.log.close();
    this.logger.info('controller stopped');
  }
}
