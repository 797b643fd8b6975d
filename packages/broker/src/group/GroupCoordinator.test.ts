import { BrookError } from '@brook/types';
import type { GroupHeartbeatResponse } from '@brook/types';
import { GroupCoordinator, javaStringHashCode } from './GroupCoordinator';
import { decodeOffsetsRecord, encodeOffsetCommit } from './OffsetsRecordCodec';
import type { OffsetsRecord, OffsetsStore } from './OffsetsStore';

/**
 * An in-memory __consumer_offsets: records land in the log when append is called (as the leader's append
 * does), and the acknowledgement comes at once, or when the test releases it, or fails.
 */
class FakeStore implements OffsetsStore {
  readonly logs = new Map<number, OffsetsRecord[]>();
  readonly held: Array<{ resolve: () => void; reject: (err: BrookError) => void }> = [];
  manual = false;
  failWith: BrookError | undefined;
  appends = 0;

  append(p: number, records: OffsetsRecord[]): Promise<void> {
    this.appends++;
    if (this.failWith) return Promise.reject(this.failWith);
    this.log(p).push(...records);
    if (!this.manual) return Promise.resolve();
    return new Promise((resolve, reject) => this.held.push({ resolve, reject }));
  }

  log(p: number): OffsetsRecord[] {
    if (!this.logs.has(p)) this.logs.set(p, []);
    return this.logs.get(p)!;
  }
}

/** A coordinator with one offsets partition (so every group is on partition 0, loaded), a manual clock and topic `t` of 6 partitions. */
function setup(topicCounts: Record<string, number> = { t: 6 }, rebalanceTimeoutMs = 30_000) {
  let now = 1_000_000;
  const topics = new Map(Object.entries(topicCounts));
  const store = new FakeStore();
  const coordinator = new GroupCoordinator({
    store,
    topics: { partitionCount: (t) => topics.get(t) },
    numOffsetsPartitions: 1,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs,
    heartbeatIntervalMs: 500,
    now: () => now,
  });
  coordinator.loadPartition(0, []);
  return { coordinator, store, topics, advance: (ms: number) => (now += ms), now: () => now };
}

/** A group member as a client keeps it: what the last answer said. */
class Member {
  memberEpoch = 0;
  owned: string[] = [];
  constructor(
    private readonly coordinator: GroupCoordinator,
    readonly topics: string[],
    public memberId?: string,
    readonly group = 'g',
  ) {}

  /** `owned` ("t-3", …) is reported as the member's owned partitions; by default it reports none. */
  heartbeat(subscribedTopics?: string[], owned?: string[]): GroupHeartbeatResponse {
    const res = this.coordinator.heartbeat(this.group, {
      memberId: this.memberId,
      memberEpoch: this.memberEpoch,
      subscribedTopics: this.memberEpoch === 0 ? this.topics : subscribedTopics,
      ownedTopicPartitions: owned && ownedTopicPartitions(owned),
    });
    this.memberId = res.memberId;
    this.memberEpoch = res.memberEpoch;
    this.owned = res.assignment.flatMap((a) => a.partitions.map((p) => `${a.topic}-${p}`)).sort();
    return res;
  }

  leave(): void {
    this.coordinator.heartbeat(this.group, { memberId: this.memberId, memberEpoch: -1 });
    this.owned = [];
  }
}

/** No two members are ever told they own the same partition. */
function expectDisjoint(members: Member[]): void {
  const all = members.flatMap((m) => m.owned);
  expect(new Set(all).size).toBe(all.length);
}

/** Heartbeats each member in turn, checking after every answer that ownership stays disjoint. */
function round(members: Member[]): void {
  for (const m of members) {
    m.heartbeat();
    expectDisjoint(members);
  }
}

/** "t-3" strings as a heartbeat's ownedTopicPartitions. */
function ownedTopicPartitions(tps: string[]): Array<{ topic: string; partitions: number[] }> {
  const byTopic = new Map<string, number[]>();
  for (const tp of tps) {
    const at = tp.lastIndexOf('-');
    const topic = tp.slice(0, at);
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), Number(tp.slice(at + 1))]);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}

const all = (topic: string, n: number) => Array.from({ length: n }, (_, p) => `${topic}-${p}`).sort();

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BrookError);
    return (err as BrookError).code;
  }
  return undefined;
}

async function rejection(p: Promise<unknown>): Promise<BrookError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BrookError);
  return err as BrookError;
}

