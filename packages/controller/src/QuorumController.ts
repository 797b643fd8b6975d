import type { Logger } from '@brook/runtime';
import type {
  AllocateProducerIdsResponse,
  AlterPartitionRequest,
  ClusterRecord,
  MetadataFetchRequest,
  MetadataFetchResponse,
  MetadataRecord,
  MetadataRecordType,
  MetadataSnapshot,
  RegisterBrokerRequest,
  RegisterBrokerResponse,
  ClientMetadataResponse,
  ClientUpdatesResponse,
  CreateClusterRequest,
  MetadataUpdatesResponse,
} from '@brook/types';
import { BrokerHeartbeatManager } from './BrokerHeartbeatManager';
import { ClusterControl } from './ClusterControl';
import type { MetadataLog } from './MetadataLog';
import { ProducerIdControl } from './ProducerIdControl';
import { ReplicaPlacer } from './ReplicaPlacer';
import { ReplicationControl } from './ReplicationControl';
import { partitionView } from './views';

/** What a client needs: topics, partitions and brokers (seed 000 `client_mgmt`). */
export const CLIENT_RECORD_TYPES: readonly MetadataRecordType[] = [
  'RegisterBrokerRecord',
  'BrokerRegistrationChangeRecord',
  'UnregisterBrokerRecord',
  'TopicRecord',
  'RemoveTopicRecord',
  'PartitionRecord',
  'PartitionChangeRecord',
  'ConfigRecord',
];

/** The I/O around creating a cluster, which the controller's logic only orchestrates. */
export interface ClusterHooks {
  /** Free TCP ports for a new managed cluster's brokers. */
  allocatePorts(count: number): Promise<number[]>;
  /** Creates the cluster's directory (after validation, before the record is appended). */
  prepareDirectory(cluster: { logDirectory: string }): void;
  /** The record is committed: launch its brokers. */
  created(cluster: ClusterRecord): void;
}

export interface QuorumControllerOptions {
  log: MetadataLog;
  dataDir: string;
  sessionTimeoutMs: number;
  /** A broker whose first missing record is older than this gets a snapshot. */
  metadataDeltaMaxAgeMs: number;
  /** Whether new clusters are managed (their brokers launched by the controller). */
  manageClusters: boolean;
  hooks?: Partial<ClusterHooks>;
  now?: () => number;
  random?: () => number;
  newTopicId?: () => string;
  /** Most records in one delta answer; the broker asks again from the last one. */
  maxDeltaRecords?: number;
  /** How often session expiry is checked. */
  livenessCheckIntervalMs?: number;
  logger?: Logger;
}

interface Waiter {
  cluster: string | undefined;
  afterOffset: number;
  wake: () => void;
}

/**
 * The controller (Kafka's QuorumController, with one voter): the entry point of every metadata change and
 * read. It owns the broker sessions and the liveness timer, answers heartbeats (metadata fetches) with
 * deltas or a snapshot and holds them as long polls while there is nothing new.
 */
export class QuorumController {
  readonly log: MetadataLog;
  readonly heartbeats: BrokerHeartbeatManager;
  readonly replication: ReplicationControl;
  readonly clusters: ClusterControl;
  readonly producerIds: ProducerIdControl;
  /** The controller's advertised address, for client metadata. */
  endpoint = { host: 'localhost', port: 0 };
  private readonly now: () => number;
  private readonly metadataDeltaMaxAgeMs: number;
  private readonly maxDeltaRecords: number;
  private readonly manageClusters: boolean;
  private readonly hooks: Partial<ClusterHooks>;
  private readonly livenessCheckIntervalMs: number;
  private readonly logger: Logger | undefined;
  private readonly waiters = new Set<Waiter>();
  private readonly unsubscribe: () => void;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(options: QuorumControllerOptions) {
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.metadataDeltaMaxAgeMs = options.metadataDeltaMaxAgeMs;
    this.maxDeltaRecords = options.maxDeltaRecords ?? 5000;
    this.manageClusters = options.manageClusters;
    this.hooks = options.hooks ?? {};
    this.livenessCheckIntervalMs = options.livenessCheckIntervalMs ?? 150;
    this.logger = options.logger;
    this.heartbeats = new BrokerHeartbeatManager(options.sessionTimeoutMs, this.now);
    this.replication = new ReplicationControl(this.log, new ReplicaPlacer(options.random), options.newTopicId);
    this.clusters = new ClusterControl(this.log, this.replication, this.heartbeats, options.dataDir);
    this.producerIds = new ProducerIdControl(this.log);
    // Every registered broker starts with a full session: a restarted controller does not fence brokers
    // that were fine a moment ago, it gives them one session timeout to show up.
    for (const b of this.log.brokers()) this.heartbeats.touch(b.brokerId);
    this.unsubscribe = this.log.onAppend((records) => this.wakeWaiters(records));
  }

