import type { Logger } from '@brook/runtime';
import {
  BrookError,
  decodeFetchResponse,
  type EpochEndOffsetsRequest,
  type EpochEndOffsetsResponse,
  type ReplicaFetchRequest,
} from '@brook/types';
import type { BrokerPeers } from '../network/BrokerPeers';
import type { Partition } from '../server/Partition';

/** How long the leader may hold a fetch while it has nothing new. */
const FETCH_MAX_WAIT_MS = 500;
const MAX_BYTES_PER_PARTITION = 4 * 1024 * 1024;

interface FetchState {
  partition: Partition;
  leaderEpoch: number;
  /** A new follower first truncates to where its log and the leader's agree (KIP-101), then fetches. */
  truncated: boolean;
  /** After an error, the partition waits for newer metadata before it is fetched again. */
  retryAt: number;
}

/**
 * Pulls every partition this broker follows from one leader with one long-poll request at a time
 * (Kafka's ReplicaFetcherThread). Batches arrive as the leader stored them and are appended as they are.
 */
export class ReplicaFetcher {
  private readonly states = new Map<string, FetchState>();
  private running = true;
  private wake: (() => void) | undefined;
  /** Aborts the fetch in flight, a long poll that does not carry a partition added since. */
  private inFlight: AbortController | undefined;
  private readonly loop: Promise<void>;

  constructor(
    readonly leaderId: number,
    private readonly localBrokerId: number,
    private readonly peers: BrokerPeers,
    private readonly logger: Logger,
  ) {
    this.loop = this.run();
  }

  get size(): number {
    return this.states.size;
  }

  has(partition: Partition, leaderEpoch: number): boolean {
    return this.states.get(key(partition))?.leaderEpoch === leaderEpoch;
  }

  add(partition: Partition, leaderEpoch: number): void {
    this.states.set(key(partition), { partition, leaderEpoch, truncated: false, retryAt: 0 });
    this.wake?.();
    // The fetch out now can be held up to FETCH_MAX_WAIT_MS without this partition: after a leader
    // change that is how long acks=all would wait for it. Send a new one at once instead.
    this.inFlight?.abort();
  }

  remove(partition: Partition): void {
    this.states.delete(key(partition));
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    this.inFlight?.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    let backoffMs = 50;
    while (this.running) {
      const now = Date.now();
      const ready = [...this.states.values()].filter((s) => s.retryAt <= now);
      if (ready.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, this.states.size > 0 ? 100 : 1000);
        });
        this.wake = undefined;
        continue;
      }
      try {
        const truncating = ready.filter((s) => !s.truncated);
        if (truncating.length > 0) await this.truncate(truncating);
        const fetching = ready.filter((s) => s.truncated && this.states.get(key(s.partition)) === s);
        if (fetching.length > 0) await this.fetch(fetching);
        backoffMs = 50;
      } catch (err) {
        if (!this.running) break;
        this.logger.debug({ leader: this.leaderId, err: (err as Error).message }, 'replica fetch failed; retrying');
        await new Promise((r) => setTimeout(r, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 1000);
      }
    }
  }

  /** KIP-101: ask the leader where our latest epoch ends on its log and cut our log there. */
  private async truncate(states: FetchState[]): Promise<void> {
    const withEpoch = states.filter((s) => s.partition.log.latestEpoch !== undefined);
    for (const s of states) if (s.partition.log.latestEpoch === undefined) s.truncated = true; // empty log: nothing to undo
    if (withEpoch.length === 0) return;
    const request: EpochEndOffsetsRequest = {
      replicaId: this.localBrokerId,
      partitions: withEpoch.map((s) => ({
        topic: s.partition.topic,
        partition: s.partition.partition,
        leaderEpoch: s.leaderEpoch,
        requestedEpoch: s.partition.log.latestEpoch!,
      })),
    };
    const res = await this.peers.get(this.leaderId).post<EpochEndOffsetsResponse>('/replica/epoch_end_offsets', request);
    res.partitions.forEach((answer, i) => {
      const s = withEpoch[i]!;
      if (this.states.get(key(s.partition)) !== s) return; // reassigned meanwhile
      if (answer.error) {
        s.retryAt = Date.now() + 200;
        return;
      }
      const log = s.partition.log;
      const requested = request.partitions[i]!.requestedEpoch;
      let target = Math.min(answer.endOffset, log.logEndOffset);
      if (answer.epoch === -1) target = Math.min(s.partition.highWatermark, log.logEndOffset);
      else if (answer.epoch !== requested) {
        // The leader never had our latest epoch: keep only what we have of the epoch it last shares with us.
        const local = log.endOffsetForEpoch(answer.epoch);
        if (local) target = Math.min(target, local.endOffset);
      }
      if (target < log.logEndOffset) {
        this.logger.info(
          { topic: log.topic, partition: log.partition, from: log.logEndOffset, to: target, leader: this.leaderId },
          'truncating divergent log tail',
        );
        log.truncateTo(target);
        s.partition.onTruncated();
      }
      s.truncated = true;
    });
  }

  private async fetch(states: FetchState[]): Promise<void> {
    const request: ReplicaFetchRequest = {
      replicaId: this.localBrokerId,
      maxWaitMs: FETCH_MAX_WAIT_MS,
      maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
      partitions: states.map((s) => ({
        topic: s.partition.topic,
        partition: s.partition.partition,
        fetchOffset: s.partition.log.logEndOffset,
        leaderEpoch: s.leaderEpoch,
      })),
    };
    const abort = new AbortController();
    this.inFlight = abort;
    let body: Buffer;
    try {
      body = await this.peers.get(this.leaderId).postForBuffer('/replica/fetch', request, { timeoutMs: FETCH_MAX_WAIT_MS + 10_000, signal: abort.signal });
    } catch (err) {
      if (abort.signal.aborted) return; // on purpose: the loop goes again at once
      throw err;
    } finally {
      if (this.inFlight === abort) this.inFlight = undefined;
    }
    const results = decodeFetchResponse(body);
    results.forEach((r, i) => {
      const s = states[i]!;
      if (this.states.get(key(s.partition)) !== s) return; // reassigned while the fetch was out
      const log = s.partition.log;
      if (r.error) {
        this.handleError(s, r.error.code, r.logStartOffset, r.logEndOffset);
        return;
      }
      if (r.records.length > 0) {
        try {
          log.appendAsFollower(r.records);
        } catch (err) {
          if (!(err instanceof BrookError)) throw err;
          this.logger.warn({ topic: log.topic, partition: log.partition, err: err.message }, 'follower append refused; truncating again');
          s.truncated = false;
          return;
        }
      }
      s.partition.updateFollowerHighWatermark(r.highWatermark);
    });
  }

  private handleError(s: FetchState, code: string, leaderLogStart: number, leaderLogEnd: number): void {
    const log = s.partition.log;
    if (code === 'OFFSET_OUT_OF_RANGE') {
      if (log.logEndOffset > leaderLogEnd) {
        log.truncateTo(leaderLogEnd);
        s.partition.onTruncated();
      } else if (log.logEndOffset < leaderLogStart) {
        log.truncateFullyAndStartAt(leaderLogStart);
        s.partition.onTruncated();
      }
      return;
    }
    // NOT_LEADER, FENCED_LEADER_EPOCH, LEADER_NOT_AVAILABLE: our metadata or the leader's is behind.
    s.retryAt = Date.now() + 100;
  }
}

function key(p: Partition): string {
  return `${p.topic}\0${p.partition}`;
}