/** Three members of group g that share topic t's six partitions, two each. */
function stableThree() {
  const env = setup();
  const members = ['a', 'b', 'c'].map((id) => new Member(env.coordinator, ['t'], id));
  round(members); // a takes everything first; b and c wait until a releases
  round(members); // a is told to give four up
  round(members); // a's heartbeat acknowledges; b and c take them
  return { ...env, members };
}

describe('GroupCoordinator membership and assignment', () => {
  test('three members share six partitions fully and disjointly, two each, and the group is Stable', () => {
    const { coordinator, members } = stableThree();
    expect(members.map((m) => m.owned.length)).toEqual([2, 2, 2]);
    expect(members.flatMap((m) => m.owned).sort()).toEqual(all('t', 6));
    const d = coordinator.describeGroup('g');
    expect(d.state).toBe('Stable');
    expect(d.groupEpoch).toBe(3); // one bump per join
    expect(members.map((m) => m.memberEpoch)).toEqual([3, 3, 3]);
  });

  test('a revoked partition stays its holder\'s until the holder\'s next heartbeat acknowledges; only then does the new member get it', () => {
    const { coordinator } = setup();
    const a = new Member(coordinator, ['t'], 'a');
    const b = new Member(coordinator, ['t'], 'b');
    a.heartbeat();
    expect(a.owned).toEqual(all('t', 6));
    b.heartbeat();
    expect(b.owned).toEqual([]); // a still holds them
    expect(b.memberEpoch).toBe(2);
    a.heartbeat();
    expect(a.owned).toHaveLength(3); // told to give three up...
    expect(a.memberEpoch).toBe(1); // ...at its epoch, so it can still commit them
    const revoked = all('t', 6).filter((tp) => !a.owned.includes(tp));
    const described = coordinator.describeGroup('g');
    expect(described.state).toBe('Reconciling');
    expect(described.members[0]!.partitionsPendingRevocation).toEqual(ownedTopicPartitions(revoked));
    b.heartbeat();
    expect(b.owned).toEqual([]); // not acknowledged yet
    const kept = a.owned;
    a.heartbeat(); // reports no owned partitions: the heartbeat itself acknowledges
    expect(a.owned).toEqual(kept);
    expect(a.memberEpoch).toBe(2);
    b.heartbeat();
    expect(b.owned).toEqual(revoked);
    expect(b.memberEpoch).toBe(2);
    expectDisjoint([a, b]);
    const after = coordinator.describeGroup('g');
    expect(after.state).toBe('Stable');
    expect(after.members.map((m) => m.partitionsPendingRevocation)).toEqual([[], []]);
  });

  test('owned partitions that still list a revoked partition do not acknowledge; owned partitions without it do', () => {
    const { coordinator } = setup();
    const a = new Member(coordinator, ['t'], 'a');
    const b = new Member(coordinator, ['t'], 'b');
    a.heartbeat(undefined, []);
    b.heartbeat(undefined, []);
    const everything = all('t', 6);
    a.heartbeat(undefined, everything);
    const kept = a.owned;
    const revoked = everything.filter((tp) => !kept.includes(tp));
    for (let i = 0; i < 3; i++) {
      a.heartbeat(undefined, everything); // still committing, or in its callback
      expect(a.owned).toEqual(kept);
      expect(a.memberEpoch).toBe(1);
      b.heartbeat(undefined, []);
      expect(b.owned).toEqual([]);
      expect(coordinator.describeGroup('g').state).toBe('Reconciling');
    }
    a.heartbeat(undefined, kept);
    expect(a.memberEpoch).toBe(2);
    b.heartbeat(undefined, []);
    expect(b.owned).toEqual(revoked);
    expect(coordinator.describeGroup('g').state).toBe('Stable');
  });

  test('a member that never acknowledges: its session expiry frees what it was revoking too', () => {
    const { coordinator, advance } = setup();
    const a = new Member(coordinator, ['t'], 'a');
    const b = new Member(coordinator, ['t'], 'b');
    a.heartbeat(undefined, []);
    b.heartbeat(undefined, []);
    a.heartbeat(undefined, all('t', 6));
    advance(5_000);
    b.heartbeat(undefined, []);
    expect(b.owned).toEqual([]);
    advance(5_000);
    coordinator.expireMembers();
    expect(coordinator.describeGroup('g').members.map((m) => m.memberId)).toEqual(['b']);
    b.heartbeat(undefined, []);
    expect(b.owned).toEqual(all('t', 6));
    expect(coordinator.describeGroup('g').state).toBe('Stable');
  });

  test('a member that heartbeats but never acknowledges is removed after the rebalance timeout', () => {
    const { coordinator, advance } = setup({ t: 6 }, 3_000);
    const a = new Member(coordinator, ['t'], 'a');
    const b = new Member(coordinator, ['t'], 'b');
    a.heartbeat(undefined, []);
    b.heartbeat(undefined, []);
    const everything = all('t', 6);
    a.heartbeat(undefined, everything);
    advance(2_999);
    a.heartbeat(undefined, everything);
    b.heartbeat(undefined, []);
    coordinator.expireMembers();
    expect(coordinator.describeGroup('g').members).toHaveLength(2);
    advance(1);
    coordinator.expireMembers();
    expect(coordinator.describeGroup('g').members.map((m) => m.memberId)).toEqual(['b']);
    expect(codeOf(() => a.heartbeat(undefined, everything))).toBe('UNKNOWN_MEMBER_ID');
    b.heartbeat(undefined, []);
    expect(b.owned).toEqual(everything);
  });

  test('the previous epoch is accepted from a member whose answer was lost when it owns no more than it was given', () => {
    const { coordinator } = setup();
    const a = new Member(coordinator, ['t'], 'a');
    a.heartbeat(undefined, []);
    new Member(coordinator, ['t'], 'b').heartbeat(undefined, []);
    a.heartbeat(undefined, all('t', 6));
    const kept = a.owned;
    a.heartbeat(undefined, kept);
    expect(a.memberEpoch).toBe(2);
    // The answer with epoch 2 was lost: a heartbeats again at epoch 1.
    const again = (ownedTopicPartitions?: Array<{ topic: string; partitions: number[] }>) => coordinator.heartbeat('g', { memberId: 'a', memberEpoch: 1, ownedTopicPartitions });
    expect(codeOf(() => again())).toBe('FENCED_MEMBER_EPOCH'); // says nothing of what it owns
    expect(codeOf(() => again(ownedTopicPartitions(all('t', 6))))).toBe('FENCED_MEMBER_EPOCH'); // owns more than it was given
    const res = again(ownedTopicPartitions(kept));
    expect(res.memberEpoch).toBe(2);
    expect(res.assignment).toEqual(ownedTopicPartitions(kept));
  });

  test('a member leaving (epoch -1): its partitions move, one heartbeat each, and the others keep theirs', () => {
    const { coordinator, members } = stableThree();
    const [a, b, c] = members as [Member, Member, Member];
    const before = [a.owned, b.owned];
    const freed = c.owned;
    c.leave();
    a.heartbeat();
    b.heartbeat();
    expectDisjoint([a, b]);
    expect([...a.owned, ...b.owned].sort()).toEqual(all('t', 6));
    [a, b].forEach((m, i) => {
      expect(m.owned).toHaveLength(3);
      expect(m.owned).toEqual(expect.arrayContaining(before[i]!));
      expect(m.owned.filter((tp) => !before[i]!.includes(tp)).every((tp) => freed.includes(tp))).toBe(true); // only c's moved
    });
    expect(coordinator.describeGroup('g').members.map((m) => m.memberId)).toEqual(['a', 'b']);
    expect(codeOf(() => c.heartbeat())).toBe('UNKNOWN_MEMBER_ID');
  });

  test('a member whose session expires is removed and its partitions move; heartbeating keeps a session', () => {
    const { coordinator, members, advance } = stableThree();
    const [a, b, c] = members as [Member, Member, Member];
    const before = [a.owned, b.owned];
    advance(9_999);
    a.heartbeat();
    b.heartbeat();
    coordinator.expireMembers();
    expect(coordinator.describeGroup('g').members).toHaveLength(3); // c is silent for 9999 ms < 10000
    advance(1);
    coordinator.expireMembers();
    expect(coordinator.describeGroup('g').members.map((m) => m.memberId)).toEqual(['a', 'b']);
    a.heartbeat();
    b.heartbeat();
    expect([...a.owned, ...b.owned].sort()).toEqual(all('t', 6));
    [a, b].forEach((m, i) => expect(m.owned).toEqual(expect.arrayContaining(before[i]!)));
    expect(codeOf(() => c.heartbeat())).toBe('UNKNOWN_MEMBER_ID');
  });

  test('a fourth member takes partitions only from the others, moving the fewest (one of six), never two owners at once', () => {
    const { coordinator, members } = stableThree();
    const before = new Map(members.map((m) => [m.memberId, m.owned]));
    const d = new Member(coordinator, ['t'], 'd');
    const everyone = [...members, d];
    round(everyone); // d last: what it is given is still held, so it waits
    round(everyone); // the member that gives one up is told to
    round(everyone); // it acknowledges; d takes it
    expect(everyone.flatMap((m) => m.owned).sort()).toEqual(all('t', 6));
    expect(d.owned).toHaveLength(1);
    for (const m of members) expect(before.get(m.memberId)).toEqual(expect.arrayContaining(m.owned)); // nobody gained
    const kept = members.reduce((n, m) => n + m.owned.length, 0);
    expect(kept).toBe(5); // so exactly one partition changed owner
    expect(coordinator.describeGroup('g').state).toBe('Stable');
  });

  test('two topics with different subscriptions: each topic only to its subscribers, balanced', () => {
    const { coordinator } = setup({ t1: 4, t2: 2 });
    const a = new Member(coordinator, ['t1'], 'a');
    const b = new Member(coordinator, ['t1'], 'b');
    const c = new Member(coordinator, ['t1', 't2'], 'c');
    round([a, b, c]);
    round([a, b, c]);
    round([a, b, c]);
    expect(c.owned).toEqual(['t2-0', 't2-1']);
    expect(a.owned.length).toBe(2);
    expect(b.owned.length).toBe(2);
    expect([...a.owned, ...b.owned].sort()).toEqual(all('t1', 4));

    // c drops t2: its partitions go nowhere (nobody else subscribes), t1 spreads over three.
    c.heartbeat(['t1']);
    round([a, b, c]);
    round([a, b, c]);
    expect([a, b, c].flatMap((m) => m.owned).sort()).toEqual(all('t1', 4));
    expect(coordinator.describeGroup('g').members.find((m) => m.memberId === 'c')!.subscribedTopics).toEqual(['t1']);
  });

  test('a topic that does not exist stays subscribed and gets nothing until it is created', () => {
    const { coordinator, topics } = setup();
    const m = new Member(coordinator, ['later', 't'], 'm');
    m.heartbeat();
    expect(m.owned).toEqual(all('t', 6));
    topics.set('later', 2);
    m.heartbeat();
    expect(m.owned).toEqual(all('t', 6)); // the coordinator has not been told yet
    coordinator.onTopicsChanged();
    const epoch = m.memberEpoch;
    m.heartbeat();
    expect(m.owned).toEqual([...all('later', 2), ...all('t', 6)].sort());
    expect(m.memberEpoch).toBe(epoch + 1);
    expect(coordinator.describeGroup('g').members[0]!.subscribedTopics).toEqual(['later', 't']);
  });

  test('partitions added to a topic are assigned at the next heartbeat, and the members keep theirs', () => {
    const { coordinator, topics } = setup();
    const a = new Member(coordinator, ['t'], 'a');
    const b = new Member(coordinator, ['t'], 'b');
    round([a, b]);
    round([a, b]);
    round([a, b]);
    const before = [a.owned, b.owned];
    topics.set('t', 8);
    coordinator.onTopicsChanged();
    const epoch = coordinator.describeGroup('g').groupEpoch;
    round([a, b]);
    expect(coordinator.describeGroup('g').groupEpoch).toBe(epoch + 1);
    expect([...a.owned, ...b.owned].sort()).toEqual(all('t', 8));
    [a, b].forEach((m, i) => {
      expect(m.owned).toHaveLength(4);
      expect(m.owned).toEqual(expect.arrayContaining(before[i]!));
    });

    // A deleted topic: its partitions are taken away.
    topics.delete('t');
    coordinator.onTopicsChanged();
    round([a, b]);
    expect([...a.owned, ...b.owned]).toEqual([]);
  });

  test('a heartbeat at any epoch but the member\'s own is fenced; rejoining with epoch 0 keeps the member and its partitions', () => {
    const { coordinator } = setup();
    const a = new Member(coordinator, ['t'], 'a');
    a.heartbeat();
    new Member(coordinator, ['t'], 'b').heartbeat();
    a.heartbeat(); // revokes
    a.heartbeat(); // acknowledges
    const epoch = a.memberEpoch;
    expect(epoch).toBe(2);
    const owned = a.owned;
    for (const memberEpoch of [epoch - 1, epoch + 1]) {
      expect(codeOf(() => coordinator.heartbeat('g', { memberId: 'a', memberEpoch }))).toBe('FENCED_MEMBER_EPOCH');
    }
    a.memberEpoch = 0;
    a.heartbeat();
    expect(a.memberId).toBe('a');
    expect(a.memberEpoch).toBe(epoch);
    expect(a.owned).toEqual(owned);
    expect(coordinator.describeGroup('g').members).toHaveLength(2);
  });

  test('unknown members and bad heartbeats', () => {
    const { coordinator } = setup();
    new Member(coordinator, ['t'], 'a').heartbeat();
    expect(codeOf(() => coordinator.heartbeat('g', { memberId: 'nobody', memberEpoch: 1 }))).toBe('UNKNOWN_MEMBER_ID');
    expect(codeOf(() => coordinator.heartbeat('nope', { memberId: 'a', memberEpoch: 1 }))).toBe('UNKNOWN_MEMBER_ID');
    expect(codeOf(() => coordinator.heartbeat('g', { memberId: 'nobody', memberEpoch: -1 }))).toBe('UNKNOWN_MEMBER_ID');
    expect(codeOf(() => coordinator.heartbeat('g', { memberEpoch: 0 }))).toBe('INVALID_REQUEST'); // a join names its topics
    expect(codeOf(() => coordinator.heartbeat('g', { memberEpoch: 1 }))).toBe('INVALID_REQUEST');
    expect(codeOf(() => coordinator.heartbeat('g', { memberId: 'a', memberEpoch: -2 }))).toBe('INVALID_REQUEST');
    expect(codeOf(() => coordinator.heartbeat('', { memberEpoch: 0, subscribedTopics: ['t'] }))).toBe('INVALID_REQUEST');
  });

  test('a join without a memberId gets a generated one', () => {
    const { coordinator } = setup();
    const res = coordinator.heartbeat('g', { memberEpoch: 0, subscribedTopics: ['t'], clientId: 'cli' });
    expect(res.memberId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.memberEpoch).toBe(1);
    expect(res.heartbeatIntervalMs).toBe(500);
    expect(coordinator.describeGroup('g').members[0]).toMatchObject({ memberId: res.memberId, clientId: 'cli' });
  });
});

