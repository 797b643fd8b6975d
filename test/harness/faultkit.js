/**
 * Fault-testing kit, shared by the fault tests (test/faults-*.test.ts) and the chaos script
 * (scripts/chaos.js). Plain CommonJS on purpose, so `node scripts/chaos.js` can require it without a
 * build step; types are in faultkit.d.ts.
 *
 *  - Brook: HTTP client for the controller and brokers (undici, keep-alive, every call bounded in time)
 *  - AckProducer: background acks=all producer, one loop per partition, that records every acknowledged
 *    record {partition, offset, value} and the fate of every attempt; it follows leader changes
 *  - verifyAcknowledged: every acknowledged record read back exactly once at its offset, offsets gap-free
 *  - compareReplicas / waitForReplicasIdentical: replicas' batch bytes on disk equal up to the high watermark
 *  - waitFor, waitForHealed, waitForIsr, leader and pid lookups, signals
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { Agent } = require('undici');

const ROOT = path.resolve(__dirname, '../..');

// ---------------------------------------------------------------------------------------------------
// RecordBatch walking: @brook/types (source under jest, through its moduleNameMapper; the built package
// under plain node).

let batchTools;
function brookTypes() {
  if (batchTools) return batchTools;
  try {
    batchTools = require('@brook/types');
  } catch {
    batchTools = require(path.join(ROOT, 'packages/types/dist/index.js'));
  }
  return batchTools;
}

// ---------------------------------------------------------------------------------------------------
// Small things

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` until it returns a truthy value, failing with the last error (or the last falsy
 * answer's `describe()`) at the deadline. Conditions, not sleeps.
 */
async function waitFor(probe, options = {}) {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let lastError;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      let why = lastError instanceof Error ? `: ${lastError.message}` : '';
      if (!why && options.describe) {
        try {
          why = `: ${await options.describe()}`;
        } catch {
          /* best effort */
        }
      }
      throw new Error(`timed out after ${options.timeoutMs ?? 20_000} ms waiting for ${options.what ?? 'condition'}${why}`);
    }
    await sleep(options.intervalMs ?? 50);
  }
}

/** kill(2) that tolerates a process that is already gone. */
function signal(pid, sig) {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

function isAlive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()[0] !== 'Z';
  } catch {
    return true;
  }
}

/** The process state letter from /proc (R, S, T = stopped, Z...), or undefined when gone. */
function processState(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()[0];
  } catch {
    return undefined;
  }
}

