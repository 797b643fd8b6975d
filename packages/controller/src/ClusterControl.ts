import path from 'node:path';
import {
  BrookError,
  validateName,
  type BrokerRegistration,
  type BrokerRegistrationChangeRecord,
  type ClusterRecord,
  type RegisterBrokerRequest,
  type RegisterBrokerResponse,
  type CreateClusterRequest,
  type UpdateBrokerRequest,
} from '@brook/types';
import type { BrokerHeartbeatManager } from './BrokerHeartbeatManager';
import type { MetadataLog } from './MetadataLog';
import { MAX_PARTITIONS, type ReplicationControl } from './ReplicationControl';

export const DEFAULT_CLUSTER = 'default';
export const MAX_CLUSTER_BROKERS = 16;
export const DEFAULT_RETENTION_HOURS = 168;
/** The controller's own directory inside the data directory; no cluster may use it. */
export const CONTROLLER_DIR = 'controller';

/** A validated `POST /cluster`, before ports and broker ids are given to it. */
export interface NewClusterSpec {
  name: string;
  /** Normalized, relative to the data directory. */
  logDirectory: string;
  numBrokers: number;
  defaultPartitions: number;
  retentionMs: number;
}

/**
 * Clusters and broker registrations (Kafka's ClusterControlManager): named clusters with their data
 * directory and reserved broker ids, and each broker's registration, fencing and controlled shutdown.
 * Partition consequences of a broker's state change come from ReplicationControl, in the same transaction.
 */
export class ClusterControl {
  readonly dataDir: string;

  constructor(
    private readonly log: MetadataLog,
    private readonly replication: ReplicationControl,
    private readonly heartbeats: BrokerHeartbeatManager,
    dataDir: string,
  ) {
    this.dataDir = path.resolve(dataDir);
  }

  // ---- clusters --------------------------------------------------------------------------------------

  /** Checks a `POST /cluster` completely; throws before anything is created. */
  validateNewCluster(input: CreateClusterRequest): NewClusterSpec {
    const name = validateName('cluster', input.name);
    if (this.log.cluster(name)) {
      throw new BrookError('CLUSTER_ALREADY_EXISTS', `cluster ${name} already exists`, { cluster: name });
    }
    const numBrokers = input.num_brokers ?? 3;
    if (!Number.isInteger(numBrokers) || numBrokers < 1 || numBrokers > MAX_CLUSTER_BROKERS) {
      throw new BrookError('INVALID_REQUEST', `num_brokers must be a whole number from 1 to ${MAX_CLUSTER_BROKERS}, not ${numBrokers}`);
    }
    const defaultPartitions = input.partitions ?? 1;
    if (!Number.isInteger(defaultPartitions) || defaultPartitions < 1 || defaultPartitions > MAX_PARTITIONS) {
      throw new BrookError('INVALID_PARTITIONS', `partitions must be a whole number from 1 to ${MAX_PARTITIONS}, not ${defaultPartitions}`);
    }
    const hours = input.retention_policies ?? DEFAULT_RETENTION_HOURS;
    const retentionMs = Math.round(hours * 3_600_000);
    if (!Number.isFinite(hours) || hours <= 0 || retentionMs < 1 || !Number.isSafeInteger(retentionMs)) {
      throw new BrookError('INVALID_REQUEST', `retention_policies is the retention in hours: a number above 0, not ${hours}`);
    }
    const logDirectory = resolveClusterDirectory(this.dataDir, input.log_directory ?? name, this.log.clusters());
    return { name, logDirectory, numBrokers, defaultPartitions, retentionMs };
  }

  /**
   * Appends the cluster's record. Managed clusters reserve the next free broker ids; `brokerPorts` are
   * their listener ports (kept in the record so a restart reuses them).
   */
  createCluster(spec: NewClusterSpec, managed: boolean, brokerPorts: number[]): ClusterRecord {
    return this.log.transaction(() => {
      // Checked again: the ports were found asynchronously, and another request may have come first.
      const checked = this.validateNewCluster({
        name: spec.name,
        num_brokers: spec.numBrokers,
        log_directory: spec.logDirectory,
        partitions: spec.defaultPartitions,
        retention_policies: spec.retentionMs / 3_600_000,
      });
      const brokerIds = managed ? this.nextFreeBrokerIds(checked.numBrokers) : [];
      if (managed && brokerPorts.length !== brokerIds.length) {
        throw new BrookError('INTERNAL', `expected ${brokerIds.length} broker ports, got ${brokerPorts.length}`);
      }
      const record: ClusterRecord = {
        name: checked.name,
        logDirectory: checked.logDirectory,
        numBrokers: checked.numBrokers,
        defaultPartitions: checked.defaultPartitions,
        retentionMs: spec.retentionMs,
        managed,
        brokerIds,
        brokerPorts: managed ? [...brokerPorts] : [],
      };
      this.log.append([{ type: 'ClusterRecord', payload: record }]);
      return record;
    });
  }

