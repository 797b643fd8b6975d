/**
 * KRaft-style metadata records: the controller's log is a sequence of these, and applying them in order
 * gives the cluster's state (DESIGN §2). Field names follow Kafka's record schemas.
 */

export interface ClusterRecord {
  name: string;
  /** Directory of the cluster's data, relative to the data directory. */
  logDirectory: string;
  numBrokers: number;
  /** Partition count of topics created in this cluster without an explicit count. */
  defaultPartitions: number;
  /** retention.ms of topics created in this cluster; null keeps logs forever. */
  retentionMs: number | null;
  /** Whether the controller spawns and supervises this cluster's broker processes. */
  managed: boolean;
  /** Broker ids the controller reserved for this cluster's processes (managed clusters). */
  brokerIds: number[];
  /** Listener ports reserved for those brokers, parallel to brokerIds; 0 means "any free port". */
  brokerPorts: number[];
}

export interface RegisterBrokerRecord {
  brokerId: number;
  /** The offset of this record: a new epoch per registration, so a stale process is recognised. */
  brokerEpoch: number;
  incarnationId: string;
  cluster: string;
  host: string;
  port: number;
  rack: string | null;
  /** A broker always registers fenced; it is unfenced once it has caught up with the metadata log. */
  fenced: boolean;
}

export interface BrokerRegistrationChangeRecord {
  brokerId: number;
  brokerEpoch: number;
  fenced?: boolean;
  inControlledShutdown?: boolean;
  host?: string;
  port?: number;
  rack?: string | null;
}

export interface UnregisterBrokerRecord {
  brokerId: number;
  brokerEpoch: number;
}

export interface TopicRecord {
  topicId: string;
  name: string;
  cluster: string;
  /** Topic-level configs overriding the broker defaults (retention.ms, segment.bytes, ...). */
  configs: Record<string, string>;
}

export interface RemoveTopicRecord {
  topicId: string;
}

export interface PartitionRecord {
  topicId: string;
  partition: number;
  replicas: number[];
  isr: number[];
  /** -1 when no replica can lead (the partition is offline). */
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
}

/** The partition's state after the change; fields that did not change are omitted. */
export interface PartitionChangeRecord {
  topicId: string;
  partition: number;
  leader?: number;
  isr?: number[];
  replicas?: number[];
  leaderEpoch: number;
  partitionEpoch: number;
}

export interface ProducerIdsRecord {
  brokerId: number;
  brokerEpoch: number;
  /** The first producer id not yet handed out. */
  nextProducerId: number;
}

export interface ConfigRecord {
  resourceType: 'topic' | 'cluster';
  resourceName: string;
  cluster: string;
  name: string;
  /** null deletes the override. */
  value: string | null;
}

export interface MetadataRecordPayloads {
  ClusterRecord: ClusterRecord;
  RegisterBrokerRecord: RegisterBrokerRecord;
  BrokerRegistrationChangeRecord: BrokerRegistrationChangeRecord;
  UnregisterBrokerRecord: UnregisterBrokerRecord;
  TopicRecord: TopicRecord;
  RemoveTopicRecord: RemoveTopicRecord;
  PartitionRecord: PartitionRecord;
  PartitionChangeRecord: PartitionChangeRecord;
  ProducerIdsRecord: ProducerIdsRecord;
  ConfigRecord: ConfigRecord;
}

export type MetadataRecordType = keyof MetadataRecordPayloads;

export const METADATA_RECORD_TYPES: readonly MetadataRecordType[] = [
  'ClusterRecord',
  'RegisterBrokerRecord',
  'BrokerRegistrationChangeRecord',
  'UnregisterBrokerRecord',
  'TopicRecord',
  'RemoveTopicRecord',
  'PartitionRecord',
  'PartitionChangeRecord',
  'ProducerIdsRecord',
  'ConfigRecord',
];

/** One entry of the metadata log as stored and as sent to brokers. */
export type MetadataRecord = {
  [T in MetadataRecordType]: {
    offset: number;
    type: T;
    /** Milliseconds since the epoch when the controller appended it. */
    timestamp: number;
    /** The cluster the record belongs to; null for records every cluster sees. */
    cluster: string | null;
    payload: MetadataRecordPayloads[T];
  };
}[MetadataRecordType];