function median(values) {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// ---------------------------------------------------------------------------------------------------
// HTTP

class HttpError extends Error {
  constructor(message, kind) {
    super(message);
    this.kind = kind; // 'timeout' | 'network'
  }
}

/**
 * JSON over keep-alive connections. Answers of every status are returned ({status, data}); a timeout or a
 * connection failure throws an HttpError (the outcome of such a request is unknown).
 */
class Http {
  constructor(options = {}) {
    this.agent = new Agent({
      keepAliveTimeout: 10_000,
      connections: options.connections ?? 32,
      pipelining: 1,
      connect: { timeout: options.connectTimeoutMs ?? 5_000 },
    });
    this.defaultTimeoutMs = options.timeoutMs ?? 10_000;
  }

  async request(method, url, body, options = {}) {
    const u = new URL(url);
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const onAbort = () => controller.abort();
    if (options.signal) options.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await this.agent.request({
        origin: u.origin,
        path: u.pathname + u.search,
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const text = await res.body.text();
      let data;
      try {
        data = text ? JSON.parse(text) : undefined;
      } catch {
        data = text;
      }
      return { status: res.statusCode, data };
    } catch (err) {
      if (controller.signal.aborted) throw new HttpError(`${method} ${url}: no answer within ${timeoutMs} ms`, 'timeout');
      throw new HttpError(`${method} ${url}: ${err.code ?? ''} ${err.message}`, 'network');
    } finally {
      clearTimeout(timer);
      if (options.signal) options.signal.removeEventListener('abort', onAbort);
    }
  }

  get(url, options) {
    return this.request('GET', url, undefined, options);
  }

  post(url, body, options) {
    return this.request('POST', url, body, options);
  }

  async close() {
    await this.agent.close().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------------
// The cluster as the tests see it: controller metadata, brokers, processes

class Brook {
  /**
   * @param {{controllerUrl: string, dataDir?: string, cluster?: string, brokerPorts?: number[], http?: Http}} options
   */
  constructor(options) {
    this.controllerUrl = options.controllerUrl;
    this.dataDir = options.dataDir;
    this.cluster = options.cluster ?? 'default';
    this.http = options.http ?? new Http();
    this.ownsHttp = !options.http;
    /** broker id -> port, learned from the controller (or given). */
    this.ports = new Map((options.brokerPorts ?? []).map((port, i) => [i + 1, port]));
  }

  brokerUrl(id) {
    const port = this.ports.get(id);
    if (!port) throw new Error(`unknown broker ${id} (known: ${[...this.ports.keys()]})`);
    return `http://127.0.0.1:${port}`;
  }

  /** The broker id listening on the port of `url`, if known. */
  brokerIdOfUrl(url) {
    const port = Number(new URL(url).port);
    for (const [id, p] of this.ports) if (p === port) return id;
    return undefined;
  }

  async brokers() {
    const res = await this.http.get(`${this.controllerUrl}/brokers`, { timeoutMs: 5_000 });
    if (res.status !== 200) throw new Error(`GET /brokers: ${res.status} ${JSON.stringify(res.data)}`);
    for (const b of res.data) this.ports.set(b.id, b.port);
    return res.data;
  }

  /** The launcher's view: [{id, port, pid, state, process, restarts}]. */
  async processes() {
    const res = await this.http.get(`${this.controllerUrl}/cluster/${this.cluster}`, { timeoutMs: 5_000 });
    if (res.status !== 200) throw new Error(`GET /cluster/${this.cluster}: ${res.status} ${JSON.stringify(res.data)}`);
    for (const b of res.data.brokers) this.ports.set(b.id, b.port);
    return res.data.brokers;
  }

  async pidOf(brokerId) {
    const b = (await this.processes()).find((x) => x.id === brokerId);
    if (!b || !b.pid) throw new Error(`broker ${brokerId} has no running process (${JSON.stringify(b)})`);
    return b.pid;
  }

  async topic(name) {
    const res = await this.http.get(`${this.controllerUrl}/topic/${encodeURIComponent(name)}`, { timeoutMs: 5_000 });
    if (res.status !== 200) throw new Error(`GET /topic/${name}: ${res.status} ${JSON.stringify(res.data)}`);
    return res.data;
  }

  async partitions(topic) {
    return (await this.topic(topic)).partitions;
  }

  async partition(topic, partition) {
    const p = (await this.partitions(topic)).find((x) => x.partition === partition);
    if (!p) throw new Error(`${topic} has no partition ${partition}`);
    return p;
  }

  async leaderOf(topic, partition) {
    return (await this.partition(topic, partition)).leader;
  }

  async createTopic(name, partitions, options = {}) {
    const body = { name, partitions };
    if (options.replicationFactor) body.replication_factor = options.replicationFactor;
    if (options.configs) body.configs = options.configs;
    const res = await this.http.post(`${this.controllerUrl}/create_topic/`, body);
    if (res.status !== 201) throw new Error(`create_topic ${name}: ${res.status} ${JSON.stringify(res.data)}`);
    await this.brokers();
    // Every partition has a leader that serves it and a full ISR.
    await waitForIsr(this, name, { full: true, timeoutMs: options.timeoutMs ?? 20_000 });
    return res.data;
  }

  /** GET .../offsets from the partition's leader (any broker forwards): {earliest, latest = HW}. */
  async offsets(topic, partition, brokerId) {
    const id = brokerId ?? (await this.leaderOf(topic, partition));
    if (id < 0) throw new Error(`${topic}-${partition} is offline`);
    const res = await this.http.get(`${this.brokerUrl(id)}/topics/${topic}/partitions/${partition}/offsets`, { timeoutMs: 5_000 });
    if (res.status !== 200) throw new Error(`offsets ${topic}-${partition} from broker ${id}: ${res.status} ${JSON.stringify(res.data)}`);
    return res.data;
  }

  /**
   * Produces once, straight to `brokerId` (default: the partition's leader). Returns {status, data,
   * brokerId}; a timeout or connection failure comes back as {status: 0, error}.
   */
  async produce(topic, records, options = {}) {
    const id = options.brokerId ?? (await this.leaderOf(topic, records[0].partition));
    const acks = options.acks ?? 'all';
    try {
      const res = await this.http.post(`${this.brokerUrl(id)}/events?acks=${acks}`, { topic, records }, { timeoutMs: options.timeoutMs ?? 10_000 });
      return { ...res, brokerId: id };
    } catch (err) {
      return { status: 0, error: err.message, kind: err.kind, brokerId: id };
    }
  }

  async close() {
    if (this.ownsHttp) await this.http.close();
  }
}

/** Waits until every (or the given) partition of `topic` satisfies the ISR condition; returns partitions. */
async function waitForIsr(brook, topic, options = {}) {
  const only = options.partitions;
  const check = (p) => {
    if (only && !only.includes(p.partition)) return true;
    if (options.full && !(p.leader >= 0 && sameSet(p.isr, p.replicas))) return false;
    if (options.size !== undefined && p.isr.length !== options.size) return false;
    if (options.includes !== undefined && !p.isr.includes(options.includes)) return false;
    if (options.excludes !== undefined && p.isr.includes(options.excludes)) return false;
    if (options.leaderOnline && p.leader < 0) return false;
    return true;
  };
  let last;
  return waitFor(
    async () => {
      last = await brook.partitions(topic);
      return last.every(check) && last;
    },
    {
      timeoutMs: options.timeoutMs ?? 20_000,
      what: options.what ?? `ISR of ${topic} ${JSON.stringify({ ...options, timeoutMs: undefined })}`,
      describe: () => JSON.stringify(last),
    },
  );
}

/**
 * Healed: `brokers` brokers active with a running process, every partition of every given topic led,
 * with a full ISR, and every leader answering for its partition.
 */
async function waitForHealed(brook, topics, options = {}) {
  const count = options.brokers ?? 3;
  let last = '';
  return waitFor(
    async () => {
      const procs = await brook.processes();
      const bad = procs.filter((b) => b.state !== 'active' || b.process !== 'running' || !b.pid);
      if (procs.length < count || bad.length) {
        last = `brokers ${JSON.stringify(procs.map((b) => ({ id: b.id, state: b.state, process: b.process, pid: b.pid })))}`;
        return false;
      }
      for (const b of procs) {
        if (processState(b.pid) === 'T') {
          last = `broker ${b.id} (pid ${b.pid}) is stopped`;
          return false;
        }
        const h = await brook.http.get(`${brook.brokerUrl(b.id)}/health`, { timeoutMs: 2_000 });
        if (h.status !== 200 || !h.data.metadataLoaded) {
          last = `broker ${b.id} health ${h.status} ${JSON.stringify(h.data)}`;
          return false;
        }
      }
      for (const topic of [].concat(topics)) {
        const parts = await brook.partitions(topic);
        for (const p of parts) {
          if (p.leader < 0 || !sameSet(p.isr, p.replicas)) {
            last = `${topic}-${p.partition} ${JSON.stringify(p)}`;
            return false;
          }
          const o = await brook.http.get(`${brook.brokerUrl(p.leader)}/topics/${topic}/partitions/${p.partition}/offsets`, { timeoutMs: 2_000 });
          if (o.status !== 200) {
            last = `${topic}-${p.partition} leader ${p.leader} offsets: ${o.status} ${JSON.stringify(o.data)}`;
            return false;
          }
        }
      }
      return true;
    },
    { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 100, what: `the cluster to heal (${[].concat(topics)})`, describe: () => last },
  );
}

function sameSet(a, b) {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

// ---------------------------------------------------------------------------------------------------
// The background producer

/** Codes with which Brook promises nothing was appended. */
const REFUSED_CODES = new Set(['NOT_ENOUGH_REPLICAS']);

/**
 * acks=all producer: one loop per partition sends batches of `batchSize` records, each record a value
 * never sent before (`<tag>:<partition>:<seq>`), straight to the partition's leader. Every 200 answer is
 * an acknowledged record (kept in `acked`); every attempt keeps its fate in `attempts`:
 *  - 'acked'   200
 *  - 'refused' an error with which nothing was appended (NOT_ENOUGH_REPLICAS)
 *  - 'failed'  another error answer (NOT_LEADER, LEADER_NOT_AVAILABLE, ...): may survive only if it was
 *              appended before its leader was deposed (verification lists those as survivedFailed)
 *  - 'unknown' timeout, REQUEST_TIMED_OUT, connection failure: may or may not survive
 * Values are never retried, so a value found twice in a log is a duplicate made by Brook.
 *
 * When a request is outstanding longer than `stallMs` and the controller names another leader, the loop
 * sends the next batch to the new leader without waiting for the stuck one (at most `maxOutstanding` per
 * partition), so failover times are measured, not the client timeout.
 */
class AckProducer {
  constructor(brook, options) {
    this.brook = brook;
    this.topic = options.topic;
    this.partitionIds = Array.isArray(options.partitions) ? options.partitions : Array.from({ length: options.partitions }, (_, i) => i);
    this.batchSize = options.batchSize ?? 10;
    this.acks = options.acks ?? 'all';
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.stallMs = options.stallMs ?? 250;
    this.maxOutstanding = options.maxOutstanding ?? 3;
    this.intervalMs = options.intervalMs ?? 0;
    this.errorBackoffMs = options.errorBackoffMs ?? 50;
    this.tag = options.tag ?? `v${Date.now().toString(36)}`;
    this.valueBytes = options.valueBytes ?? 0;
    this.padding = this.valueBytes > 0 ? 'x'.repeat(this.valueBytes) : '';
    /** @type {Array<{partition:number, offset:number, value:string, brokerId:number, sentAt:number, ackAt:number}>} */
    this.acked = [];
    /** value -> {partition, status, code, brokerId, sentAt, doneAt} */
    this.attempts = new Map();
    /** One entry per request. */
    this.requests = [];
    this.errorCounts = {};
    this.seq = new Map(this.partitionIds.map((p) => [p, 0]));
    this.leaders = new Map();
    this.hints = new Map();
    this.metadataAt = 0;
    this.metadataPromise = undefined;
    this.running = false;
    this.loops = [];
    this.outstandingByPartition = new Map();
    this.listeners = new Set();
    this.abort = new AbortController();
  }

  start() {
    this.running = true;
    this.startedAt = Date.now();
    this.loops = this.partitionIds.map((p) => this.loop(p));
    return this;
  }

  /** Stops the loops and waits for outstanding requests (aborted after `abandonAfterMs`). */
  async stop(options = {}) {
    this.running = false;
    const all = Promise.allSettled(this.loops);
    const abandonAfter = options.abandonAfterMs ?? this.timeoutMs;
    const timer = setTimeout(() => this.abort.abort(), abandonAfter);
    await all;
    clearTimeout(timer);
    this.stoppedAt = Date.now();
  }

  /** Refreshes leaders from the controller, at most every 100 ms; keeps the old view if it is down. */
  async refreshLeaders(force = false) {
    if (!force && Date.now() - this.metadataAt < 100) return;
    if (this.metadataPromise) return this.metadataPromise;
    this.metadataPromise = (async () => {
      try {
        if (this.brook.ports.size === 0) await this.brook.brokers();
        const parts = await this.brook.partitions(this.topic);
        for (const p of parts) {
          const before = this.leaders.get(p.partition);
          if (!before || before.leaderEpoch !== p.leaderEpoch || before.leader !== p.leader) this.hints.delete(p.partition);
          this.leaders.set(p.partition, { leader: p.leader, leaderEpoch: p.leaderEpoch });
        }
      } catch {
        // Controller unreachable: keep what we know.
      } finally {
        this.metadataAt = Date.now();
        this.metadataPromise = undefined;
      }
    })();
    return this.metadataPromise;
  }

  targetOf(partition) {
    const hint = this.hints.get(partition);
    if (hint !== undefined && Date.now() - hint.at < 1000) return hint.id;
    const l = this.leaders.get(partition);
    return l && l.leader >= 0 ? l.leader : undefined;
  }

  async loop(partition) {
    await this.refreshLeaders(true);
    while (this.running) {
      let target = this.targetOf(partition);
      if (target === undefined) {
        await this.refreshLeaders(true);
        target = this.targetOf(partition);
        if (target === undefined) {
          await sleep(50);
          continue;
        }
      }
      const req = this.send(partition, target);
      const mine = this.outstandingOf(partition);
      mine.add(req);
      req.finally(() => mine.delete(req));
      let outcome;
      for (;;) {
        outcome = await Promise.race([req, sleep(this.stallMs).then(() => undefined)]);
        if (outcome !== undefined || !this.running) break;
        await this.refreshLeaders();
        const now = this.targetOf(partition);
        if (now !== undefined && now !== target && mine.size < this.maxOutstanding) break;
      }
      if (outcome === undefined && this.running) continue; // leader moved: next batch to the new one
      if (outcome === undefined) break;
      if (outcome.status !== 200) {
        await this.refreshLeaders(true);
        await sleep(this.errorBackoffMs);
      } else if (this.intervalMs) {
        await sleep(this.intervalMs);
      }
    }
    await Promise.allSettled([...this.outstandingOf(partition)]);
  }

  outstandingOf(partition) {
    let set = this.outstandingByPartition.get(partition);
    if (!set) this.outstandingByPartition.set(partition, (set = new Set()));
    return set;
  }

  async send(partition, brokerId) {
    const n = this.batchSize;
    const records = [];
    const values = [];
    for (let i = 0; i < n; i++) {
      const seq = this.seq.get(partition);
      this.seq.set(partition, seq + 1);
      const value = this.padding ? `${this.tag}:${partition}:${seq}:${this.padding}` : `${this.tag}:${partition}:${seq}`;
      values.push(value);
      records.push({ partition, value });
    }
    const sentAt = Date.now();
    for (const v of values) this.attempts.set(v, { partition, status: 'pending', brokerId, sentAt });
    let answer;
    try {
      answer = await this.brook.http.post(
        `${this.brook.brokerUrl(brokerId)}/events?acks=${this.acks}`,
        { topic: this.topic, records },
        { timeoutMs: this.timeoutMs, signal: this.abort.signal },
      );
    } catch (err) {
      answer = { status: 0, kind: err.kind };
    }
    const { status, code, data } = this.track(partition, values, answer, brokerId, sentAt);
    if (code === 'NOT_LEADER' && data?.error?.leaderUrl) {
      try {
        const id = this.brook.brokerIdOfUrl(data.error.leaderUrl);
        if (id !== undefined) this.hints.set(partition, { id, at: Date.now() });
      } catch {
        /* not a URL */
      }
    }
    return { status, code };
  }

  /**
   * Records the outcome of a produce of `values` (one record each, in order) to `partition`: the
   * producer's own requests, and produces a test sends itself (answer = {status, data} or {status: 0,
   * kind} for no answer), so verification covers them too.
   */
  track(partition, values, answer, brokerId, sentAt) {
    const doneAt = Date.now();
    const status = answer.status;
    const data = answer.data;
    let code;
    if (status === 200) code = undefined;
    else if (status === 0) code = answer.kind === 'timeout' ? 'CLIENT_TIMEOUT' : 'CONNECTION_ERROR';
    else code = (data && data.error && data.error.code) || `HTTP_${status}`;
    const entry = { partition, brokerId, sentAt, doneAt, status, code, count: values.length };
    this.requests.push(entry);
    if (status === 200) {
      const offsets = data && data.offsets;
      if (!Array.isArray(offsets) || offsets.length !== values.length) this.count('MALFORMED_200');
      values.forEach((value, i) => {
        const o = offsets && offsets[i];
        const ack = { partition, offset: o && o.partition === partition ? o.offset : -1, value, brokerId, sentAt, ackAt: doneAt };
        this.acked.push(ack);
        this.attempts.set(value, { partition, status: 'acked', brokerId, sentAt, doneAt });
      });
      for (const l of this.listeners) l(entry);
    } else {
      this.count(code);
      let fate = 'failed';
      // NOT_ENOUGH_REPLICAS means nothing was written; NOT_ENOUGH_REPLICAS_AFTER_APPEND (the ISR shrank after
      // the append) may survive.
      if (REFUSED_CODES.has(code)) fate = 'refused';
      else if (['REQUEST_TIMED_OUT', 'CLIENT_TIMEOUT', 'CONNECTION_ERROR', 'BROKER_NOT_AVAILABLE', 'NOT_ENOUGH_REPLICAS_AFTER_APPEND'].includes(code)) fate = 'unknown';
      else if (status >= 500 && !(data && data.error)) fate = 'unknown';
      for (const v of values) this.attempts.set(v, { partition, status: fate, code, brokerId, sentAt, doneAt });
    }
    return { status, code, data };
  }

  count(code) {
    this.errorCounts[code] = (this.errorCounts[code] ?? 0) + 1;
  }

  /** Acknowledged records (optionally of one partition) whose request was sent at or after `since`. */
  ackedSince(since, partition) {
    return this.acked.filter((a) => a.sentAt >= since && (partition === undefined || a.partition === partition));
  }

  /** Resolves with the first ack of a request sent at or after `since` (for `partition`, if given). */
  waitForAck(since, options = {}) {
    const { partition, timeoutMs = 20_000, notFrom } = options;
    const match = (a) => a.sentAt >= since && (partition === undefined || a.partition === partition) && (notFrom === undefined || a.brokerId !== notFrom);
    const found = this.acked.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`no acks=all write acknowledged for ${this.topic}${partition === undefined ? '' : `-${partition}`} within ${timeoutMs} ms (errors: ${JSON.stringify(this.errorCounts)})`));
      }, timeoutMs);
      const listener = () => {
        const a = this.acked.find(match);
        if (!a) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(a);
      };
      this.listeners.add(listener);
    });
  }

  summary() {
    const byStatus = {};
    for (const a of this.attempts.values()) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
    return { requests: this.requests.length, acked: this.acked.length, attempts: this.attempts.size, byStatus, errors: { ...this.errorCounts } };
  }
}

