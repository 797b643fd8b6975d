import type { Assignment } from './Assignment';
import { UniformAssignor } from './UniformAssignor';

const assignor = new UniformAssignor();

/** A small deterministic PRNG (mulberry32), so the randomized rounds are the same on every run. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const owned = (a: Assignment | undefined) => [...(a ?? [])].flatMap(([t, ps]) => [...ps].map((p) => `${t}-${p}`));
const size = (a: Assignment | undefined) => owned(a).length;

/** Checks the invariants every target must hold; answers how many partitions changed owner from `previous`. */
function check(
  members: Map<string, string[]>,
  counts: Map<string, number>,
  previous: Map<string, Assignment>,
  target: Map<string, Assignment>,
): number {
  expect([...target.keys()].sort()).toEqual([...members.keys()].sort());
  const owner = new Map<string, string>();
  for (const [id, a] of target) {
    for (const [topic, partitions] of a) {
      expect(members.get(id)).toContain(topic); // only topics it subscribes to
      for (const p of partitions) {
        expect(p).toBeLessThan(counts.get(topic)!);
        expect(owner.has(`${topic}-${p}`)).toBe(false); // disjoint
        owner.set(`${topic}-${p}`, id);
      }
    }
  }
  // Full: every partition of every subscribed topic is owned.
  const subscribed = new Set([...members.values()].flat());
  for (const [topic, n] of counts) if (subscribed.has(topic)) for (let p = 0; p < n; p++) expect(owner.has(`${topic}-${p}`)).toBe(true);
  // Balanced among members with the same subscription.
  const bySubscription = new Map<string, number[]>();
  for (const [id, topics] of members) {
    const key = [...topics].sort().join(',');
    bySubscription.set(key, [...(bySubscription.get(key) ?? []), size(target.get(id))]);
  }
  for (const sizes of bySubscription.values()) expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  let moved = 0;
  for (const [id, a] of previous) {
    if (!members.has(id)) continue;
    for (const tp of owned(a)) if (owner.has(tp) && owner.get(tp) !== id) moved++;
  }
  return moved;
}

/** The fewest partitions that must change owner for identical subscriptions: the largest holders keep the extra ones. */
function minimumMoves(members: Map<string, string[]>, counts: Map<string, number>, previous: Map<string, Assignment>): number {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const floor = Math.floor(total / members.size);
  const stillValid = (a: Assignment | undefined) => [...(a ?? [])].reduce((n, [t, ps]) => n + [...ps].filter((p) => p < (counts.get(t) ?? 0)).length, 0);
  const held = [...members.keys()].map((id) => stillValid(previous.get(id))).sort((a, b) => b - a);
  return held.reduce((sum, h, i) => sum + Math.max(0, h - (i < total % members.size ? floor + 1 : floor)), 0);
}

