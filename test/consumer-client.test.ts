import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Admin, Consumer, type ConsumerRecord, type TopicPartition } from '@brook/client';
import { decodeFetchResponse } from '@brook/types';
import { decodeFetchedRecords } from '../packages/client/src/ConsumerRecord';
import { TestCluster } from './harness/TestCluster';
import { waitFor } from './harness/waitFor';

jest.setTimeout(120_000);

const CONSUMER_PROCESS = path.join(__dirname, 'harness/consumerProcess.js');

/** The @brook/client Consumer against a real controller and three real brokers. */
describe('@brook/client Consumer', () => {
  let cluster: TestCluster;
  let admin: Admin;
  const open: Consumer[] = [];

  beforeAll(async () => {
    // A 3 s group session: a killed member's partitions move within seconds.
    cluster = await TestCluster.start({
      env: { BROOK_GROUP_SESSION_TIMEOUT_MS: '3000', BROOK_OFFSETS_TOPIC_PARTITIONS: '3', BROOK_LOG_CLEANER_BACKOFF_MS: '300' },
    });
    admin = new Admin({ controllerUrl: cluster.controllerUrl });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await admin?.close();
    await cluster?.destroy();
  });

  function consumer(options: Partial<ConstructorParameters<typeof Consumer>[0]> = {}): Consumer {
    const c = new Consumer({ controllerUrl: cluster.controllerUrl, autoOffsetReset: 'earliest', maxWaitMs: 200, ...options });
    open.push(c);
    return c;
  }

  async function createTopic(topic: string, partitions: number): Promise<void> {
    await admin.createTopic({ topic, partitions, replicationFactor: 3 });
    await cluster.waitForLeaders(topic, partitions);
  }

  /** Produces `count` records to `partition` (acks=all) through `brokerId`; values are "<partition>-<offset>" as JSON strings. */
  async function produce(topic: string, partition: number, count: number, brokerId = 1): Promise<void> {
    const res = await cluster.http.get(`${cluster.brokerUrl(brokerId)}/topics/${topic}/partitions/${partition}/offsets`);
    const start = res.data.latest as number;
    const records = Array.from({ length: count }, (_, i) => ({ partition, value: `${partition}-${start + i}` }));
    const answer = await cluster.http.post(`${cluster.brokerUrl(brokerId)}/events`, { topic, records });
    if (answer.status !== 200) throw new Error(`produce: ${answer.status} ${JSON.stringify(answer.data)}`);
  }

  /** Polls until `count` records arrived (or the deadline passes, then fails). */
  async function pollUntil(c: Consumer, count: number, timeoutMs = 20_000): Promise<ConsumerRecord[]> {
    const out: ConsumerRecord[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${out.length} of ${count} records within ${timeoutMs} ms`);
      out.push(...(await c.poll(200)));
    }
    return out;
  }

  const offsetsOf = (records: ConsumerRecord[], partition: number) => records.filter((r) => r.partition === partition).map((r) => r.offset);
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  const tpList = (tps: TopicPartition[]) => tps.map((tp) => tp.partition).sort((a, b) => a - b);

  test('POST /fetch: a long poll wakes when the high watermark advances; partitions led elsewhere are NOT_LEADER with the leader URL', async () => {
    const topic = 'cc-fetch';
    await createTopic(topic, 3);
    await produce(topic, 0, 3);
    const parts = (await cluster.http.get(`${cluster.controllerUrl}/topic/${topic}`)).data.partitions as Array<{ partition: number; leader: number }>;
    const leader = parts.find((p) => p.partition === 0)!.leader;
    const fetch = (fetchOffset: number, maxWaitMs: number) =>
      cluster.http.post(
        `${cluster.brokerUrl(leader)}/fetch`,
        { maxWaitMs, partitions: [0, 1, 2].map((partition) => ({ topic, partition, fetchOffset: partition === 0 ? fetchOffset : 0 })) },
        { responseType: 'arraybuffer' },
      );

    const first = decodeFetchResponse(Buffer.from((await fetch(1, 0)).data));
    expect(first[0]).toMatchObject({ topic, partition: 0, error: null, highWatermark: 3, logStartOffset: 0 });
    // Whole stored batches: the one batch of the three records, starting before the fetch offset.
    expect(decodeFetchedRecords(topic, 0, first[0]!.records, 1).map((r) => r.offset)).toEqual([1, 2]);
    for (const r of first.slice(1)) {
      const led = parts.find((p) => p.partition === r.partition)!.leader;
      if (led === leader) expect(r.error).toBeNull();
      else expect(r.error).toMatchObject({ code: 'NOT_LEADER', leaderUrl: expect.stringContaining(`:${cluster.brokerPorts[led - 1]}`) });
    }

    // Only partitions this broker leads, so the poll waits: answered once the new record is replicated.
    const ledHere = parts.filter((p) => p.leader === leader).map((p) => p.partition);
    const started = Date.now();
    const waiting = cluster.http.post(
      `${cluster.brokerUrl(leader)}/fetch`,
      { maxWaitMs: 10_000, partitions: ledHere.map((partition) => ({ topic, partition, fetchOffset: partition === 0 ? 3 : 0 })) },
      { responseType: 'arraybuffer' },
    );
    await new Promise((r) => setTimeout(r, 100)); // let the poll start waiting; the assertion below does not depend on it
    await produce(topic, 0, 1);
    const woken = decodeFetchResponse(Buffer.from((await waiting).data));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(decodeFetchedRecords(topic, 0, woken.find((r) => r.partition === 0)!.records, 3).map((r) => r.offset)).toEqual([3]);
  });

  test('subscribe + for await: every record once, in order per partition, with its value', async () => {
    const topic = 'cc-read';
    await createTopic(topic, 3);
    await Promise.all([produce(topic, 0, 1000), produce(topic, 1, 700), produce(topic, 2, 300)]);
    const c = consumer({ groupId: 'cc-read' });
    await c.subscribe([topic]);
    expect(tpList(c.assignment())).toEqual([0, 1, 2]);
    const got: ConsumerRecord[] = [];
    const guard = setTimeout(() => void c.close(), 20_000);
    for await (const record of c) {
      got.push(record);
      if (got.length === 2000) break;
    }
    clearTimeout(guard);
    expect(offsetsOf(got, 0)).toEqual(range(0, 1000));
    expect(offsetsOf(got, 1)).toEqual(range(0, 700));
    expect(offsetsOf(got, 2)).toEqual(range(0, 300));
    for (const r of got) expect(JSON.parse(r.value!.toString())).toBe(`${r.partition}-${r.offset}`);
    expect(got[0]).toMatchObject({ topic, key: null, headers: {} });
    expect(c.position({ topic, partition: 1 })).toBe(700);
  });

  test('explicit commit; a new consumer of the group resumes at the committed offsets', async () => {
    const topic = 'cc-commit';
    await createTopic(topic, 2);
    await Promise.all([produce(topic, 0, 100), produce(topic, 1, 100)]);
    const first = consumer({ groupId: 'cc-commit', autoCommit: false, maxPollRecords: 30 });
    await first.subscribe([topic]);
    const head = await pollUntil(first, 50);
    await first.commit();
    const positions = [0, 1].map((p) => first.position({ topic, partition: p })!);
    expect(positions[0]! + positions[1]!).toBe(head.length);
    const committed = (await cluster.http.get(`${cluster.brokerUrl(2)}/groups/cc-commit/offsets`)).data.offsets;
    expect(committed.filter((o: { offset: number }) => o.offset > 0)).toEqual(
      [0, 1].filter((p) => positions[p]! > 0).map((p) => expect.objectContaining({ topic, partition: p, offset: positions[p] })),
    );
    await first.close(); // no auto-commit: only the explicit commit counts

    const second = consumer({ groupId: 'cc-commit' });
    await second.subscribe([topic]);
    const rest = await pollUntil(second, 200 - head.length);
    for (const p of [0, 1]) {
      expect(offsetsOf(head, p)).toEqual(range(0, positions[p]!));
      expect(offsetsOf(rest, p)).toEqual(range(positions[p]!, 100));
    }
  });

  test('manual assign: explicit offsets, committed offsets of a group, and latest by default', async () => {
    const topic = 'cc-assign';
    await createTopic(topic, 2);
    await Promise.all([produce(topic, 0, 50), produce(topic, 1, 50)]);
    const fromOffset = consumer();
    fromOffset.assign([{ topic, partition: 1, offset: 20 }]);
    expect(offsetsOf(await pollUntil(fromOffset, 30), 1)).toEqual(range(20, 50));

    const latest = consumer({ autoOffsetReset: 'latest' });
    latest.assign([{ topic, partition: 0 }]);
    await waitFor(() => latest.position({ topic, partition: 0 }) === 50);
    await produce(topic, 0, 5);
    expect(offsetsOf(await pollUntil(latest, 5), 0)).toEqual(range(50, 55));

    // A group without members: commits carry no member, and an assign() consumer starts from them.
    const committer = consumer({ groupId: 'cc-assign-manual' });
    committer.assign([{ topic, partition: 0, offset: 0 }]);
    await committer.commit([{ topic, partition: 0, offset: 42 }]);
    const resumed = consumer({ groupId: 'cc-assign-manual' });
    resumed.assign([{ topic, partition: 0 }]);
    expect(offsetsOf(await pollUntil(resumed, 13), 0)).toEqual(range(42, 55));
  });

  test('seek moves the position back and forth; a paused partition yields nothing until resumed', async () => {
    const topic = 'cc-seek';
    await createTopic(topic, 2);
    await Promise.all([produce(topic, 0, 100), produce(topic, 1, 100)]);
    const c = consumer();
    c.assign([
      { topic, partition: 0, offset: 0 },
      { topic, partition: 1, offset: 0 },
    ]);
    await pollUntil(c, 200);
    c.seek({ topic, partition: 0, offset: 90 });
    c.seek({ topic, partition: 1, offset: 10 });
    expect(c.position({ topic, partition: 0 })).toBe(90);
    const again = await pollUntil(c, 100);
    expect(offsetsOf(again, 0)).toEqual(range(90, 100));
    expect(offsetsOf(again, 1)).toEqual(range(10, 100));

    c.pause([{ topic, partition: 0 }]);
    expect(c.paused()).toEqual([{ topic, partition: 0 }]);
    await Promise.all([produce(topic, 0, 5), produce(topic, 1, 5)]);
    const whilePaused = await pollUntil(c, 5);
    expect(offsetsOf(whilePaused, 0)).toEqual([]);
    expect(await c.poll(300)).toEqual([]);
    c.resume([{ topic, partition: 0 }]);
    expect(offsetsOf(await pollUntil(c, 5), 0)).toEqual(range(100, 105));
  });

  test('a compacted topic: the latest record of every key at its offset, and nothing before the position', async () => {
    const topic = 'cc-compacted';
    // 1 KiB segments roll every few requests, so the cleaner has inactive segments to compact.
    await admin.createTopic({
      topic,
      partitions: 1,
      replicationFactor: 3,
      configs: { 'cleanup.policy': 'compact', 'segment.bytes': 1024, 'min.cleanable.dirty.ratio': '0.01' },
    });
    await cluster.waitForLeaders(topic, 1);
    const keys = ['a', 'b', 'c', 'd', 'e'];
    for (let round = 0; round < 20; round++) {
      const answer = await cluster.http.post(`${cluster.brokerUrl(1)}/events`, {
        topic,
        records: keys.map((key) => ({ key, partition: 0, value: `${key}-${round}` })),
      });
      expect(answer.status).toBe(200);
    }
    const readAll = async (offset: number): Promise<ConsumerRecord[]> => {
      const c = consumer();
      c.assign([{ topic, partition: 0, offset }]);
      const out: ConsumerRecord[] = [];
      while (out.length === 0 || out[out.length - 1]!.offset < 99) out.push(...(await c.poll(200)));
      await c.close();
      return out;
    };
    await waitFor(async () => {
      const res = await cluster.http.get(`${cluster.brokerUrl(1)}/topics/${topic}/partitions/0/records`, { params: { offset: 0, max_records: 1000 } });
      return res.data.records.length < 100;
    }, 30_000);

    const records = await readAll(0);
    expect(records.length).toBeLessThan(100);
    const offsets = records.map((r) => r.offset);
    expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
    expect(new Set(offsets).size).toBe(offsets.length);
    const latest = new Map(records.map((r) => [r.key!.toString(), JSON.parse(r.value!.toString())]));
    expect(Object.fromEntries(latest)).toEqual(Object.fromEntries(keys.map((k) => [k, `${k}-19`])));
    // Every record read is where it was written: round r, key i sits at offset 5r + i.
    for (const r of records) expect(JSON.parse(r.value!.toString())).toBe(`${keys[r.offset % 5]}-${Math.floor(r.offset / 5)}`);

    // A position inside a cleaned batch: records before it are skipped, the rest come in order.
    const fromMiddle = await readAll(37);
    expect(fromMiddle.map((r) => r.offset)).toEqual(offsets.filter((o) => o >= 37));
  });

  test('rebalance callbacks: the old owner commits and runs onPartitionsRevoked before the new owner is given the partitions', async () => {
    const topic = 'cc-rebalance';
    await createTopic(topic, 4);
    for (let p = 0; p < 4; p++) await produce(topic, p, 10);
    const events: string[] = [];
    const startedAt = new Map<number, number | undefined>();
    // a auto-commits only on revocation here (its interval is far off), so b's positions show a's commit.
    const a = consumer({
      groupId: 'cc-rebalance',
      autoCommitIntervalMs: 600_000,
      onPartitionsAssigned: (tps: TopicPartition[]) => void events.push(`a assigned ${tpList(tps)}`),
      onPartitionsRevoked: async (tps: TopicPartition[]) => {
        await new Promise((r) => setTimeout(r, 1200)); // slow work, longer than b's heartbeat interval
        events.push(`a revoked ${tpList(tps)}`);
      },
    });
    const b = consumer({
      groupId: 'cc-rebalance',
      onPartitionsAssigned: (tps: TopicPartition[]) => {
        events.push(`b assigned ${tpList(tps)}`);
        for (const tp of tps) startedAt.set(tp.partition, b.position(tp));
      },
      onPartitionsRevoked: (tps: TopicPartition[]) => void events.push(`b revoked ${tpList(tps)}`),
    });
    await a.subscribe([topic]);
    expect(events).toEqual(['a assigned 0,1,2,3']);
    await pollUntil(a, 40);
    await a.poll(0); // asking for more marks the records handed out so far processed
    expect((await cluster.http.get(`${cluster.brokerUrl(1)}/groups/cc-rebalance/offsets`)).data.offsets).toEqual([]);

    await b.subscribe([topic]);
    // onPartitionsAssigned runs once b knows the positions, a little after its assignment changed.
    await waitFor(() => events.some((e) => e.startsWith('b assigned')));
    expect(a.assignment()).toHaveLength(2);
    expect(b.assignment()).toHaveLength(2);
    expect(tpList([...a.assignment(), ...b.assignment()])).toEqual([0, 1, 2, 3]);
    const moved = tpList(b.assignment());
    // The coordinator gives b the partitions only once a acknowledged their revocation, which a does
    // after committing them and finishing its callback, however long that takes.
    expect(events).toEqual(['a assigned 0,1,2,3', `a revoked ${moved}`, `b assigned ${moved}`]);
    expect(moved.map((p) => startedAt.get(p))).toEqual(moved.map(() => 10));
    await b.close();
    expect(events[3]).toBe(`b revoked ${moved}`);
    await waitFor(() => events.length === 5);
    expect(events[4]).toBe(`a assigned ${moved}`);
    expect(a.assignment()).toHaveLength(4);
  });

  /** A consumer in a child process (the built client), whose stdout lines are collected. */
  class ConsumerProcess {
    readonly child: ChildProcess;
    readonly lines: string[] = [];
    readonly records = new Map<number, number[]>();
    private partial = '';
    exited: Promise<number | null>;

    constructor(group: string, topic: string) {
      this.child = spawn(process.execPath, [CONSUMER_PROCESS, cluster.controllerUrl, group, topic, '100'], { stdio: ['ignore', 'pipe', 'inherit'] });
      this.child.stdout!.on('data', (chunk: Buffer) => {
        const text = this.partial + chunk.toString();
        const lines = text.split('\n');
        this.partial = lines.pop()!;
        for (const line of lines) {
          this.lines.push(line);
          const m = /^record (\d+) (\d+)$/.exec(line);
          if (m) {
            const p = Number(m[1]);
            if (!this.records.has(p)) this.records.set(p, []);
            this.records.get(p)!.push(Number(m[2]));
          }
        }
      });
      this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    }

    get count(): number {
      return [...this.records.values()].reduce((n, list) => n + list.length, 0);
    }

    /** The partitions it owns now, from its assigned and revoked lines. */
    owned(): number[] {
      const owned = new Set<number>();
      for (const line of this.lines) {
        const m = /^(assigned|revoked) (.*)$/.exec(line);
        if (!m) continue;
        for (const tp of m[2]!.split(',').filter(Boolean)) {
          const p = Number(tp.split(':')[1]);
          if (m[1] === 'assigned') owned.add(p);
          else owned.delete(p);
        }
      }
      return [...owned].sort((x, y) => x - y);
    }
  }

  /**
   * Consumer A (a child process) reads a 6-partition topic alone; B (another process) joins and takes half
   * while records keep coming and A keeps reading; then A is stopped with `signal`, records still coming;
   * B ends up with every partition. Answers what each read per partition and the offsets committed right
   * after A stopped.
   */
  async function handover(name: string, signal: 'SIGTERM' | 'SIGKILL') {
    const partitions = 6;
    await createTopic(name, partitions);
    const produced = new Array<number>(partitions).fill(0);
    const produceRound = async (perPartition: number) => {
      await Promise.all(range(0, partitions).map((p) => produce(name, p, perPartition)));
      for (let p = 0; p < partitions; p++) produced[p]! += perPartition;
    };
    const committedOffsets = async () => {
      const { offsets } = (await cluster.http.get(`${cluster.brokerUrl(1)}/groups/${name}/offsets`)).data as { offsets: Array<{ partition: number; offset: number }> };
      return new Map(offsets.map((o) => [o.partition, o.offset]));
    };
    await produceRound(500);

    const a = new ConsumerProcess(name, name);
    let b: ConsumerProcess | undefined;
    let producing = true;
    const produceUntilStopped = (async () => {
      while (producing) {
        await produceRound(50);
        await new Promise((r) => setTimeout(r, 50)); // a steady trickle, not a flood
      }
    })();
    produceUntilStopped.catch(() => undefined); // its failure surfaces where it is awaited
    try {
      await waitFor(() => a.count >= 500 * partitions, { timeoutMs: 30_000 });
      expect(a.owned()).toEqual(range(0, partitions));

      b = new ConsumerProcess(name, name);
      await waitFor(() => a.owned().length === 3 && b!.owned().length === 3, { timeoutMs: 20_000 });
      expect([...a.owned(), ...b.owned()].sort((x, y) => x - y)).toEqual(range(0, partitions));
      const keptByA = a.owned();

      const before = a.count;
      await waitFor(() => a.count > before && b!.count > 0, { timeoutMs: 30_000 });
      a.child.kill(signal);
      const exitCode = await a.exited;
      const committedAtStop = await committedOffsets();
      producing = false;
      await produceUntilStopped;
      for (let round = 0; round < 3; round++) await produceRound(50); // after A stopped
      await waitFor(() => b!.owned().length === partitions, { timeoutMs: 20_000 });
      await waitFor(() => range(0, partitions).every((p) => b!.records.get(p)?.at(-1) === produced[p]! - 1), { timeoutMs: 30_000 });
      return { a, b, produced, keptByA, exitCode, committedAtStop };
    } finally {
      producing = false;
      await produceUntilStopped.catch(() => undefined);
      a.child.kill('SIGKILL');
      b?.child.kill('SIGKILL');
    }
  }

  test('group handover between two consumer processes, A closed: every record consumed once, none skipped', async () => {
    const { a, b, produced, exitCode } = await handover('cc-handover-close', 'SIGTERM');
    expect(exitCode).toBe(0);
    expect(a.lines.at(-1)).toBe('closed');
    for (let p = 0; p < produced.length; p++) {
      const fromA = a.records.get(p) ?? [];
      const fromB = b.records.get(p) ?? [];
      // Each reads in order from where the group's commit left it. A committed what it handed out before
      // acknowledging the revocation at B's join, and again before leaving; B is given a partition only
      // after that, so it starts exactly after A's last record: nothing skipped, nothing read twice.
      expect(fromA).toEqual(range(0, fromA.length));
      expect(fromB).toEqual(range(fromA.length, produced[p]!));
    }
  });

  test('group handover between two consumer processes, A killed (-9): B resumes at the committed offsets, nothing skipped', async () => {
    const { a, b, produced, keptByA, committedAtStop } = await handover('cc-handover-kill', 'SIGKILL');
    for (let p = 0; p < produced.length; p++) {
      const fromA = a.records.get(p) ?? [];
      const fromB = b.records.get(p) ?? [];
      expect(fromA).toEqual(range(0, fromA.length));
      const first = fromB[0]!;
      expect(fromB).toEqual(range(first, produced[p]!));
      if (!keptByA.includes(p)) {
        // Moved at B's join, while A was reading: A committed it before acknowledging, an exact handover.
        expect(first).toBe(fromA.length);
        continue;
      }
      // B starts at A's last commit (which may have landed just after the kill), never after A's last
      // record: the records read twice are only those A handed out after its last commit (at-least-once).
      expect(first).toBeGreaterThanOrEqual(committedAtStop.get(p)!);
      expect(first).toBeLessThanOrEqual(fromA.length);
    }
  });

  // Last: it kills a broker.
  test('a partition leader killed (-9) while consuming: the consumer follows the new leaders and skips nothing', async () => {
    const topic = 'cc-failover';
    await createTopic(topic, 3);
    await Promise.all([0, 1, 2].map((p) => produce(topic, p, 300)));
    const c = consumer({ groupId: 'cc-failover', autoCommitIntervalMs: 100, retryBackoffMs: 50 });
    await c.subscribe([topic]);
    const got = await pollUntil(c, 900);
    const leaderOf = async (p: number) => {
      const { partitions } = (await cluster.http.get(`${cluster.controllerUrl}/topic/${topic}`)).data as { partitions: Array<{ partition: number; leader: number }> };
      return partitions.find((x) => x.partition === p)!.leader;
    };
    const victim = await leaderOf(0);
    const live = [1, 2, 3].find((id) => id !== victim)!;
    await cluster.signalBroker(victim, 'SIGKILL');
    await waitFor(async () => {
      const leader = await leaderOf(0);
      return leader !== victim && leader > 0;
    }, { timeoutMs: 20_000 });
    await waitFor(async () => {
      for (const p of [0, 1, 2]) if ((await cluster.http.get(`${cluster.brokerUrl(live)}/topics/${topic}/partitions/${p}/offsets`)).status !== 200) return false;
      return true;
    });
    await Promise.all([0, 1, 2].map((p) => produce(topic, p, 100, live)));
    const deadline = Date.now() + 30_000;
    const seen = () => [0, 1, 2].every((p) => new Set(offsetsOf(got, p)).size === 400);
    while (!seen() && Date.now() < deadline) got.push(...(await c.poll(200)));
    for (const p of [0, 1, 2]) {
      const offsets = offsetsOf(got, p);
      expect(new Set(offsets)).toEqual(new Set(range(0, 400)));
      // In order; a step back (a rejoin after the coordinator moved) re-reads, a step forward never skips.
      offsets.forEach((o, i) => i > 0 && expect(o).toBeLessThanOrEqual(offsets[i - 1]! + 1));
    }
  });
});