// ---------------------------------------------------------------------------------------------------
// Reading back and verifying

/** Reads a partition from `brokerUrl` (the leader serves it; others forward), offset 0 to the HW. */
async function readPartition(http, brokerUrl, topic, partition, options = {}) {
  const records = [];
  let next = options.from ?? 0;
  let highWatermark;
  for (;;) {
    const res = await http.get(`${brokerUrl}/topics/${topic}/partitions/${partition}/records?offset=${next}&max_records=${options.pageSize ?? 5000}`, {
      timeoutMs: 15_000,
    });
    if (res.status === 416 && res.data?.error && next === (res.data.error.latest ?? -1)) {
      return { records, highWatermark: res.data.error.latest };
    }
    if (res.status !== 200) throw new Error(`read ${topic}-${partition}@${next} from ${brokerUrl}: ${res.status} ${JSON.stringify(res.data)}`);
    highWatermark = res.data.high_watermark;
    const page = res.data.records;
    records.push(...page);
    if (page.length === 0) return { records, highWatermark };
    next = page[page.length - 1].offset + 1;
    if (next >= highWatermark) return { records, highWatermark };
  }
}

/**
 * Checks, for each partition, read from its current leader:
 *  - offsets 0..HW-1 all present once (no gap, no repeated offset)
 *  - every acknowledged record is at its acknowledged offset (else: lost) and its value appears once
 *    (else: duplicated)
 *  - no value appears twice, no value we never sent, nothing refused with NOT_ENOUGH_REPLICAS survived
 * Returns a report; `ok` is true when nothing acknowledged is lost or duplicated and offsets are gap-free.
 */
