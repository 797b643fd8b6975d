import type { MetadataFetchResponse, PartitionRecord } from '@brook/types';
import { MetadataLog } from './MetadataLog';
import { QuorumController, type QuorumControllerOptions } from './QuorumController';

/** Helpers for tests of the controller's logic (no ports, no processes, a clock the test moves). */

export class ManualClock {
  constructor(public time = 1_700_000_000_000) {}
  readonly now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

export interface TestController {
  clock: ManualClock;
  log: MetadataLog;
  controller: QuorumController;
}

/** A controller over an in-memory log with an unmanaged `default` cluster and a manual clock. */
export function testController(options: Partial<QuorumControllerOptions> & { file?: string } = {}): TestController {
  const clock = new ManualClock();
  const log = options.log ?? new MetadataLog({ file: options.file ?? ':memory:', now: clock.now });
  const controller = new QuorumController({
    log,
    dataDir: '/tmp/brook-controller-test-data',
    sessionTimeoutMs: 6000,
    metadataDeltaMaxAgeMs: 600_000,
    manageClusters: false,
    now: clock.now,
    random: () => 0,
    ...options,
  });
  controller.clusters.ensureDefaultCluster({ managed: false, numBrokers: 3, brokerPorts: [] });
  return { clock, log, controller };
}

/** Registers a broker and heartbeats it until it is unfenced (as a real broker does); returns its epoch. */
export async function startBroker(controller: QuorumController, brokerId: number, cluster = 'default'): Promise<number> {
  const { brokerEpoch } = controller.registerBroker({
    brokerId,
    cluster,
    host: 'localhost',
    port: 9000 + brokerId,
    incarnationId: `incarnation-${brokerId}-${controller.log.nextOffset}`,
    rack: null,
  });
  const first = await heartbeat(controller, brokerId, brokerEpoch, -1, { wantFence: true });
  await heartbeat(controller, brokerId, brokerEpoch, first.lastOffset);
  return brokerEpoch;
}

/**
 * The partition's current leader sets its ISR through AlterPartition under the current broker, leader and
 * partition epochs, as a real leader does when followers fall behind or catch up. Returns the new state.
 */
export function alterIsr(controller: QuorumController, topicId: string, partition: number, isr: number[]): PartitionRecord {
  const p = controller.log.partition(topicId, partition);
  if (!p) throw new Error(`no partition ${topicId}-${partition}`);
  const { topic: _t, cluster: _c, ...state } = controller.alterPartition({
    brokerId: p.leader,
    brokerEpoch: controller.log.broker(p.leader)!.brokerEpoch,
    topicId,
    partition,
    leaderEpoch: p.leaderEpoch,
    partitionEpoch: p.partitionEpoch,
    isr,
  });
  return state;
}

export function heartbeat(
  controller: QuorumController,
  brokerId: number,
  brokerEpoch: number,
  lastOffset: number,
  extra: { wantFence?: boolean; wantShutDown?: boolean; maxWaitMs?: number } = {},
): Promise<MetadataFetchResponse> {
  return controller.metadataFetch({
    brokerId,
    brokerEpoch,
    lastOffset,
    maxWaitMs: extra.maxWaitMs ?? 0,
    wantFence: extra.wantFence ?? false,
    wantShutDown: extra.wantShutDown ?? false,
  });
}

/** Resolves once `probe` is true, polling every few ms; fails after `timeoutMs`. */
export async function waitUntil(probe: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
