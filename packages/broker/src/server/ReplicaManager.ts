import type { Logger } from '@brook/runtime';
import { BrookError, type TopicImage } from '@brook/types';
import { parseLogConfig, type LogConfig, type LogManager } from '../storage';
import type { MetadataCache } from '../metadata/MetadataCache';
import { Partition } from './Partition';

/**
 * The partitions this broker hosts (Kafka's ReplicaManager): it turns metadata changes into leader and
 * follower roles, creates and deletes logs, and is the one place appends and reads go through.
 */
export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();

  constructor(
    private readonly brokerId: number,
    private readonly logManager: LogManager,
    private readonly metadata: MetadataCache,
    private readonly defaults: LogConfig,
    private readonly logger: Logger,
  ) {}

  /** Brings local replicas in line with the metadata image. */
  applyMetadata(): void {
    if (!this.metadata.loaded) return;
    const wanted = new Set<string>();
    for (const topic of this.metadata.topics()) {
      const config = this.logConfigOf(topic);
      for (const state of topic.partitions) {
        if (!state || !state.replicas.includes(this.brokerId)) continue;
        const key = partitionKey(topic.name, state.partition);
        wanted.add(key);
        let partition = this.partitions.get(key);
        if (partition && partition.topicId !== topic.topicId) {
          this.removePartition(key, partition); // the topic was deleted and created again
          partition = undefined;
        }
        if (!partition) {
          const log = this.logManager.getOrCreateLog(topic.name, state.partition, topic.topicId, config);
          partition = new Partition(topic.name, state.partition, topic.topicId, log, this.brokerId);
          this.partitions.set(key, partition);
        } else if (!sameConfig(partition.log.config, config)) {
          partition.log.updateConfig(config);
        }
        const wasLeader = partition.isLeader;
        const previousEpoch = partition.leaderEpoch;
        partition.update(state);
        if (wasLeader !== partition.isLeader || previousEpoch !== state.leaderEpoch) {
          this.logger.info(
            { topic: topic.name, partition: state.partition, leader: state.leader, leaderEpoch: state.leaderEpoch },
            partition.isLeader ? 'leading partition' : 'following partition',
          );
        }
        if (!partition.isLeader) partition.wakeReaders();
      }
    }
    for (const [key, partition] of this.partitions) if (!wanted.has(key)) this.removePartition(key, partition);
    // Logs on disk that the metadata does not give this broker (a topic deleted while it was down).
    for (const log of this.logManager.allLogs()) {
      if (!wanted.has(partitionKey(log.topic, log.partition))) {
        this.logger.info({ topic: log.topic, partition: log.partition }, 'deleting stray log');
        this.logManager.deleteLog(log.topic, log.partition);
      }
    }
  }

  getPartition(topic: string, partition: number): Partition | undefined {
    return this.partitions.get(partitionKey(topic, partition));
  }

  /** The local partition if this broker leads it; NOT_LEADER (with the leader's address) otherwise. */
  leaderPartition(topic: string, partition: number): Partition {
    const p = this.getPartition(topic, partition);
    if (p?.isLeader) return p;
    const state = this.metadata.topic(topic)?.partitions[partition];
    const leader = state ? this.metadata.broker(state.leader) : undefined;
    if (p) throw p.notLeaderError(leader);
    throw new BrookError('NOT_LEADER', `broker ${this.brokerId} does not host ${topic}-${partition}`, {
      topic,
      partition,
      leader: state?.leader ?? -1,
      ...(leader ? { leaderUrl: `http://${leader.host}:${leader.port}` } : {}),
    });
  }

  allPartitions(): Partition[] {
    return [...this.partitions.values()];
  }

  private removePartition(key: string, partition: Partition): void {
    this.partitions.delete(key);
    partition.leaderId = -1;
    partition.wakeReaders();
    this.logManager.deleteLog(partition.topic, partition.partition);
    this.logger.info({ topic: partition.topic, partition: partition.partition }, 'removed partition replica');
  }

  private logConfigOf(topic: TopicImage): LogConfig {
    try {
      return parseLogConfig(topic.configs, this.defaults);
    } catch (err) {
      this.logger.warn({ topic: topic.name, err: (err as Error).message }, 'ignoring invalid topic config');
      return this.defaults;
    }
  }
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\0${partition}`;
}

function sameConfig(a: LogConfig, b: LogConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