  /**
   * The `default` cluster, created on first start: managed with brokers 1..n on the configured ports when
   * the controller launches brokers, otherwise unmanaged (brokers register themselves).
   */
  ensureDefaultCluster(options: { managed: boolean; numBrokers: number; brokerPorts: readonly number[] }): ClusterRecord {
    return this.log.transaction(() => {
      const existing = this.log.cluster(DEFAULT_CLUSTER);
      if (existing) return existing;
      const brokerIds = options.managed ? Array.from({ length: options.numBrokers }, (_v, i) => i + 1) : [];
      const record: ClusterRecord = {
        name: DEFAULT_CLUSTER,
        logDirectory: DEFAULT_CLUSTER,
        numBrokers: options.numBrokers,
        defaultPartitions: 1,
        retentionMs: DEFAULT_RETENTION_HOURS * 3_600_000,
        managed: options.managed,
        brokerIds,
        brokerPorts: brokerIds.map((id, i) => options.brokerPorts[i] ?? 9000 + id),
      };
      this.log.append([{ type: 'ClusterRecord', payload: record }]);
      return record;
    });
  }

  clusterDirectory(cluster: ClusterRecord): string {
    return path.resolve(this.dataDir, cluster.logDirectory);
  }

  /** The `count` smallest broker ids that no cluster reserves and no broker is registered with. */
  nextFreeBrokerIds(count: number): number[] {
    const used = new Set<number>();
    for (const c of this.log.clusters()) for (const id of c.brokerIds) used.add(id);
    for (const b of this.log.brokers()) used.add(b.brokerId);
    const ids: number[] = [];
    for (let id = 1; ids.length < count; id++) if (!used.has(id)) ids.push(id);
    return ids;
  }

  // ---- broker registrations --------------------------------------------------------------------------

  /**
   * Kafka's RegisterBroker. The broker registers fenced; its epoch is the offset of its registration
   * record. A retry of the same incarnation gets the same epoch back; a new incarnation replaces the old
   * registration at once (the old one is fenced first, which moves its leadership away).
   */
  registerBroker(request: RegisterBrokerRequest): RegisterBrokerResponse {
    return this.log.transaction(() => {
      const { brokerId } = request;
      if (!this.log.cluster(request.cluster)) {
        throw new BrookError('UNKNOWN_CLUSTER', `cluster ${request.cluster} does not exist`, { cluster: request.cluster });
      }
      const owner = this.log.clusters().find((c) => c.managed && c.name !== request.cluster && c.brokerIds.includes(brokerId));
      if (owner) {
        throw new BrookError('BROKER_ID_CONFLICT', `broker id ${brokerId} belongs to cluster ${owner.name}`, {
          brokerId,
          cluster: owner.name,
        });
      }
      const existing = this.log.broker(brokerId);
      if (existing && existing.cluster !== request.cluster) {
        throw new BrookError(
          'BROKER_ID_CONFLICT',
          `broker id ${brokerId} is registered in cluster ${existing.cluster}; unregister it first`,
          { brokerId, cluster: existing.cluster },
        );
      }
      if (existing && existing.incarnationId === request.incarnationId) {
        this.heartbeats.touch(brokerId);
        return { brokerId, brokerEpoch: existing.brokerEpoch };
      }
      if (existing && existing.state !== 'fenced') this.appendFence(existing);
      const brokerEpoch = this.log.nextOffset;
      this.log.append([
        {
          type: 'RegisterBrokerRecord',
          payload: {
            brokerId,
            brokerEpoch,
            incarnationId: request.incarnationId,
            cluster: request.cluster,
            host: request.host,
            port: request.port,
            rack: request.rack,
            fenced: true,
          },
        },
      ]);
      this.heartbeats.touch(brokerId);
      return { brokerId, brokerEpoch };
    });
  }

  requireBroker(brokerId: number, brokerEpoch?: number): BrokerRegistration {
    const broker = this.log.broker(brokerId);
    if (!broker) throw new BrookError('UNKNOWN_BROKER', `broker ${brokerId} is not registered`, { brokerId });
    if (brokerEpoch !== undefined && broker.brokerEpoch !== brokerEpoch) {
      throw new BrookError(
        'STALE_BROKER_EPOCH',
        `broker ${brokerId}: epoch ${brokerEpoch} is not the current registration's ${broker.brokerEpoch}; register again`,
        { brokerId, brokerEpoch: broker.brokerEpoch },
      );
    }
    return broker;
  }

  /** Kafka's UnregisterBroker: fence (moving leadership away), then remove the registration. */
  unregisterBroker(brokerId: number): BrokerRegistration {
    return this.log.transaction(() => {
      const broker = this.requireBroker(brokerId);
      if (broker.state !== 'fenced') this.appendFence(broker);
      this.log.append([{ type: 'UnregisterBrokerRecord', payload: { brokerId, brokerEpoch: broker.brokerEpoch } }]);
      this.heartbeats.remove(brokerId);
      return broker;
    });
  }

