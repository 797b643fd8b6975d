/**
 * The controller's admin and seed routes (seed 000's CRD / broker / client management API, seed 001's
 * `/cluster` and `/topic`): request schemas and response shapes. Shapes are checked here; ranges whose
 * failure has its own error code (partition counts, replication factors, names) are checked by the
 * controller's logic, so every path into it gets the same answer.
 */
import { z } from 'zod';
import type { BrokerState, MetadataSnapshot } from '../metadata/snapshot';
import { METADATA_RECORD_TYPES, type MetadataRecord, type MetadataRecordType } from '../metadata/records';
import { isValidName } from '../names';
import { nonNegativeInt } from '../validation';

const clusterName = z.string().refine(isValidName, { error: 'invalid cluster name' });
const int = z.number().int();
const brokerIdSchema = z.number().int().nonnegative();
/** An offset in a query string or a body: a whole number, -1 meaning "none". */
const offsetParam = z.union([z.literal(-1), z.literal('-1').transform(() => -1), nonNegativeInt]);

/** Kafka topic configs a topic may override. */
export const TOPIC_CONFIG_NAMES = [
  'retention.ms',
  'retention.bytes',
  'segment.bytes',
  'segment.ms',
  'cleanup.policy',
  'min.insync.replicas',
  'flush.messages',
  'flush.ms',
  'max.message.bytes',
  'index.interval.bytes',
  'delete.retention.ms',
  'min.cleanable.dirty.ratio',
] as const;
export type TopicConfigName = (typeof TOPIC_CONFIG_NAMES)[number];

/** Config values are strings, as in Kafka; numbers are accepted and kept as their decimal text. */
export const TopicConfigs = z.record(
  z.string(),
  z.union([z.string().max(1024), z.number().transform((n) => String(n))]),
);

/** `POST /create_topic/`, seed 001 `POST /topic`, and `create_record` with `TopicRecord`. */
export const CreateTopicRequest = z
  .object({
    name: z.string({ error: 'a topic name is required' }),
    cluster: clusterName.default('default'),
    partitions: int.optional(),
    replication_factor: int.optional(),
    replicationFactor: int.optional(),
    configs: TopicConfigs.optional(),
  })
  .transform(({ replication_factor, replicationFactor, ...rest }) => ({
    ...rest,
    replicationFactor: replicationFactor ?? replication_factor,
  }));
export type CreateTopicRequest = z.output<typeof CreateTopicRequest>;

/** Picks a topic by name (within a cluster) or by id. */
const topicRef = {
  topic: z.string().optional(),
  topicId: z.string().optional(),
  cluster: clusterName.default('default'),
};
const requireTopicRef = (r: { topic?: string; topicId?: string }) => r.topic !== undefined || r.topicId !== undefined;
const topicRefError = { error: 'give topic (a name) or topicId', path: ['topic'] };

/** `POST /create_partition/` and `create_record` with `PartitionRecord`: adds `count` partitions (default 1). */
export const CreatePartitionsRequest = z
  .object({ ...topicRef, count: int.default(1) })
  .refine(requireTopicRef, topicRefError);
export type CreatePartitionsRequest = z.output<typeof CreatePartitionsRequest>;

/**
 * `POST /update_partition/` from an operator (a request with `brokerEpoch` is a broker's AlterPartition
 * instead): replace the replicas, the ISR or the leader; checked against `partitionEpoch` when given.
 */
export const UpdatePartitionRequest = z
  .object({
    ...topicRef,
    partition: brokerIdSchema,
    replicas: z.array(brokerIdSchema).min(1).optional(),
    isr: z.array(brokerIdSchema).min(1).optional(),
    leader: z.number().int().min(-1).optional(),
    partitionEpoch: z.number().int().nonnegative().optional(),
  })
  .refine(requireTopicRef, topicRefError);
export type UpdatePartitionRequest = z.output<typeof UpdatePartitionRequest>;

/** `POST /register_broker_change/` and `/update_broker/`. */
export const UpdateBrokerRequest = z.object({
  brokerId: brokerIdSchema,
  /** When given, must be the broker's current epoch. */
  brokerEpoch: z.number().int().nonnegative().optional(),
  host: z.string().min(1).max(255).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  rack: z.string().max(255).nullable().optional(),
  fenced: z.boolean().optional(),
});
export type UpdateBrokerRequest = z.output<typeof UpdateBrokerRequest>;

/** Seed 001 `POST /cluster` (and `create_record` with `ClusterRecord`). */
export const CreateClusterRequest = z.object({
  name: z.string({ error: 'a cluster name is required' }),
  num_brokers: int.optional(),
  /** Relative to the controller's data directory; defaults to the cluster's name. */
  log_directory: z.string().optional(),
  /** Default partition count of the cluster's topics. */
  partitions: int.optional(),
  /** Retention of the cluster's topics, in hours (fractions allowed). */
  retention_policies: z.number().optional(),
});
export type CreateClusterRequest = z.output<typeof CreateClusterRequest>;

