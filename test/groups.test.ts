import { GroupCoordinator } from '../packages/broker/src/group/GroupCoordinator';
import { TestCluster } from './harness/TestCluster';
import { waitFor } from './harness/waitFor';

jest.setTimeout(120_000);

interface Assignment {
  topic: string;
  partitions: number[];
}

/** A group member speaking the KIP-848 heartbeat over HTTP, as the client library will. */
class Member {
  memberId: string | undefined;
  memberEpoch = 0;
  assignment: Assignment[] = [];
  constructor(
    private readonly cluster: TestCluster,
    private readonly group: string,
    private readonly brokerId: number,
    private readonly topics: string[],
  ) {}

  /** Without `owned`, the heartbeat itself acknowledges what the last answer revoked. */
  async heartbeat(owned?: Assignment[]): Promise<void> {
    const res = await this.cluster.http.post(`${this.cluster.brokerUrl(this.brokerId)}/groups/${this.group}/heartbeat`, {
      memberId: this.memberId,
      memberEpoch: this.memberEpoch,
      subscribedTopics: this.memberEpoch === 0 ? this.topics : undefined,
      ownedTopicPartitions: owned,
    });
    if (res.status !== 200) throw new Error(`heartbeat: ${res.status} ${JSON.stringify(res.data)}`);
    this.memberId = res.data.memberId;
    this.memberEpoch = res.data.memberEpoch;
    this.assignment = res.data.assignment;
  }

  async leave(): Promise<void> {
    await this.cluster.http.post(`${this.cluster.brokerUrl(this.brokerId)}/groups/${this.group}/heartbeat`, { memberId: this.memberId, memberEpoch: -1 });
  }

  owned(): string[] {
    return this.assignment.flatMap((a) => a.partitions.map((p) => `${a.topic}-${p}`)).sort();
  }
}

