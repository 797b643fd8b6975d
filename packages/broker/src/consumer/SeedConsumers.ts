import { randomBytes } from 'node:crypto';
import { BrookError, isValidName, partitionForKey, type ConsumedRecord } from '@brook/types';
import type { TopicAdmin } from '../admin/TopicAdmin';
import type { MetadataCache } from '../metadata/MetadataCache';
import { keyBytes, toOutgoingRecord } from '../produce/JsonRecordCodec';
import type { ProduceService } from '../produce/ProduceService';
import type { ConsumerInstanceManager, InstanceRecord } from './ConsumerInstanceManager';

/** The instance id the seeds' consumers use inside their group. */
const SEED004_INSTANCE = 'seed004';

/**
 * A client's id (a seed's consumer id, an email) as a group id: unchanged when it is already a legal
 * group name without "_", else every character outside [a-zA-Z0-9.-] (and "_" itself) as _XX of its
 * UTF-8 bytes. Injective, so two clients never share a group.
 */
export function clientGroupId(id: string): string {
  if (isValidName(id) && !id.includes('_')) return id;
  let out = '';
  for (const ch of id) {
    if (/[a-zA-Z0-9.-]/.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `_${b.toString(16).padStart(2, '0')}`;
  }
  if (!out.includes('_')) out = out.replace(/\./g, '_2e');
  if (out.length > 249) throw new BrookError('INVALID_REQUEST', 'the id is too long to name a consumer group');
  return out;
}

/** A record with its topic and partition, as the seeds' consume routes answer it. */
export type SeedMessage = ConsumedRecord & { topic: string; partition: number };

const toMessage = (r: InstanceRecord): SeedMessage => ({ topic: r.topic, partition: r.partition, offset: r.offset, key: r.key, value: r.value, timestamp: r.timestamp, headers: r.headers });

/**
 * The seeds' consumers (001, 002, 004) as adapters over ConsumerInstanceManager: each consumer id (or
 * email) is a group of its own with one server-side instance, reading from its committed offsets
 * (earliest when none) and committing when the seed says so.
 */
export class SeedConsumers {
  private readonly producers = new Map<string, { producerId: string; topics: Set<string> }>();

  constructor(
    private readonly consumers: ConsumerInstanceManager,
    private readonly metadata: MetadataCache,
    private readonly topics: TopicAdmin,
    private readonly produce: ProduceService,
  ) {}

  // ---- seed 001 ----------------------------------------------------------------------------------

  /** GET /events: subscribes the consumer to `topic` (in addition to what it has) and polls. */
  async events(consumerIdOrNone: string | undefined, topic: string, maxRecords = 500, timeoutMs = 0): Promise<{ consumer_id: string; records: SeedMessage[] }> {
    const consumerId = consumerIdOrNone ?? `consumer-${randomBytes(6).toString('hex')}`;
    const group = clientGroupId(consumerId);
    await this.metadata.requireTopic(topic, 0);
    const inst = this.consumers.getOrCreate(group, consumerId, { autoOffsetReset: 'earliest', autoCommit: false });
    if (!inst.topics.includes(topic)) await this.consumers.subscribe(group, consumerId, [...inst.topics, topic]);
    return { consumer_id: consumerId, records: (await this.consumers.poll(group, consumerId, { maxRecords, timeoutMs })).map(toMessage) };
  }

  /** POST /offset: commits the consumer's current positions. */
  async commit(consumerId: string): Promise<Array<{ topic: string; partition: number; offset: number }>> {
    return this.consumers.commit(clientGroupId(consumerId), consumerId);
  }

  // ---- seed 002 ----------------------------------------------------------------------------------

  async registerTopic(topic: string, partitions = 1): Promise<{ topic: string; partitions: number; created: boolean }> {
    let created = true;
    try {
      await this.topics.createTopic(topic, partitions);
    } catch (err) {
      if (!(err instanceof BrookError) || err.code !== 'TOPIC_ALREADY_EXISTS') throw err;
      created = false;
    }
    const t = await this.metadata.requireTopic(topic, 5000);
    await this.metadata.waitFor(() => (this.metadata.topic(topic)?.partitions ?? []).every((p) => p.leader >= 0), 5000).catch(() => undefined);
    return { topic, partitions: t.partitions.length, created };
  }

  async registerProducer(topic: string, producerId?: string): Promise<{ producer_id: string; topic: string }> {
    await this.metadata.requireTopic(topic, 0);
    const id = producerId ?? `producer-${randomBytes(6).toString('hex')}`;
    let p = this.producers.get(id);
    if (!p) this.producers.set(id, (p = { producerId: id, topics: new Set() }));
    p.topics.add(topic);
    return { producer_id: id, topic };
  }

  async registerConsumer(topic: string, consumerId?: string): Promise<{ consumer_id: string; topic: string; group: string }> {
    await this.metadata.requireTopic(topic, 0);
    const id = consumerId ?? `consumer-${randomBytes(6).toString('hex')}`;
    const group = clientGroupId(id);
    const inst = this.consumers.getOrCreate(group, id, { autoOffsetReset: 'earliest', autoCommit: false });
    if (!inst.topics.includes(topic)) await this.consumers.subscribe(group, id, [...inst.topics, topic]);
    return { consumer_id: id, topic, group };
  }

  async publish(topic: string, value: unknown, key?: string | number | null): Promise<{ topic: string; partition: number; offset: number }> {
    const [o] = await this.produce.produce(topic, [toOutgoingRecord({ key: key ?? null, value: value ?? null })], 'all');
    return { topic, partition: o!.partition, offset: o!.offset };
  }

  /** POST /consume: the consumer's next message, committed once read; null when there is none. */
  async consume(consumerId: string, timeoutMs = 0): Promise<SeedMessage | null> {
    const group = clientGroupId(consumerId);
    const [r] = await this.consumers.poll(group, consumerId, { maxRecords: 1, timeoutMs });
    if (!r) return null;
    await this.consumers.commit(group, consumerId, [{ topic: r.topic, partition: r.partition, offset: r.offset + 1 }]);
    return toMessage(r);
  }

  // ---- seed 004 ----------------------------------------------------------------------------------

  async subscribe(email: string, topic: string): Promise<{ email: string; topics: string[]; group: string }> {
    const group = clientGroupId(email);
    await this.metadata.requireTopic(topic, 0);
    const inst = this.consumers.getOrCreate(group, SEED004_INSTANCE, { autoOffsetReset: 'earliest', autoCommit: false });
    const topics = inst.topics.includes(topic) ? inst.topics : [...inst.topics, topic];
    const v = await this.consumers.subscribe(group, SEED004_INSTANCE, topics);
    return { email, topics: v.topics, group };
  }

  async unsubscribe(email: string, topic: string): Promise<{ email: string; topics: string[] }> {
    const group = clientGroupId(email);
    const inst = this.subscription(email, group, topic);
    const rest = inst.topics.filter((t) => t !== topic);
    if (rest.length === 0) await this.consumers.delete(group, SEED004_INSTANCE);
    else await this.consumers.subscribe(group, SEED004_INSTANCE, rest);
    return { email, topics: rest };
  }

  /** GET /read: the new messages of the partition `key` maps to, from the user's committed offset; then commits past them. */
  async read(email: string, topic: string, key: string, maxRecords = 500): Promise<{ partition: number; messages: SeedMessage[]; next_offset: number | null }> {
    const group = clientGroupId(email);
    this.subscription(email, group, topic);
    const t = await this.metadata.requireTopic(topic, 0);
    const partition = partitionForKey(keyBytes(key)!, t.partitions.length);
    const records = await this.consumers.readCommitted(group, SEED004_INSTANCE, topic, partition, maxRecords);
    return { partition, messages: records.map(toMessage), next_offset: records.length > 0 ? records[records.length - 1]!.offset + 1 : null };
  }

  private subscription(email: string, group: string, topic: string) {
    const inst = this.consumers.exists(group, SEED004_INSTANCE) ? this.consumers.describe(group, SEED004_INSTANCE) : undefined;
    if (!inst || !inst.topics.includes(topic)) {
      throw new BrookError('UNKNOWN_CONSUMER_INSTANCE', `${email} is not subscribed to ${topic}`, { email, topic });
    }
    return inst;
  }
}
