import path from 'node:path';
import { opt, type ConfigOf, type ConfigSpec } from '@brook/runtime';

/** Every controller option, as a flag, an environment variable and a default (see `--help`). */
export const controllerConfigSpec = {
  port: { schema: opt.port(9000), env: 'BROOK_CONTROLLER_PORT', describe: 'HTTP port of the controller' },
  host: {
    schema: opt.string('localhost'),
    describe: 'host name brokers and clients reach the controller at (advertised)',
  },
  bind: { schema: opt.string('0.0.0.0'), describe: 'address the HTTP listener binds' },
  dataDir: {
    schema: opt.string('./cluster-data'),
    env: 'BROOK_DATA_DIR',
    describe: 'data directory: <data-dir>/controller/metadata.db and one directory per cluster',
  },
  launch: {
    schema: opt.bool(true),
    describe: 'create the default cluster if missing and spawn + supervise the brokers of every managed cluster',
  },
  brokers: { schema: opt.int(3, 1, 16), describe: 'broker count of the default cluster (when it is created)' },
  brokerPorts: {
    schema: opt.intList([9001, 9002, 9003]),
    env: 'BROOK_BROKER_PORTS',
    describe: 'ports of the default cluster\'s brokers, comma-separated (missing ones: 9000 + broker id)',
  },
  sessionTimeoutMs: {
    schema: opt.int(6000, 100, 600_000),
    describe: 'a broker that has not fetched metadata for this long is fenced (Kafka\'s broker.session.timeout.ms)',
  },
  metadataDeltaMaxAgeMs: {
    schema: opt.int(600_000, 0),
    describe: 'a broker whose first missing record is older than this gets a snapshot instead of deltas',
  },
  brokerEntry: {
    schema: opt.string(path.resolve(__dirname, '../../broker/dist/main.js')),
    describe: 'the broker\'s main.js, spawned for managed clusters',
  },
  maxRequestBytes: { schema: opt.int(1024 * 1024, 1024), describe: 'largest request body accepted' },
  logLevel: { schema: opt.level(), describe: 'fatal|error|warn|info|debug|trace|silent' },
} satisfies ConfigSpec;

export type ControllerConfig = ConfigOf<typeof controllerConfigSpec>;
