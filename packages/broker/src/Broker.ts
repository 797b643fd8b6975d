import { HttpJsonClient, listen, type ListeningServer, type Logger, type RunningService } from '@brook/runtime';
import { TopicAdmin } from './admin/TopicAdmin';
import { brokerLogDir, brokerPort, type BrokerConfig } from './config';
import { FetchService } from './fetch/FetchService';
import { ConsumerFetchService } from './fetch/ConsumerFetchService';
import { GroupAdmin } from './group/GroupAdmin';
import { GroupService } from './group/GroupService';
import { ConsumerInstanceManager } from './consumer/ConsumerInstanceManager';
import { SeedConsumers } from './consumer/SeedConsumers';
import { createBrokerApp } from './http/createBrokerApp';
import { BrokerLifecycleManager } from './metadata/BrokerLifecycleManager';
import { MetadataCache } from './metadata/MetadataCache';
import { BrokerPeers } from './network/BrokerPeers';
import { ProduceService } from './produce/ProduceService';
import { AlterPartitionManager } from './replication/AlterPartitionManager';
import { ReplicaFetcherManager } from './replication/ReplicaFetcherManager';
import { ReplicaManager } from './server/ReplicaManager';
import { DEFAULT_LOG_CONFIG, LogManager, type LogConfig } from './storage';

/** How long a stopping broker waits for the controller to move its leadership away. */
const CONTROLLED_SHUTDOWN_TIMEOUT_MS = 5000;

/**
 * One broker process: recovers its logs, serves HTTP, registers with the controller and follows the
 * metadata log, taking the leader and follower roles it is given.
 */
export class Broker implements RunningService {
  private constructor(
    private readonly logger: Logger,
    private readonly logManager: LogManager,
    private readonly controller: HttpJsonClient,
    private readonly peers: BrokerPeers,
    private readonly lifecycle: BrokerLifecycleManager,
    private readonly replicas: ReplicaManager,
    private readonly groups: GroupService,
    private readonly consumers: ConsumerInstanceManager,
    private readonly server: ListeningServer,
  ) {}

  static async start(config: BrokerConfig, logger: Logger): Promise<Broker> {
    const logDir = brokerLogDir(config);
    const defaults = logDefaults(config);
    const logManager = new LogManager({ logDir, defaults, logger, cleanerBackoffMs: config.logCleanerBackoffMs });
    logManager.startup();

    const metadata = new MetadataCache(config.cluster);
    const controller = new HttpJsonClient(config.controllerUrl, { connections: 4 });
    const peers = new BrokerPeers(metadata);
    // The lifecycle manager is created after the server (it needs the bound port); the ISR proposals that
    // need its broker epoch only start once it runs.
    let lifecycle: BrokerLifecycleManager | undefined;
    const alterPartitions = new AlterPartitionManager(config.brokerId, () => lifecycle?.brokerEpoch ?? -1, controller);
    const replicas = new ReplicaManager(
      { brokerId: config.brokerId, logDir, defaults, replicaLagTimeMaxMs: config.replicaLagTimeMaxMs },
      logManager,
      metadata,
      new ReplicaFetcherManager(config.brokerId, peers, logger),
      alterPartitions.propose,
      logger,
    );
    const fetch = new FetchService(metadata, replicas, peers);
    const groups = new GroupService(
      {
        brokerId: config.brokerId,
        cluster: config.cluster,
        offsetsTopicPartitions: config.offsetsTopicPartitions,
        sessionTimeoutMs: config.groupSessionTimeoutMs,
        rebalanceTimeoutMs: config.groupRebalanceTimeoutMs,
        ackTimeoutMs: config.produceTimeoutMs,
      },
      metadata,
      replicas,
      peers,
      controller,
      logger,
    );
    const produce = new ProduceService(config.brokerId, metadata, replicas, peers, config.produceTimeoutMs, logger);
    const topics = new TopicAdmin(config.cluster, controller, metadata);
    const consumers = new ConsumerInstanceManager(groups, fetch, metadata, { logger, instanceTimeoutMs: config.consumerInstanceTimeoutMs });
    const services = {
      brokerId: config.brokerId,
      metadata,
      produce,
      fetch,
      consumerFetch: new ConsumerFetchService(metadata, replicas),
      topics,
      replicas,
      groups,
      groupAdmin: new GroupAdmin(fetch, metadata),
      consumers,
      seedConsumers: new SeedConsumers(consumers, metadata, topics, produce),
    };
    const server = await listen(createBrokerApp(services, logger, config.maxRequestBytes), brokerPort(config), config.bind);

    let appliedOffset = -1;
    lifecycle = new BrokerLifecycleManager(
      { brokerId: config.brokerId, cluster: config.cluster, host: config.host, port: server.port, heartbeatIntervalMs: config.heartbeatIntervalMs },
      controller,
      metadata,
      () => {
        if (metadata.offset === appliedOffset) return;
        appliedOffset = metadata.offset;
        replicas.applyMetadata();
      },
      logger,
    );
    replicas.startup();
    lifecycle.start();
    logger.info({ brokerId: config.brokerId, cluster: config.cluster, port: server.port, logDir }, 'broker listening');
    return new Broker(logger, logManager, controller, peers, lifecycle, replicas, groups, consumers, server);
  }

  get port(): number {
    return this.server.port;
  }

  async stop(): Promise<void> {
    // Consumer instances leave their groups (and auto-commit) while the coordinators can still be reached.
    await Promise.race([this.consumers.stop(), new Promise((r) => setTimeout(r, 2000).unref())]);
    const moved = await this.lifecycle.controlledShutdown(CONTROLLED_SHUTDOWN_TIMEOUT_MS);
    if (!moved) this.logger.warn('controlled shutdown not confirmed by the controller; stopping anyway');
    await this.lifecycle.stop();
    await this.server.close();
    this.groups.stop();
    await this.replicas.shutdown();
    await Promise.all([this.peers.close(), this.controller.close()]);
    this.logManager.shutdown();
    this.logger.info('broker stopped');
  }
}

function logDefaults(config: BrokerConfig): LogConfig {
  return {
    ...DEFAULT_LOG_CONFIG,
    segmentBytes: config.logSegmentBytes,
    segmentMs: config.logSegmentMs,
    retentionMs: config.logRetentionMs,
    retentionBytes: config.logRetentionBytes > 0 ? config.logRetentionBytes : -1,
    flushMs: config.logFlushIntervalMs,
  };
}
