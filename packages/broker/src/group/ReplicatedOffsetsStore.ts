import { BrookError, encodeBatch } from '@brook/types';
import type { ReplicaManager } from '../server/ReplicaManager';
import type { OffsetsRecord, OffsetsStore } from './OffsetsStore';

export const OFFSETS_TOPIC = '__consumer_offsets';

/**
 * Committed offsets go into __consumer_offsets like any record: appended by this broker as the partition's
 * leader and acknowledged once every in-sync replica has them, so they survive the coordinator's crash.
 */
export class ReplicatedOffsetsStore implements OffsetsStore {
  constructor(
    private readonly replicas: ReplicaManager,
    private readonly ackTimeoutMs: number,
  ) {}

  async append(p: number, records: OffsetsRecord[]): Promise<void> {
    let partition;
    try {
      partition = this.replicas.leaderPartition(OFFSETS_TOPIC, p);
    } catch {
      throw new BrookError('NOT_COORDINATOR', `this broker no longer leads ${OFFSETS_TOPIC}-${p}`, { partition: p });
    }
    partition.checkEnoughReplicas();
    const { lastOffset } = partition.appendAsLeader(encodeBatch(records.map((r) => ({ key: r.key, value: r.value }))));
    await partition.waitForHighWatermark(lastOffset + 1, this.ackTimeoutMs);
  }
}
