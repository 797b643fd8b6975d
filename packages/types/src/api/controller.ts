/**
 * The controller's broker-facing protocol: registration, heartbeat (= metadata fetch), AlterPartition and
 * producer-id allocation. Brokers and the controller both validate against these schemas.
 */
import { z } from 'zod';
import type { MetadataRecord } from '../metadata/records';
import type { MetadataSnapshot } from '../metadata/snapshot';
import { isValidName } from '../names';

const brokerId = z.number().int().nonnegative();
const clusterName = z.string().refine(isValidName, { error: 'invalid cluster name' });

export const RegisterBrokerRequest = z.object({
  brokerId: brokerId,
  cluster: clusterName.default('default'),
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535),
  incarnationId: z.string().min(1).max(64),
  rack: z.string().max(255).nullable().default(null),
});
export type RegisterBrokerRequest = z.infer<typeof RegisterBrokerRequest>;

export interface RegisterBrokerResponse {
  brokerId: number;
  brokerEpoch: number;
}

export const MetadataFetchRequest = z.object({
  brokerId: brokerId,
  brokerEpoch: z.number().int().nonnegative(),
  /** Offset of the last metadata record the broker applied; -1 when it has none. */
  lastOffset: z.number().int().min(-1),
  /** How long the controller may hold the request when there is nothing new (long poll). */
  maxWaitMs: z.number().int().min(0).max(30_000).default(0),
  /** The broker asks to stay fenced (it is still catching up) or to be unfenced. */
  wantFence: z.boolean().default(false),
  /** The broker is shutting down cleanly and asks for its leadership to be moved first. */
  wantShutDown: z.boolean().default(false),
});
export type MetadataFetchRequest = z.infer<typeof MetadataFetchRequest>;

export type MetadataFetchResponse =
  | { kind: 'delta'; records: MetadataRecord[]; lastOffset: number; isFenced: boolean; shouldShutDown: boolean }
  | { kind: 'snapshot'; snapshot: MetadataSnapshot; lastOffset: number; isFenced: boolean; shouldShutDown: boolean };

/** Kafka's AlterPartition: a partition leader proposes a new ISR under the partition epoch it knows. */
export const AlterPartitionRequest = z.object({
  brokerId: brokerId,
  brokerEpoch: z.number().int().nonnegative(),
  topicId: z.string().min(1),
  partition: z.number().int().nonnegative(),
  leaderEpoch: z.number().int().nonnegative(),
  partitionEpoch: z.number().int().nonnegative(),
  isr: z.array(brokerId).min(1),
});
export type AlterPartitionRequest = z.infer<typeof AlterPartitionRequest>;

export const AllocateProducerIdsRequest = z.object({
  brokerId: brokerId,
  brokerEpoch: z.number().int().nonnegative(),
});
export interface AllocateProducerIdsResponse {
  firstProducerId: number;
  size: number;
}