  /** Starts the liveness timer. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      try {
        this.fenceExpiredBrokers();
      } catch (err) {
        this.logger?.error({ err }, 'liveness check failed');
      }
    }, this.livenessCheckIntervalMs);
    this.timer.unref();
  }

  /** Stops the timer and answers every held fetch now. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const w of [...this.waiters]) w.wake();
    this.unsubscribe();
  }

  /** Metadata fetches being held (long polls in progress). */
  get heldFetches(): number {
    return this.waiters.size;
  }

  // ---- broker protocol -------------------------------------------------------------------------------

  registerBroker(request: RegisterBrokerRequest): RegisterBrokerResponse {
    const response = this.clusters.registerBroker(request);
    this.logger?.info({ brokerId: request.brokerId, cluster: request.cluster, brokerEpoch: response.brokerEpoch }, 'broker registered');
    return response;
  }

  /**
   * The broker heartbeat, which is also its metadata fetch: renews the session, applies the broker's
   * state wishes (unfence once caught up, fence, controlled shutdown), and answers with the records after
   * `lastOffset` (or a snapshot), holding the request up to `maxWaitMs` while there are none.
   */
  async metadataFetch(request: MetadataFetchRequest, signal?: AbortSignal): Promise<MetadataFetchResponse> {
    const broker = this.clusters.requireBroker(request.brokerId, request.brokerEpoch);
    const id = broker.brokerId;
    this.heartbeats.touch(id);
    let shouldShutDown = false;
    if (request.wantShutDown) {
      shouldShutDown = this.clusters.controlledShutdown(id);
    } else if (broker.state === 'fenced' && !request.wantFence && request.lastOffset >= broker.brokerEpoch) {
      if (this.clusters.unfenceBroker(id)) this.logger?.info({ brokerId: id }, 'broker unfenced');
    } else if (broker.state === 'active' && request.wantFence) {
      this.clusters.fenceBroker(id);
    }
    let answer = this.updatesFor(broker.cluster, request.lastOffset);
    if (answer.kind === 'delta' && answer.records.length === 0 && request.maxWaitMs > 0 && !shouldShutDown && !this.stopped) {
      this.heartbeats.begin(id);
      try {
        await this.waitForRecords(broker.cluster, answer.lastOffset, request.maxWaitMs, signal);
      } finally {
        this.heartbeats.end(id);
      }
      answer = this.updatesFor(broker.cluster, request.lastOffset);
    }
    const current = this.log.broker(id);
    const isFenced = !current || current.brokerEpoch !== request.brokerEpoch || current.state === 'fenced';
    return { ...answer, isFenced, shouldShutDown };
  }

  alterPartition(request: AlterPartitionRequest) {
    return this.replication.alterPartition(request);
  }

  allocateProducerIds(brokerId: number, brokerEpoch: number): AllocateProducerIdsResponse {
    return this.producerIds.allocateBlock(brokerId, brokerEpoch);
  }

  /** The broker's process is known to be gone (its supervisor saw it exit): fence it now. */
  brokerProcessExited(brokerId: number): void {
    if (this.clusters.fenceBroker(brokerId)) this.logger?.info({ brokerId }, 'broker process exited: fenced');
  }

  /** Fences every broker whose session expired; returns their ids. Run by the timer. */
  fenceExpiredBrokers(): number[] {
    const fenced: number[] = [];
    for (const id of this.heartbeats.expired()) {
      const broker = this.log.broker(id);
      if (!broker) {
        this.heartbeats.remove(id);
        continue;
      }
      if (broker.state === 'fenced') continue;
      if (this.clusters.fenceBroker(id)) {
        fenced.push(id);
        this.logger?.warn({ brokerId: id, sessionTimeoutMs: this.heartbeats.sessionTimeoutMs }, 'broker session expired: fenced');
      }
    }
    return fenced;
  }

  // ---- clusters --------------------------------------------------------------------------------------

  /** Seed 001 `POST /cluster`: validate, reserve ports, create the directory, append, launch. */
  async createCluster(input: CreateClusterRequest): Promise<ClusterRecord> {
    const spec = this.clusters.validateNewCluster(input);
    const ports = this.manageClusters && this.hooks.allocatePorts ? await this.hooks.allocatePorts(spec.numBrokers) : [];
    const managed = this.manageClusters && ports.length === spec.numBrokers;
    // Checked again before anything is created: another request may have taken the name meanwhile.
    this.clusters.validateNewCluster({
      name: spec.name,
      log_directory: spec.logDirectory,
      num_brokers: spec.numBrokers,
      partitions: spec.defaultPartitions,
      retention_policies: spec.retentionMs / 3_600_000,
    });
    this.hooks.prepareDirectory?.(spec);
    const record = this.clusters.createCluster(spec, managed, ports);
    this.logger?.info({ cluster: record.name, brokerIds: record.brokerIds, managed }, 'cluster created');
    this.hooks.created?.(record);
    return record;
  }

