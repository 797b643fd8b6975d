import { encodeFetchResponse, type ReplicaFetchRequest } from '@brook/types';
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
        return Buffer.concat(encodeFetchResponse([]));
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

  test('a partition added while a long poll is out is fetched at once, not when the poll ends', async () => {
    const seen: ReplicaFetchRequest[] = [];
    // A leader with nothing new: it holds every fetch for 5 s unless the fetch is abandoned.
    const peers = {
      get: () => ({
        postForBuffer: (_path: string, request: ReplicaFetchRequest, options: { signal?: AbortSignal }) => {
          seen.push(request);
          return new Promise((resolve, reject) => {
            const timer = setTimeout(() => resolve(Buffer.concat(encodeFetchResponse([]))), 5000);
            options.signal?.addEventListener('abort', () => {
              clearTimeout(timer);
              reject(new Error('aborted'));
            });
          });
        },
      }),
    } as unknown as BrokerPeers;
    const manager = new ReplicaFetcherManager(3, peers, createLogger('test', 'silent'));
    const other = { ...partition, partition: 1 } as unknown as Partition;
    manager.follow(partition, 2, 0);
    await until(() => seen.length === 1);
    const started = Date.now();
    manager.follow(other, 2, 0);
    await until(() => seen.some((r) => r.partitions.length === 2));
    expect(Date.now() - started).toBeLessThan(1000);
    const stopping = Date.now();
    await manager.shutdown();
    expect(Date.now() - stopping).toBeLessThan(1000); // the poll out is abandoned too
  });
});
