import { AckProducer, isAlive, readPartition, waitFor, waitForHealed, type Ack, type Attempt, type PartitionState } from './harness/faultkit';
import { FAULT_ENV, FAULT_SESSION_TIMEOUT_MS, finishScenario, logFigures, startProducer, stopAllProducers, warmUp } from './harness/faultScenario';
import { TestCluster } from './harness/TestCluster';

jest.setTimeout(90_000);

/**
 * Controller faults: the controller killed and restarted (brokers keep serving, metadata intact), then
 * every process killed at once and the cluster started again (everything acknowledged is still there).
 */
describe('controller and whole-cluster faults', () => {
  let cluster: TestCluster;
  const topic = 'ctl';
  const strict = 'ctl-strict';
  /** Everything acknowledged since the start of the suite, checked again after every fault. */
  const producers: AckProducer[] = [];
  const extraAcked: Ack[] = [];
  const extraAttempts = new Map<string, Attempt>();

  beforeAll(async () => {
    cluster = await TestCluster.start({ sessionTimeoutMs: FAULT_SESSION_TIMEOUT_MS, env: FAULT_ENV });
    await cluster.brook.brokers();
    await cluster.brook.createTopic(topic, 3);
    await cluster.brook.createTopic(strict, 1, { configs: { 'min.insync.replicas': '3' } });
  });
  afterEach(async () => {
    await stopAllProducers();
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  const byPartition = (ps: PartitionState[]) => Object.fromEntries(ps.map((p) => [p.partition, p]));

  test('kill -9 of the controller: brokers keep serving produce and reads; after a restart the metadata is intact', async () => {
    const producer = startProducer(cluster, topic, 3, 'ctl-a');
    producers.push(producer);
    await warmUp(producer);
    const before: Record<string, Awaited<ReturnType<typeof cluster.brook.topic>>> = {
      [topic]: await cluster.brook.topic(topic),
      [strict]: await cluster.brook.topic(strict),
    };
    const clusterTopics = (await cluster.http.get(`${cluster.controllerUrl}/cluster/default`)).data.topics as string[];
    const pids = new Map((await cluster.brook.processes()).map((b) => [b.id, b.pid!]));
    expect(before[strict]!.configs['min.insync.replicas']).toBe('3');
    expect(before[topic]!.configs['min.insync.replicas'] ?? '2').toBe('2');

    const controllerPid = await cluster.killController();
    const killedAt = Date.now();
    expect(isAlive(controllerPid)).toBe(false);
    for (const pid of pids.values()) expect(isAlive(pid)).toBe(true);

    // While the controller is down (until every broker has noticed, and for longer than a session timeout):
    // acks=1 writes straight to each partition's leader, readable through every broker.
    const unreachable = (id: number) => cluster.brokerLog(id, 1e9).split('controller unreachable').length - 1;
    const noticedBefore = new Map([1, 2, 3].map((id) => [id, unreachable(id)]));
    const tracker = new AckProducer(cluster.brook, { topic, partitions: [0, 1, 2], tag: 'ctl-down' });
    let rounds = 0;
    while (rounds === 0 || Date.now() - killedAt < FAULT_SESSION_TIMEOUT_MS + 500 || [1, 2, 3].some((id) => unreachable(id) <= noticedBefore.get(id)!)) {
      expect(Date.now() - killedAt).toBeLessThan(30_000);
      for (const p of before[topic]!.partitions) {
        const values = [`ctl-down:${p.partition}:${rounds}:0`, `ctl-down:${p.partition}:${rounds}:1`];
        const sentAt = Date.now();
        const res = await cluster.brook.produce(topic, values.map((value) => ({ partition: p.partition, value })), { brokerId: p.leader, acks: '1' });
        expect({ partition: p.partition, status: res.status, data: res.data }).toEqual({ partition: p.partition, status: 200, data: expect.anything() });
        tracker.track(p.partition, values, res, p.leader, sentAt);
        const offset = res.data.offsets[1].offset;
        // Readable (the followers keep fetching, so the high watermark passes it) through any broker.
        const via = 1 + ((rounds + p.partition) % 3);
        await waitFor(
          async () => {
            const { records } = await readPartition(cluster.brook.http, cluster.brokerUrl(via), topic, p.partition, { from: offset });
            return records.some((r) => r.value === values[1]);
          },
          { timeoutMs: 10_000, what: `ctl-${p.partition}@${offset} read through broker ${via} with the controller down` },
        );
      }
      rounds++;
    }
    // With the ISR unchanged, acks=all writes go on too.
    const ackWhileDown = await producer.waitForAck(killedAt, { timeoutMs: 10_000 });
    expect(cluster.controllerRunning).toBe(false);
    const downMs = Date.now() - killedAt;

    await cluster.startController();
    const restartedAt = Date.now();
    // The restarted controller adopted the running brokers instead of starting new ones.
    for (const b of await cluster.brook.processes()) expect({ id: b.id, pid: b.pid }).toEqual({ id: b.id, pid: pids.get(b.id) });
    // Metadata intact: same topics, ids, configs, replicas; leaders kept; epochs never go back.
    const checkMetadata = async () => {
      for (const name of [topic, strict]) {
        const now = await cluster.brook.topic(name);
        expect(now.topicId).toBe(before[name]!.topicId);
        expect(now.configs).toEqual(before[name]!.configs);
        const was = byPartition(before[name]!.partitions);
        expect(now.partitions).toHaveLength(before[name]!.partitions.length);
        for (const p of now.partitions) {
          const b = was[p.partition]!;
          expect({ partition: p.partition, replicas: p.replicas, leader: p.leader }).toEqual({ partition: b.partition, replicas: b.replicas, leader: b.leader });
          expect(p.leaderEpoch).toBeGreaterThanOrEqual(b.leaderEpoch);
          expect(p.partitionEpoch).toBeGreaterThanOrEqual(b.partitionEpoch);
        }
      }
      const topicsNow = (await cluster.http.get(`${cluster.controllerUrl}/cluster/default`)).data.topics as string[];
      expect([...topicsNow].sort()).toEqual([...clusterTopics].sort());
    };
    await checkMetadata();
    // Every broker reconnects to the new controller: none is fenced once a whole session timeout has
    // passed since it started (a broker that did not reconnect would be fenced by then).
    await waitFor(
      async () => {
        const brokers = await cluster.brook.brokers();
        const fenced = brokers.filter((b) => b.state !== 'active');
        if (fenced.length) throw new Error(`brokers not active after the controller restart: ${JSON.stringify(fenced)}`);
        return Date.now() - cluster.controllerStartedAt > FAULT_SESSION_TIMEOUT_MS + 1000;
      },
      { timeoutMs: FAULT_SESSION_TIMEOUT_MS + 10_000, intervalMs: 100, what: 'the brokers to stay active through a session timeout' },
    );
    await checkMetadata();
    const ackAfter = await producer.waitForAck(restartedAt, { timeoutMs: 15_000 });

    extraAcked.push(...tracker.acked);
    for (const [k, v] of tracker.attempts) extraAttempts.set(k, v);
    const { report } = await finishScenario(cluster, topic, producers, { acked: extraAcked, attempts: extraAttempts });
    logFigures('controller kill -9', {
      controllerDownMs: downMs,
      acks1RoundsWhileDown: rounds,
      firstAcksAllWhileDownMs: ackWhileDown.ackAt - killedAt,
      firstAcksAllAfterRestartMs: ackAfter.ackAt - restartedAt,
      acknowledged: report.acknowledged,
      producer: producer.summary(),
    });
  });

  test('kill -9 of every process (controller and all brokers) and a restart: everything acknowledged is there', async () => {
    const producer = startProducer(cluster, topic, 3, 'ctl-b');
    producers.push(producer);
    await warmUp(producer);
    const strictWrite = await cluster.brook.produce(strict, [{ partition: 0, value: 'strict:0' }], { acks: 'all' });
    expect(strictWrite.status).toBe(200);
    const strictAcked = [{ partition: 0, offset: strictWrite.data.offsets[0].offset, value: 'strict:0', brokerId: strictWrite.brokerId, sentAt: 0, ackAt: 0 }];

    const old = await cluster.brook.processes();
    await cluster.killController();
    const killedAt = Date.now();
    for (const b of old) cluster.signalPid(b.pid!, 'SIGKILL');
    await waitFor(() => old.every((b) => !isAlive(b.pid!)), { timeoutMs: 5_000, what: 'every broker dead' });
    await producer.stop({ abandonAfterMs: 2_000 });

    await cluster.startController();
    const startedAt = Date.now();
    const now = await cluster.brook.processes();
    for (const b of now) expect(old.find((o) => o.id === b.id)!.pid).not.toBe(b.pid);
    await waitForHealed(cluster.brook, [topic, strict], { timeoutMs: 30_000 });
    const healedMs = Date.now() - startedAt;

    // Writes work again; then everything acknowledged since the suite began is checked.
    const after = startProducer(cluster, topic, 3, 'ctl-c');
    producers.push(after);
    await warmUp(after, 50);
    const { report } = await finishScenario(cluster, topic, producers, { acked: extraAcked, attempts: extraAttempts });
    const strictReport = await finishScenario(cluster, strict, [], {
      acked: strictAcked,
      attempts: new Map([['strict:0', { partition: 0, status: 'acked', brokerId: strictWrite.brokerId, sentAt: 0 } as Attempt]]),
    });
    expect(strictReport.report.readBack).toBe(1);
    logFigures('kill -9 everything', {
      restartToHealedMs: healedMs,
      downToHealedMs: Date.now() - killedAt,
      acknowledged: report.acknowledged,
      readBack: report.readBack,
      survivedUnacknowledged: report.survivedUnacknowledged,
    });
  });
});
