import { encodeReplicaFetchResponse, type ReplicaFetchRequest } from '@brook/types';
import { createLogger } from '@brook/runtime';
import type { BrokerPeers } from '../network/BrokerPeers';
import type { Partition } from '../server/Partition';
import { ReplicaFetcherManager } from './ReplicaFetcherManager';

/** Leaders that answer every fetch empty after a moment, recording what they were asked. */
function fakePeers(seen: Array<{ leader: number; request: ReplicaFetchRequest }>): BrokerPeers {
  return {
    get: (leader: number) => ({
      postForBuffer: async (_path: string, request: ReplicaFetchRequest) => {
        seen.push({ leader, request });
        await new Promise((r) => setTimeout(r, 5));
        return encodeReplicaFetchResponse([]);
      },
    }),
  } as unknown as BrokerPeers;
}

const partition = {
  topic: 't',
  partition: 0,
  log: { latestEpoch: undefined, logEndOffset: 0 },
  updateFollowerHighWatermark: () => undefined,
} as unknown as Partition;

async function until(probe: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('ReplicaFetcherManager', () => {
  test('a new leader epoch under the same leader keeps the partition fetched', async () => {
    const seen: Array<{ leader: number; request: ReplicaFetchRequest }> = [];
    const manager = new ReplicaFetcherManager(3, fakePeers(seen), createLogger('test', 'silent'));
    manager.follow(partition, 2, 0);
    await until(() => seen.some((s) => s.request.partitions[0]?.leaderEpoch === 0));
    manager.follow(partition, 2, 1);
    await until(() => seen.some((s) => s.request.partitions[0]?.leaderEpoch === 1));
    manager.follow(partition, 1, 2);
    await until(() => seen.some((s) => s.leader === 1 && s.request.partitions[0]?.leaderEpoch === 2));
    const count = seen.length;
    await until(() => seen.length > count + 2);
    expect(seen.slice(count).every((s) => s.leader === 1)).toBe(true); // the old leader is no longer asked
    await manager.shutdown();
  });
});