async function verifyAcknowledged(brook, options) {
  const { topic } = options;
  const acked = options.acked ?? options.producer.acked;
  const attempts = options.attempts ?? options.producer?.attempts ?? new Map();
  const parts = await brook.partitions(topic);
  const partitionIds = options.partitions ?? parts.map((p) => p.partition);
  const report = {
    topic,
    acknowledged: 0,
    readBack: 0,
    lost: [],
    duplicated: [],
    gaps: [],
    repeatedOffsets: [],
    duplicateValues: [],
    survivedUnacknowledged: 0,
    survivedFailed: [],
    refusedButSurvived: [],
    foreign: [],
    partitions: [],
    ok: false,
  };
  for (const partition of partitionIds) {
    const p = parts.find((x) => x.partition === partition);
    if (!p || p.leader < 0) throw new Error(`${topic}-${partition} has no leader: ${JSON.stringify(p)}`);
    const { records, highWatermark } = await readPartition(brook.http, brook.brokerUrl(p.leader), topic, partition);
    const byOffset = new Map();
    const byValue = new Map();
    let expected = 0;
    for (const r of records) {
      if (byOffset.has(r.offset)) report.repeatedOffsets.push({ partition, offset: r.offset });
      if (r.offset !== expected) report.gaps.push({ partition, expected, found: r.offset });
      expected = r.offset + 1;
      byOffset.set(r.offset, r);
      const list = byValue.get(r.value);
      if (list) list.push(r.offset);
      else byValue.set(r.value, [r.offset]);
    }
    if (expected !== highWatermark) report.gaps.push({ partition, expected, found: `end (high watermark ${highWatermark})` });
    for (const [value, offsets] of byValue) {
      if (offsets.length > 1) report.duplicateValues.push({ partition, value, offsets });
      const attempt = attempts.get(value);
      if (!attempt) report.foreign.push({ partition, value, offsets });
      else if (attempt.status === 'refused') report.refusedButSurvived.push({ partition, value, offsets, code: attempt.code });
      else if (attempt.status === 'failed') report.survivedFailed.push({ partition, value, offsets, code: attempt.code });
      if (attempt && attempt.status !== 'acked') report.survivedUnacknowledged++;
    }
    const mine = acked.filter((a) => a.partition === partition);
    for (const a of mine) {
      report.acknowledged++;
      const r = byOffset.get(a.offset);
      const at = byValue.get(a.value);
      if (!r || r.value !== a.value) {
        report.lost.push({ partition, offset: a.offset, value: a.value, foundThere: r ? r.value : null, foundAt: at ?? [], brokerId: a.brokerId, sentAt: a.sentAt, ackAt: a.ackAt });
      } else {
        report.readBack++;
      }
      if (at && at.length > 1) report.duplicated.push({ partition, offset: a.offset, value: a.value, foundAt: at });
    }
    report.partitions.push({ partition, highWatermark, records: records.length, acknowledged: mine.length, leader: p.leader, leaderEpoch: p.leaderEpoch });
  }
  report.ok = report.lost.length === 0 && report.duplicated.length === 0 && report.gaps.length === 0 && report.repeatedOffsets.length === 0 && report.duplicateValues.length === 0;
  return report;
}