describe('UniformAssignor', () => {
  test('six partitions over three members: two each, fully and disjointly', () => {
    const members = new Map([['a', ['t']], ['b', ['t']], ['c', ['t']]]);
    const counts = new Map([['t', 6]]);
    const target = assignor.assign(members, counts, new Map());
    check(members, counts, new Map(), target);
    expect([...target.values()].map(size)).toEqual([2, 2, 2]);
  });

  test('a member leaving: only its partitions move, one to each survivor', () => {
    const counts = new Map([['t', 6]]);
    const first = assignor.assign(new Map([['a', ['t']], ['b', ['t']], ['c', ['t']]]), counts, new Map());
    const members = new Map([['a', ['t']], ['b', ['t']]]);
    const second = assignor.assign(members, counts, first);
    expect(check(members, counts, first, second)).toBe(0);
    for (const id of ['a', 'b']) {
      expect(owned(second.get(id))).toEqual(expect.arrayContaining(owned(first.get(id))));
      expect(size(second.get(id))).toBe(3);
    }
  });

  test('a member joining takes from the others without reshuffling: 12 partitions, 3 → 4 members moves exactly 3', () => {
    const counts = new Map([['t', 12]]);
    const first = assignor.assign(new Map([['a', ['t']], ['b', ['t']], ['c', ['t']]]), counts, new Map());
    const members = new Map([['a', ['t']], ['b', ['t']], ['c', ['t']], ['d', ['t']]]);
    const second = assignor.assign(members, counts, first);
    expect(check(members, counts, first, second)).toBe(3);
    for (const id of ['a', 'b', 'c']) {
      expect(size(second.get(id))).toBe(3);
      expect(owned(first.get(id))).toEqual(expect.arrayContaining(owned(second.get(id)))); // kept a subset of its own
    }
  });

  test('different subscriptions: a topic goes only to its subscribers, and totals stay balanced', () => {
    const members = new Map([['a', ['t1']], ['b', ['t1']], ['c', ['t1', 't2']]]);
    const counts = new Map([['t1', 4], ['t2', 2]]);
    const target = assignor.assign(members, counts, new Map());
    check(members, counts, new Map(), target);
    expect(owned(target.get('c')).sort()).toEqual(['t2-0', 't2-1']);
    expect(size(target.get('a'))).toBe(2);
    expect(size(target.get('b'))).toBe(2);
  });

  test('a topic that does not exist gives nothing; partitions of a shrunk topic and of unsubscribed topics are dropped', () => {
    const members = new Map([['a', ['t', 'ghost']], ['b', ['t']]]);
    const previous = new Map<string, Assignment>([
      ['a', new Map([['t', new Set([0, 1, 7])], ['old', new Set([0])]])],
      ['b', new Map([['t', new Set([2])]])],
    ]);
    const counts = new Map([['t', 4]]);
    const target = assignor.assign(members, counts, previous);
    expect(check(members, counts, previous, target)).toBe(0);
    expect(owned(target.get('a')).sort()).toEqual(['t-0', 't-1']);
    expect(owned(target.get('b')).sort()).toEqual(['t-2', 't-3']);
  });

  test('a member passes on partitions it just gained before those it held, so fewer change owner', () => {
    const members = new Map([['m0', ['t1']], ['m1', ['t1', 't2']], ['m2', ['t1']], ['m3', ['t1', 't2']]]);
    const counts = new Map([['t1', 2], ['t2', 6]]);
    const previous = new Map<string, Assignment>([
      ['m0', new Map([['t2', new Set([2])]])], // no longer subscribed: must move
      ['m1', new Map([['t2', new Set([3, 4])]])],
      ['m2', new Map([['t1', new Set([0])]])],
      ['m3', new Map([['t1', new Set([1])], ['t2', new Set([0, 5])]])],
    ]);
    const target = assignor.assign(members, counts, previous);
    // m1 first gains the unowned t2-1 and t2-2, then gives one of them (not t2-3 or t2-4) to m3, which gave t1-1 to m0.
    expect(check(members, counts, previous, target)).toBe(2);
    expect(owned(target.get('m1'))).toEqual(expect.arrayContaining(['t2-3', 't2-4']));
  });

  test('randomized rounds of joins, leaves and new partitions: always full, disjoint, balanced; minimal moves with one subscription', () => {
    const rnd = random(42);
    for (const homogeneous of [true, false]) {
      const topics = ['t1', 't2', 't3'];
      const counts = new Map(topics.map((t) => [t, 1 + Math.floor(rnd() * 8)]));
      const members = new Map<string, string[]>();
      let previous = new Map<string, Assignment>();
      let nextId = 0;
      for (let round = 0; round < 300; round++) {
        const r = rnd();
        if ((r < 0.45 || members.size === 0) && members.size < 12) {
          const subscription = homogeneous ? topics : topics.filter(() => rnd() < 0.6);
          members.set(`m${String(nextId++).padStart(3, '0')}`, subscription.length ? subscription : ['t1']);
        } else if (r < 0.85) {
          const ids = [...members.keys()];
          members.delete(ids[Math.floor(rnd() * ids.length)]!);
        } else {
          const t = topics[Math.floor(rnd() * topics.length)]!;
          counts.set(t, counts.get(t)! + 1);
        }
        if (members.size === 0) continue;
        const target = assignor.assign(members, counts, previous);
        const moved = check(members, counts, previous, target);
        if (homogeneous) expect(moved).toBe(minimumMoves(members, counts, previous));
        previous = target;
      }
    }
  });
});