describe('consumer groups', () => {
  let cluster: TestCluster;
  const topic = 'clicks';

  beforeAll(async () => {
    cluster = await TestCluster.start({ env: { BROOK_GROUP_SESSION_TIMEOUT_MS: '2000', BROOK_OFFSETS_TOPIC_PARTITIONS: '3' } });
    await cluster.createTopic(topic, 6);
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  /**
   * Heartbeats every member until their assignments cover `expected` partitions fully, disjointly and
   * evenly. A partition moves only after its old owner has given it up, so this takes a few rounds.
   */
  async function settle(members: Member[], expected: number): Promise<void> {
    await waitFor(
      async () => {
        for (const m of members) await m.heartbeat();
        const owned = members.flatMap((m) => m.owned());
        const counts = members.map((m) => m.owned().length);
        return owned.length === expected && new Set(owned).size === expected && Math.max(...counts) - Math.min(...counts) <= 1;
      },
      { timeoutMs: 15_000, what: 'a full, disjoint and even assignment' },
    );
  }

  test('three members share six partitions fully and disjointly; a dead member\'s partitions move', async () => {
    const members = [1, 2, 3].map((b) => new Member(cluster, 'spread', b, [topic]));
    await settle(members, 6);
    expect(members.map((m) => m.owned().length)).toEqual([2, 2, 2]);

    // Member 3 stops heartbeating; within the session timeout the other two own everything.
    const before = members.slice(0, 2).map((m) => m.owned());
    const started = Date.now();
    await settle(members.slice(0, 2), 6);
    expect(Date.now() - started).toBeLessThan(2000 + 3000);
    expect(members.slice(0, 2).map((m) => m.owned().length)).toEqual([3, 3]);
    // Sticky: the survivors kept what they had.
    members.slice(0, 2).forEach((m, i) => expect(m.owned()).toEqual(expect.arrayContaining(before[i]!)));

    const described = await cluster.http.get(`${cluster.brokerUrl(3)}/consumer-groups/spread`);
    expect(described.status).toBe(200);
    expect(described.data.members).toHaveLength(2);
    const listed = await cluster.http.get(`${cluster.brokerUrl(1)}/consumer-groups`);
    expect(listed.data.map((g: { groupId: string }) => g.groupId)).toContain('spread');
    for (const m of members.slice(0, 2)) await m.leave();
  });

  test('a revoked partition moves only once its holder\'s owned partitions no longer list it', async () => {
    const a = new Member(cluster, 'handover', 1, [topic]);
    const b = new Member(cluster, 'handover', 2, [topic]);
    await a.heartbeat([]);
    const everything = a.assignment;
    expect(a.owned()).toHaveLength(6);
    await b.heartbeat([]);
    const epoch = a.memberEpoch;
    await a.heartbeat(everything); // told to give three up, at the same epoch
    expect(a.owned()).toHaveLength(3);
    expect(a.memberEpoch).toBe(epoch);
    await a.heartbeat(everything); // still busy with them
    await b.heartbeat([]);
    expect(b.owned()).toEqual([]);
    const during = (await cluster.http.get(`${cluster.brokerUrl(3)}/consumer-groups/handover`)).data;
    expect(during.state).toBe('Reconciling');
    expect(during.members.find((m: { memberId: string }) => m.memberId === a.memberId).partitionsPendingRevocation[0].partitions).toHaveLength(3);
    await a.heartbeat(a.assignment); // acknowledges
    expect(a.memberEpoch).toBeGreaterThan(epoch);
    await b.heartbeat([]);
    expect(b.owned()).toHaveLength(3);
    expect([...a.owned(), ...b.owned()].sort()).toEqual(everything[0]!.partitions.map((p) => `${topic}-${p}`).sort());
    expect((await cluster.http.get(`${cluster.brokerUrl(1)}/consumer-groups/handover`)).data.state).toBe('Stable');
    await a.leave();
    await b.leave();
  });

  test('committed offsets survive kill -9 of the coordinator, and lag is exact', async () => {
    for (let p = 0; p < 6; p++) {
      const res = await cluster.http.post(`${cluster.brokerUrl(1)}/events`, { topic, records: Array.from({ length: 10 + p }, (_, i) => ({ partition: p, value: i })) });
      expect(res.status).toBe(200);
    }
    const member = new Member(cluster, 'billing', 2, [topic]);
    await settle([member], 6);
    const commit = await cluster.http.post(`${cluster.brokerUrl(3)}/groups/billing/offsets`, {
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      offsets: [0, 1, 2, 3, 4, 5].map((p) => ({ topic, partition: p, offset: p })),
    });
    expect(commit.status).toBe(200);
    const stale = await cluster.http.post(`${cluster.brokerUrl(3)}/groups/billing/offsets`, {
      memberId: member.memberId,
      memberEpoch: member.memberEpoch - 1,
      offsets: [{ topic, partition: 0, offset: 9 }],
    });
    expect(stale.status).toBe(409);
    expect(stale.data.error.code).toBe('STALE_MEMBER_EPOCH');

    const described = await cluster.http.get(`${cluster.brokerUrl(1)}/consumer-groups/billing`);
    expect(described.data.partitions).toEqual([0, 1, 2, 3, 4, 5].map((p) => ({ topic, partition: p, committedOffset: p, highWatermark: 10 + p, lag: 10 })));
    expect(described.data.totalLag).toBe(60);

    // Kill the coordinator's broker: the leader of the group's __consumer_offsets partition.
    const offsetsTopic = (await cluster.http.get(`${cluster.controllerUrl}/topic/__consumer_offsets`)).data;
    const coordinator = offsetsTopic.partitions[GroupCoordinator.partitionFor('billing', offsetsTopic.partitions.length)].leader;
    const pid = (await cluster.brokerProcesses()).find((b) => b.id === coordinator)!.pid!;
    process.kill(pid, 'SIGKILL');
    const via = [1, 2, 3].find((id) => id !== coordinator)!;
    const fetched = await waitFor(async () => {
      const res = await cluster.http.get(`${cluster.brokerUrl(via)}/groups/billing/offsets`);
      return res.status === 200 && res.data.offsets.length === 6 && res.data;
    }, { timeoutMs: 20_000, what: 'offsets from the new coordinator' });
    expect(fetched.offsets.map((o: { partition: number; offset: number }) => [o.partition, o.offset]).sort()).toEqual([0, 1, 2, 3, 4, 5].map((p) => [p, p]));
    await cluster.waitForActiveBrokers(3);
  });

  test('offsets are reset only while the group has no members: to the earliest, the latest, or a time', async () => {
    const member = new Member(cluster, 'resets', 1, [topic]);
    await settle([member], 6);
    // Members come first, as in Kafka: without committed offsets it is still GROUP_NOT_EMPTY, from any broker.
    for (const brokerId of [1, 2, 3]) {
      const noOffsetsYet = await cluster.http.post(`${cluster.brokerUrl(brokerId)}/consumer-groups/resets/reset-offsets`, { to: 'earliest' });
      expect(noOffsetsYet.status).toBe(409);
      expect(noOffsetsYet.data.error.code).toBe('GROUP_NOT_EMPTY');
    }
    await cluster.http.post(`${cluster.brokerUrl(1)}/groups/resets/offsets`, { memberId: member.memberId, memberEpoch: member.memberEpoch, offsets: [{ topic, partition: 0, offset: 3 }] });
    const busy = await cluster.http.post(`${cluster.brokerUrl(2)}/consumer-groups/resets/reset-offsets`, { to: 'earliest' });
    expect(busy.status).toBe(409);
    expect(busy.data.error.code).toBe('GROUP_NOT_EMPTY');
    await member.leave();
    const latest = await cluster.http.post(`${cluster.brokerUrl(2)}/consumer-groups/resets/reset-offsets`, { to: 'latest' });
    expect(latest.status).toBe(200);
    expect(latest.data.offsets.find((o: { partition: number }) => o.partition === 5).offset).toBe(15);
    const earliest = await cluster.http.post(`${cluster.brokerUrl(3)}/consumer-groups/resets/reset-offsets`, { to: 'earliest' });
    expect(earliest.data.offsets.every((o: { offset: number }) => o.offset === 0)).toBe(true);
    const future = await cluster.http.post(`${cluster.brokerUrl(3)}/consumer-groups/resets/reset-offsets`, { to: 'timestamp', timestamp: Date.now() + 60_000 });
    expect(future.data.offsets.find((o: { partition: number }) => o.partition === 2).offset).toBe(12);
    const after = await cluster.http.get(`${cluster.brokerUrl(1)}/groups/resets/offsets`);
    expect(after.data.offsets.find((o: { partition: number }) => o.partition === 2).offset).toBe(12);
  });

  test('bad input: unknown groups and members, negative offsets, invalid group ids', async () => {
    expect((await cluster.http.get(`${cluster.brokerUrl(1)}/consumer-groups/never-seen`)).status).toBe(404);
    const unknownMember = await cluster.http.post(`${cluster.brokerUrl(1)}/groups/spread/heartbeat`, { memberId: 'nobody', memberEpoch: 3 });
    expect(unknownMember.status).toBe(404);
    expect(unknownMember.data.error.code).toBe('UNKNOWN_MEMBER_ID');
    const negative = await cluster.http.post(`${cluster.brokerUrl(1)}/groups/x/offsets`, { offsets: [{ topic, partition: 0, offset: -1 }] });
    expect(negative.status).toBe(400);
    expect((await cluster.http.post(`${cluster.brokerUrl(1)}/groups/${encodeURIComponent('../x')}/heartbeat`, { memberEpoch: 0 })).status).toBe(400);
    const noTopic = await cluster.http.post(`${cluster.brokerUrl(1)}/groups/x/offsets`, { offsets: [{ topic: 'nope', partition: 0, offset: 1 }] });
    expect(noTopic.status).toBe(404);
  });
});