describe('GroupCoordinator offsets', () => {
  test('a member commits at its current epoch; an older epoch is STALE_MEMBER_EPOCH once it moved on', async () => {
    const { coordinator } = setup();
    const a = new Member(coordinator, ['t'], 'a');
    a.heartbeat();
    const commit = (memberEpoch: number, offset: number) => coordinator.commitOffsets('g', { memberId: 'a', memberEpoch, offsets: [{ topic: 't', partition: 0, offset }] });
    expect((await rejection(commit(a.memberEpoch - 1, 1))).code).toBe('STALE_MEMBER_EPOCH');
    expect((await rejection(commit(a.memberEpoch + 1, 1))).code).toBe('STALE_MEMBER_EPOCH');
    await commit(a.memberEpoch, 2);
    expect(coordinator.fetchOffsets('g')).toEqual([{ topic: 't', partition: 0, offset: 2, metadata: '' }]);

    // b joins: a's epoch stays valid while a is told to revoke, so it commits what it revokes.
    const old = a.memberEpoch;
    new Member(coordinator, ['t'], 'b').heartbeat();
    a.heartbeat();
    expect(a.memberEpoch).toBe(old);
    await commit(old, 3);
    a.heartbeat(); // acknowledges the revocation
    expect(a.memberEpoch).toBeGreaterThan(old);
    const stale = await rejection(commit(old, 4));
    expect(stale.code).toBe('STALE_MEMBER_EPOCH');
    expect(stale.details).toMatchObject({ memberEpoch: a.memberEpoch });
    expect(coordinator.fetchOffsets('g')[0]!.offset).toBe(3);
    expect((await rejection(coordinator.commitOffsets('g', { memberId: 'ghost', memberEpoch: 1, offsets: [] }))).code).toBe('UNKNOWN_MEMBER_ID');
  });

  test('a commit is persisted first and visible only once the store acknowledged it', async () => {
    const { coordinator, store, now } = setup();
    store.manual = true;
    const done = coordinator.commitOffsets('g', { offsets: [{ topic: 't', partition: 1, offset: 42, metadata: 'm' }] });
    expect(store.log(0)).toHaveLength(1);
    expect(decodeOffsetsRecord(store.log(0)[0]!)).toEqual({ group: 'g', topic: 't', partition: 1, value: { offset: 42, metadata: 'm', commitTimestamp: now() } });
    expect(store.log(0)[0]!.key.toString()).toBe('["offset","g","t",1]');
    await Promise.resolve();
    expect(coordinator.fetchOffsets('g')).toEqual([]);
    store.held.shift()!.resolve();
    await done;
    expect(coordinator.fetchOffsets('g')).toEqual([{ topic: 't', partition: 1, offset: 42, metadata: 'm' }]);
    expect(coordinator.fetchOffsets('g', [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }])).toEqual([{ topic: 't', partition: 1, offset: 42, metadata: 'm' }]);
  });

  test('a commit the store fails changes nothing in memory', async () => {
    const { coordinator, store } = setup();
    await coordinator.commitOffsets('g', { offsets: [{ topic: 't', partition: 0, offset: 5 }] });
    store.failWith = new BrookError('NOT_ENOUGH_REPLICAS', 'isr too small');
    expect((await rejection(coordinator.commitOffsets('g', { offsets: [{ topic: 't', partition: 0, offset: 9 }, { topic: 't', partition: 1, offset: 9 }] }))).code).toBe('NOT_ENOUGH_REPLICAS');
    expect(coordinator.fetchOffsets('g')).toEqual([{ topic: 't', partition: 0, offset: 5, metadata: '' }]);
  });

  test('acknowledgements out of order still apply in log order', async () => {
    const { coordinator, store } = setup();
    store.manual = true;
    const commit = (offset: number) => coordinator.commitOffsets('g', { offsets: [{ topic: 't', partition: 0, offset }] });
    const first = commit(1);
    const second = commit(2);
    const [h1, h2] = store.held.splice(0);
    let secondDone = false;
    void second.then(() => (secondDone = true));
    h2!.resolve();
    await new Promise((r) => setImmediate(r));
    expect(secondDone).toBe(false); // waits for the first, which comes before it in the log
    expect(coordinator.fetchOffsets('g')).toEqual([]);
    h1!.resolve();
    await Promise.all([first, second]);
    expect(coordinator.fetchOffsets('g')[0]!.offset).toBe(2);

    // The earlier write failing does not hold back or undo the later one.
    const third = commit(3);
    const fourth = commit(4);
    const [h3, h4] = store.held.splice(0);
    h4!.resolve();
    h3!.reject(new BrookError('REQUEST_TIMED_OUT', 'slow isr'));
    expect((await rejection(third)).code).toBe('REQUEST_TIMED_OUT');
    await fourth;
    expect(coordinator.fetchOffsets('g')[0]!.offset).toBe(4);
  });

  test('bad offsets are refused before anything is written', async () => {
    const { coordinator, store } = setup();
    const commit = (offset: number, partition = 0, topic = 't') =>
      coordinator.commitOffsets('g', { offsets: [{ topic: 't', partition: 1, offset: 1 }, { topic, partition, offset }] });
    expect((await rejection(commit(-1))).code).toBe('INVALID_OFFSET');
    expect((await rejection(commit(1.5))).code).toBe('INVALID_OFFSET');
    expect((await rejection(commit(1, 6))).code).toBe('UNKNOWN_PARTITION');
    expect((await rejection(commit(1, -1))).code).toBe('UNKNOWN_PARTITION');
    expect((await rejection(commit(1, 0, 'nope'))).code).toBe('UNKNOWN_TOPIC');
    expect((await rejection(coordinator.resetOffsets('g', [{ topic: 't', partition: 0, offset: -5 }]))).code).toBe('INVALID_OFFSET');
    expect(store.appends).toBe(0);
    expect(codeOf(() => coordinator.describeGroup('g'))).toBe('UNKNOWN_GROUP');
  });

  test('without a member, commits, resets and deletes are refused while the group has members', async () => {
    const { coordinator, store } = setup();
    const a = new Member(coordinator, ['t'], 'a');
    a.heartbeat();
    const tp = [{ topic: 't', partition: 0, offset: 3 }];
    expect((await rejection(coordinator.commitOffsets('g', { offsets: tp }))).code).toBe('GROUP_NOT_EMPTY');
    expect((await rejection(coordinator.resetOffsets('g', tp))).code).toBe('GROUP_NOT_EMPTY');
    expect((await rejection(coordinator.deleteGroup('g'))).code).toBe('GROUP_NOT_EMPTY');
    expect(store.appends).toBe(0);

    a.leave();
    await coordinator.resetOffsets('g', [{ topic: 't', partition: 0, offset: 3 }, { topic: 't', partition: 1, offset: 0 }]);
    expect(coordinator.fetchOffsets('g').map((o) => o.offset)).toEqual([3, 0]);
    await coordinator.deleteGroup('g');
    expect(store.log(0).slice(-2).map((r) => [r.key.toString(), r.value])).toEqual([
      ['["offset","g","t",0]', null],
      ['["offset","g","t",1]', null],
    ]);
    expect(codeOf(() => coordinator.describeGroup('g'))).toBe('UNKNOWN_GROUP');
    expect(coordinator.listGroups()).toEqual([]);
    expect((await rejection(coordinator.deleteGroup('g'))).code).toBe('UNKNOWN_GROUP');
  });

  test('describe and list: members, epochs, assignments and offsets; an Empty group with offsets is still there', async () => {
    const { coordinator } = setup({ t: 2, u: 1 });
    coordinator.heartbeat('g', { memberId: 'm1', memberEpoch: 0, subscribedTopics: ['u', 't', 't'], clientId: 'c1' });
    await coordinator.commitOffsets('g', { memberId: 'm1', memberEpoch: 1, offsets: [{ topic: 'u', partition: 0, offset: 7, metadata: 'x' }, { topic: 't', partition: 1, offset: 4 }] });
    expect(coordinator.describeGroup('g')).toEqual({
      groupId: 'g',
      state: 'Stable',
      groupEpoch: 1,
      assignmentEpoch: 1,
      members: [
        { memberId: 'm1', clientId: 'c1', memberEpoch: 1, subscribedTopics: ['t', 'u'], assignment: [{ topic: 't', partitions: [0, 1] }, { topic: 'u', partitions: [0] }], partitionsPendingRevocation: [] },
      ],
      offsets: [
        { topic: 't', partition: 1, offset: 4, metadata: '' },
        { topic: 'u', partition: 0, offset: 7, metadata: 'x' },
      ],
    });
    await coordinator.commitOffsets('simple', { offsets: [{ topic: 't', partition: 0, offset: 1 }] });
    expect(coordinator.listGroups()).toEqual([
      { groupId: 'g', state: 'Stable', members: 1 },
      { groupId: 'simple', state: 'Empty', members: 0 },
    ]);
    coordinator.heartbeat('g', { memberId: 'm1', memberEpoch: -1 });
    expect(coordinator.describeGroup('g')).toMatchObject({ state: 'Empty', groupEpoch: 2, members: [] });
  });
});

