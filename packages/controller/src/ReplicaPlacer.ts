import { BrookError } from '@brook/types';

export interface PlacementRequest {
  /** Ids of the brokers that may hold replicas (the cluster's live brokers). */
  brokers: readonly number[];
  /** Index of the first partition to place (0 for a new topic; the current count when adding). */
  firstPartition: number;
  count: number;
  replicationFactor: number;
}

/**
 * Spreads partition replicas over brokers the way Kafka's replica assignment does (without racks):
 * brokers are sorted by id, partition p's replica list starts at broker index (start + p) % n and
 * continues round the list. The first replica is the preferred leader, so leaders are balanced across
 * brokers, and a partition's replicas are always distinct brokers. `start` is random per topic (as in
 * Kafka) so that many small topics do not all lead on the first broker.
 */
export class ReplicaPlacer {
  constructor(private readonly random: () => number = Math.random) {}

  place(request: PlacementRequest): number[][] {
    const brokers = [...new Set(request.brokers)].sort((a, b) => a - b);
    const n = brokers.length;
    if (request.replicationFactor < 1) {
      throw new BrookError('INVALID_REPLICATION_FACTOR', 'the replication factor must be at least 1');
    }
    if (request.replicationFactor > n) {
      throw new BrookError(
        'INVALID_REPLICATION_FACTOR',
        `replication factor ${request.replicationFactor} is larger than the ${n} live broker(s) available`,
      );
    }
    const start = Math.floor(this.random() * n) % n;
    const assignments: number[][] = [];
    for (let i = 0; i < request.count; i++) {
      const p = request.firstPartition + i;
      const replicas: number[] = [];
      for (let r = 0; r < request.replicationFactor; r++) replicas.push(brokers[(start + p + r) % n]!);
      assignments.push(replicas);
    }
    return assignments;
  }
}