/** Record types `POST /create_record/` accepts, each dispatched to the logic of its specific route. */
export const CREATABLE_RECORD_TYPES = [
  'TopicRecord',
  'RegisterBrokerRecord',
  'PartitionRecord',
  'ProducerIdsRecord',
  'ClusterRecord',
] as const satisfies readonly MetadataRecordType[];

export const CreateRecordRequest = z.object({
  type: z.enum(CREATABLE_RECORD_TYPES, {
    error: `type must be one of ${CREATABLE_RECORD_TYPES.join(', ')}`,
  }),
  data: z.record(z.string(), z.unknown()).default({}),
});
export type CreateRecordRequest = z.output<typeof CreateRecordRequest>;

/** `GET /read_records/`. */
export const ReadRecordsQuery = z.object({
  type: z.enum(METADATA_RECORD_TYPES as [MetadataRecordType, ...MetadataRecordType[]]).optional(),
  cluster: clusterName.optional(),
  /** Records after this offset. */
  after: offsetParam.optional(),
  /** Records appended at or after this time (ms since the epoch). */
  since: nonNegativeInt.optional(),
  limit: nonNegativeInt.pipe(z.number().min(1).max(10_000)).default(1000),
});
export type ReadRecordsQuery = z.output<typeof ReadRecordsQuery>;

/** `POST /broker_mgmt/` (body) and `GET /client_mgmt/` (query): changes since an offset or a time. */
export const MetadataUpdatesRequest = z.object({
  offset: offsetParam.optional(),
  timestamp: nonNegativeInt.optional(),
  cluster: clusterName.optional(),
});
export type MetadataUpdatesRequest = z.output<typeof MetadataUpdatesRequest>;

/** `GET /metadata_fetch_client/`. */
export const ClientMetadataQuery = z.object({
  cluster: clusterName.default('default'),
  /** Comma-separated topic names; all topics when absent. */
  topic: z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).filter((s) => s !== ''))
    .optional(),
});
export type ClientMetadataQuery = z.output<typeof ClientMetadataQuery>;

/** `?cluster=` on the topic and broker routes. */
export const ClusterQuery = z.object({ cluster: clusterName.optional() });

/** `POST /register_producer/`: a client producer; the body is optional. */
export const RegisterProducerRequest = z
  .object({ cluster: clusterName.optional(), clientId: z.string().max(255).optional() })
  .default({});

// ---- response shapes -------------------------------------------------------------------------------

export interface PartitionView {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  leaderEpoch: number;
  partitionEpoch: number;
}

export interface TopicView {
  name: string;
  topicId: string;
  cluster: string;
  configs: Record<string, string>;
  partitions: PartitionView[];
}

export interface BrokerView {
  id: number;
  host: string;
  port: number;
  state: BrokerState;
  cluster: string;
  brokerEpoch: number;
  rack: string | null;
}

/** A broker of a cluster as `GET /cluster` shows it: registration state plus the process running it. */
export interface ClusterBrokerView {
  id: number;
  host: string;
  port: number;
  /** The registration state, or 'unregistered' while the broker has not registered yet. */
  state: BrokerState | 'unregistered';
  /** Managed brokers: the supervised process (null when unmanaged or not running). */
  pid: number | null;
  process: 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'unmanaged';
  restarts: number;
  logFile: string | null;
}

export interface ClusterView {
  name: string;
  logDirectory: string;
  numBrokers: number;
  defaultPartitions: number;
  retentionMs: number | null;
  managed: boolean;
  brokers: ClusterBrokerView[];
  topics: string[];
}

export interface ClientMetadataResponse {
  cluster: string;
  controller: { host: string; port: number };
  brokers: Array<{ id: number; host: string; port: number; state: BrokerState }>;
  topics: Array<{ name: string; topicId: string; configs: Record<string, string>; partitions: PartitionView[] }>;
}

/** Seed 000 `broker_mgmt` / `client_mgmt`. */
export type MetadataUpdatesResponse =
  | { kind: 'delta'; records: MetadataRecord[]; lastOffset: number }
  | { kind: 'snapshot'; snapshot: MetadataSnapshot; lastOffset: number };

/** `client_mgmt`'s snapshot: only what clients need. */
export type ClientSnapshot = Pick<MetadataSnapshot, 'offset' | 'brokers' | 'topics' | 'partitions'>;
export type ClientUpdatesResponse =
  | { kind: 'delta'; records: MetadataRecord[]; lastOffset: number }
  | { kind: 'snapshot'; snapshot: ClientSnapshot; lastOffset: number };

export interface CreateRecordResponse {
  id: string | number;
}
export interface DeleteRecordResponse {
  id: string | number;
  deleted: true;
}
export interface RegisterProducerResponse {
  producerId: number;
  producerEpoch: number;
}
export interface HealthResponse {
  status: 'ok';
  offset: number;
}