  /** Seed 000 `/register_broker_change/`: endpoint changes, and fencing/unfencing by an operator. */
  updateBroker(request: UpdateBrokerRequest): BrokerRegistration {
    return this.log.transaction(() => {
      const broker = this.requireBroker(request.brokerId, request.brokerEpoch);
      const change: BrokerRegistrationChangeRecord = { brokerId: broker.brokerId, brokerEpoch: broker.brokerEpoch };
      if (request.host !== undefined && request.host !== broker.host) change.host = request.host;
      if (request.port !== undefined && request.port !== broker.port) change.port = request.port;
      if (request.rack !== undefined && request.rack !== broker.rack) change.rack = request.rack;
      const fence = request.fenced === true && broker.state !== 'fenced';
      const unfence = request.fenced === false && broker.state === 'fenced';
      if (fence) change.fenced = true;
      if (unfence) change.fenced = false;
      if (Object.keys(change).length > 2) this.log.append([{ type: 'BrokerRegistrationChangeRecord', payload: change }]);
      if (fence) this.replication.removeBrokerFromPartitions(broker.brokerId);
      if (unfence) this.replication.electOfflinePartitions(broker.cluster);
      return this.log.broker(broker.brokerId)!;
    });
  }

  /** Fences the broker (session expired, or it asked to be): its leadership moves to the live ISR. */
  fenceBroker(brokerId: number): boolean {
    return this.log.transaction(() => {
      const broker = this.log.broker(brokerId);
      if (!broker || broker.state === 'fenced') return false;
      this.appendFence(broker);
      return true;
    });
  }

  /** Unfences a caught-up broker and elects it for the offline partitions it is in the ISR of. */
  unfenceBroker(brokerId: number): boolean {
    return this.log.transaction(() => {
      const broker = this.log.broker(brokerId);
      if (!broker || broker.state !== 'fenced') return false;
      this.log.append([
        { type: 'BrokerRegistrationChangeRecord', payload: { brokerId, brokerEpoch: broker.brokerEpoch, fenced: false } },
      ]);
      this.replication.electOfflinePartitions(broker.cluster);
      return true;
    });
  }

  /**
   * Controlled shutdown: the broker is marked as shutting down, its leadership moves to other live ISR
   * members (offline where there is none) and it leaves the ISRs that have other members. Once it leads
   * nothing it may stop; it is then fenced, as Kafka does (SHUTDOWN_NOW). Returns shouldShutDown.
   */
  controlledShutdown(brokerId: number): boolean {
    return this.log.transaction(() => {
      const broker = this.log.broker(brokerId);
      if (!broker) return true;
      if (broker.state === 'active') {
        this.log.append([
          {
            type: 'BrokerRegistrationChangeRecord',
            payload: { brokerId, brokerEpoch: broker.brokerEpoch, inControlledShutdown: true },
          },
        ]);
      }
      if (broker.state !== 'fenced') this.replication.removeBrokerFromPartitions(brokerId);
      const shouldShutDown = this.log.countPartitionsLedBy(brokerId) === 0;
      if (shouldShutDown && broker.state !== 'fenced') {
        this.log.append([
          { type: 'BrokerRegistrationChangeRecord', payload: { brokerId, brokerEpoch: broker.brokerEpoch, fenced: true } },
        ]);
      }
      return shouldShutDown;
    });
  }

  private appendFence(broker: BrokerRegistration): void {
    this.log.append([
      {
        type: 'BrokerRegistrationChangeRecord',
        payload: { brokerId: broker.brokerId, brokerEpoch: broker.brokerEpoch, fenced: true },
      },
    ]);
    this.replication.removeBrokerFromPartitions(broker.brokerId);
  }
}

/**
 * Resolves a cluster's `log_directory` inside the data directory, refusing anything that could write
 * outside it or over what is not the cluster's: absolute paths, `..` escapes, the data directory itself,
 * the controller's directory, and another cluster's directory (or one containing it).
 */
export function resolveClusterDirectory(dataDir: string, logDirectory: unknown, clusters: readonly ClusterRecord[]): string {
  const bad = (why: string): never => {
    throw new BrookError('INVALID_REQUEST', `log_directory ${JSON.stringify(logDirectory)} ${why}`);
  };
  if (typeof logDirectory !== 'string' || logDirectory.trim() === '') return bad('must be a non-empty relative path');
  if (logDirectory.includes('\0') || logDirectory.length > 1024) return bad('is not a usable path');
  if (path.isAbsolute(logDirectory) || path.win32.isAbsolute(logDirectory)) {
    return bad('must be relative to the data directory');
  }
  const root = path.resolve(dataDir);
  const rel = path.relative(root, path.resolve(root, logDirectory));
  if (rel === '') return bad('is the data directory itself');
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return bad('escapes the data directory');
  if (isWithin(rel, CONTROLLER_DIR)) return bad('is the controller\'s directory');
  for (const c of clusters) {
    const other = path.relative(root, path.resolve(root, c.logDirectory));
    if (isWithin(rel, other) || isWithin(other, rel)) return bad(`overlaps the directory of cluster ${c.name}`);
  }
  return rel;
}

/** Whether relative path `a` is `b` or inside it. */
function isWithin(a: string, b: string): boolean {
  return a === b || a.startsWith(b + path.sep);
}
