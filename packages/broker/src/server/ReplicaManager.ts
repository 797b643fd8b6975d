import path from 'node:path';
import type { Logger } from '@brook/runtime';
import {
  BrookError,
  type EpochEndOffsetsRequest,
  type EpochEndOffsetsResponse,
  type FetchPartitionResult,
  type ReplicaFetchRequest,
  type TopicImage,
} from '@brook/types';
import type { MetadataCache } from '../metadata/MetadataCache';
import type { ReplicaFetcherManager } from '../replication/ReplicaFetcherManager';
import { parseLogConfig, type LogConfig, type LogManager } from '../storage';
import { OffsetCheckpointFile, type TopicPartitionOffset } from '../storage/OffsetCheckpointFile';
import { Partition, type IsrProposer } from './Partition';

export interface ReplicaManagerOptions {
  brokerId: number;
  logDir: string;
  defaults: LogConfig;
  /** Kafka's replica.lag.time.max.ms: a follower not caught up for this long leaves the ISR. */
  replicaLagTimeMaxMs: number;
  /** How often the high watermarks are written to disk. */
  highWatermarkCheckpointIntervalMs?: number;
}

/**
 * The partitions this broker hosts (Kafka's ReplicaManager): it turns metadata changes into leader and
 * follower roles, creates and deletes logs, serves followers' fetches, checks ISRs for lagging followers,
 * and checkpoints high watermarks so a restarted broker does not expose records it never saw committed.
 */
