import type { Assignment } from './Assignment';

type TopicPartition = [topic: string, partition: number];

/** One member while the assignment is computed: what it keeps from the previous target and what it gains. */
interface Slot {
  memberId: string;
  topics: ReadonlySet<string>;
  kept: TopicPartition[];
  added: TopicPartition[];
}

const count = (s: Slot) => s.kept.length + s.added.length;
const byId = (a: Slot, b: Slot) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0);

/**
 * Server-side assignment (Kafka's UniformAssignor): every partition of every subscribed topic goes to
 * exactly one member subscribed to its topic, members with the same subscription end within one partition
 * of each other, and as few partitions as possible change owner from the previous target assignment.
 *
 * Members first keep what the previous target gave them (while still subscribed and the partition still
 * exists); unowned partitions then go one by one to the least loaded eligible member, those of topics with
 * the fewest subscribers first; last, a partition moves from the most to the least loaded member that can
 * take it while they differ by two or more. With identical subscriptions a member only ever gives or only
 * ever receives, so the number of partitions that change owner is the minimum a balanced assignment needs.
 */
export class UniformAssignor {
  /**
   * @param members subscribed topics by member id
   * @param partitionCounts partition count of each subscribed topic that exists
   * @param previous the previous target assignment, by member id
   */
  assign(
    members: ReadonlyMap<string, readonly string[]>,
    partitionCounts: ReadonlyMap<string, number>,
    previous: ReadonlyMap<string, Assignment>,
  ): Map<string, Assignment> {
    const slots: Slot[] = [...members]
      .map(([memberId, topics]) => ({ memberId, topics: new Set(topics), kept: [], added: [] }))
      .sort(byId);
    const owned = new Set<string>();
    for (const slot of slots) {
      for (const [topic, partitions] of previous.get(slot.memberId) ?? []) {
        const n = partitionCounts.get(topic);
        if (n === undefined || !slot.topics.has(topic)) continue;
        for (const p of [...partitions].sort((a, b) => a - b)) {
          if (p < n && !owned.has(`${topic}\0${p}`)) {
            owned.add(`${topic}\0${p}`);
            slot.kept.push([topic, p]);
          }
        }
      }
    }

    const subscribers = new Map<string, Slot[]>();
    for (const topic of partitionCounts.keys()) subscribers.set(topic, slots.filter((s) => s.topics.has(topic)));
    const unowned: TopicPartition[] = [];
    for (const [topic, n] of partitionCounts) {
      for (let p = 0; p < n; p++) if (!owned.has(`${topic}\0${p}`) && subscribers.get(topic)!.length > 0) unowned.push([topic, p]);
    }
    unowned.sort(([ta, pa], [tb, pb]) => subscribers.get(ta)!.length - subscribers.get(tb)!.length || (ta < tb ? -1 : ta > tb ? 1 : pa - pb));
    for (const tp of unowned) {
      const eligible = subscribers.get(tp[0])!;
      let least = eligible[0]!;
      for (const s of eligible) if (count(s) < count(least)) least = s;
      least.added.push(tp);
    }

    while (moveOne(slots));

    const target = new Map<string, Assignment>();
    for (const slot of slots) {
      const assignment: Assignment = new Map();
      for (const [topic, p] of [...slot.kept, ...slot.added]) {
        let set = assignment.get(topic);
        if (!set) assignment.set(topic, (set = new Set()));
        set.add(p);
      }
      target.set(slot.memberId, assignment);
    }
    return target;
  }
}

/** Moves one partition from the most loaded member that has one the least loaded can take; false when balanced. */
function moveOne(slots: Slot[]): boolean {
  const order = [...slots].sort((a, b) => count(a) - count(b) || byId(a, b));
  for (const receiver of order) {
    for (let i = order.length - 1; i >= 0; i--) {
      const donor = order[i]!;
      if (count(donor) < count(receiver) + 2) break;
      const tp = take(donor, receiver.topics);
      if (tp) {
        receiver.added.push(tp);
        return true;
      }
    }
  }
  return false;
}

/** Takes from `donor` a partition of one of `topics`, preferring one it only just gained, so fewer change owner. */
function take(donor: Slot, topics: ReadonlySet<string>): TopicPartition | undefined {
  for (const list of [donor.added, donor.kept]) {
    for (let i = list.length - 1; i >= 0; i--) {
      if (topics.has(list[i]![0])) return list.splice(i, 1)[0];
    }
  }
  return undefined;
}
