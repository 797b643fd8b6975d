import { BrookError, type AllocateProducerIdsResponse } from '@brook/types';
import type { MetadataLog } from './MetadataLog';

/** Producer ids a broker gets at once (Kafka's ProducerIdsBlock size). */
export const PRODUCER_ID_BLOCK_SIZE = 1000;

/**
 * Producer ids for idempotent producers (Kafka's ProducerIdControlManager): one counter, advanced by
 * ProducerIdsRecord, so an id is never handed out twice, across restarts too.
 */
export class ProducerIdControl {
  constructor(private readonly log: MetadataLog) {}

  /** Seed 000 `/register_producer/`: one id for a client producer, epoch 0. */
  registerProducer(): { producerId: number; producerEpoch: number } {
    return this.log.transaction(() => {
      const producerId = this.log.nextProducerId;
      this.log.append([{ type: 'ProducerIdsRecord', payload: { brokerId: -1, brokerEpoch: -1, nextProducerId: producerId + 1 } }]);
      return { producerId, producerEpoch: 0 };
    });
  }

  /** Kafka's AllocateProducerIds: a block of ids for a registered broker to hand to its producers. */
  allocateBlock(brokerId: number, brokerEpoch: number, size = PRODUCER_ID_BLOCK_SIZE): AllocateProducerIdsResponse {
    return this.log.transaction(() => {
      const broker = this.log.broker(brokerId);
      if (!broker) throw new BrookError('UNKNOWN_BROKER', `broker ${brokerId} is not registered`, { brokerId });
      if (broker.brokerEpoch !== brokerEpoch) {
        throw new BrookError('STALE_BROKER_EPOCH', `broker epoch ${brokerEpoch} is not the current ${broker.brokerEpoch}`, {
          brokerEpoch: broker.brokerEpoch,
        });
      }
      const first = this.log.nextProducerId;
      this.log.append([{ type: 'ProducerIdsRecord', payload: { brokerId, brokerEpoch, nextProducerId: first + size } }]);
      return { firstProducerId: first, size };
    });
  }
}
