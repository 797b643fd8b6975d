/**
 * Request schemas of the broker's HTTP API: the canonical produce/fetch routes and the seeds' routes,
 * which are adapters over the same produce and fetch logic.
 */
import { z } from 'zod';
import { isValidName } from '../names';
import { nonNegativeInt, parseInput } from '../validation';

export const topicName = z.string({ error: 'a topic name is required' }).refine(isValidName, {
  error: 'invalid topic name: use 1 to 249 of the characters [a-zA-Z0-9._-], and not "." or ".."',
});

const headerValue = z.string().max(1024 * 1024).nullable();
/** Headers as an object ({"trace": "abc"}) or as Kafka's list ([{"key": "trace", "value": "abc"}]). */
export const RecordHeaders = z.union([
  z.record(z.string().min(1).max(1024), headerValue),
  z.array(z.object({ key: z.string().min(1).max(1024), value: headerValue })),
]);
export type RecordHeaders = z.infer<typeof RecordHeaders>;

const MAX_KEY_LENGTH = 1024 * 1024;

/** A key is a string (sent as its UTF-8 bytes, like Kafka's StringSerializer) or a number, or null. */
export const RecordKey = z.union([z.string().max(MAX_KEY_LENGTH), z.number(), z.null()]);

export const ProduceRecord = z.object({
  key: RecordKey.optional(),
  /** Any JSON; stored as its JSON text and given back as the same JSON. */
  value: z.unknown(),
  partition: z.number().int().nonnegative().optional(),
  headers: RecordHeaders.optional(),
  timestamp: z.number().int().nonnegative().optional(),
});
export type ProduceRecord = z.infer<typeof ProduceRecord>;

const MAX_BATCH_RECORDS = 100_000;
const records = z.array(ProduceRecord).min(1, { error: 'at least one record is required' }).max(MAX_BATCH_RECORDS);

/**
 * acks: 0 (answer before the append), 1 (the leader appended), all / -1 (every in-sync replica has the
 * records). Given as a query parameter or, in batch bodies, as a field.
 */
export const Acks = z
  .union([z.literal(0), z.literal(1), z.literal(-1), z.enum(['0', '1', '-1', 'all'])])
  .transform((a): AcksMode => (a === 0 || a === '0' ? '0' : a === 1 || a === '1' ? '1' : 'all'));
export type AcksMode = '0' | '1' | 'all';

/** An idempotent produce: the producer id and epoch from the controller, and the first record's sequence. */
const idempotence = {
  producer_id: z.number().int().nonnegative().optional(),
  producer_epoch: z.number().int().min(0).max(32767).optional(),
  sequence: z.number().int().min(0).max(2 ** 31 - 1).optional(),
};

/** Seed 001 `POST /events`: one record, or `records` for a batch. */
export const EventsProduceRequest = z.union([
  z.object({ topic: topicName, records, acks: Acks.optional(), ...idempotence }),
  ProduceRecord.extend({ topic: topicName, acks: Acks.optional(), ...idempotence }).refine((r) => r.value !== undefined, {
    error: 'value is required (or give a records array)',
    path: ['value'],
  }),
]);

export type EventsProduceRequest = z.output<typeof EventsProduceRequest>;

/** A batch body without its records, which `isPlainProduceRecord` checks. */
const EventsBatchEnvelope = z.object({ topic: topicName, acks: Acks.optional(), ...idempotence });

/**
 * Parses a `POST /events` body exactly as EventsProduceRequest does, faster for batches: zod's walk over
 * every record (it copies each one) was the validation cost on the hot path, so a batch whose records are
 * all plain is checked by hand. Anything else, including every bad request, goes through the schema, so
 * what is accepted and every error message stay the schema's own.
 */
export function parseEventsProduceRequest(body: unknown): EventsProduceRequest {
  const batch = (body as { records?: unknown } | null)?.records;
  if (Array.isArray(batch) && batch.length >= 1 && batch.length <= MAX_BATCH_RECORDS && batch.every(isPlainProduceRecord)) {
    const envelope = EventsBatchEnvelope.safeParse(body);
    if (envelope.success) return { ...envelope.data, records: batch };
  }
  return parseInput(EventsProduceRequest, body);
}

/**
 * A record that ProduceRecord accepts as it is, checked without zod. Only ever stricter than the schema
 * (headers, for one, are left to it), so a record it refuses is merely checked the slow way.
 */
function isPlainProduceRecord(r: unknown): r is ProduceRecord {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return false;
  const { key, value, partition, headers, timestamp } = r as Record<string, unknown>;
  return (
    value !== undefined &&
    headers === undefined &&
    (key === undefined || key === null || (typeof key === 'string' && key.length <= MAX_KEY_LENGTH) || Number.isFinite(key)) &&
    (partition === undefined || (Number.isSafeInteger(partition) && (partition as number) >= 0)) &&
    (timestamp === undefined || (Number.isSafeInteger(timestamp) && (timestamp as number) >= 0))
  );
}

export const AcksQuery = z.object({ acks: Acks.optional() });

/** Seed 004 `POST /write/{topic}`: a key decides the partition. */
export const WriteRequest = z.object({ key: z.union([z.string().max(MAX_KEY_LENGTH), z.number()]), value: z.unknown() });

/** Confluent REST Proxy v2 `POST /topics/{topic}`. */
export const RestProxyProduceRequest = z.object({
  records: z.array(
    z.object({ key: z.unknown().optional(), value: z.unknown(), partition: z.number().int().nonnegative().optional() }),
  ).min(1).max(MAX_BATCH_RECORDS),
});
export type RestProxyProduceRequest = z.output<typeof RestProxyProduceRequest>;
type RestProxyRecord = RestProxyProduceRequest['records'][number];

/** Parses a REST Proxy produce body exactly as RestProxyProduceRequest does; see parseEventsProduceRequest. */
export function parseRestProxyProduceRequest(body: unknown): RestProxyProduceRequest {
  const batch = (body as { records?: unknown } | null)?.records;
  if (Array.isArray(batch) && batch.length >= 1 && batch.length <= MAX_BATCH_RECORDS && batch.every(isPlainRestProxyRecord)) {
    return { records: batch };
  }
  return parseInput(RestProxyProduceRequest, body);
}

function isPlainRestProxyRecord(r: unknown): r is RestProxyRecord {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return false;
  const { value, partition } = r as Record<string, unknown>;
  return value !== undefined && (partition === undefined || (Number.isSafeInteger(partition) && (partition as number) >= 0));
}

export const FetchRecordsQuery = z.object({
  topic: topicName,
  partition: nonNegativeInt,
  offset: nonNegativeInt.default(0),
  max_records: nonNegativeInt.pipe(z.number().min(1).max(10_000)).default(500),
  max_wait_ms: nonNegativeInt.pipe(z.number().max(60_000)).default(0),
  max_bytes: nonNegativeInt.pipe(z.number().min(1).max(64 * 1024 * 1024)).default(4 * 1024 * 1024),
});

export const PartitionPath = z.object({ topic: topicName, partition: nonNegativeInt });

export interface ProducedOffset {
  partition: number;
  offset: number;
}

/** A record as the JSON read routes answer it. */
export interface ConsumedRecord {
  offset: number;
  key: string | null;
  value: unknown;
  timestamp: number;
  headers: Record<string, string | null>;
}