/** A short human-readable account of a verification report (first few problems of each kind). */
function describeReport(report) {
  const few = (list) => JSON.stringify(list.slice(0, 5)) + (list.length > 5 ? ` ... (${list.length} in all)` : '');
  const lines = [
    `${report.topic}: acknowledged ${report.acknowledged}, read back ${report.readBack}, lost ${report.lost.length}, duplicated ${report.duplicated.length}, ` +
      `survived unacknowledged ${report.survivedUnacknowledged}, partitions ${JSON.stringify(report.partitions)}`,
  ];
  for (const key of ['lost', 'duplicated', 'gaps', 'repeatedOffsets', 'duplicateValues', 'refusedButSurvived', 'survivedFailed', 'foreign']) {
    if (report[key].length) lines.push(`  ${key}: ${few(report[key])}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Replicas on disk

function partitionDir(dataDir, cluster, brokerId, topic, partition) {
  return path.join(dataDir, cluster, `broker-${brokerId}`, `${topic}-${partition}`);
}

/**
 * One replica's log from disk: its batches in offset order (segments by base offset), with their bytes.
 * A batch being written (shorter than its length says) ends the walk.
 */
function readReplicaLog(dataDir, cluster, brokerId, topic, partition) {
  const { iterateBatches } = brookTypes();
  const dir = partitionDir(dataDir, cluster, brokerId, topic, partition);
  let files = [];
  try {
    files = fs.readdirSync(dir).filter((f) => /^\d{20}\.log$/.test(f)).sort();
  } catch (err) {
    return { brokerId, dir, exists: false, batches: [], logEndOffset: 0, error: err.code };
  }
  const batches = [];
  let problem;
  for (const file of files) {
    const buf = fs.readFileSync(path.join(dir, file));
    try {
      for (const b of iterateBatches(buf)) {
        batches.push({
          file,
          baseOffset: b.baseOffset,
          lastOffset: b.lastOffset,
          epoch: b.partitionLeaderEpoch,
          crc: b.crc,
          bytes: buf.subarray(b.position, b.position + b.sizeInBytes),
        });
      }
    } catch (err) {
      problem = `${file}: ${err.message}`;
      break;
    }
  }
  const last = batches[batches.length - 1];
  return { brokerId, dir, exists: true, batches, logEndOffset: last ? last.lastOffset + 1 : 0, problem };
}

/**
 * Compares the replicas of a partition on disk. Up to `highWatermark`, every replica must hold the same
 * batches byte for byte (cut at the first batch whose baseOffset >= HW), contiguous from offset 0, with
 * leader epochs that never go down. With `full`, every replica must also end exactly at the HW
 * (nothing beyond it: a quiet, healed partition).
 */
function compareReplicas(options) {
  const { dataDir, cluster = 'default', topic, partition, replicas, highWatermark, full = false } = options;
  const problems = [];
  const logs = replicas.map((id) => readReplicaLog(dataDir, cluster, id, topic, partition));
  const cuts = logs.map((log) => {
    const kept = log.batches.filter((b) => b.baseOffset < highWatermark);
    let expected = 0;
    let epoch = -Infinity;
    for (const b of log.batches) {
      if (b.baseOffset !== expected) {
        problems.push(`broker ${log.brokerId}: batch at ${b.baseOffset} where ${expected} was expected (gap or overlap)`);
        break;
      }
      if (b.epoch < epoch) problems.push(`broker ${log.brokerId}: leader epoch goes down from ${epoch} to ${b.epoch} at offset ${b.baseOffset}`);
      epoch = Math.max(epoch, b.epoch);
      expected = b.lastOffset + 1;
    }
    if (log.problem) problems.push(`broker ${log.brokerId}: ${log.problem}`);
    const end = kept.length ? kept[kept.length - 1].lastOffset + 1 : 0;
    if (end < highWatermark) problems.push(`broker ${log.brokerId}: holds offsets up to ${end}, below the high watermark ${highWatermark}`);
    if (end > highWatermark) problems.push(`broker ${log.brokerId}: a batch straddles the high watermark ${highWatermark} (ends at ${end})`);
    if (full && log.logEndOffset !== highWatermark) problems.push(`broker ${log.brokerId}: log end offset ${log.logEndOffset} != high watermark ${highWatermark}`);
    return { brokerId: log.brokerId, batches: kept, bytes: Buffer.concat(kept.map((b) => b.bytes)), logEndOffset: log.logEndOffset };
  });
  const ref = cuts[0];
  for (const c of cuts.slice(1)) {
    if (c.bytes.equals(ref.bytes)) continue;
    const n = Math.max(c.batches.length, ref.batches.length);
    for (let i = 0; i < n; i++) {
      const a = ref.batches[i];
      const b = c.batches[i];
      if (!a || !b || !a.bytes.equals(b.bytes)) {
        const show = (x) => (x ? `{baseOffset ${x.baseOffset}, lastOffset ${x.lastOffset}, epoch ${x.epoch}, crc ${x.crc}, ${x.bytes.length} B}` : 'nothing');
        problems.push(`broker ${c.brokerId} differs from broker ${ref.brokerId} at batch #${i}: ${show(b)} vs ${show(a)}`);
        break;
      }
    }
  }
  return {
    ok: problems.length === 0,
    topic,
    partition,
    highWatermark,
    problems,
    replicas: cuts.map((c) => ({ brokerId: c.brokerId, logEndOffset: c.logEndOffset, bytesUpToHighWatermark: c.bytes.length, batches: c.batches.length })),
    epochs: [...new Set(ref.batches.map((b) => b.epoch))],
  };
}

