import path from 'node:path';
import { opt, type ConfigOf, type ConfigSpec } from '@brook/runtime';

/** Every broker option, as a flag, an environment variable (in brackets) and a default. */
export const brokerConfigSpec = {
  brokerId: { schema: opt.int(1, 0), describe: 'this broker\'s id, unique in the cluster' },
  cluster: { schema: opt.string('default'), describe: 'the cluster this broker belongs to' },
  host: { schema: opt.string('localhost'), describe: 'host name other processes reach this broker at' },
  bind: { schema: opt.string('0.0.0.0'), describe: 'address the HTTP listener binds' },
  port: { schema: opt.port(0), env: 'BROOK_BROKER_PORT', describe: 'HTTP port (0: 9000 + broker id)' },
  dataDir: { schema: opt.string('./cluster-data'), describe: 'the data directory' },
  logDir: {
    schema: opt.optionalString(),
    describe: 'where this broker keeps its partition logs (default: <data-dir>/<cluster>/broker-<id>)',
  },
  controllerUrl: { schema: opt.string('http://localhost:9000'), describe: 'the controller\'s base URL' },
  heartbeatIntervalMs: { schema: opt.int(1000, 10, 30_000), describe: 'longest wait of one metadata fetch (heartbeat)' },
  logSegmentBytes: { schema: opt.int(64 * 1024 * 1024, 1024), describe: 'segment size before a new one is rolled' },
  logSegmentMs: { schema: opt.int(7 * 24 * 3600 * 1000, 1), describe: 'segment age before a new one is rolled' },
  logRetentionMs: { schema: opt.int(7 * 24 * 3600 * 1000, 1), describe: 'default retention.ms of topics' },
  logRetentionBytes: { schema: opt.int(0, 0), describe: 'default retention.bytes per partition (0: no limit)' },
  logFlushIntervalMs: {
    schema: opt.int(0, 0),
    describe: 'fsync the active segments this often (0: on segment roll and shutdown only; durability comes from replication)',
  },
  logCleanerBackoffMs: {
    schema: opt.int(15_000, 10),
    describe: 'how often the log cleaner looks for compacted topics to clean (Kafka\'s log.cleaner.backoff.ms)',
  },
  replicaLagTimeMaxMs: {
    schema: opt.int(10_000, 10),
    describe: 'a follower that has not caught up for this long leaves the ISR (Kafka\'s replica.lag.time.max.ms)',
  },
  produceTimeoutMs: {
    schema: opt.int(30_000, 10),
    describe: 'longest wait for the ISR to acknowledge an acks=all produce before REQUEST_TIMED_OUT',
  },
  offsetsTopicPartitions: {
    schema: opt.int(10, 1, 1000),
    describe: 'partitions of __consumer_offsets when it is created (Kafka\'s offsets.topic.num.partitions)',
  },
  groupSessionTimeoutMs: {
    schema: opt.int(10_000, 100),
    describe: 'a group member that has not heartbeated for this long is removed and its partitions move',
  },
  groupRebalanceTimeoutMs: {
    schema: opt.int(60_000, 100),
    describe: 'a group member that has not acknowledged a revocation for this long is removed and its partitions move',
  },
  consumerInstanceTimeoutMs: {
    schema: opt.int(300_000, 100),
    describe: 'an HTTP consumer instance unused for this long is closed and leaves its group',
  },
  maxRequestBytes: { schema: opt.int(64 * 1024 * 1024, 1024), describe: 'largest request body accepted' },
  logLevel: { schema: opt.level(), describe: 'fatal|error|warn|info|debug|trace|silent' },
} satisfies ConfigSpec;

export type BrokerConfig = ConfigOf<typeof brokerConfigSpec>;

export function brokerPort(config: BrokerConfig): number {
  return config.port || 9000 + config.brokerId;
}

export function brokerLogDir(config: BrokerConfig): string {
  return path.resolve(config.logDir ?? path.join(config.dataDir, config.cluster, `broker-${config.brokerId}`));
}
