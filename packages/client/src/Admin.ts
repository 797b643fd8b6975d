import { HttpJsonClient } from '@brook/runtime';
import { BrookError, type BrokerView, type ClusterView, type GroupDescriptionWithLag, type GroupListing, type TopicView } from '@brook/types';
import { Metadata } from './Metadata';

export interface AdminOptions {
  /** The controller's URL, e.g. `http://localhost:9000`. */
  controllerUrl: string;
  /** Cluster name; `default` by default. */
  cluster?: string;
  requestTimeoutMs?: number;
}

export interface CreateTopicOptions {
  topic: string;
  partitions?: number;
  replicationFactor?: number;
  /** Kafka topic configs, e.g. `{ 'retention.ms': '86400000' }`. */
  configs?: Record<string, string | number>;
}

export interface ResetOffsetsOptions {
  to: 'earliest' | 'latest' | 'offset' | 'timestamp';
  topic?: string;
  offset?: number;
  timestamp?: number;
}

/**
 * Cluster administration: topics (controller), consumer groups (any broker), brokers and clusters.
 *
 * ```ts
 * const admin = new Admin({ controllerUrl: 'http://localhost:9000' });
 * await admin.createTopic({ topic: 'orders', partitions: 3 });
 * ```
 */
export class Admin {
  private readonly controller: HttpJsonClient;
  private readonly brokerClients = new Map<string, HttpJsonClient>();
  readonly metadata: Metadata;
  readonly clusterName: string;
  private readonly timeoutMs: number;

  constructor(options: AdminOptions) {
    this.clusterName = options.cluster ?? 'default';
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.controller = new HttpJsonClient(options.controllerUrl.replace(/\/+$/, ''), { connections: 2 });
    this.metadata = new Metadata(this.controller, { cluster: this.clusterName });
  }

  /** Creates a topic; answers it with its partitions, leaders and replicas. */
  createTopic(options: CreateTopicOptions): Promise<TopicView> {
    return this.controller.post<TopicView>(
      '/create_topic/',
      { name: options.topic, cluster: this.clusterName, partitions: options.partitions, replicationFactor: options.replicationFactor, configs: options.configs },
      { timeoutMs: this.timeoutMs },
    );
  }

  /** Every topic of the cluster. */
  listTopics(): Promise<TopicView[]> {
    return this.controller.get<TopicView[]>('/topics', { query: { cluster: this.clusterName }, timeoutMs: this.timeoutMs });
  }

  /** One topic: partitions with leader, replicas, ISR and epochs; UNKNOWN_TOPIC when there is none. */
  describeTopic(topic: string): Promise<TopicView> {
    return this.controller.get<TopicView>(`/topic/${encodeURIComponent(topic)}`, { query: { cluster: this.clusterName }, timeoutMs: this.timeoutMs });
  }

  deleteTopic(topic: string): Promise<{ name: string; topicId: string; deleted: true }> {
    return this.controller.delete(`/topic/${encodeURIComponent(topic)}`, { query: { cluster: this.clusterName }, timeoutMs: this.timeoutMs });
  }

  /** The cluster's brokers as the controller registered them. */
  brokers(): Promise<BrokerView[]> {
    return this.controller.get<BrokerView[]>('/brokers', { query: { cluster: this.clusterName }, timeoutMs: this.timeoutMs });
  }

  /** The cluster: brokers (with their processes), topics and defaults. */
  cluster(): Promise<ClusterView> {
    return this.controller.get<ClusterView>(`/cluster/${encodeURIComponent(this.clusterName)}`, { timeoutMs: this.timeoutMs });
  }

  /** Consumer groups of every broker. */
  listGroups(): Promise<GroupListing[]> {
    return this.withBroker((b) => b.get<GroupListing[]>('/consumer-groups', { timeoutMs: this.timeoutMs }));
  }

  /** A group's state, members, assignment, committed offsets and lag. */
  describeGroup(group: string): Promise<GroupDescriptionWithLag> {
    return this.withBroker((b) => b.get<GroupDescriptionWithLag>(`/consumer-groups/${encodeURIComponent(group)}`, { timeoutMs: this.timeoutMs }));
  }

  /** Moves a memberless group's committed offsets (GROUP_NOT_EMPTY while it has members). */
  resetOffsets(group: string, options: ResetOffsetsOptions): Promise<{ groupId: string; offsets: Array<{ topic: string; partition: number; offset: number }> }> {
    return this.withBroker((b) => b.post(`/consumer-groups/${encodeURIComponent(group)}/reset-offsets`, options, { timeoutMs: this.timeoutMs }));
  }

  deleteGroup(group: string): Promise<unknown> {
    return this.withBroker((b) => b.delete(`/consumer-groups/${encodeURIComponent(group)}`, { timeoutMs: this.timeoutMs }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.brokerClients.values()].map((c) => c.close()));
    this.brokerClients.clear();
    await this.controller.close();
  }

  /** Runs a call on a live broker, trying the next one when a broker cannot be reached. */
  private async withBroker<T>(call: (broker: HttpJsonClient) => Promise<T>): Promise<T> {
    await this.metadata.refresh();
    const brokers = this.metadata.brokers();
    if (brokers.length === 0) throw new BrookError('BROKER_NOT_AVAILABLE', `cluster ${this.clusterName} has no live broker`);
    let last: unknown;
    for (const { url } of brokers) {
      let client = this.brokerClients.get(url);
      if (!client) this.brokerClients.set(url, (client = new HttpJsonClient(url, { connections: 2 })));
      try {
        return await call(client);
      } catch (err) {
        if (!(err instanceof BrookError) || err.code !== 'BROKER_NOT_AVAILABLE') throw err;
        last = err;
      }
    }
    throw last;
  }
}