/**
 * Waits until, for every partition of `topic`, every replica on disk is byte-identical to the others up
 * to the leader's high watermark (and, with `full` — the default — ends there). Returns the comparisons.
 */
async function waitForReplicasIdentical(brook, topic, options = {}) {
  if (!brook.dataDir) throw new Error('waitForReplicasIdentical needs the data directory');
  let last = [];
  return waitFor(
    async () => {
      const parts = await brook.partitions(topic);
      last = [];
      for (const p of parts) {
        if (options.partitions && !options.partitions.includes(p.partition)) continue;
        if (p.leader < 0) {
          last.push({ ok: false, partition: p.partition, problems: ['offline'] });
          continue;
        }
        const { latest } = await brook.offsets(topic, p.partition, p.leader);
        last.push(
          compareReplicas({ dataDir: brook.dataDir, cluster: brook.cluster, topic, partition: p.partition, replicas: p.replicas, highWatermark: latest, full: options.full ?? true }),
        );
      }
      return last.every((c) => c.ok) && last;
    },
    {
      timeoutMs: options.timeoutMs ?? 15_000,
      intervalMs: 100,
      what: `identical replicas of ${topic}`,
      describe: () => JSON.stringify(last.filter((c) => !c.ok).map((c) => ({ partition: c.partition, hw: c.highWatermark, problems: c.problems, replicas: c.replicas }))),
    },
  );
}

