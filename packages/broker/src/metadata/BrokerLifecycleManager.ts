import { randomUUID } from 'node:crypto';
import type { HttpJsonClient, Logger } from '@brook/runtime';
import {
  BrookError,
  type MetadataFetchRequest,
  type MetadataFetchResponse,
  type RegisterBrokerRequest,
  type RegisterBrokerResponse,
} from '@brook/types';
import type { MetadataCache } from './MetadataCache';

export interface LifecycleOptions {
  brokerId: number;
  cluster: string;
  host: string;
  port: number;
  heartbeatIntervalMs: number;
}

/**
 * Registers this broker with the controller and keeps its session alive (Kafka's BrokerLifecycleManager).
 * A heartbeat is a metadata fetch that the controller holds until there is news, so every change reaches
 * the broker within milliseconds. `onMetadata` runs after each batch of changes is in the cache.
 */
export class BrokerLifecycleManager {
  private readonly incarnationId = randomUUID();
  private epoch = -1;
  private running = false;
  private loop: Promise<void> | undefined;
  private wantShutDown = false;
  private shutdownGranted: (() => void) | undefined;
  /** Ends the heartbeat being held by the controller, so a new one can say something at once. */
  private heldHeartbeat: AbortController | undefined;
  private abandoned = false;
  fenced = true;

  constructor(
    private readonly options: LifecycleOptions,
    private readonly controller: HttpJsonClient,
    private readonly cache: MetadataCache,
    private readonly onMetadata: () => void,
    private readonly logger: Logger,
  ) {}

  /** The epoch of this broker's current registration; -1 while unregistered. */
  get brokerEpoch(): number {
    return this.epoch;
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /**
   * Controlled shutdown: ask the controller to move this broker's leadership away and wait until it says
   * the broker leads nothing, or until the deadline.
   */
  async controlledShutdown(timeoutMs: number): Promise<boolean> {
    if (!this.running || this.epoch < 0) return false;
    this.wantShutDown = true;
    this.abandonHeldHeartbeat();
    const granted = new Promise<boolean>((resolve) => {
      this.shutdownGranted = () => resolve(true);
      setTimeout(() => resolve(false), timeoutMs).unref();
    });
    return granted;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abandonHeldHeartbeat();
    await this.loop;
  }

  private abandonHeldHeartbeat(): void {
    if (!this.heldHeartbeat) return;
    this.abandoned = true;
    this.heldHeartbeat.abort();
  }

  private async run(): Promise<void> {
    let backoffMs = 100;
    while (this.running) {
      try {
        if (this.epoch < 0) await this.register();
        await this.heartbeat();
        backoffMs = 100;
      } catch (err) {
        if (!this.running) break;
        if (this.abandoned) {
          this.abandoned = false; // we ended it ourselves, to send a new heartbeat now
          continue;
        }
        const code = err instanceof BrookError ? err.code : undefined;
        if (code === 'STALE_BROKER_EPOCH' || code === 'UNKNOWN_BROKER') {
          this.logger.warn({ code }, 'controller no longer knows this registration; registering again');
          this.epoch = -1;
          continue;
        }
        this.logger.warn({ err: (err as Error).message }, 'controller unreachable; retrying');
        await delay(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 2000);
      }
    }
  }

  private async register(): Promise<void> {
    const request: RegisterBrokerRequest = {
      brokerId: this.options.brokerId,
      cluster: this.options.cluster,
      host: this.options.host,
      port: this.options.port,
      incarnationId: this.incarnationId,
      rack: null,
    };
    const res = await this.controller.post<RegisterBrokerResponse>('/register_broker/', request);
    this.epoch = res.brokerEpoch;
    this.logger.info({ brokerEpoch: res.brokerEpoch }, 'registered with the controller');
  }

  private async heartbeat(): Promise<void> {
    const request: MetadataFetchRequest = {
      brokerId: this.options.brokerId,
      brokerEpoch: this.epoch,
      lastOffset: this.cache.loaded ? this.cache.offset : -1,
      // Hold the request only while there is nothing to report: not while catching up or shutting down.
      maxWaitMs: !this.cache.loaded ? 0 : this.wantShutDown ? 100 : this.options.heartbeatIntervalMs,
      wantFence: !this.cache.loaded,
      wantShutDown: this.wantShutDown,
    };
    this.heldHeartbeat = new AbortController();
    const res = await this.controller
      .post<MetadataFetchResponse>('/metadata_fetch/', request, {
        timeoutMs: this.options.heartbeatIntervalMs + 10_000,
        signal: this.heldHeartbeat.signal,
      })
      .finally(() => (this.heldHeartbeat = undefined));
    if (res.kind === 'snapshot') this.cache.loadSnapshot(res.snapshot);
    else this.cache.applyRecords(res.records, res.lastOffset);
    if (this.fenced !== res.isFenced) this.logger.info({ fenced: res.isFenced }, res.isFenced ? 'fenced' : 'unfenced');
    this.fenced = res.isFenced;
    this.onMetadata();
    if (res.shouldShutDown && this.shutdownGranted) {
      this.shutdownGranted();
      this.running = false;
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
