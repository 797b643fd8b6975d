import type { HttpJsonClient, Logger } from '@brook/runtime';
import { BrookError, decodeRecords, iterateBatches } from '@brook/types';
import type { MetadataCache } from '../metadata/MetadataCache';
import { BrokerPeers, FORWARDED_HEADER } from '../network/BrokerPeers';
import type { Partition } from '../server/Partition';
import type { ReplicaManager } from '../server/ReplicaManager';
import { GroupCoordinator } from './GroupCoordinator';
import type { OffsetsRecord } from './OffsetsStore';
import { OFFSETS_TOPIC, ReplicatedOffsetsStore } from './ReplicatedOffsetsStore';

export interface GroupServiceOptions {
  brokerId: number;
  cluster: string;
  /** Partitions of __consumer_offsets when this broker creates it (Kafka's offsets.topic.num.partitions). */
  offsetsTopicPartitions: number;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  ackTimeoutMs: number;
}

/**
 * Consumer groups on this broker: creates __consumer_offsets on first use, loads the groups of every
 * offsets partition this broker comes to lead, and answers for a group here when it is the group's
 * coordinator (the leader of partition hash(group) % N), or asks the coordinator otherwise.
 */
export class GroupService {
  private coordinatorInstance: GroupCoordinator | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly options: GroupServiceOptions,
    private readonly metadata: MetadataCache,
    private readonly replicas: ReplicaManager,
    private readonly peers: BrokerPeers,
    private readonly controller: HttpJsonClient,
    private readonly logger: Logger,
  ) {
    replicas.onLeadershipChange((partition, isLeader) => this.onLeadershipChange(partition, isLeader));
    this.timer = setInterval(() => this.coordinatorInstance?.expireMembers(), 250);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The coordinator, once __consumer_offsets exists (created here on first use). */
  async coordinator(): Promise<GroupCoordinator> {
    if (this.coordinatorInstance) return this.coordinatorInstance;
    if (!this.metadata.topic(OFFSETS_TOPIC)) {
      try {
        await this.controller.post('/create_topic/', {
          name: OFFSETS_TOPIC,
          cluster: this.options.cluster,
          partitions: this.options.offsetsTopicPartitions,
          configs: { 'cleanup.policy': 'compact', 'segment.bytes': String(100 * 1024 * 1024) },
        });
      } catch (err) {
        if (!(err instanceof BrookError) || err.code !== 'TOPIC_ALREADY_EXISTS') throw err;
      }
      await this.metadata.requireTopic(OFFSETS_TOPIC, 5000);
    }
    return this.ensureCoordinator();
  }

  /**
   * Runs `local` on this broker's coordinator when it coordinates the group, else passes the request to
   * the coordinator's broker through `remote`. A request that was already passed on is never passed again.
   */
  async route<T>(groupId: string, forwarded: boolean, local: (c: GroupCoordinator) => T | Promise<T>, remote: (peer: HttpJsonClient, headers: Record<string, string>) => Promise<T>): Promise<T> {
    const coordinator = await this.coordinator();
    const p = GroupCoordinator.partitionFor(groupId, this.offsetsPartitionCount());
    if (coordinator.isLoaded(p) || this.replicas.getPartition(OFFSETS_TOPIC, p)?.isLeader) return local(coordinator);
    const leader = this.metadata.topic(OFFSETS_TOPIC)?.partitions[p]?.leader ?? -1;
    if (forwarded || leader < 0 || leader === this.options.brokerId) {
      throw new BrookError('NOT_COORDINATOR', `broker ${this.options.brokerId} does not coordinate group ${groupId}`, { partition: p, leader });
    }
    return remote(this.peers.get(leader), { [FORWARDED_HEADER]: '1' });
  }

  get brokerId(): number {
    return this.options.brokerId;
  }

  peer(brokerId: number): HttpJsonClient {
    return this.peers.get(brokerId);
  }

  /** Every live broker of the cluster, for requests that ask all coordinators (listing groups). */
  brokerIds(): number[] {
    return this.metadata.image.brokersOf(this.options.cluster).filter((b) => b.state !== 'fenced').map((b) => b.brokerId);
  }

  private offsetsPartitionCount(): number {
    return this.metadata.topic(OFFSETS_TOPIC)?.partitions.length ?? this.options.offsetsTopicPartitions;
  }

  private ensureCoordinator(): GroupCoordinator {
    this.coordinatorInstance ??= new GroupCoordinator({
      store: new ReplicatedOffsetsStore(this.replicas, this.options.ackTimeoutMs),
      topics: { partitionCount: (topic) => this.metadata.topic(topic)?.partitions.length },
      numOffsetsPartitions: this.offsetsPartitionCount(),
      sessionTimeoutMs: this.options.sessionTimeoutMs,
      rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
      logger: this.logger,
    });
    return this.coordinatorInstance;
  }

  private onLeadershipChange(partition: Partition, isLeader: boolean): void {
    if (partition.topic !== OFFSETS_TOPIC) {
      this.coordinatorInstance?.onTopicsChanged();
      return;
    }
    const coordinator = this.ensureCoordinator();
    if (!isLeader) {
      coordinator.unloadPartition(partition.partition);
      return;
    }
    coordinator.markLoading(partition.partition);
    // Loaded on the next turn, so the metadata update that made this broker leader completes first.
    setImmediate(() => {
      if (!partition.isLeader) return;
      coordinator.loadPartition(partition.partition, readAll(partition));
      this.logger.info({ partition: partition.partition }, 'loaded consumer groups of offsets partition');
    });
  }
}

/** Every record of a partition's log, oldest first: the offsets to rebuild the groups from. */
function* readAll(partition: Partition): Generator<OffsetsRecord> {
  const log = partition.log;
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { records } = log.read(offset, { maxBytes: 4 * 1024 * 1024 });
    if (records.length === 0) return;
    for (const batch of iterateBatches(records)) {
      for (const r of decodeRecords(records, batch.position, batch)) {
        if (r.offset >= offset && r.key) yield { key: Buffer.from(r.key), value: r.value ? Buffer.from(r.value) : null };
      }
      offset = batch.lastOffset + 1;
    }
  }
}
