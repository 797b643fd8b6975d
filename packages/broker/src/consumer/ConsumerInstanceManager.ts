import { randomUUID } from 'node:crypto';
import type { HttpJsonClient, Logger } from '@brook/runtime';
import { BrookError, groupByTopic, type CommittedOffset, type ConsumedRecord, type GroupHeartbeatResponse, type TopicPartition } from '@brook/types';
import type { FetchService } from '../fetch/FetchService';
import type { GroupCoordinator, HeartbeatRequest } from '../group/GroupCoordinator';
import type { GroupService } from '../group/GroupService';
import type { MetadataCache } from '../metadata/MetadataCache';

export type ConsumerFormat = 'json' | 'binary';
export type AutoOffsetReset = 'earliest' | 'latest';

export interface CreateInstanceOptions {
  /** The instance id; generated when absent. */
  name?: string;
  format?: ConsumerFormat;
  autoOffsetReset?: AutoOffsetReset;
  autoCommit?: boolean;
}

/** A record as a consumer instance hands it out (REST Proxy v2's shape). */
export interface InstanceRecord extends ConsumedRecord {
  topic: string;
  partition: number;
}

export interface PositionSpec extends TopicPartition {
  offset?: number;
  timestamp?: number;
}

export interface ConsumerInstanceManagerOptions {
  /** Kafka REST's consumer.instance.timeout.ms: an instance unused for this long is deleted. */
  instanceTimeoutMs?: number;
  /** Used until the coordinator says otherwise. */
  heartbeatIntervalMs?: number;
  /** How often idle instances are looked for and background heartbeats sent. */
  tickMs?: number;
  logger?: Logger;
}