/**
 * Batches of a partition, from one replica's disk, with the given leader epoch (e.g. to prove nothing a
 * deposed leader appended under its old epoch after a point survives).
 */
function batchesWithEpoch(dataDir, cluster, brokerId, topic, partition, epoch) {
  return readReplicaLog(dataDir, cluster, brokerId, topic, partition)
    .batches.filter((b) => b.epoch === epoch)
    .map(({ baseOffset, lastOffset, epoch: e }) => ({ baseOffset, lastOffset, epoch: e }));
}

/** The batch (from one replica's disk) that holds `offset`, without its bytes. */
function batchAt(dataDir, cluster, brokerId, topic, partition, offset) {
  const b = readReplicaLog(dataDir, cluster, brokerId, topic, partition).batches.find((x) => x.baseOffset <= offset && offset <= x.lastOffset);
  return b && { baseOffset: b.baseOffset, lastOffset: b.lastOffset, epoch: b.epoch };
}

// ---------------------------------------------------------------------------------------------------
// Broker processes (pids come from the controller's launcher)

/**
 * Bytes received on loopback TCP connections to `port` that the listening process has not read yet
 * (/proc/net/tcp rx_queue): proof that a request reached a SIGSTOPped broker's socket. Undefined when
 * /proc/net/tcp cannot be read.
 */
