import type { BrokerRegistration, BrokerState, MetadataSnapshot } from './snapshot';
import type { ClusterRecord, MetadataRecord, PartitionRecord, TopicRecord } from './records';

export interface TopicImage extends TopicRecord {
  partitions: PartitionRecord[];
}

/**
 * The cluster's metadata held in memory, built by applying metadata records in order (Kafka's
 * MetadataImage). Brokers keep one; it is pure, so applying a log and loading the controller's snapshot
 * of the same log must give the same image.
 */
export class MetadataImage {
  offset = -1;
  nextProducerId = 0;
  readonly clusters = new Map<string, ClusterRecord>();
  readonly brokers = new Map<number, BrokerRegistration>();
  /** By topic id. */
  readonly topics = new Map<string, TopicImage>();
  /** cluster + "\0" + topic name -> topic id. */
  private readonly topicIdsByName = new Map<string, string>();

  static fromSnapshot(snapshot: MetadataSnapshot): MetadataImage {
    const image = new MetadataImage();
    image.loadSnapshot(snapshot);
    return image;
  }

  loadSnapshot(snapshot: MetadataSnapshot): void {
    this.clusters.clear();
    this.brokers.clear();
    this.topics.clear();
    this.topicIdsByName.clear();
    for (const c of snapshot.clusters) this.clusters.set(c.name, { ...c });
    for (const b of snapshot.brokers) this.brokers.set(b.brokerId, { ...b });
    for (const t of snapshot.topics) this.addTopic(t);
    for (const p of snapshot.partitions) this.setPartition({ ...p });
    this.nextProducerId = snapshot.nextProducerId;
    this.offset = snapshot.offset;
  }

  apply(record: MetadataRecord): void {
    switch (record.type) {
      case 'ClusterRecord':
        this.clusters.set(record.payload.name, { ...record.payload });
        break;
      case 'RegisterBrokerRecord': {
        const r = record.payload;
        this.brokers.set(r.brokerId, {
          brokerId: r.brokerId,
          brokerEpoch: r.brokerEpoch,
          incarnationId: r.incarnationId,
          cluster: r.cluster,
          host: r.host,
          port: r.port,
          rack: r.rack,
          state: r.fenced ? 'fenced' : 'active',
        });
        break;
      }
      case 'BrokerRegistrationChangeRecord': {
        const r = record.payload;
        const b = this.brokers.get(r.brokerId);
        if (!b) break;
        if (r.host !== undefined) b.host = r.host;
        if (r.port !== undefined) b.port = r.port;
        if (r.rack !== undefined) b.rack = r.rack;
        b.state = nextBrokerState(b.state, r.fenced, r.inControlledShutdown);
        break;
      }
      case 'UnregisterBrokerRecord':
        this.brokers.delete(record.payload.brokerId);
        break;
      case 'TopicRecord':
        this.addTopic(record.payload);
        break;
      case 'RemoveTopicRecord': {
        const t = this.topics.get(record.payload.topicId);
        if (t) {
          this.topics.delete(t.topicId);
          this.topicIdsByName.delete(topicKey(t.cluster, t.name));
        }
        break;
      }
      case 'PartitionRecord':
        this.setPartition({ ...record.payload });
        break;
      case 'PartitionChangeRecord': {
        const r = record.payload;
        const p = this.topics.get(r.topicId)?.partitions[r.partition];
        if (!p) break;
        if (r.leader !== undefined) p.leader = r.leader;
        if (r.isr !== undefined) p.isr = [...r.isr];
        if (r.replicas !== undefined) p.replicas = [...r.replicas];
        p.leaderEpoch = r.leaderEpoch;
        p.partitionEpoch = r.partitionEpoch;
        break;
      }
      case 'ProducerIdsRecord':
        this.nextProducerId = Math.max(this.nextProducerId, record.payload.nextProducerId);
        break;
      case 'ConfigRecord': {
        const r = record.payload;
        if (r.resourceType !== 'topic') break;
        const t = this.topicByName(r.cluster, r.resourceName);
        if (!t) break;
        if (r.value === null) delete t.configs[r.name];
        else t.configs[r.name] = r.value;
        break;
      }
    }
    this.offset = record.offset;
  }

  topicByName(cluster: string, name: string): TopicImage | undefined {
    const id = this.topicIdsByName.get(topicKey(cluster, name));
    return id === undefined ? undefined : this.topics.get(id);
  }

  topicsOf(cluster: string): TopicImage[] {
    return [...this.topics.values()].filter((t) => t.cluster === cluster);
  }

  brokersOf(cluster: string): BrokerRegistration[] {
    return [...this.brokers.values()].filter((b) => b.cluster === cluster);
  }

  toSnapshot(): MetadataSnapshot {
    const topics = [...this.topics.values()];
    return {
      offset: this.offset,
      clusters: [...this.clusters.values()].map((c) => ({ ...c })),
      brokers: [...this.brokers.values()].map((b) => ({ ...b })),
      topics: topics.map(({ partitions: _p, ...t }) => ({ ...t, configs: { ...t.configs } })),
      partitions: topics.flatMap((t) => t.partitions.map((p) => ({ ...p }))),
      nextProducerId: this.nextProducerId,
    };
  }

  private addTopic(t: TopicRecord): void {
    this.topics.set(t.topicId, { ...t, configs: { ...t.configs }, partitions: [] });
    this.topicIdsByName.set(topicKey(t.cluster, t.name), t.topicId);
  }

  private setPartition(p: PartitionRecord): void {
    const t = this.topics.get(p.topicId);
    if (t) t.partitions[p.partition] = p;
  }
}

function topicKey(cluster: string, name: string): string {
  return `${cluster}\0${name}`;
}

export function nextBrokerState(current: BrokerState, fenced?: boolean, inControlledShutdown?: boolean): BrokerState {
  if (fenced === true) return 'fenced';
  if (inControlledShutdown === true) return 'controlled_shutdown';
  if (fenced === false) return 'active';
  if (inControlledShutdown === false && current === 'controlled_shutdown') return 'active';
  return current;
}