export interface InstanceView {
  group: string;
  instanceId: string;
  format: ConsumerFormat;
  autoOffsetReset: AutoOffsetReset;
  autoCommit: boolean;
  topics: string[];
  memberId: string | undefined;
  memberEpoch: number;
  assignment: TopicPartition[];
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const RETRYABLE = new Set(['NOT_COORDINATOR', 'COORDINATOR_LOAD_IN_PROGRESS', 'LEADER_NOT_AVAILABLE', 'BROKER_NOT_AVAILABLE']);
/** Partitions long-polled at once while an instance waits for records. */
const MAX_LONG_POLLS = 8;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs one operation at a time for an instance. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  locked = false;
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(async () => {
      this.locked = true;
      try {
        return await fn();
      } finally {
        this.locked = false;
      }
    });
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** One server-side consumer: a group member held by this broker (Confluent REST Proxy's consumer instance). */
class ConsumerInstance {
  topics: string[] = [];
  memberId: string | undefined;
  memberEpoch = 0;
  assignment: TopicPartition[] = [];
  /** Next offset to read, per assigned partition (absent until initialized). */
  readonly positions = new Map<string, number>();
  /** Positions not committed yet (auto-commit and close commit these). */
  readonly dirty = new Set<string>();
  heartbeatIntervalMs: number;
  nextHeartbeatAt = 0;
  lastUsed = Date.now();
  roundRobin = 0;
  closed = false;
  readonly lock = new Mutex();

  constructor(
    readonly group: string,
    readonly instanceId: string,
    readonly format: ConsumerFormat,
    readonly autoOffsetReset: AutoOffsetReset,
    readonly autoCommit: boolean,
    heartbeatIntervalMs: number,
  ) {
    this.heartbeatIntervalMs = heartbeatIntervalMs;
  }

  get subscribed(): boolean {
    return this.topics.length > 0;
  }

  isAssigned(topic: string, partition: number): boolean {
    return this.assignment.some((tp) => tp.topic === topic && tp.partition === partition);
  }
}

/**
 * Server-side consumer instances held by this broker, like Confluent REST Proxy v2: each is a KIP-848
 * group member (heartbeated through GroupService.route while subscribed), with positions per assigned
 * partition that start at the group's committed offset (else auto.offset.reset), a poll that reads its
 * partitions round-robin with a long poll, commits (automatic or explicit) and seeks. Idle instances
 * expire after instanceTimeoutMs and leave their group.
 */
export class ConsumerInstanceManager {
  private readonly instances = new Map<string, ConsumerInstance>();
  private readonly timer: NodeJS.Timeout;
  readonly instanceTimeoutMs: number;
  private readonly defaultHeartbeatMs: number;

  constructor(
    private readonly groups: GroupService,
    private readonly fetch: FetchService,
    private readonly metadata: MetadataCache,
    private readonly options: ConsumerInstanceManagerOptions = {},
  ) {
    this.instanceTimeoutMs = options.instanceTimeoutMs ?? 300_000;
    this.defaultHeartbeatMs = options.heartbeatIntervalMs ?? 1000;
    this.timer = setInterval(() => void this.tick(), options.tickMs ?? 250);
    this.timer.unref();
  }

  /** Stops the background work and has every instance leave its group. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.instances.values()].map((i) => this.close(i).catch(() => undefined)));
  }

  create(group: string, opts: CreateInstanceOptions = {}): InstanceView {
    const id = opts.name ?? `rest-consumer-${randomUUID()}`;
    const key = this.key(group, id);
    if (this.instances.has(key)) {
      throw new BrookError('CONSUMER_INSTANCE_EXISTS', `consumer instance ${id} already exists in group ${group}`, { group, instance: id });
    }
    const inst = new ConsumerInstance(group, id, opts.format ?? 'json', opts.autoOffsetReset ?? 'latest', opts.autoCommit ?? true, this.defaultHeartbeatMs);
    this.instances.set(key, inst);
    return this.view(inst);
  }

  /** The instance when it exists, else one made with `opts` (the seeds' consumers). */
  getOrCreate(group: string, instanceId: string, opts: CreateInstanceOptions = {}): InstanceView {
    const inst = this.instances.get(this.key(group, instanceId));
    return inst ? this.view(inst) : this.create(group, { ...opts, name: instanceId });
  }

  exists(group: string, instanceId: string): boolean {
    return this.instances.has(this.key(group, instanceId));
  }

  describe(group: string, instanceId: string): InstanceView {
    return this.view(this.require(group, instanceId));
  }

  /** Instances of a group held here. */
  instancesOf(group: string): string[] {
    return [...this.instances.values()].filter((i) => i.group === group).map((i) => i.instanceId);
  }

  async delete(group: string, instanceId: string): Promise<void> {
    const inst = this.require(group, instanceId);
    this.instances.delete(this.key(group, instanceId));
    await this.close(inst);
  }

  async subscribe(group: string, instanceId: string, topics: string[]): Promise<InstanceView> {
    const inst = this.require(group, instanceId);
    const wanted = [...new Set(topics)].sort();
    for (const t of wanted) await this.metadata.requireTopic(t, 0);
    return this.use(inst, async () => {
      if (wanted.length === 0) {
        await this.unsubscribeLocked(inst);
        return this.view(inst);
      }
      const changed = wanted.join(',') !== inst.topics.join(',');
      inst.topics = wanted;
      if (changed || !inst.memberId) await this.heartbeat(inst, true);
      return this.view(inst);
    });
  }

  async unsubscribe(group: string, instanceId: string): Promise<void> {
    const inst = this.require(group, instanceId);
    await this.use(inst, () => this.unsubscribeLocked(inst));
  }

  /**
   * Up to maxRecords records from the instance's assigned partitions, round-robin; waits up to timeoutMs
   * for records when there are none. Positions advance past what is returned, and are committed when
   * auto-commit is on.
   */
  async poll(group: string, instanceId: string, opts: { maxRecords?: number; timeoutMs?: number; maxBytes?: number } = {}): Promise<InstanceRecord[]> {
    const inst = this.require(group, instanceId);
    const maxRecords = opts.maxRecords ?? 500;
    const maxBytes = opts.maxBytes ?? 4 * 1024 * 1024;
    const deadline = Date.now() + (opts.timeoutMs ?? 0);
    return this.use(inst, async () => {
      if (!inst.subscribed) throw new BrookError('INVALID_REQUEST', `consumer instance ${instanceId} of group ${group} is not subscribed to any topic`);
      for (;;) {
        if (Date.now() >= inst.nextHeartbeatAt) await this.heartbeat(inst, false);
        await this.initPositions(inst);
        const records = await this.fetchOnce(inst, maxRecords, maxBytes);
        const remaining = deadline - Date.now();
        if (records.length > 0 || remaining <= 0 || inst.closed) {
          if (inst.autoCommit && records.length > 0) await this.commitDirty(inst).catch((err) => this.options.logger?.warn({ err, group }, 'auto-commit failed'));
          return records;
        }
        await this.waitForAny(inst, Math.min(remaining, Math.max(50, inst.heartbeatIntervalMs)));
      }
    });
  }

  /** Commits `offsets`, or every current position when none are given. */
  async commit(group: string, instanceId: string, offsets?: Array<TopicPartition & { offset: number; metadata?: string }>): Promise<Array<TopicPartition & { offset: number }>> {
    const inst = this.require(group, instanceId);
    if (offsets) for (const o of offsets) checkOffset(o.offset);
    return this.use(inst, async () => {
      if (offsets) {
        for (const o of offsets) await this.metadata.requirePartition(o.topic, o.partition, 0);
        await this.commitLocked(inst, offsets);
        for (const o of offsets) inst.dirty.delete(tpKey(o.topic, o.partition));
        return offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset }));
      }
      return this.commitDirty(inst, true);
    });
  }

  /** Committed offsets of the instance's group (of `partitions`, or of its assignment when none are given). */
  async committed(group: string, instanceId: string, partitions?: TopicPartition[]): Promise<CommittedOffset[]> {
    const inst = this.require(group, instanceId);
    return this.use(inst, () => this.fetchCommitted(inst.group, partitions ?? inst.assignment));
  }

  /** Current positions (next offset to read) of the assigned partitions. */
  positions(group: string, instanceId: string): Array<TopicPartition & { offset: number }> {
    const inst = this.require(group, instanceId);
    inst.lastUsed = Date.now();
    return [...inst.assignment].flatMap((tp) => {
      const p = inst.positions.get(tpKey(tp.topic, tp.partition));
      return p === undefined ? [] : [{ ...tp, offset: p }];
    });
  }

  /** Moves positions: to an offset, or to the first offset at or after a timestamp. */
  async seek(group: string, instanceId: string, specs: PositionSpec[]): Promise<Array<TopicPartition & { offset: number }>> {
    const inst = this.require(group, instanceId);
    for (const s of specs) {
      if (s.offset !== undefined) checkOffset(s.offset);
      if (s.timestamp !== undefined && (!Number.isInteger(s.timestamp) || s.timestamp < 0)) throw new BrookError('INVALID_REQUEST', 'timestamp must be a non-negative integer');
      if ((s.offset === undefined) === (s.timestamp === undefined)) throw new BrookError('INVALID_REQUEST', 'give either offset or timestamp for each partition');
    }
    return this.use(inst, async () => {
      this.checkAssigned(inst, specs);
      const out: Array<TopicPartition & { offset: number }> = [];
      for (const s of specs) {
        const offset = s.offset ?? (await this.fetch.offsetForTimestamp(s.topic, s.partition, s.timestamp!, false)).offset;
        this.setPosition(inst, s.topic, s.partition, offset);
        out.push({ topic: s.topic, partition: s.partition, offset });
      }
      return out;
    });
  }

  /** Moves positions to the partitions' earliest (or latest) offsets. */
  async seekTo(group: string, instanceId: string, where: 'beginning' | 'end', partitions: TopicPartition[]): Promise<Array<TopicPartition & { offset: number }>> {
    const inst = this.require(group, instanceId);
    return this.use(inst, async () => {
      this.checkAssigned(inst, partitions);
      const out: Array<TopicPartition & { offset: number }> = [];
      for (const tp of partitions) {
        const o = await this.fetch.offsets(tp.topic, tp.partition, false);
        const offset = where === 'beginning' ? o.earliest : o.latest;
        this.setPosition(inst, tp.topic, tp.partition, offset);
        out.push({ ...tp, offset });
      }
      return out;
    });
  }

  /**
   * Reads one partition from the group's committed offset (earliest when none) and commits past what it
   * returns; the instance must exist (seed 004's read by key). Independent of positions and assignment.
   */
  async readCommitted(group: string, instanceId: string, topic: string, partition: number, maxRecords: number, timeoutMs = 0): Promise<InstanceRecord[]> {
    const inst = this.require(group, instanceId);
    await this.metadata.requirePartition(topic, partition, 0);
    return this.use(inst, async () => {
      const [c] = await this.fetchCommitted(group, [{ topic, partition }]);
      let from = c?.offset ?? (await this.fetch.offsets(topic, partition, false)).earliest;
      let res = await this.fetchPartition(inst, topic, partition, from, maxRecords, 4 * 1024 * 1024, timeoutMs);
      if (res === null) {
        from = (await this.fetch.offsets(topic, partition, false)).earliest;
        res = await this.fetchPartition(inst, topic, partition, from, maxRecords, 4 * 1024 * 1024, timeoutMs) ?? [];
      }
      if (res.length > 0) await this.commitLocked(inst, [{ topic, partition, offset: res[res.length - 1]!.offset + 1 }]);
      return res;
    });
  }

  // ---------------------------------------------------------------------------------------------

  private key(group: string, id: string): string {
    return `${group}\u0000${id}`;
  }

  private require(group: string, instanceId: string): ConsumerInstance {
    const inst = this.instances.get(this.key(group, instanceId));
    if (!inst) {
      throw new BrookError('UNKNOWN_CONSUMER_INSTANCE', `consumer instance ${instanceId} of group ${group} does not exist on this broker`, { group, instance: instanceId });
    }
    inst.lastUsed = Date.now();
    return inst;
  }

  private async use<T>(inst: ConsumerInstance, fn: () => Promise<T>): Promise<T> {
    return inst.lock.run(async () => {
      if (inst.closed) throw new BrookError('UNKNOWN_CONSUMER_INSTANCE', `consumer instance ${inst.instanceId} of group ${inst.group} was deleted`, { group: inst.group, instance: inst.instanceId });
      inst.lastUsed = Date.now();
      try {
        return await fn();
      } finally {
        inst.lastUsed = Date.now();
      }
    });
  }

  private view(inst: ConsumerInstance): InstanceView {
    return {
      group: inst.group,
      instanceId: inst.instanceId,
      format: inst.format,
      autoOffsetReset: inst.autoOffsetReset,
      autoCommit: inst.autoCommit,
      topics: [...inst.topics],
      memberId: inst.memberId,
      memberEpoch: inst.memberEpoch,
      assignment: inst.assignment.map((tp) => ({ ...tp })),
    };
  }

  private checkAssigned(inst: ConsumerInstance, tps: TopicPartition[]): void {
    for (const tp of tps) {
      if (!inst.isAssigned(tp.topic, tp.partition)) {
        throw new BrookError('INVALID_REQUEST', `partition ${tp.topic}-${tp.partition} is not assigned to consumer instance ${inst.instanceId}`, { topic: tp.topic, partition: tp.partition });
      }
    }
  }

  private setPosition(inst: ConsumerInstance, topic: string, partition: number, offset: number): void {
    const k = tpKey(topic, partition);
    inst.positions.set(k, offset);
    inst.dirty.add(k);
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    for (const [key, inst] of this.instances) {
      if (inst.lock.locked) continue;
      if (now - inst.lastUsed >= this.instanceTimeoutMs) {
        this.instances.delete(key);
        this.options.logger?.info({ group: inst.group, instance: inst.instanceId }, 'consumer instance expired');
        void this.close(inst).catch(() => undefined);
        continue;
      }
      if (inst.subscribed && inst.memberId && now >= inst.nextHeartbeatAt) {
        void inst.lock
          .run(async () => {
            if (inst.closed || !inst.subscribed || Date.now() < inst.nextHeartbeatAt) return;
            if (inst.autoCommit) await this.commitDirty(inst).catch(() => undefined);
            await this.heartbeat(inst, false);
            await this.initPositions(inst).catch(() => undefined);
          })
          .catch((err) => this.options.logger?.warn({ err, group: inst.group, instance: inst.instanceId }, 'consumer instance heartbeat failed'));
      }
    }
  }

  private async close(inst: ConsumerInstance): Promise<void> {
    await inst.lock.run(async () => {
      if (inst.closed) return;
      try {
        await this.unsubscribeLocked(inst);
      } finally {
        inst.closed = true;
      }
    });
  }

  private async unsubscribeLocked(inst: ConsumerInstance): Promise<void> {
    if (inst.memberId) {
      if (inst.autoCommit) await this.commitDirty(inst).catch(() => undefined);
      const memberId = inst.memberId;
      await this.callGroup<GroupHeartbeatResponse>(inst.group, (c) => c.heartbeat(inst.group, { memberId, memberEpoch: -1 }), (peer, headers) =>
        peer.post(`/groups/${encodeURIComponent(inst.group)}/heartbeat`, { memberId, memberEpoch: -1 }, { headers }),
      ).catch((err) => this.options.logger?.warn({ err, group: inst.group }, 'leaving the group failed'));
    }
    inst.topics = [];
    inst.memberId = undefined;
    inst.memberEpoch = 0;
    inst.assignment = [];
    inst.positions.clear();
    inst.dirty.clear();
  }

  /**
   * A KIP-848 heartbeat (a join when the instance is not a member yet, or after it was fenced). Partitions
   * an answer revokes stop being handed out and their positions are committed (auto-commit); then the
   * next heartbeat, sent at once, reports them gone, and only then does the coordinator move them.
   */
  private async heartbeat(inst: ConsumerInstance, topicsChanged: boolean): Promise<void> {
    if (!inst.subscribed) return;
    let changed = topicsChanged;
    while (await this.heartbeatOnce(inst, changed)) changed = false; // acknowledges the revocation
  }

  /** One heartbeat, acting on its answer; true when the answer revoked partitions, for the next heartbeat to acknowledge. */
  private async heartbeatOnce(inst: ConsumerInstance, topicsChanged: boolean): Promise<boolean> {
    const send = (join: boolean) => {
      const req: HeartbeatRequest = {
        memberId: inst.memberId,
        memberEpoch: join ? 0 : inst.memberEpoch,
        subscribedTopics: join || topicsChanged ? inst.topics : undefined,
        clientId: `brook-rest-${inst.instanceId}`,
        ownedTopicPartitions: groupByTopic(inst.assignment),
      };
      return this.callGroup<GroupHeartbeatResponse>(inst.group, (c) => c.heartbeat(inst.group, req), (peer, headers) =>
        peer.post(`/groups/${encodeURIComponent(inst.group)}/heartbeat`, req, { headers }),
      );
    };
    let res: GroupHeartbeatResponse;
    try {
      res = await send(!inst.memberId || inst.memberEpoch === 0);
    } catch (err) {
      if (!(err instanceof BrookError) || (err.code !== 'FENCED_MEMBER_EPOCH' && err.code !== 'UNKNOWN_MEMBER_ID')) throw err;
      // Fenced or forgotten (session expired): rejoin; what it held may belong to others now.
      inst.assignment = [];
      inst.positions.clear();
      inst.dirty.clear();
      res = await send(true);
    }
    inst.memberId = res.memberId;
    inst.memberEpoch = res.memberEpoch;
    inst.heartbeatIntervalMs = res.heartbeatIntervalMs || this.defaultHeartbeatMs;
    inst.nextHeartbeatAt = Date.now() + inst.heartbeatIntervalMs;
    const assignment = res.assignment.flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition }))).sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    const kept = new Set(assignment.map((tp) => tpKey(tp.topic, tp.partition)));
    const revoked = inst.assignment.some((tp) => !kept.has(tpKey(tp.topic, tp.partition)));
    // The member epoch does not change until the revocation is acknowledged, so this commit is still valid.
    if (revoked && inst.autoCommit) await this.commitDirty(inst).catch((err) => this.options.logger?.warn({ err, group: inst.group }, 'commit of revoked partitions failed'));
    for (const k of [...inst.positions.keys()]) {
      if (!kept.has(k)) {
        inst.positions.delete(k);
        inst.dirty.delete(k);
      }
    }
    inst.assignment = assignment;
    await this.initPositions(inst).catch((err) => this.options.logger?.debug({ err }, 'initializing positions failed; retried at the next poll'));
    return revoked;
  }

  /** Positions of newly assigned partitions: the committed offset, else auto.offset.reset. */
  private async initPositions(inst: ConsumerInstance): Promise<void> {
    const missing = inst.assignment.filter((tp) => !inst.positions.has(tpKey(tp.topic, tp.partition)));
    if (missing.length === 0) return;
    const committed = await this.fetchCommitted(inst.group, missing);
    const byKey = new Map(committed.map((c) => [tpKey(c.topic, c.partition), c.offset]));
    for (const tp of missing) {
      const k = tpKey(tp.topic, tp.partition);
      let offset = byKey.get(k);
      if (offset === undefined) offset = await this.resetOffset(inst, tp.topic, tp.partition);
      if (inst.isAssigned(tp.topic, tp.partition) && !inst.positions.has(k)) inst.positions.set(k, offset);
    }
  }

  private async resetOffset(inst: ConsumerInstance, topic: string, partition: number): Promise<number> {
    const o = await this.fetch.offsets(topic, partition, false);
    return inst.autoOffsetReset === 'earliest' ? o.earliest : o.latest;
  }

  /** One pass over the assigned partitions, round-robin, without waiting. */
  private async fetchOnce(inst: ConsumerInstance, maxRecords: number, maxBytes: number): Promise<InstanceRecord[]> {
    const parts = inst.assignment.filter((tp) => inst.positions.has(tpKey(tp.topic, tp.partition)));
    if (parts.length === 0) return [];
    const out: InstanceRecord[] = [];
    const start = inst.roundRobin++ % parts.length;
    for (let i = 0; i < parts.length && out.length < maxRecords; i++) {
      const tp = parts[(start + i) % parts.length]!;
      const k = tpKey(tp.topic, tp.partition);
      const pos = inst.positions.get(k)!;
      let records: InstanceRecord[] | null;
      try {
        records = await this.fetchPartition(inst, tp.topic, tp.partition, pos, maxRecords - out.length, maxBytes, 0);
        if (records === null) {
          // Out of range (the log was truncated by retention, or a seek went past its end): auto.offset.reset.
          const reset = await this.resetOffset(inst, tp.topic, tp.partition);
          inst.positions.set(k, reset);
          inst.dirty.add(k);
          records = (await this.fetchPartition(inst, tp.topic, tp.partition, reset, maxRecords - out.length, maxBytes, 0)) ?? [];
        }
      } catch (err) {
        if (err instanceof BrookError && RETRYABLE.has(err.code)) continue;
        throw err;
      }
      if (records.length === 0) continue;
      out.push(...records);
      inst.positions.set(k, records[records.length - 1]!.offset + 1);
      inst.dirty.add(k);
    }
    return out;
  }

  /** Records of one partition from `offset`; null when the offset is out of range. */
  private async fetchPartition(inst: ConsumerInstance, topic: string, partition: number, offset: number, maxRecords: number, maxBytes: number, waitMs: number): Promise<InstanceRecord[] | null> {
    try {
      const res = await this.fetch.fetchRecords({ topic, partition, offset, maxRecords: Math.min(10_000, Math.max(1, maxRecords)), maxWaitMs: waitMs, maxBytes }, false);
      return res.records.map((r) => toInstanceRecord(inst.format, topic, partition, r));
    } catch (err) {
      if (err instanceof BrookError && err.code === 'OFFSET_OUT_OF_RANGE') return null;
      throw err;
    }
  }

  /** Long-polls every assigned partition at its position; resolves when one has records or `ms` passed. */
  private async waitForAny(inst: ConsumerInstance, ms: number): Promise<void> {
    const all = inst.assignment.filter((tp) => inst.positions.has(tpKey(tp.topic, tp.partition)));
    // At most MAX_LONG_POLLS waits at once, rotating, so a wide assignment does not fan out a request per partition.
    const start = all.length > MAX_LONG_POLLS ? inst.roundRobin % all.length : 0;
    const parts = all.length > MAX_LONG_POLLS ? Array.from({ length: MAX_LONG_POLLS }, (_, i) => all[(start + i) % all.length]!) : all;
    if (parts.length === 0) {
      await sleep(Math.min(ms, 100));
      return;
    }
    await new Promise<void>((resolve) => {
      let pending = parts.length;
      const timer = setTimeout(resolve, ms + 50);
      const done = (hasData: boolean) => {
        if (hasData || --pending === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      for (const tp of parts) {
        const offset = inst.positions.get(tpKey(tp.topic, tp.partition))!;
        this.fetch
          .fetchRecords({ topic: tp.topic, partition: tp.partition, offset, maxRecords: 1, maxWaitMs: ms, maxBytes: 1 }, false)
          .then((r) => done(r.records.length > 0))
          .catch(() => done(true));
      }
    });
  }

  private async commitDirty(inst: ConsumerInstance, all = false): Promise<Array<TopicPartition & { offset: number }>> {
    const offsets = inst.assignment.flatMap((tp) => {
      const k = tpKey(tp.topic, tp.partition);
      const offset = inst.positions.get(k);
      return offset !== undefined && (all || inst.dirty.has(k)) ? [{ ...tp, offset }] : [];
    });
    if (offsets.length === 0) return [];
    await this.commitLocked(inst, offsets);
    for (const o of offsets) if (inst.positions.get(tpKey(o.topic, o.partition)) === o.offset) inst.dirty.delete(tpKey(o.topic, o.partition));
    return offsets;
  }

  private async commitLocked(inst: ConsumerInstance, offsets: Array<TopicPartition & { offset: number; metadata?: string }>): Promise<void> {
    const body = inst.memberId ? { memberId: inst.memberId, memberEpoch: inst.memberEpoch, offsets } : { offsets };
    await this.callGroup<unknown>(inst.group, (c) => c.commitOffsets(inst.group, body), (peer, headers) =>
      peer.post(`/groups/${encodeURIComponent(inst.group)}/offsets`, body, { headers }),
    );
  }

  private async fetchCommitted(group: string, partitions: TopicPartition[]): Promise<CommittedOffset[]> {
    const all = await this.callGroup<CommittedOffset[]>(group, (c) => c.fetchOffsets(group), async (peer, headers) =>
      (await peer.get<{ offsets: CommittedOffset[] }>(`/groups/${encodeURIComponent(group)}/offsets`, { headers })).offsets,
    );
    const wanted = new Set(partitions.map((tp) => tpKey(tp.topic, tp.partition)));
    return all.filter((o) => wanted.has(tpKey(o.topic, o.partition)));
  }

  /** GroupService.route, retried briefly while the coordinator moves or loads. */
  private async callGroup<T>(group: string, local: (c: GroupCoordinator) => T | Promise<T>, remote: (peer: HttpJsonClient, headers: Record<string, string>) => Promise<T>): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.groups.route(group, false, local, remote);
      } catch (err) {
        if (!(err instanceof BrookError) || !RETRYABLE.has(err.code) || Date.now() > deadline) throw err;
        await sleep(Math.min(50 * 2 ** attempt, 500));
      }
    }
  }
}

function checkOffset(offset: number): void {
  if (!Number.isInteger(offset) || offset < 0) throw new BrookError('INVALID_OFFSET', `offset must be a non-negative integer, not ${offset}`);
}

function toInstanceRecord(format: ConsumerFormat, topic: string, partition: number, r: ConsumedRecord): InstanceRecord {
  if (format === 'json') return { topic, partition, ...r };
  return {
    topic,
    partition,
    ...r,
    key: r.key === null ? null : Buffer.from(r.key, 'utf8').toString('base64'),
    value: r.value === null ? null : Buffer.from(typeof r.value === 'string' ? r.value : JSON.stringify(r.value), 'utf8').toString('base64'),
  };
}
