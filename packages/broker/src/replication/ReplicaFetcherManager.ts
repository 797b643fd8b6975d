import type { Logger } from '@brook/runtime';
import type { BrokerPeers } from '../network/BrokerPeers';
import type { Partition } from '../server/Partition';
import { ReplicaFetcher } from './ReplicaFetcher';

/** One ReplicaFetcher per leader this broker follows; partitions move between them as leaders change. */
export class ReplicaFetcherManager {
  private readonly fetchers = new Map<number, ReplicaFetcher>();

  constructor(
    private readonly localBrokerId: number,
    private readonly peers: BrokerPeers,
    private readonly logger: Logger,
  ) {}

  /** Follow `partition` from `leaderId` in `leaderEpoch`; a new leader or epoch restarts with truncation. */
  follow(partition: Partition, leaderId: number, leaderEpoch: number): void {
    if (this.fetchers.get(leaderId)?.has(partition, leaderEpoch)) return;
    this.unfollow(partition);
    // Looked up again: unfollow stops a fetcher left with no partitions, which may be this leader's.
    let fetcher = this.fetchers.get(leaderId);
    if (!fetcher) {
      fetcher = new ReplicaFetcher(leaderId, this.localBrokerId, this.peers, this.logger);
      this.fetchers.set(leaderId, fetcher);
    }
    fetcher.add(partition, leaderEpoch);
  }

  unfollow(partition: Partition): void {
    for (const [leaderId, fetcher] of this.fetchers) {
      fetcher.remove(partition);
      if (fetcher.size === 0) {
        this.fetchers.delete(leaderId);
        void fetcher.stop();
      }
    }
  }

  async shutdown(): Promise<void> {
    const all = [...this.fetchers.values()];
    this.fetchers.clear();
    await Promise.all(all.map((f) => f.stop()));
  }
}