function queuedBytesAt(port) {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let total = 0;
  let readable = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
      readable = true;
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local address on this port, state ESTABLISHED (01): the server side of a connection.
      if (f.length < 5 || !f[1].endsWith(suffix) || f[3] !== '01') continue;
      total += parseInt(f[4].split(':')[1], 16);
    }
  }
  return readable ? total : undefined;
}

/** Orphaned broker processes of a data directory (pid files whose process runs a broker of that dir). */
function brokerPidsFromFiles(dataDir, cluster = 'default') {
  const out = [];
  const clusterDir = path.join(dataDir, cluster);
  let entries = [];
  try {
    entries = fs.readdirSync(clusterDir).filter((d) => /^broker-\d+$/.test(d));
  } catch {
    return out;
  }
  for (const d of entries) {
    try {
      const pid = Number(fs.readFileSync(path.join(clusterDir, d, 'broker.pid'), 'utf8').trim());
      if (!pid) continue;
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(path.join(clusterDir, d))) out.push({ brokerId: Number(d.slice(7)), pid });
    } catch {
      /* gone */
    }
  }
  return out;
}

module.exports = {
  ROOT,
  sleep,
  waitFor,
  signal,
  isAlive,
  processState,
  median,
  Http,
  HttpError,
  Brook,
  waitForIsr,
  waitForHealed,
  AckProducer,
  readPartition,
  verifyAcknowledged,
  describeReport,
  readReplicaLog,
  compareReplicas,
  waitForReplicasIdentical,
  batchesWithEpoch,
  batchAt,
  brokerPidsFromFiles,
  queuedBytesAt,
};
