import { EventEmitter } from 'node:events';
import {
  BrookError,
  MetadataImage,
  type BrokerRegistration,
  type MetadataRecord,
  type MetadataSnapshot,
  type PartitionRecord,
  type TopicImage,
} from '@brook/types';

/**
 * This broker's view of the cluster metadata (Kafka's MetadataCache): the image built from the
 * controller's records, plus waits for the image to reach a state, since a topic created a moment ago
 * may not have reached this broker yet.
 */
export class MetadataCache {
  readonly image = new MetadataImage();
  private readonly changes = new EventEmitter();
  /** True once the first snapshot is applied; until then the broker knows no topics at all. */
  loaded = false;

  constructor(readonly cluster: string) {
    this.changes.setMaxListeners(0);
  }

  get offset(): number {
    return this.image.offset;
  }

  loadSnapshot(snapshot: MetadataSnapshot): void {
    this.image.loadSnapshot(snapshot);
    this.loaded = true;
    this.changes.emit('change');
  }

  applyRecords(records: MetadataRecord[], lastOffset: number): void {
    for (const r of records) this.image.apply(r);
    // Records of other clusters are filtered out by the controller, so the offset jumps over them.
    this.image.offset = Math.max(this.image.offset, lastOffset);
    if (records.length > 0) this.changes.emit('change');
  }

  topic(name: string): TopicImage | undefined {
    return this.image.topicByName(this.cluster, name);
  }

  topics(): TopicImage[] {
    return this.image.topicsOf(this.cluster);
  }

  broker(id: number): BrokerRegistration | undefined {
    return this.image.brokers.get(id);
  }

  /** The topic, waiting up to `waitMs` for it to appear; UNKNOWN_TOPIC if it does not. */
  async requireTopic(name: string, waitMs = 2000): Promise<TopicImage> {
    const found = await this.waitFor(() => this.topic(name), waitMs);
    if (!found) throw new BrookError('UNKNOWN_TOPIC', `topic ${name} does not exist in cluster ${this.cluster}`, { topic: name });
    return found;
  }

  async requirePartition(topicName: string, partition: number, waitMs = 2000): Promise<{ topic: TopicImage; state: PartitionRecord }> {
    const topic = await this.requireTopic(topicName, waitMs);
    const state = topic.partitions[partition];
    if (!state) {
      throw new BrookError('UNKNOWN_PARTITION', `topic ${topicName} has no partition ${partition} (it has ${topic.partitions.length})`, {
        topic: topicName,
        partition,
      });
    }
    return { topic, state };
  }

  /** Resolves with the first truthy value of `probe`, re-checked on every metadata change, or undefined at the deadline. */
  waitFor<T>(probe: () => T | undefined | false, timeoutMs: number): Promise<T | undefined> {
    const now = probe();
    if (now || timeoutMs <= 0) return Promise.resolve(now || undefined);
    return new Promise((resolve) => {
      const check = () => {
        const v = probe();
        if (v) finish(v);
      };
      const finish = (v: T | undefined) => {
        clearTimeout(timer);
        this.changes.off('change', check);
        resolve(v);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      this.changes.on('change', check);
    });
  }
}