export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  private readonly hwCheckpoint: OffsetCheckpointFile;
  private readonly checkpointedHighWatermarks = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly leadershipListeners: Array<(partition: Partition, isLeader: boolean) => void> = [];
  /** The high-watermark checkpoint being written in the background. */
  private checkpointing: Promise<void> | undefined;

  constructor(
    private readonly options: ReplicaManagerOptions,
    private readonly logManager: LogManager,
    private readonly metadata: MetadataCache,
    private readonly fetchers: ReplicaFetcherManager,
    private readonly proposeIsr: IsrProposer,
    private readonly logger: Logger,
  ) {
    this.hwCheckpoint = new OffsetCheckpointFile(path.join(options.logDir, 'replication-offset-checkpoint'));
    for (const e of this.hwCheckpoint.read()) this.checkpointedHighWatermarks.set(partitionKey(e.topic, e.partition), e.offset);
  }

  /** Called whenever this broker starts or stops leading a partition (the group coordinator follows its offsets partitions). */
  onLeadershipChange(listener: (partition: Partition, isLeader: boolean) => void): void {
    this.leadershipListeners.push(listener);
  }

  startup(): void {
    const interval = Math.max(50, Math.floor(this.options.replicaLagTimeMaxMs / 2));
    let lastCheck = Date.now();
    this.timers.push(
      setInterval(() => {
        const now = Date.now();
        // A check that runs late means this process itself was paused or starved: its followers could not
        // fetch from it meanwhile, so their silence says nothing. Look again next round.
        const late = now - lastCheck > 2 * interval;
        lastCheck = now;
        if (!late) this.maybeShrinkIsrs();
      }, interval),
    );
    this.timers.push(setInterval(() => this.checkpointHighWatermarksInBackground(), this.options.highWatermarkCheckpointIntervalMs ?? 5000));
    for (const t of this.timers) t.unref();
  }

  async shutdown(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.checkpointing; // the last checkpoint below writes the same temporary file
    await this.fetchers.shutdown();
    for (const p of this.partitions.values()) p.close();
    this.checkpointHighWatermarks();
  }

  /** Brings local replicas in line with the metadata image. */
  applyMetadata(): void {
    if (!this.metadata.loaded) return;
    const wanted = new Set<string>();
    for (const topic of this.metadata.topics()) {
      const config = this.logConfigOf(topic);
      const minIsr = minInsyncReplicas(topic);
      for (const state of topic.partitions) {
        if (!state || !state.replicas.includes(this.options.brokerId)) continue;
        const key = partitionKey(topic.name, state.partition);
        wanted.add(key);
        let partition = this.partitions.get(key);
        if (partition && partition.topicId !== topic.topicId) {
          this.removePartition(key, partition); // the topic was deleted and created again
          partition = undefined;
        }
        if (!partition) {
          const log = this.logManager.getOrCreateLog(topic.name, state.partition, topic.topicId, config);
          const hw = this.checkpointedHighWatermarks.get(key) ?? 0;
          partition = new Partition(topic.name, state.partition, topic.topicId, log, this.options.brokerId, hw, this.proposeIsr);
          this.partitions.set(key, partition);
        } else if (JSON.stringify(partition.log.config) !== JSON.stringify(config)) {
          partition.log.updateConfig(config);
        }
        const wasLeader = partition.isLeader;
        const previousEpoch = partition.leaderEpoch;
        partition.update(state, minIsr);
        if (partition.isLeader || state.leader < 0) this.fetchers.unfollow(partition);
        else this.fetchers.follow(partition, state.leader, state.leaderEpoch);
        if (wasLeader !== partition.isLeader || (partition.isLeader && previousEpoch !== state.leaderEpoch)) {
          for (const listener of this.leadershipListeners) listener(partition, partition.isLeader);
        }
        if (wasLeader !== partition.isLeader || previousEpoch !== state.leaderEpoch) {
          this.logger.info(
            { topic: topic.name, partition: state.partition, leader: state.leader, leaderEpoch: state.leaderEpoch },
            partition.isLeader ? 'leading partition' : state.leader < 0 ? 'partition offline' : 'following partition',
          );
        }
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
    throw this.notLeader(topic, partition);
  }

  private notLeader(topic: string, partition: number): BrookError {
    const state = this.metadata.topic(topic)?.partitions[partition];
    const leader = state ? this.metadata.broker(state.leader) : undefined;
    const local = this.getPartition(topic, partition);
    if (local) return local.notLeaderError(leader);
    return new BrookError('NOT_LEADER', `broker ${this.options.brokerId} does not host ${topic}-${partition}`, {
      topic,
      partition,
      leader: state?.leader ?? -1,
      ...(leader ? { leaderUrl: `http://${leader.host}:${leader.port}` } : {}),
    });
  }

  /**
   * A follower's fetch of many partitions. When none has anything new the answer is held up to
   * `maxWaitMs`, until one of them gets an append; the follower's position is recorded once, on arrival.
   */
  async fetchForFollower(request: ReplicaFetchRequest): Promise<FetchPartitionResult[]> {
    const read = (p: ReplicaFetchRequest['partitions'][number]) => this.readForFollower(request, p);
    let results = request.partitions.map(read);
    const nothingNew = results.every((r) => r.error === null && r.records.length === 0);
    if (nothingNew && request.maxWaitMs > 0 && results.length > 0) {
      const partitions = request.partitions.map((p) => this.getPartition(p.topic, p.partition)).filter((p): p is Partition => !!p);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          for (const unsubscribe of unsubscribes) unsubscribe();
          resolve();
        };
        const timer = setTimeout(done, request.maxWaitMs);
        const unsubscribes = partitions.map((p) => p.onNextAppend(done));
      });
      results = request.partitions.map((p, i) => (results[i]!.error ? results[i]! : this.readAgain(request, p)));
    }
    return results;
  }

  epochEndOffsets(request: EpochEndOffsetsRequest): EpochEndOffsetsResponse {
    return {
      partitions: request.partitions.map((p) => {
        try {
          const local = this.leaderPartition(p.topic, p.partition);
          return { topic: p.topic, partition: p.partition, error: null, ...local.endOffsetForEpoch(p.leaderEpoch, p.requestedEpoch) };
        } catch (err) {
          if (!(err instanceof BrookError)) throw err;
          return { topic: p.topic, partition: p.partition, error: { code: err.code, message: err.message }, epoch: -1, endOffset: -1 };
        }
      }),
    };
  }

  allPartitions(): Partition[] {
    return [...this.partitions.values()];
  }

  private readForFollower(request: ReplicaFetchRequest, p: ReplicaFetchRequest['partitions'][number]): FetchPartitionResult {
    return this.answerFollower(p, (local) => local.fetchForFollower(request.replicaId, p.fetchOffset, p.leaderEpoch, request.maxBytesPerPartition));
  }

  /** After the long poll: read what arrived, without counting a second fetch from the follower. */
  private readAgain(request: ReplicaFetchRequest, p: ReplicaFetchRequest['partitions'][number]): FetchPartitionResult {
    return this.answerFollower(p, (local) =>
      p.fetchOffset >= local.log.logEndOffset ? EMPTY : local.log.read(p.fetchOffset, { maxBytes: request.maxBytesPerPartition }).records,
    );
  }

  private answerFollower(p: { topic: string; partition: number }, read: (local: Partition) => Buffer): FetchPartitionResult {
    const local = this.getPartition(p.topic, p.partition);
    const base = { topic: p.topic, partition: p.partition };
    try {
      if (!local?.isLeader) throw this.notLeader(p.topic, p.partition);
      const records = read(local);
      return { ...base, error: null, records, highWatermark: local.highWatermark, logStartOffset: local.log.logStartOffset, logEndOffset: local.log.logEndOffset };
    } catch (err) {
      if (!(err instanceof BrookError)) throw err;
      return {
        ...base,
        error: { code: err.code, message: err.message },
        records: EMPTY,
        highWatermark: local?.highWatermark ?? -1,
        logStartOffset: local?.log.logStartOffset ?? -1,
        logEndOffset: local?.log.logEndOffset ?? -1,
      };
    }
  }

  private maybeShrinkIsrs(): void {
    for (const p of this.partitions.values()) p.maybeShrinkIsr(this.options.replicaLagTimeMaxMs);
  }

  private checkpointHighWatermarks(): void {
    const entries = this.highWatermarkEntries();
    try {
      this.hwCheckpoint.write(entries);
      this.checkpointed(entries);
    } catch (err) {
      this.logger.error({ err }, 'could not write the high-watermark checkpoint');
    }
  }

  /** The periodic checkpoint, with its fsyncs off the event loop; skipped while the previous one is still being written. */
  private checkpointHighWatermarksInBackground(): void {
    if (this.checkpointing) return;
    const entries = this.highWatermarkEntries();
    this.checkpointing = this.hwCheckpoint
      .writeInBackground(entries)
      .then(
        () => this.checkpointed(entries),
        (err: unknown) => this.logger.error({ err }, 'could not write the high-watermark checkpoint'),
      )
      .finally(() => (this.checkpointing = undefined));
  }

  private highWatermarkEntries(): CheckpointedHighWatermark[] {
    return [...this.partitions.values()].map((p) => ({ topic: p.topic, partition: p.partition, offset: p.highWatermark, replica: p }));
  }

  /** Partitions removed (and perhaps created again) while the file was written keep no stale entry. */
  private checkpointed(entries: readonly CheckpointedHighWatermark[]): void {
    for (const e of entries) {
      const key = partitionKey(e.topic, e.partition);
      if (this.partitions.get(key) === e.replica) this.checkpointedHighWatermarks.set(key, e.offset);
    }
  }

  private removePartition(key: string, partition: Partition): void {
    this.partitions.delete(key);
    if (partition.isLeader) for (const listener of this.leadershipListeners) listener(partition, false);
    this.checkpointedHighWatermarks.delete(key);
    this.fetchers.unfollow(partition);
    partition.close();
    this.logManager.deleteLog(partition.topic, partition.partition);
    this.logger.info({ topic: partition.topic, partition: partition.partition }, 'removed partition replica');
  }

  private logConfigOf(topic: TopicImage): LogConfig {
    try {
      return parseLogConfig(topic.configs, this.options.defaults);
    } catch (err) {
      this.logger.warn({ topic: topic.name, err: (err as Error).message }, 'ignoring invalid topic config');
      return this.options.defaults;
    }
  }
}

const EMPTY = Buffer.alloc(0);

/** A checkpoint line, with the replica it was taken from. */
interface CheckpointedHighWatermark extends TopicPartitionOffset {
  replica: Partition;
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\0${partition}`;
}

function minInsyncReplicas(topic: TopicImage): number {
  const value = Number(topic.configs['min.insync.replicas'] ?? 1);
  return Number.isInteger(value) && value >= 1 ? value : 1;
}
