import type { HttpJsonClient } from '@brook/runtime';
import type { AlterPartitionRequest, PartitionRecord } from '@brook/types';
import type { Partition } from '../server/Partition';

/**
 * Sends a leader's ISR proposals to the controller (Kafka's AlterPartitionManager). The controller checks
 * the leader and partition epochs, so a deposed leader's proposal is refused.
 */
export class AlterPartitionManager {
  constructor(
    private readonly brokerId: number,
    private readonly brokerEpoch: () => number,
    private readonly controller: HttpJsonClient,
  ) {}

  propose = (partition: Partition, isr: number[]): Promise<PartitionRecord> => {
    const request: AlterPartitionRequest = {
      brokerId: this.brokerId,
      brokerEpoch: this.brokerEpoch(),
      topicId: partition.topicId,
      partition: partition.partition,
      leaderEpoch: partition.leaderEpoch,
      partitionEpoch: partition.partitionEpoch,
      isr,
    };
    return this.controller.post<PartitionRecord>('/update_partition/', request);
  };
}
