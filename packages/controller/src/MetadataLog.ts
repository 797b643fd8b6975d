import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  nextBrokerState,
  type BrokerRegistration,
  type BrokerState,
  type ClusterRecord,
  type MetadataRecord,
  type MetadataRecordPayloads,
  type MetadataRecordType,
  type MetadataSnapshot,
  type PartitionRecord,
  type TopicImage,
  type TopicRecord,
} from '@brook/types';

/** A record before it is appended: the log gives it its offset, timestamp and cluster. */
export type RecordDraft = {
  [T in MetadataRecordType]: { type: T; payload: MetadataRecordPayloads[T] };
}[MetadataRecordType];

export interface RecordFilter {
  type?: MetadataRecordType;
  /** Only these types. */
  types?: readonly MetadataRecordType[];
  /** Records of exactly this cluster. */
  cluster?: string;
  /** Records a broker of this cluster sees: its cluster's and the cluster-less ones (producer ids). */
  relevantTo?: string;
  afterOffset?: number;
  /** Records appended at or after this time (ms). */
  sinceTimestamp?: number;
  limit?: number;
}

/** A partition together with its topic's name and cluster, as the control logic needs it. */
export interface PartitionState extends PartitionRecord {
  topicName: string;
  cluster: string;
}

export interface MetadataLogOptions {
  /** The database file, or ':memory:'. */
  file: string;
  now?: () => number;
}

type AppendListener = (records: MetadataRecord[]) => void;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  "offset" INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  cluster TEXT,
  payload TEXT NOT NULL,
  timestamp INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_cluster ON records (cluster, "offset");
