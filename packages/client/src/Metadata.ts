import { BrookError } from '@brook/types';
import type { HttpJsonClientLike } from './HttpJsonClientLike';
import type { ClientMetadataResponse, PartitionView } from '@brook/types';

/** One partition as the client sees it: its leader and that leader's URL (undefined when offline). */
export interface PartitionInfo {
  partition: number;
  leader: number;
  leaderEpoch: number;
  leaderUrl: string | undefined;
}

export interface MetadataOptions {
  /** Smallest interval between two refreshes caused by errors (Kafka's retry.backoff / metadata.max.age). */
  minRefreshIntervalMs?: number;
  cluster?: string;
}

/** Error codes after which the cached metadata is stale. */
export const STALE_METADATA_CODES = new Set(['NOT_LEADER', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC', 'UNKNOWN_PARTITION', 'BROKER_NOT_AVAILABLE', 'FENCED_LEADER_EPOCH']);

/**
 * Cached cluster metadata from the controller's `GET /metadata_fetch_client/`: partition leaders and
 * broker URLs. Refreshed on demand (`refresh()`), and after errors that mean it is stale
 * (`invalidate()` + `refreshIfStale()`), at most once per `minRefreshIntervalMs`; concurrent refreshes share
 * one request.
 */
export class Metadata {
  private readonly topics = new Map<string, PartitionInfo[]>();
  private readonly brokerUrls = new Map<number, string>();
  private inflight: Promise<void> | undefined;
  private lastRefresh = 0;
  private stale = false;
  private readonly minRefreshIntervalMs: number;
  readonly cluster: string;
  /** Refreshes done so far (for tests and stats). */
  refreshes = 0;

  constructor(
    private readonly controller: HttpJsonClientLike,
    options: MetadataOptions = {},
  ) {
    this.minRefreshIntervalMs = options.minRefreshIntervalMs ?? 50;
    this.cluster = options.cluster ?? 'default';
  }

  /** Fetches all topics' metadata now (sharing a refresh already under way). */
  refresh(): Promise<void> {
    if (this.inflight) return this.inflight;
    this.inflight = (async () => {
      try {
        const res = await this.controller.get<ClientMetadataResponse>('/metadata_fetch_client/', { query: { cluster: this.cluster } });
        this.apply(res);
        this.stale = false;
        this.refreshes++;
      } finally {
        this.lastRefresh = Date.now();
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  /** Marks the cache stale after an error such as NOT_LEADER. */
  invalidate(): void {
    this.stale = true;
  }

  /** Refreshes when stale (or when `force`), waiting out the min interval since the last refresh. */
  async refreshIfStale(force = false): Promise<void> {
    if (!this.stale && !force) return;
    const wait = this.lastRefresh + this.minRefreshIntervalMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await this.refresh();
  }

  /** Applies a metadata answer (public for tests). */
  apply(res: ClientMetadataResponse): void {
    this.brokerUrls.clear();
    for (const b of res.brokers) if (b.state !== 'fenced') this.brokerUrls.set(b.id, `http://${b.host}:${b.port}`);
    this.topics.clear();
    for (const t of res.topics) {
      this.topics.set(
        t.name,
        [...t.partitions].sort((a, b) => a.partition - b.partition).map((p: PartitionView) => ({
          partition: p.partition,
          leader: p.leader,
          leaderEpoch: p.leaderEpoch,
          leaderUrl: p.leader >= 0 ? this.brokerUrls.get(p.leader) : undefined,
        })),
      );
    }
  }

  /** Partitions of a topic, or undefined when the topic is not known. */
  partitions(topic: string): PartitionInfo[] | undefined {
    return this.topics.get(topic);
  }

  /** The partitions of a topic, refreshing once when it is unknown; UNKNOWN_TOPIC when it still is. */
  async requirePartitions(topic: string): Promise<PartitionInfo[]> {
    let parts = this.topics.get(topic);
    if (!parts) {
      await this.refreshIfStale(true);
      parts = this.topics.get(topic);
    }
    if (!parts) throw new BrookError('UNKNOWN_TOPIC', `topic ${topic} does not exist in cluster ${this.cluster}`, { topic });
    return parts;
  }

  leaderUrl(topic: string, partition: number): string | undefined {
    return this.topics.get(topic)?.[partition]?.leaderUrl;
  }

  brokers(): Array<{ id: number; url: string }> {
    return [...this.brokerUrls].map(([id, url]) => ({ id, url }));
  }

  topicNames(): string[] {
    return [...this.topics.keys()];
  }
}
