/** Consumer groups on the wire: request schemas of the KIP-848 heartbeat, offset commits and group admin, and the answers. */
import { z } from 'zod';
import { isValidName } from '../names';
import { topicName } from './broker';

export const groupId = z.string().min(1).max(249).refine(isValidName, {
  error: 'invalid group id: use 1 to 249 of the characters [a-zA-Z0-9._-], and not "." or ".."',
});

export const GroupPath = z.object({ group: groupId });

export const GroupHeartbeatRequest = z.object({
  memberId: z.string().min(1).max(255).optional(),
  /** 0 joins, -1 leaves, otherwise the member's current epoch. */
  memberEpoch: z.number().int().min(-1),
  subscribedTopics: z.array(topicName).max(10_000).optional(),
  clientId: z.string().max(255).optional(),
  /**
   * The partitions the member holds after acting on the last answer (KIP-848's TopicPartitions). Leaving
   * out partitions the answer revoked acknowledges the revocation; without this field, the heartbeat
   * itself acknowledges it.
   */
  ownedTopicPartitions: z
    .array(z.object({ topic: topicName, partitions: z.array(z.number().int().nonnegative()).max(100_000) }))
    .max(10_000)
    .optional(),
});

const offset = z.number().int().nonnegative();
const topicPartition = { topic: topicName, partition: z.number().int().nonnegative() };

export const CommitOffsetsRequest = z.object({
  memberId: z.string().min(1).max(255).optional(),
  memberEpoch: z.number().int().min(0).optional(),
  offsets: z.array(z.object({ ...topicPartition, offset, metadata: z.string().max(4096).optional() })).min(1).max(100_000),
});

export const ResetOffsetsRequest = z
  .object({
    to: z.enum(['earliest', 'latest', 'offset', 'timestamp']),
    /** Only this topic; by default every topic the group has committed offsets for. */
    topic: topicName.optional(),
    offset: offset.optional(),
    timestamp: z.number().int().nonnegative().optional(),
  })
  .refine((r) => r.to !== 'offset' || r.offset !== undefined, { error: 'offset is required with to=offset', path: ['offset'] })
  .refine((r) => r.to !== 'timestamp' || r.timestamp !== undefined, { error: 'timestamp is required with to=timestamp', path: ['timestamp'] });
export type ResetOffsetsRequest = z.infer<typeof ResetOffsetsRequest>;

// ---------------------------------------------------------------------------------------------------
// Answers, shared by the coordinator that builds them and the clients that read them

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** Partitions of one topic, as heartbeats and group descriptions list them. */
export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

/** Partitions grouped by topic, in first-seen order. */
export function groupByTopic(tps: Iterable<TopicPartition>): TopicPartitions[] {
  const out = new Map<string, number[]>();
  for (const { topic, partition } of tps) {
    const partitions = out.get(topic);
    if (partitions) partitions.push(partition);
    else out.set(topic, [partition]);
  }
  return [...out].map(([topic, partitions]) => ({ topic, partitions }));
}

export type ConsumerGroupState = 'Empty' | 'Reconciling' | 'Stable';

export interface CommittedOffset extends TopicPartition {
  offset: number;
  metadata: string;
}

export interface GroupHeartbeatResponse {
  memberId: string;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  /** Every partition the member is to own (not only what changed); partitions it must give up are left out. */
  assignment: TopicPartitions[];
}

/** A group in `GET /consumer-groups`. */
export interface GroupListing {
  groupId: string;
  state: string;
  members: number;
}

/** The coordinator's view of a group. */
export interface GroupDescription {
  groupId: string;
  state: ConsumerGroupState | 'Dead';
  groupEpoch: number;
  assignmentEpoch: number;
  members: Array<{
    memberId: string;
    clientId: string;
    memberEpoch: number;
    subscribedTopics: string[];
    assignment: TopicPartitions[];
    /** Taken away by the last answer but still the member's until it acknowledges. */
    partitionsPendingRevocation: TopicPartitions[];
  }>;
  offsets: CommittedOffset[];
}

export interface PartitionLag extends TopicPartition {
  /** -1 when the group has committed nothing for the partition. */
  committedOffset: number;
  highWatermark: number;
  lag: number;
}

/** `GET /consumer-groups/{group}`: the coordinator's view plus lag (high watermark − committed offset) per partition. */
export interface GroupDescriptionWithLag extends GroupDescription {
  partitions: PartitionLag[];
  totalLag: number;
}