CREATE INDEX IF NOT EXISTS records_by_timestamp ON records (timestamp);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS clusters (
  name TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  log_directory TEXT NOT NULL,
  num_brokers INTEGER NOT NULL,
  default_partitions INTEGER NOT NULL,
  retention_ms INTEGER,
  managed INTEGER NOT NULL,
  broker_ids TEXT NOT NULL,
  broker_ports TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS brokers (
  broker_id INTEGER PRIMARY KEY,
  seq INTEGER NOT NULL,
  broker_epoch INTEGER NOT NULL,
  incarnation_id TEXT NOT NULL,
  cluster TEXT NOT NULL,
  host TEXT NOT NULL,
  port INTEGER NOT NULL,
  rack TEXT,
  state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS topics (
  topic_id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  cluster TEXT NOT NULL,
  UNIQUE (cluster, name)
);
CREATE TABLE IF NOT EXISTS topic_configs (
  topic_id TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (topic_id, name)
);
CREATE TABLE IF NOT EXISTS partitions (
  topic_id TEXT NOT NULL,
  partition INTEGER NOT NULL,
  replicas TEXT NOT NULL,
  isr TEXT NOT NULL,
  leader INTEGER NOT NULL,
  leader_epoch INTEGER NOT NULL,
  partition_epoch INTEGER NOT NULL,
  PRIMARY KEY (topic_id, partition)
);
CREATE INDEX IF NOT EXISTS partitions_by_leader ON partitions (leader);
CREATE TABLE IF NOT EXISTS producer_ids (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  next_producer_id INTEGER NOT NULL,
  broker_id INTEGER NOT NULL,
  broker_epoch INTEGER NOT NULL
);
`;

interface ClusterRow {
  name: string;
  log_directory: string;
  num_brokers: number;
  default_partitions: number;
  retention_ms: number | null;
  managed: number;
  broker_ids: string;
  broker_ports: string;
}
interface BrokerRow {
  broker_id: number;
  broker_epoch: number;
  incarnation_id: string;
  cluster: string;
  host: string;
  port: number;
  rack: string | null;
  state: string;
}
interface TopicRow {
  topic_id: string;
  name: string;
  cluster: string;
}
interface PartitionRow {
  topic_id: string;
  partition: number;
  replicas: string;
  isr: string;
  leader: number;
  leader_epoch: number;
  partition_epoch: number;
}
interface RecordRow {
  offset: number;
  type: string;
  cluster: string | null;
  payload: string;
  timestamp: number;
}

const PARTITION_COLUMNS = 'p.topic_id, p.partition, p.replicas, p.isr, p.leader, p.leader_epoch, p.partition_epoch';

/**
 * The controller's metadata log (DESIGN §2): an append-only table of KRaft-style records in SQLite is the
 * source of truth, and the materialized tables (clusters, brokers, topics, partitions, producer ids, topic
 * configs) are what applying those records gives, updated by `apply` in the same transaction as the
 * append. Opening an existing database replays nothing. `apply` must agree with `MetadataImage`, which is
 * how brokers apply the same records: the snapshot of this log equals the image of its records.
 */
export class MetadataLog {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly listeners = new Set<AppendListener>();
  private nextOffsetValue: number;
  private lastTimestamp: number;
  /** Records appended by the transaction in progress, announced once it commits. */
  private pending: MetadataRecord[] = [];
  private readonly readStatements = new Map<string, Database.Statement>();
  private readonly stmt;

  constructor(options: MetadataLogOptions) {
    if (options.file !== ':memory:') fs.mkdirSync(path.dirname(options.file), { recursive: true });
    this.db = new Database(options.file);
    this.now = options.now ?? Date.now;
    this.db.pragma('journal_mode = WAL');
    // Metadata writes are rare and every one matters (broker epochs, leader epochs): fsync each commit.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const db = this.db;
    this.stmt = {
      getMeta: db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare<[string, number]>(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      insertRecord: db.prepare<[number, string, string | null, string, number]>(
        'INSERT INTO records ("offset", type, cluster, payload, timestamp) VALUES (?, ?, ?, ?, ?)',
      ),
      oldestOffset: db.prepare<[], { o: number | null }>('SELECT MIN("offset") AS o FROM records'),
      countRecords: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM records'),
      upsertCluster: db.prepare(
        `INSERT INTO clusters (name, seq, log_directory, num_brokers, default_partitions, retention_ms, managed, broker_ids, broker_ports)
         VALUES (@name, @seq, @logDirectory, @numBrokers, @defaultPartitions, @retentionMs, @managed, @brokerIds, @brokerPorts)
         ON CONFLICT (name) DO UPDATE SET log_directory = excluded.log_directory, num_brokers = excluded.num_brokers,
           default_partitions = excluded.default_partitions, retention_ms = excluded.retention_ms,
           managed = excluded.managed, broker_ids = excluded.broker_ids, broker_ports = excluded.broker_ports`,
      ),
      getCluster: db.prepare<[string], ClusterRow>('SELECT * FROM clusters WHERE name = ?'),
      allClusters: db.prepare<[], ClusterRow>('SELECT * FROM clusters ORDER BY seq'),
      upsertBroker: db.prepare(
        `INSERT INTO brokers (broker_id, seq, broker_epoch, incarnation_id, cluster, host, port, rack, state)
         VALUES (@brokerId, @seq, @brokerEpoch, @incarnationId, @cluster, @host, @port, @rack, @state)
         ON CONFLICT (broker_id) DO UPDATE SET broker_epoch = excluded.broker_epoch,
           incarnation_id = excluded.incarnation_id, cluster = excluded.cluster, host = excluded.host,
           port = excluded.port, rack = excluded.rack, state = excluded.state`,
      ),
      updateBroker: db.prepare(
        'UPDATE brokers SET host = @host, port = @port, rack = @rack, state = @state WHERE broker_id = @brokerId',
      ),
      deleteBroker: db.prepare<[number]>('DELETE FROM brokers WHERE broker_id = ?'),
      getBroker: db.prepare<[number], BrokerRow>('SELECT * FROM brokers WHERE broker_id = ?'),
      allBrokers: db.prepare<[], BrokerRow>('SELECT * FROM brokers ORDER BY seq'),
      brokersOf: db.prepare<[string], BrokerRow>('SELECT * FROM brokers WHERE cluster = ? ORDER BY seq'),
      upsertTopic: db.prepare<[string, number, string, string]>(
        `INSERT INTO topics (topic_id, seq, name, cluster) VALUES (?, ?, ?, ?)
         ON CONFLICT (topic_id) DO UPDATE SET name = excluded.name, cluster = excluded.cluster`,
      ),
      deleteTopic: db.prepare<[string]>('DELETE FROM topics WHERE topic_id = ?'),
      getTopic: db.prepare<[string], TopicRow>('SELECT topic_id, name, cluster FROM topics WHERE topic_id = ?'),
      topicByName: db.prepare<[string, string], TopicRow>(
        'SELECT topic_id, name, cluster FROM topics WHERE cluster = ? AND name = ?',
      ),
      allTopics: db.prepare<[], TopicRow>('SELECT topic_id, name, cluster FROM topics ORDER BY seq'),
      topicsOf: db.prepare<[string], TopicRow>('SELECT topic_id, name, cluster FROM topics WHERE cluster = ? ORDER BY seq'),
      setConfig: db.prepare<[string, string, string, number]>(
        `INSERT INTO topic_configs (topic_id, name, value, seq) VALUES (?, ?, ?, ?)
         ON CONFLICT (topic_id, name) DO UPDATE SET value = excluded.value`,
      ),
      deleteConfig: db.prepare<[string, string]>('DELETE FROM topic_configs WHERE topic_id = ? AND name = ?'),
      deleteConfigs: db.prepare<[string]>('DELETE FROM topic_configs WHERE topic_id = ?'),
      configsOf: db.prepare<[string], { name: string; value: string }>(
        'SELECT name, value FROM topic_configs WHERE topic_id = ? ORDER BY seq',
      ),
      allConfigs: db.prepare<[], { topic_id: string; name: string; value: string }>(
        'SELECT topic_id, name, value FROM topic_configs ORDER BY seq',
      ),
      upsertPartition: db.prepare(
        `INSERT INTO partitions (topic_id, partition, replicas, isr, leader, leader_epoch, partition_epoch)
         VALUES (@topicId, @partition, @replicas, @isr, @leader, @leaderEpoch, @partitionEpoch)
         ON CONFLICT (topic_id, partition) DO UPDATE SET replicas = excluded.replicas, isr = excluded.isr,
           leader = excluded.leader, leader_epoch = excluded.leader_epoch, partition_epoch = excluded.partition_epoch`,
      ),
      deletePartitions: db.prepare<[string]>('DELETE FROM partitions WHERE topic_id = ?'),
      getPartition: db.prepare<[string, number], PartitionRow>(
        `SELECT ${PARTITION_COLUMNS} FROM partitions p WHERE p.topic_id = ? AND p.partition = ?`,
      ),
      partitionsOf: db.prepare<[string], PartitionRow>(
        `SELECT ${PARTITION_COLUMNS} FROM partitions p WHERE p.topic_id = ? ORDER BY p.partition`,
      ),
      allPartitions: db.prepare<[], PartitionRow>(
        `SELECT ${PARTITION_COLUMNS} FROM partitions p JOIN topics t ON t.topic_id = p.topic_id ORDER BY t.seq, p.partition`,
      ),
      partitionsOfCluster: db.prepare<[string], PartitionRow>(
        `SELECT ${PARTITION_COLUMNS} FROM partitions p JOIN topics t ON t.topic_id = p.topic_id
         WHERE t.cluster = ? ORDER BY t.seq, p.partition`,
      ),
      partitionsInvolving: db.prepare<[number, number, number], PartitionRow & { name: string; cluster: string }>(
        `SELECT ${PARTITION_COLUMNS}, t.name, t.cluster FROM partitions p JOIN topics t ON t.topic_id = p.topic_id
         WHERE p.leader = ? OR EXISTS (SELECT 1 FROM json_each(p.isr) WHERE json_each.value = ?)
            OR EXISTS (SELECT 1 FROM json_each(p.replicas) WHERE json_each.value = ?)
         ORDER BY t.seq, p.partition`,
      ),
      offlinePartitionsOf: db.prepare<[string], PartitionRow & { name: string; cluster: string }>(
        `SELECT ${PARTITION_COLUMNS}, t.name, t.cluster FROM partitions p JOIN topics t ON t.topic_id = p.topic_id
         WHERE p.leader = -1 AND t.cluster = ? ORDER BY t.seq, p.partition`,
      ),
      countLedBy: db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM partitions WHERE leader = ?'),
      getProducerIds: db.prepare<[], { next_producer_id: number }>('SELECT next_producer_id FROM producer_ids WHERE id = 1'),
      setProducerIds: db.prepare<[number, number, number]>(
        `INSERT INTO producer_ids (id, next_producer_id, broker_id, broker_epoch) VALUES (1, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET next_producer_id = excluded.next_producer_id,
           broker_id = excluded.broker_id, broker_epoch = excluded.broker_epoch`,
      ),
      lastOffsetAtOrBefore: db.prepare<[number], { o: number | null }>(
        'SELECT MAX("offset") AS o FROM records WHERE timestamp <= ?',
      ),
      lastTimestamp: db.prepare<[], { t: number | null }>('SELECT MAX(timestamp) AS t FROM records'),
      deleteRecordsBefore: db.prepare<[number]>('DELETE FROM records WHERE "offset" < ?'),
    };
    this.nextOffsetValue = this.stmt.getMeta.get('next_offset')?.value ?? 0;
    this.lastTimestamp = this.stmt.lastTimestamp.get()?.t ?? 0;
  }

  close(): void {
    this.listeners.clear();
    if (this.db.open) this.db.close();
  }

  // ---- the log ---------------------------------------------------------------------------------------

  /** Offset of the last record appended; -1 for an empty log. */
  get highOffset(): number {
    return this.nextOffsetValue - 1;
  }

  get nextOffset(): number {
    return this.nextOffsetValue;
  }

  /** Offset of the oldest record still kept (deltas older than it are gone); `nextOffset` when none are. */
  get oldestOffset(): number {
    return this.stmt.oldestOffset.get()?.o ?? this.nextOffsetValue;
  }

  /** SQLite's journal mode ('wal'). */
  get journalMode(): string {
    return String(this.db.pragma('journal_mode', { simple: true }));
  }

  get recordCount(): number {
    return this.stmt.countRecords.get()!.n;
  }

  /**
   * Runs `fn` in one SQLite transaction: every record it appends is applied and committed together, or
   * none is if it throws. Listeners hear of the records once the outermost transaction commits.
   */
  transaction<T>(fn: () => T): T {
    const outermost = !this.db.inTransaction;
    const mark = { pending: this.pending.length, nextOffset: this.nextOffsetValue, lastTimestamp: this.lastTimestamp };
    let result: T;
    try {
      result = this.db.transaction(fn)();
    } catch (err) {
      this.pending.length = mark.pending;
      this.nextOffsetValue = mark.nextOffset;
      this.lastTimestamp = mark.lastTimestamp;
      throw err;
    }
    if (outermost && this.pending.length > 0) {
      const appended = this.pending;
      this.pending = [];
      for (const listener of [...this.listeners]) {
        try {
          listener(appended);
        } catch {
          // A listener's failure must not undo or hide a committed append.
        }
      }
    }
    return result;
  }

  /** Appends records atomically (all or none), applying each to the materialized state; returns them stored. */
  append(drafts: readonly RecordDraft[]): MetadataRecord[] {
    return this.transaction(() => drafts.map((d) => this.appendOne(d)));
  }

  /** Called with every committed batch of records. Returns the unsubscribe function. */
  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  readRecords(filter: RecordFilter = {}): MetadataRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.afterOffset !== undefined) {
      where.push('"offset" > ?');
      params.push(filter.afterOffset);
    }
    if (filter.type !== undefined) {
      where.push('type = ?');
      params.push(filter.type);
    }
    if (filter.types !== undefined) {
      where.push(`type IN (${filter.types.map(() => '?').join(',') || 'NULL'})`);
      params.push(...filter.types);
    }
    if (filter.cluster !== undefined) {
      where.push('cluster = ?');
      params.push(filter.cluster);
    }
    if (filter.relevantTo !== undefined) {
      where.push('(cluster = ? OR cluster IS NULL)');
      params.push(filter.relevantTo);
    }
    if (filter.sinceTimestamp !== undefined) {
      where.push('timestamp >= ?');
      params.push(filter.sinceTimestamp);
    }
    const sql =
      `SELECT "offset" AS offset, type, cluster, payload, timestamp FROM records` +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY "offset"` +
      (filter.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(filter.limit))}` : '');
    let statement = this.readStatements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      if (this.readStatements.size < 256) this.readStatements.set(sql, statement);
    }
    return (statement.all(...params) as RecordRow[]).map(toRecord);
  }

  /** The records a broker of `cluster` has not seen after `offset` (its cluster's and the cluster-less ones). */
  recordsSince(offset: number, cluster: string, limit?: number): MetadataRecord[] {
    return this.readRecords({ afterOffset: offset, relevantTo: cluster, limit });
  }

  /** The offset of the last record appended at or before `timestamp`; -1 if none was. */
  lastOffsetAtOrBefore(timestamp: number): number {
    return this.stmt.lastOffsetAtOrBefore.get(timestamp)?.o ?? -1;
  }

  /**
   * Drops records older than `offset` (the materialized state keeps everything they did). Brokers that
   * are further behind than what is left get a snapshot.
   */
  deleteRecordsBefore(offset: number): number {
    return this.stmt.deleteRecordsBefore.run(Math.min(offset, this.nextOffsetValue)).changes;
  }

  // ---- the materialized state ------------------------------------------------------------------------

  cluster(name: string): ClusterRecord | undefined {
    const row = this.stmt.getCluster.get(name);
    return row && toCluster(row);
  }

  clusters(): ClusterRecord[] {
    return this.stmt.allClusters.all().map(toCluster);
  }

  broker(id: number): BrokerRegistration | undefined {
    const row = this.stmt.getBroker.get(id);
    return row && toBroker(row);
  }

  brokers(cluster?: string): BrokerRegistration[] {
    return (cluster === undefined ? this.stmt.allBrokers.all() : this.stmt.brokersOf.all(cluster)).map(toBroker);
  }

  topic(topicId: string): TopicImage | undefined {
    const row = this.stmt.getTopic.get(topicId);
    return row && this.toTopicImage(row);
  }

  topicByName(cluster: string, name: string): TopicImage | undefined {
    const row = this.stmt.topicByName.get(cluster, name);
    return row && this.toTopicImage(row);
  }

  topics(cluster?: string): TopicImage[] {
    return (cluster === undefined ? this.stmt.allTopics.all() : this.stmt.topicsOf.all(cluster)).map((r) =>
      this.toTopicImage(r),
    );
  }

  partition(topicId: string, partition: number): PartitionRecord | undefined {
    const row = this.stmt.getPartition.get(topicId, partition);
    return row && toPartition(row);
  }

  /** Partitions the broker leads, is in the ISR of, or is a replica of. */
  partitionsInvolving(brokerId: number): PartitionState[] {
    return this.stmt.partitionsInvolving
      .all(brokerId, brokerId, brokerId)
      .map((r) => ({ ...toPartition(r), topicName: r.name, cluster: r.cluster }));
  }

  /** Partitions of the cluster without a leader. */
  offlinePartitions(cluster: string): PartitionState[] {
    return this.stmt.offlinePartitionsOf
      .all(cluster)
      .map((r) => ({ ...toPartition(r), topicName: r.name, cluster: r.cluster }));
  }

  countPartitionsLedBy(brokerId: number): number {
    return this.stmt.countLedBy.get(brokerId)!.n;
  }

  get nextProducerId(): number {
    return this.stmt.getProducerIds.get()?.next_producer_id ?? 0;
  }

  /** The whole state at `highOffset`, or the part a broker of `cluster` sees. */
  snapshot(cluster?: string): MetadataSnapshot {
    return this.transaction(() => {
      const clusters = cluster === undefined ? this.clusters() : [this.cluster(cluster)].filter((c) => c !== undefined);
      const topicRows = cluster === undefined ? this.stmt.allTopics.all() : this.stmt.topicsOf.all(cluster);
      const configs = new Map<string, Record<string, string>>();
      for (const c of this.stmt.allConfigs.all()) {
        let m = configs.get(c.topic_id);
        if (!m) configs.set(c.topic_id, (m = {}));
        m[c.name] = c.value;
      }
      const partitionRows =
        cluster === undefined ? this.stmt.allPartitions.all() : this.stmt.partitionsOfCluster.all(cluster);
      return {
        offset: this.highOffset,
        clusters,
        brokers: this.brokers(cluster),
        topics: topicRows.map((t) => ({
          topicId: t.topic_id,
          name: t.name,
          cluster: t.cluster,
          configs: configs.get(t.topic_id) ?? {},
        })),
        partitions: partitionRows.map(toPartition),
        nextProducerId: this.nextProducerId,
      };
    });
  }

  // ---- append + apply --------------------------------------------------------------------------------

  private appendOne(draft: RecordDraft): MetadataRecord {
    const offset = this.nextOffsetValue;
    // Timestamps never go backwards, so offset order is time order (the age and `since` rules rely on it).
    const timestamp = Math.max(this.now(), this.lastTimestamp);
    const record = { offset, type: draft.type, timestamp, cluster: this.clusterOf(draft), payload: draft.payload } as MetadataRecord;
    this.stmt.insertRecord.run(offset, record.type, record.cluster, JSON.stringify(record.payload), timestamp);
    this.apply(record);
    this.nextOffsetValue = offset + 1;
    this.lastTimestamp = timestamp;
    this.stmt.setMeta.run('next_offset', this.nextOffsetValue);
    this.pending.push(record);
    return record;
  }

  /** The cluster a record belongs to (null: every cluster sees it), from the state before it applies. */
  private clusterOf(draft: RecordDraft): string | null {
    switch (draft.type) {
      case 'ClusterRecord':
        return draft.payload.name;
      case 'RegisterBrokerRecord':
      case 'TopicRecord':
      case 'ConfigRecord':
        return draft.payload.cluster;
      case 'BrokerRegistrationChangeRecord':
      case 'UnregisterBrokerRecord':
        return this.stmt.getBroker.get(draft.payload.brokerId)?.cluster ?? null;
      case 'RemoveTopicRecord':
      case 'PartitionRecord':
      case 'PartitionChangeRecord':
        return this.stmt.getTopic.get(draft.payload.topicId)?.cluster ?? null;
      case 'ProducerIdsRecord':
        return null;
    }
  }

  /** The state machine: the SQL twin of `MetadataImage.apply` (keep them in agreement). */
  private apply(record: MetadataRecord): void {
    const seq = record.offset;
    switch (record.type) {
      case 'ClusterRecord': {
        const c = record.payload;
        this.stmt.upsertCluster.run({
          name: c.name,
          seq,
          logDirectory: c.logDirectory,
          numBrokers: c.numBrokers,
          defaultPartitions: c.defaultPartitions,
          retentionMs: c.retentionMs,
          managed: c.managed ? 1 : 0,
          brokerIds: JSON.stringify(c.brokerIds),
          brokerPorts: JSON.stringify(c.brokerPorts),
        });
        break;
      }
      case 'RegisterBrokerRecord': {
        const r = record.payload;
        this.stmt.upsertBroker.run({
          brokerId: r.brokerId,
          seq,
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
        const b = this.stmt.getBroker.get(r.brokerId);
        if (!b) break;
        this.stmt.updateBroker.run({
          brokerId: r.brokerId,
          host: r.host ?? b.host,
          port: r.port ?? b.port,
          rack: r.rack !== undefined ? r.rack : b.rack,
          state: nextBrokerState(b.state as BrokerState, r.fenced, r.inControlledShutdown),
        });
        break;
      }
      case 'UnregisterBrokerRecord':
        this.stmt.deleteBroker.run(record.payload.brokerId);
        break;
      case 'TopicRecord': {
        const t = record.payload;
        // As in the image, a TopicRecord (re)defines the topic: no partitions, exactly these configs.
        this.stmt.upsertTopic.run(t.topicId, seq, t.name, t.cluster);
        this.stmt.deletePartitions.run(t.topicId);
        this.stmt.deleteConfigs.run(t.topicId);
        let i = 0;
        for (const [name, value] of Object.entries(t.configs)) this.stmt.setConfig.run(t.topicId, name, value, seq * 1000 + i++);
        break;
      }
      case 'RemoveTopicRecord': {
        const id = record.payload.topicId;
        this.stmt.deletePartitions.run(id);
        this.stmt.deleteConfigs.run(id);
        this.stmt.deleteTopic.run(id);
        break;
      }
      case 'PartitionRecord': {
        const p = record.payload;
        if (!this.stmt.getTopic.get(p.topicId)) break;
        this.stmt.upsertPartition.run(partitionParams(p));
        break;
      }
      case 'PartitionChangeRecord': {
        const r = record.payload;
        const row = this.stmt.getPartition.get(r.topicId, r.partition);
        if (!row) break;
        const p = toPartition(row);
        if (r.leader !== undefined) p.leader = r.leader;
        if (r.isr !== undefined) p.isr = [...r.isr];
        if (r.replicas !== undefined) p.replicas = [...r.replicas];
        p.leaderEpoch = r.leaderEpoch;
        p.partitionEpoch = r.partitionEpoch;
        this.stmt.upsertPartition.run(partitionParams(p));
        break;
      }
      case 'ProducerIdsRecord': {
        const r = record.payload;
        this.stmt.setProducerIds.run(Math.max(this.nextProducerId, r.nextProducerId), r.brokerId, r.brokerEpoch);
        break;
      }
      case 'ConfigRecord': {
        const r = record.payload;
        if (r.resourceType !== 'topic') break;
        const t = this.stmt.topicByName.get(r.cluster, r.resourceName);
        if (!t) break;
        if (r.value === null) this.stmt.deleteConfig.run(t.topic_id, r.name);
        else this.stmt.setConfig.run(t.topic_id, r.name, r.value, seq * 1000);
        break;
      }
    }
  }

  private toTopicImage(row: TopicRow): TopicImage {
    const configs: Record<string, string> = {};
    for (const c of this.stmt.configsOf.all(row.topic_id)) configs[c.name] = c.value;
    const topic: TopicRecord = { topicId: row.topic_id, name: row.name, cluster: row.cluster, configs };
    return { ...topic, partitions: this.stmt.partitionsOf.all(row.topic_id).map(toPartition) };
  }
}

function toRecord(row: RecordRow): MetadataRecord {
  return {
    offset: row.offset,
    type: row.type,
    timestamp: row.timestamp,
    cluster: row.cluster,
    payload: JSON.parse(row.payload),
  } as MetadataRecord;
}

function toCluster(row: ClusterRow): ClusterRecord {
  return {
    name: row.name,
    logDirectory: row.log_directory,
    numBrokers: row.num_brokers,
    defaultPartitions: row.default_partitions,
    retentionMs: row.retention_ms,
    managed: row.managed === 1,
    brokerIds: JSON.parse(row.broker_ids),
    brokerPorts: JSON.parse(row.broker_ports),
  };
}

function toBroker(row: BrokerRow): BrokerRegistration {
  return {
    brokerId: row.broker_id,
    brokerEpoch: row.broker_epoch,
    incarnationId: row.incarnation_id,
    cluster: row.cluster,
    host: row.host,
    port: row.port,
    rack: row.rack,
    state: row.state as BrokerState,
  };
}

function toPartition(row: PartitionRow): PartitionRecord {
  return {
    topicId: row.topic_id,
    partition: row.partition,
    replicas: JSON.parse(row.replicas),
    isr: JSON.parse(row.isr),
    leader: row.leader,
    leaderEpoch: row.leader_epoch,
    partitionEpoch: row.partition_epoch,
  };
}

function partitionParams(p: PartitionRecord) {
  return {
    topicId: p.topicId,
    partition: p.partition,
    replicas: JSON.stringify(p.replicas),
    isr: JSON.stringify(p.isr),
    leader: p.leader,
    leaderEpoch: p.leaderEpoch,
    partitionEpoch: p.partitionEpoch,
  };
}
