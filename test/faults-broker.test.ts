import {
  AckProducer,
  batchAt,
  batchesWithEpoch,
  processState,
  queuedBytesAt,
  readPartition,
  waitFor,
  waitForHealed,
  waitForIsr,
  type Ack,
  type Attempt,
  type PartitionState,
} from './harness/faultkit';
import {
  FAULT_ENV,
  FAULT_REPLICA_LAG_TIME_MAX_MS,
  FAULT_SESSION_TIMEOUT_MS,
  finishScenario,
  logFigures,
  startProducer,
  stopAllProducers,
  warmUp,
} from './harness/faultScenario';
import { TestCluster } from './harness/TestCluster';

jest.setTimeout(90_000);

/**
 * Broker faults under acks=all load: kill -9 and SIGSTOP of leaders and followers. Every scenario ends
 * with finishScenario: every acknowledged record read back once at its offset, offsets gap-free, replicas
 * byte-identical up to the high watermark once the cluster has healed.
 */
describe('broker faults under acks=all load', () => {
  let cluster: TestCluster;
  const topics: string[] = [];

  beforeAll(async () => {
    cluster = await TestCluster.start({ sessionTimeoutMs: FAULT_SESSION_TIMEOUT_MS, env: FAULT_ENV });
    await cluster.brook.brokers();
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  /** A fresh topic for the scenario, after the previous scenarios' topics are healed. */
  async function scenarioTopic(name: string, partitions: number, configs?: Record<string, string>): Promise<string> {
    if (topics.length) await waitForHealed(cluster.brook, topics, { timeoutMs: 30_000 });
    await cluster.brook.createTopic(name, partitions, { configs });
    topics.push(name);
    return name;
  }

  async function partition(topic: string, p: number): Promise<PartitionState> {
    return cluster.brook.partition(topic, p);
  }

  /** Waits until the controller shows a leader for `topic-p` other than `oldLeader`, in a newer epoch. */
  async function newLeader(topic: string, p: number, oldLeader: number, oldEpoch: number, timeoutMs = FAULT_SESSION_TIMEOUT_MS + 10_000) {
    return waitFor(
      async () => {
        const s = await partition(topic, p);
        return s.leader >= 0 && s.leader !== oldLeader && s.leaderEpoch > oldEpoch && s;
      },
      { timeoutMs, what: `a new leader of ${topic}-${p} (was ${oldLeader} in epoch ${oldEpoch})` },
    );
  }

  /** Waits until broker `id` runs under a pid other than `oldPid` and is active. */
  async function restarted(id: number, oldPid: number) {
    return waitFor(
      async () => {
        const b = (await cluster.brook.processes()).find((x) => x.id === id);
        return b && b.pid && b.pid !== oldPid && b.state === 'active' && b.process === 'running' && b;
      },
      { timeoutMs: 30_000, what: `broker ${id} restarted after pid ${oldPid}` },
    );
  }

  test('kill -9 of the leader, three times in a row, following the leader: nothing acknowledged is lost', async () => {
    const topic = await scenarioTopic('kill-leader', 3);
    const producer = startProducer(cluster, topic, 3);
    await warmUp(producer);
    const failovers: number[] = [];
    const epochs: number[] = [];
    for (let round = 0; round < 3; round++) {
      const before = await partition(topic, 0);
      epochs.push(before.leaderEpoch);
      const victim = before.leader;
      const pid = await cluster.brokerPid(victim);
      const killedAt = Date.now();
      cluster.signalPid(pid, 'SIGKILL');
      const after = await newLeader(topic, 0, victim, before.leaderEpoch);
      const ack = await producer.waitForAck(killedAt, { partition: 0, timeoutMs: 20_000 });
      failovers.push(ack.ackAt - killedAt);
      expect(after.isr).toContain(after.leader);
      // The victim comes back (restarted by the controller), catches up and rejoins the ISR before the next round.
      await restarted(victim, pid);
      await waitForIsr(cluster.brook, topic, { full: true, timeoutMs: 30_000 });
    }
    const final = await partition(topic, 0);
    expect(final.leaderEpoch).toBeGreaterThan(epochs[epochs.length - 1]!);
    const { report, replicas } = await finishScenario(cluster, topic, [producer]);
    expect(report.acknowledged).toBeGreaterThan(0);
    logFigures('kill leader x3', {
      failoverMs: failovers,
      acknowledged: report.acknowledged,
      survivedUnacknowledged: report.survivedUnacknowledged,
      epochs: [...epochs, final.leaderEpoch],
      highWatermarks: replicas.map((r) => r.highWatermark),
      producer: producer.summary(),
    });
  });

  test('kill -9 of a follower: it restarts, truncates by epoch, catches up and rejoins the ISR', async () => {
    const topic = await scenarioTopic('kill-follower', 3);
    const producer = startProducer(cluster, topic, 3);
    await warmUp(producer);
    const before = await partition(topic, 0);
    const victim = before.replicas.find((id) => id !== before.leader)!;
    const pid = await cluster.brokerPid(victim);
    const killedAt = Date.now();
    cluster.signalPid(pid, 'SIGKILL');
    await restarted(victim, pid);
    const restartedAt = Date.now();
    await waitForIsr(cluster.brook, topic, { full: true, timeoutMs: 20_000 });
    const rejoinedAt = Date.now();
    // Writes kept going (the partition it followed never lost its leader) and still do.
    await producer.waitForAck(rejoinedAt, { partition: 0 });
    expect(producer.ackedSince(killedAt, 0).length).toBeGreaterThan(0);
    const { report } = await finishScenario(cluster, topic, [producer]);
    logFigures('kill follower', {
      restartMs: restartedAt - killedAt,
      rejoinIsrMs: rejoinedAt - killedAt,
      acknowledged: report.acknowledged,
      producer: producer.summary(),
    });
  });

  test('SIGSTOP of a follower past the lag time: the ISR shrinks, acks=all writes go on, and it rejoins after SIGCONT', async () => {
    const topic = await scenarioTopic('stop-follower', 1);
    const producer = startProducer(cluster, topic, 1);
    await warmUp(producer);
    const before = await partition(topic, 0);
    const victim = before.replicas.find((id) => id !== before.leader)!;
    const pid = await cluster.brokerPid(victim);
    const stoppedAt = Date.now();
    cluster.signalPid(pid, 'SIGSTOP');
    let shrunkAt = 0;
    let victimState = '';
    try {
      const shrunk = await waitForIsr(cluster.brook, topic, { excludes: victim, timeoutMs: FAULT_REPLICA_LAG_TIME_MAX_MS + 10_000 });
      shrunkAt = Date.now();
      victimState = (await cluster.brook.brokers()).find((b) => b.id === victim)!.state;
      expect(shrunk[0]!.isr).toHaveLength(2);
      expect(shrunk[0]!.leader).toBe(before.leader);
      // acks=all writes succeed with the ISR at 2 (min.insync.replicas 2) while the follower is still stopped.
      await producer.waitForAck(shrunkAt, { partition: 0, timeoutMs: 10_000 });
      expect(processState(pid)).toBe('T');
    } finally {
      cluster.signalPid(pid, 'SIGCONT');
    }
    const resumedAt = Date.now();
    await waitForIsr(cluster.brook, topic, { full: true, timeoutMs: 20_000 });
    const rejoinedAt = Date.now();
    // The shrink came from the leader's lag check, not from the broker being fenced.
    expect(shrunkAt - stoppedAt).toBeGreaterThanOrEqual(FAULT_REPLICA_LAG_TIME_MAX_MS - 100);
    const { report } = await finishScenario(cluster, topic, [producer]);
    logFigures('stop follower', {
      isrShrinkMs: shrunkAt - stoppedAt,
      victimStateAtShrink: victimState,
      rejoinAfterSigcontMs: rejoinedAt - resumedAt,
      acknowledged: report.acknowledged,
      producer: producer.summary(),
    });
    expect(victimState).toBe('active');
  });

  test('SIGSTOP of the leader past the session timeout: a new leader takes over, the old one is deposed and nothing it appended survives', async () => {
    const topic = await scenarioTopic('stop-leader', 1);
    const producer = startProducer(cluster, topic, 1);
    await warmUp(producer);
    const before = await partition(topic, 0);
    const oldLeader = before.leader;
    const oldPort = cluster.brokerPorts[oldLeader - 1]!;
    const pid = await cluster.brokerPid(oldLeader);
    const stoppedAt = Date.now();
    cluster.signalPid(pid, 'SIGSTOP');
    const extraAcked: Ack[] = [];
    const extraAttempts = new Map<string, Attempt>();
    let electedAt = 0;
    let after: PartitionState;
    let stale: Promise<Awaited<ReturnType<typeof cluster.brook.produce>>>;
    const staleValue = `${topic}:stale-direct`;
    let staleSentAt = 0;
    try {
      after = await newLeader(topic, 0, oldLeader, before.leaderEpoch, FAULT_SESSION_TIMEOUT_MS + 10_000);
      electedAt = Date.now();
      expect((await cluster.brook.brokers()).find((b) => b.id === oldLeader)!.state).toBe('fenced');
      // The producer follows to the new leader.
      await producer.waitForAck(stoppedAt, { partition: 0, notFrom: oldLeader, timeoutMs: 20_000 });
      // A produce sent straight to the old leader while it is stopped: it reaches its socket and is read
      // the moment it resumes, before or while it learns it was deposed.
      const queuedBefore = queuedBytesAt(oldPort) ?? 0;
      staleSentAt = Date.now();
      extraAttempts.set(staleValue, { partition: 0, status: 'pending', brokerId: oldLeader, sentAt: staleSentAt });
      stale = cluster.brook.produce(topic, [{ partition: 0, value: staleValue }], { brokerId: oldLeader, acks: 'all', timeoutMs: 20_000 });
      await waitFor(() => (queuedBytesAt(oldPort) ?? Infinity) > queuedBefore, { timeoutMs: 5_000, what: 'the request queued at the stopped leader' });
    } finally {
      cluster.signalPid(pid, 'SIGCONT');
    }
    const resumedAt = Date.now();
    const staleAnswer = await stale!;
    // Recorded like the producer's own requests, so verification holds it to the same rules.
    const tracker = new AckProducer(cluster.brook, { topic, partitions: [0], tag: 'direct' });
    tracker.track(0, [staleValue], staleAnswer.status === 0 ? { status: 0, kind: staleAnswer.kind } : staleAnswer, oldLeader, staleSentAt);
    extraAcked.push(...tracker.acked);
    for (const [k, v] of tracker.attempts) extraAttempts.set(k, v);

    // The old leader comes back as a follower of the new one and rejoins the ISR.
    await waitForIsr(cluster.brook, topic, { full: true, timeoutMs: 20_000 });
    const deposed = await partition(topic, 0);
    expect(deposed.leader).not.toBe(oldLeader);
    const { report } = await finishScenario(cluster, topic, [producer], { acked: extraAcked, attempts: extraAttempts });

    // Acknowledgements the old leader gave after the new leader was elected are safe only for records the
    // new leader's log holds: forwarded to it (a batch of the new epoch), or replicated to it before the
    // election (a batch of the old epoch below the new epoch's start offset). Anything it appended under
    // its old epoch after that point must be gone from every replica.
    const newEpoch = after!.leaderEpoch;
    const leaderNow = (await partition(topic, 0)).leader;
    const newEpochStart = Math.min(
      ...batchesWithEpoch(cluster.dataDir, 'default', leaderNow, topic, 0, newEpoch).map((b) => b.baseOffset),
      Number.MAX_SAFE_INTEGER,
    );
    const fromOld = [...producer.acked, ...extraAcked]
      .filter((a) => a.brokerId === oldLeader && a.ackAt >= electedAt)
      .map((a) => ({ offset: a.offset, sentMs: a.sentAt - stoppedAt, ackMsAfterSigcont: a.ackAt - resumedAt, batch: batchAt(cluster.dataDir, 'default', leaderNow, topic, 0, a.offset) }));
    for (const a of fromOld) {
      expect(a.batch).toBeDefined();
      if (a.batch!.epoch < newEpoch) expect(a.batch!.lastOffset).toBeLessThan(newEpochStart);
    }
    for (const id of deposed.replicas) {
      for (const b of batchesWithEpoch(cluster.dataDir, 'default', id, topic, 0, before.leaderEpoch)) {
        expect(b.lastOffset).toBeLessThan(newEpochStart);
      }
    }
    logFigures('stop leader', {
      electionMs: electedAt - stoppedAt,
      failoverMs: (await producer.waitForAck(stoppedAt, { partition: 0, notFrom: oldLeader })).ackAt - stoppedAt,
      staleDirectProduce: { status: staleAnswer.status, code: staleAnswer.data?.error?.code ?? staleAnswer.kind, afterSigcontMs: Date.now() - resumedAt },
      acksFromOldLeaderAfterElection: fromOld,
      newEpochStart,
      epochs: [before.leaderEpoch, newEpoch],
      acknowledged: report.acknowledged,
      survivedUnacknowledged: report.survivedUnacknowledged,
      producer: producer.summary(),
    });
    // The direct produce to the deposed leader was refused or never acknowledged, unless the old leader
    // had already learned of the new one and forwarded it (then its batch is in the new epoch, checked above).
    if (staleAnswer.status === 200) {
      const off = staleAnswer.data.offsets[0].offset;
      expect(batchAt(cluster.dataDir, 'default', leaderNow, topic, 0, off)!.epoch).toBeGreaterThanOrEqual(newEpoch);
    }
  });

  test.each([
    ['SIGSTOP', 'stopped past the session timeout, then resumed'],
    ['SIGKILL', 'killed and restarted'],
  ] as const)('a deposed leader (%s: %s) with a tail nobody else has (acks=1, never replicated) truncates it by leader epoch', async (sig: 'SIGSTOP' | 'SIGKILL', _how: string) => {
    const topic = await scenarioTopic(`diverge-${sig.toLowerCase()}`, 1);
    const warm = await cluster.brook.produce(topic, Array.from({ length: 20 }, (_, i) => ({ partition: 0, value: `${topic}:warm:${i}` })), { acks: 'all' });
    expect(warm.status).toBe(200);
    const before = await partition(topic, 0);
    const oldLeader = before.leader;
    const followers = before.replicas.filter((id) => id !== oldLeader);
    const followerPids = await Promise.all(followers.map((id) => cluster.brokerPid(id)));
    const leaderPid = await cluster.brokerPid(oldLeader);
    const oldPort = cluster.brokerPorts[oldLeader - 1]!;
    const acked: Ack[] = [];
    const attempts = new Map<string, Attempt>();
    const tracker = new AckProducer(cluster.brook, { topic, partitions: [0], tag: 'direct' });
    const send = async (values: string[], acks: 'all' | '1', brokerId: number) => {
      const sentAt = Date.now();
      const res = await cluster.brook.produce(topic, values.map((value) => ({ partition: 0, value })), { brokerId, acks });
      tracker.track(0, values, res.status === 0 ? { status: 0, kind: res.kind } : res, brokerId, sentAt);
      return res;
    };
    const warmValues = Array.from({ length: 20 }, (_, i) => `${topic}:warm:${i}`);
    warm.data.offsets.forEach((o: { offset: number }, i: number) => acked.push({ partition: 0, offset: o.offset, value: warmValues[i]!, brokerId: oldLeader, sentAt: 0, ackAt: 0 }));
    for (const v of warmValues) attempts.set(v, { partition: 0, status: 'acked', brokerId: oldLeader, sentAt: 0 });

    const divergent = Array.from({ length: 3 }, (_, r) => Array.from({ length: 5 }, (_, i) => `${topic}:divergent:${r}:${i}`));
    let electedAt = 0;
    let leaderStoppedAt = 0;
    let after: PartitionState;
    try {
      for (const pid of followerPids) cluster.signalPid(pid, 'SIGSTOP');
      // The leader has read every fetch the followers sent before they stopped ...
      await waitFor(() => queuedBytesAt(oldPort) === 0, { timeoutMs: 5_000, what: `broker ${oldLeader} to read its sockets` });
      // ... and a held fetch, if any, is answered now, with this record: after it no fetch is outstanding.
      const sentinel = await send([`${topic}:sentinel`], '1', oldLeader);
      expect(sentinel.status).toBe(200);
      for (const values of divergent) expect((await send(values, '1', oldLeader)).status).toBe(200);
      expect((await partition(topic, 0)).isr).toHaveLength(3); // all of this well within the lag time
      // The followers are still stopped: a SIGKILLed leader is fenced at once and a (stopped) follower is
      // elected; a SIGSTOPped one is fenced when its session expires, with the followers running again.
      cluster.signalPid(leaderPid, sig);
      leaderStoppedAt = Date.now();
      for (const pid of followerPids) cluster.signalPid(pid, 'SIGCONT');
      after = await newLeader(topic, 0, oldLeader, before.leaderEpoch, FAULT_SESSION_TIMEOUT_MS + 10_000);
      electedAt = Date.now();
      // The new leader writes over the offsets of the old leader's tail, in the new epoch.
      for (let r = 0; r < 4; r++) {
        const values = Array.from({ length: 5 }, (_, i) => `${topic}:new-epoch:${r}:${i}`);
        const res = await send(values, 'all', after.leader);
        expect(res.status).toBe(200);
      }
    } finally {
      for (const pid of [...followerPids, leaderPid]) cluster.signalPid(pid, 'SIGCONT');
    }
    const resumedAt = Date.now();
    await waitForIsr(cluster.brook, topic, { full: true, timeoutMs: 20_000 });
    const rejoinedMs = Date.now() - resumedAt;
    acked.push(...tracker.acked.filter((a) => !a.value.includes(':divergent:') && !a.value.includes(':sentinel')));
    for (const [k, v] of tracker.attempts) {
      // acks=1 promises the leader's append only: these records may be gone after a failover.
      attempts.set(k, v.status === 'acked' && !k.includes(':new-epoch:') ? { ...v, status: 'unknown' } : v);
    }
    const { report } = await finishScenario(cluster, topic, [], { acked, attempts });
    // The old leader's divergent tail is gone everywhere: the new leader never had it, and the old leader
    // truncated it before following (its log is byte-identical to the others, checked above).
    const log = await cluster.brook.offsets(topic, 0);
    const all = await readPartition(cluster.brook.http, cluster.brook.brokerUrl((await partition(topic, 0)).leader), topic, 0);
    const values = new Set(all.records.map((r) => r.value));
    for (const group of divergent) for (const v of group) expect(values.has(v)).toBe(false);
    logFigures(`divergent tail (${sig})`, {
      electionMs: electedAt - leaderStoppedAt,
      rejoinIsrAfterSigcontMs: rejoinedMs,
      highWatermark: log.latest,
      acknowledged: report.acknowledged,
      survivedUnacknowledged: report.survivedUnacknowledged,
      truncationLogged: cluster
        .brokerLog(oldLeader, 1e9)
        .split('\n')
        .some((l) => l.includes('truncating divergent log tail') && l.includes(`"${topic}"`)),
    });
  });

  test('two of three brokers SIGSTOPped: acks=all writes are refused, never acknowledged; after SIGCONT they succeed again', async () => {
    const topic = await scenarioTopic('stop-two', 1);
    const producer = startProducer(cluster, topic, 1);
    await warmUp(producer);
    const before = await partition(topic, 0);
    const leader = before.leader;
    const victims = before.replicas.filter((id) => id !== leader);
    const pids = await Promise.all(victims.map((id) => cluster.brokerPid(id)));
    for (const pid of pids) cluster.signalPid(pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    let resumedAt = 0;
    let refusals: Record<string, number> = {};
    let direct: Awaited<ReturnType<typeof cluster.brook.produce>> | undefined;
    try {
      // The leader drops both followers from the ISR; acks=all writes are then refused up front.
      await waitForIsr(cluster.brook, topic, { size: 1, timeoutMs: FAULT_SESSION_TIMEOUT_MS + 10_000 });
      await waitFor(() => producer.requests.some((r) => r.sentAt >= stoppedAt && r.code === 'NOT_ENOUGH_REPLICAS'), {
        timeoutMs: 15_000,
        what: 'a NOT_ENOUGH_REPLICAS refusal',
      });
      const hwBefore = (await cluster.brook.offsets(topic, 0, leader)).latest;
      direct = await cluster.brook.produce(topic, [{ partition: 0, value: `${topic}:direct-refused` }], { brokerId: leader, acks: 'all' });
      const hwAfter = (await cluster.brook.offsets(topic, 0, leader)).latest;
      expect(direct.status).toBe(503);
      expect(direct.data.error.code).toBe('NOT_ENOUGH_REPLICAS');
      expect(hwAfter).toBe(hwBefore);
      refusals = {};
      for (const r of producer.requests) if (r.sentAt >= stoppedAt && r.status !== 200) refusals[r.code!] = (refusals[r.code!] ?? 0) + 1;
    } finally {
      for (const pid of pids) cluster.signalPid(pid, 'SIGCONT');
      resumedAt = Date.now();
    }
    // Nothing sent while two of three were stopped was acknowledged.
    const ackedWhileStopped = producer.acked.filter((a) => a.sentAt >= stoppedAt && a.sentAt < resumedAt);
    expect(ackedWhileStopped).toEqual([]);
    const ack = await producer.waitForAck(resumedAt, { partition: 0, timeoutMs: 30_000 });
    const extraAttempts = new Map<string, Attempt>([[`${topic}:direct-refused`, { partition: 0, status: 'refused', code: 'NOT_ENOUGH_REPLICAS', brokerId: leader, sentAt: stoppedAt }]]);
    const { report } = await finishScenario(cluster, topic, [producer], { attempts: extraAttempts });
    logFigures('stop two of three', {
      refusedWhileStopped: refusals,
      writableAgainAfterSigcontMs: ack.ackAt - resumedAt,
      acknowledged: report.acknowledged,
      producer: producer.summary(),
    });
  });

  afterEach(async () => {
    // A failed scenario must not leave a broker stopped for the next one.
    for (const pid of [...cluster.stoppedPids]) cluster.signalPid(pid, 'SIGCONT');
    await stopAllProducers();
  });
});
