/** Partitions by topic: a member's current assignment or its share of the group's target assignment. */
export type Assignment = Map<string, Set<number>>;

/** The wire shape: topics by name, partitions ascending. */
export function toTopicPartitions(assignment: Assignment): Array<{ topic: string; partitions: number[] }> {
  return [...assignment]
    .filter(([, partitions]) => partitions.size > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }));
}

export function sameAssignment(a: Assignment, b: Assignment): boolean {
  const size = (x: Assignment) => [...x.values()].reduce((n, s) => n + s.size, 0);
  if (size(a) !== size(b)) return false;
  for (const [topic, partitions] of a) {
    const other = b.get(topic);
    for (const p of partitions) if (!other?.has(p)) return false;
  }
  return true;
}

export function addPartition(assignment: Assignment, topic: string, partition: number): void {
  let partitions = assignment.get(topic);
  if (!partitions) assignment.set(topic, (partitions = new Set()));
  partitions.add(partition);
}

/** Whether `a` and `b` share a partition. */
export function overlaps(a: Assignment, b: Assignment): boolean {
  for (const [topic, partitions] of a) {
    const other = b.get(topic);
    if (other) for (const p of partitions) if (other.has(p)) return true;
  }
  return false;
}

/** Whether every partition of `a` is in `b`. */
export function isSubset(a: Assignment, b: Assignment): boolean {
  for (const [topic, partitions] of a) {
    const other = b.get(topic);
    for (const p of partitions) if (!other?.has(p)) return false;
  }
  return true;
}

/** An assignment from the wire shape. */
export function fromTopicPartitions(list: Array<{ topic: string; partitions: number[] }>): Assignment {
  const assignment: Assignment = new Map();
  for (const { topic, partitions } of list) for (const p of partitions) addPartition(assignment, topic, p);
  return assignment;
}
