import type { ClusterRecord, PartitionRecord, TopicRecord } from './records';

export type BrokerState = 'active' | 'fenced' | 'controlled_shutdown';

/** A broker as the metadata describes it (what GET /brokers/ lists). */
export interface BrokerRegistration {
  brokerId: number;
  brokerEpoch: number;
  incarnationId: string;
  cluster: string;
  host: string;
  port: number;
  rack: string | null;
  state: BrokerState;
}

/** The whole metadata state at one offset: what a broker that is too far behind receives instead of deltas. */
export interface MetadataSnapshot {
  /** Offset of the last record the snapshot includes. */
  offset: number;
  clusters: ClusterRecord[];
  brokers: BrokerRegistration[];
  topics: TopicRecord[];
  partitions: PartitionRecord[];
  nextProducerId: number;
}
