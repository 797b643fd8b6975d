import { ReplicaPlacer } from './ReplicaPlacer';

describe('ReplicaPlacer', () => {
  it('balances leaders and keeps each partition\'s replicas distinct', () => {
    for (const start of [0, 0.4, 0.99]) {
      const placement = new ReplicaPlacer(() => start).place({ brokers: [3, 1, 2], firstPartition: 0, count: 6, replicationFactor: 3 });
      expect(placement).toHaveLength(6);
      const leaders = new Map<number, number>();
      for (const replicas of placement) {
        expect(new Set(replicas).size).toBe(3);
        expect(replicas.every((id) => [1, 2, 3].includes(id))).toBe(true);
        leaders.set(replicas[0]!, (leaders.get(replicas[0]!) ?? 0) + 1);
      }
      expect([...leaders.entries()].sort()).toEqual([[1, 2], [2, 2], [3, 2]]);
    }
  });

  it('starts partition p at broker (start + p) and continues round the sorted list', () => {
    const placer = new ReplicaPlacer(() => 0);
    expect(placer.place({ brokers: [5, 1, 3], firstPartition: 0, count: 4, replicationFactor: 2 })).toEqual([
      [1, 3],
      [3, 5],
      [5, 1],
      [1, 3],
    ]);
    // Added partitions continue the pattern.
    expect(placer.place({ brokers: [1, 3, 5], firstPartition: 4, count: 2, replicationFactor: 2 })).toEqual([
      [3, 5],
      [5, 1],
    ]);
  });

  it('refuses a replication factor larger than the brokers available', () => {
    const placer = new ReplicaPlacer();
    expect(() => placer.place({ brokers: [1, 2], firstPartition: 0, count: 1, replicationFactor: 3 })).toThrow(
      expect.objectContaining({ code: 'INVALID_REPLICATION_FACTOR' }),
    );
    expect(() => placer.place({ brokers: [1], firstPartition: 0, count: 1, replicationFactor: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_REPLICATION_FACTOR' }),
    );
  });
});
