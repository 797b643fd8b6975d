/** Request schemas of server-side consumer instances (Confluent REST Proxy v2) and the seeds' consumers. */
import { z } from 'zod';
import { nonNegativeInt } from '../validation';
import { topicName } from './broker';
import { groupId } from './groups';

export const ConsumerGroupPath = z.object({ group: groupId });
export const ConsumerInstancePath = z.object({ group: groupId, instance: groupId });

const boolish = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

export const CreateConsumerRequest = z.object({
  name: groupId.optional(),
  format: z.enum(['json', 'binary']).optional(),
  'auto.offset.reset': z.enum(['earliest', 'latest', 'smallest', 'largest']).transform((v) => (v === 'smallest' ? 'earliest' : v === 'largest' ? 'latest' : v)).optional(),
  'auto.commit.enable': boolish.optional(),
});

export const SubscriptionRequest = z.object({ topics: z.array(topicName).min(1).max(10_000) });

export const ConsumerRecordsQuery = z.object({
  timeout: nonNegativeInt.pipe(z.number().max(300_000)).optional(),
  max_bytes: nonNegativeInt.pipe(z.number().min(1)).optional(),
  max_records: nonNegativeInt.pipe(z.number().min(1).max(10_000)).optional(),
});

/** Offsets are checked for sign by the manager (INVALID_OFFSET), so a negative one is refused with 400 too. */
const offsetValue = z.number().int();
const partitionIndex = z.number().int().nonnegative();

export const ConsumerCommitRequest = z.object({
  offsets: z.array(z.object({ topic: topicName, partition: partitionIndex, offset: offsetValue, metadata: z.string().max(4096).optional() })).max(100_000).optional(),
});

export const ConsumerPartitionsRequest = z.object({
  partitions: z.array(z.object({ topic: topicName, partition: partitionIndex })).max(100_000),
});

export const ConsumerSeekRequest = z.object({
  offsets: z
    .array(z.object({ topic: topicName, partition: partitionIndex, offset: offsetValue.optional(), timestamp: z.number().int().optional() }))
    .min(1)
    .max(100_000)
    .optional(),
  /** REST Proxy v3's seek by time, accepted here too. */
  timestamps: z.array(z.object({ topic: topicName, partition: partitionIndex, timestamp: z.union([z.number().int(), z.string().transform((s) => Date.parse(s))]) })).max(100_000).optional(),
});

export const TopicStreamQuery = z.object({
  group: groupId.optional(),
  partition: nonNegativeInt.optional(),
  offset: nonNegativeInt.optional(),
  'auto.offset.reset': z.enum(['earliest', 'latest']).optional(),
  keepalive_ms: nonNegativeInt.pipe(z.number().min(100).max(600_000)).optional(),
});

const consumerIdValue = z.union([z.string().min(1).max(200), z.number().int().nonnegative()]).transform(String);

/** Seed 001: GET /events and POST /offset. */
export const SeedEventsConsumeRequest = z.object({
  topic: topicName,
  /** Generated (and answered) when absent. */
  consumer_id: consumerIdValue.optional(),
  max_records: nonNegativeInt.pipe(z.number().min(1).max(10_000)).optional(),
  timeout_ms: nonNegativeInt.pipe(z.number().max(300_000)).optional(),
});
export const SeedOffsetRequest = z.object({ consumer_id: consumerIdValue });

/** Seed 002. */
export const SeedRegisterTopicRequest = z.object({ topic: topicName, partitions: z.number().int().min(1).max(10_000).optional() });
export const SeedRegisterProducerRequest = z.object({ topic: topicName, producer_id: z.union([z.string().min(1).max(200), z.number()]).transform(String).optional() });
export const SeedRegisterConsumerRequest = z.object({ topic: topicName, consumer_id: consumerIdValue.optional() });
export const SeedPublishRequest = z.object({ topic: topicName, value: z.unknown(), key: z.union([z.string().max(1024 * 1024), z.number()]).nullable().optional() });
export const SeedConsumeRequest = z.object({ consumer_id: consumerIdValue });

/** Seed 004. */
export const SeedUserTopicPath = z.object({ email: z.string().min(1).max(200), topic: topicName });
export const SeedReadPath = SeedUserTopicPath.extend({ key: z.string().min(1).max(1024 * 1024) });