describe('GroupCoordinator partitions of __consumer_offsets', () => {
  test('partitionFor is Kafka\'s abs(Java String.hashCode) % N', () => {
    const vectors: Array<[string, number]> = [
      ['', 0],
      ['a', 97],
      ['hello', 99162322],
      ['Aa', 2112],
      ['BB', 2112],
      ['hello world', 1794106052],
      ['polygenelubricants', -2147483648],
      ['billing', -109829509],
      ['\u{1F600}', 1772899], // two UTF-16 code units
    ];
    for (const [s, h] of vectors) expect(javaStringHashCode(s)).toBe(h);
    expect(GroupCoordinator.partitionFor('hello', 50)).toBe(22);
    expect(GroupCoordinator.partitionFor('billing', 50)).toBe(9); // abs of a negative hash
    expect(GroupCoordinator.partitionFor('polygenelubricants', 50)).toBe(0); // Kafka's abs(Integer.MIN_VALUE) is 0
    expect(GroupCoordinator.partitionFor('polygenelubricants', 7)).toBe(0);
  });

  test('loading a partition rebuilds its offsets from the records in order; tombstones delete; unknown records are skipped', () => {
    const { coordinator } = setup();
    const commit = (group: string, partition: number, offset: number | null) =>
      encodeOffsetCommit({ group, topic: 't', partition, value: offset === null ? null : { offset, metadata: `m${offset}`, commitTimestamp: 1 } });
    coordinator.loadPartition(0, [
      commit('g1', 0, 5),
      commit('g1', 1, 7),
      { key: Buffer.from('not json'), value: Buffer.from('x') },
      { key: Buffer.from('["group","g1"]'), value: Buffer.from('{}') },
      commit('g1', 0, 9),
      commit('g1', 1, null),
      commit('g2', 0, 3),
      commit('g2', 0, null),
      commit('g3', 2, null),
    ]);
    expect(coordinator.fetchOffsets('g1')).toEqual([{ topic: 't', partition: 0, offset: 9, metadata: 'm9' }]);
    expect(codeOf(() => coordinator.describeGroup('g2'))).toBe('UNKNOWN_GROUP');
    expect(codeOf(() => coordinator.describeGroup('g3'))).toBe('UNKNOWN_GROUP');
    expect(coordinator.listGroups()).toEqual([{ groupId: 'g1', state: 'Empty', members: 0 }]);
  });

  test('a new coordinator rebuilt from the partition sees the same offsets as the old one, deleted groups included', async () => {
    const { coordinator, store } = setup();
    await coordinator.commitOffsets('g', { offsets: [{ topic: 't', partition: 0, offset: 1 }, { topic: 't', partition: 3, offset: 8 }] });
    await coordinator.commitOffsets('g', { offsets: [{ topic: 't', partition: 0, offset: 2 }] });
    await coordinator.commitOffsets('gone', { offsets: [{ topic: 't', partition: 0, offset: 1 }] });
    await coordinator.deleteGroup('gone');
    const next = new GroupCoordinator({ store, topics: { partitionCount: () => 6 }, numOffsetsPartitions: 1 });
    next.loadPartition(0, store.log(0));
    expect(next.fetchOffsets('g')).toEqual(coordinator.fetchOffsets('g'));
    expect(next.fetchOffsets('g').map((o) => o.offset)).toEqual([2, 8]);
    expect(next.listGroups()).toEqual([{ groupId: 'g', state: 'Empty', members: 0 }]);
  });

  test('groups of a partition not loaded here are NOT_COORDINATOR; while loading COORDINATOR_LOAD_IN_PROGRESS; unload forgets members', async () => {
    const store = new FakeStore();
    const coordinator = new GroupCoordinator({ store, topics: { partitionCount: () => 6 }, numOffsetsPartitions: 50 });
    const p = GroupCoordinator.partitionFor('billing', 50);
    const errorOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return err as BrookError;
      }
      throw new Error('expected an error');
    };
    expect(errorOf(() => coordinator.describeGroup('billing'))).toMatchObject({ code: 'NOT_COORDINATOR', details: { partition: p } });
    coordinator.markLoading(p);
    expect(coordinator.isLoaded(p)).toBe(false);
    expect(errorOf(() => coordinator.heartbeat('billing', { memberEpoch: 0, subscribedTopics: ['t'] }))).toMatchObject({ code: 'COORDINATOR_LOAD_IN_PROGRESS', details: { partition: p } });
    coordinator.loadPartition(p, []);
    expect(coordinator.isLoaded(p)).toBe(true);
    const { memberId, memberEpoch } = coordinator.heartbeat('billing', { memberEpoch: 0, subscribedTopics: ['t'] });
    await coordinator.commitOffsets('billing', { memberId, memberEpoch, offsets: [{ topic: 't', partition: 0, offset: 4 }] });
    const other = GroupCoordinator.partitionFor('group-1', 50);
    expect(other).not.toBe(p);
    expect(errorOf(() => coordinator.fetchOffsets('group-1'))).toMatchObject({ code: 'NOT_COORDINATOR', details: { partition: other } });

    coordinator.unloadPartition(p);
    expect(coordinator.isLoaded(p)).toBe(false);
    expect(errorOf(() => coordinator.heartbeat('billing', { memberId, memberEpoch }))).toMatchObject({ code: 'NOT_COORDINATOR', details: { partition: p } });
    expect(coordinator.listGroups()).toEqual([]);
    expect((await rejection(coordinator.deleteGroup('billing'))).code).toBe('NOT_COORDINATOR');

    // Leadership comes back: the offsets are rebuilt, the members must rejoin.
    coordinator.loadPartition(p, store.log(p));
    expect(coordinator.fetchOffsets('billing')).toEqual([{ topic: 't', partition: 0, offset: 4, metadata: '' }]);
    expect(errorOf(() => coordinator.heartbeat('billing', { memberId, memberEpoch }))).toMatchObject({ code: 'UNKNOWN_MEMBER_ID' });
  });
});