  requireCluster(name: string): ClusterRecord {
    return this.replication.requireCluster(name);
  }

  // ---- reads -----------------------------------------------------------------------------------------

  /**
   * Records after `lastOffset` relevant to `cluster` (all clusters when undefined), or a snapshot when
   * the broker has nothing (-1), is ahead of the log, lacks records no longer kept, or its first missing
   * record is older than metadataDeltaMaxAgeMs. A delta's lastOffset is the log position it brings the
   * reader to (records of other clusters are skipped over).
   */
  updatesFor(cluster: string | undefined, lastOffset: number, types?: readonly MetadataRecordType[]): MetadataUpdatesResponse {
    const high = this.log.highOffset;
    const snapshot = (): MetadataUpdatesResponse => {
      const s = this.log.snapshot(cluster);
      return { kind: 'snapshot', snapshot: s, lastOffset: s.offset };
    };
    if (lastOffset < 0 || lastOffset > high || lastOffset < this.log.oldestOffset - 1) return snapshot();
    const filter = { afterOffset: lastOffset, relevantTo: cluster, types };
    const first = this.log.readRecords({ ...filter, limit: 1 })[0];
    if (!first) return { kind: 'delta', records: [], lastOffset: high };
    if (first.timestamp < this.now() - this.metadataDeltaMaxAgeMs) return snapshot();
    const records = this.log.readRecords({ ...filter, limit: this.maxDeltaRecords });
    const complete = records.length < this.maxDeltaRecords;
    return { kind: 'delta', records, lastOffset: complete ? high : records[records.length - 1]!.offset };
  }

  /** Seed 000 `broker_mgmt`: changes since an offset or a time, by the same delta-or-snapshot rule. */
  metadataUpdates(input: { offset?: number; timestamp?: number; cluster?: string }): MetadataUpdatesResponse {
    if (input.cluster !== undefined) this.requireCluster(input.cluster);
    return this.updatesFor(input.cluster, this.offsetFrom(input));
  }

  /** Seed 000 `client_mgmt`: the same, for topics, partitions and brokers only. */
  clientUpdates(input: { offset?: number; timestamp?: number; cluster?: string }): ClientUpdatesResponse {
    if (input.cluster !== undefined) this.requireCluster(input.cluster);
    const answer = this.updatesFor(input.cluster, this.offsetFrom(input), CLIENT_RECORD_TYPES);
    if (answer.kind === 'delta') return answer;
    const { offset, brokers, topics, partitions } = answer.snapshot;
    return { kind: 'snapshot', snapshot: { offset, brokers, topics, partitions }, lastOffset: answer.lastOffset };
  }

  /** Seed 000 `/metadata_fetch_client/`: where every partition of the cluster's topics is led. */
  clientMetadata(cluster: string, topicNames?: readonly string[]): ClientMetadataResponse {
    this.requireCluster(cluster);
    const topics =
      topicNames === undefined
        ? this.log.topics(cluster)
        : topicNames.flatMap((name) => {
            const t = this.log.topicByName(cluster, name);
            return t ? [t] : [];
          });
    return {
      cluster,
      controller: { ...this.endpoint },
      brokers: this.log.brokers(cluster).map((b) => ({ id: b.brokerId, host: b.host, port: b.port, state: b.state })),
      topics: topics.map((t) => ({
        name: t.name,
        topicId: t.topicId,
        configs: { ...t.configs },
        partitions: t.partitions.map(partitionView),
      })),
    };
  }

  snapshot(cluster?: string): MetadataSnapshot {
    return this.log.snapshot(cluster);
  }

  private offsetFrom(input: { offset?: number; timestamp?: number }): number {
    if (input.offset !== undefined) return input.offset;
    // A time becomes the offset of the last record at or before it; the age rule then applies as usual.
    if (input.timestamp !== undefined) return this.log.lastOffsetAtOrBefore(input.timestamp);
    return -1;
  }

  private waitForRecords(cluster: string, afterOffset: number, maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters.delete(waiter);
        resolve();
      };
      const waiter: Waiter = { cluster, afterOffset, wake: done };
      const timer = setTimeout(done, maxWaitMs);
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.add(waiter);
    });
  }

  private wakeWaiters(records: MetadataRecord[]): void {
    for (const w of [...this.waiters]) {
      if (records.some((r) => r.offset > w.afterOffset && (r.cluster === null || w.cluster === undefined || r.cluster === w.cluster))) {
        w.wake();
      }
    }
  }
}
