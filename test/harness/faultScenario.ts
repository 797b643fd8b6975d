import {
  AckProducer,
  describeReport,
  verifyAcknowledged,
  waitFor,
  waitForHealed,
  waitForReplicasIdentical,
  type Ack,
  type Attempt,
  type ReplicaComparison,
  type VerifyReport,
} from './faultkit';
import type { TestCluster } from './TestCluster';

/** Cluster settings the fault tests share: quick fencing, quicker ISR shrink. */
export const FAULT_SESSION_TIMEOUT_MS = 3000;
export const FAULT_REPLICA_LAG_TIME_MAX_MS = 1500;
export const FAULT_ENV = {
  BROOK_REPLICA_LAG_TIME_MAX_MS: String(FAULT_REPLICA_LAG_TIME_MAX_MS),
  // acks=all gives up (REQUEST_TIMED_OUT) before the test client does (15 s).
  BROOK_PRODUCE_TIMEOUT_MS: '8000',
  BROOK_LOG_LEVEL: process.env.BROOK_TEST_LOG_LEVEL ?? 'info',
};

const running = new Set<AckProducer>();

/** A background acks=all producer over `partitions` partitions of `topic`, started. */
export function startProducer(cluster: TestCluster, topic: string, partitions: number | number[], tag = topic): AckProducer {
  const producer = new AckProducer(cluster.brook, { topic, partitions, batchSize: 5, tag, timeoutMs: 15_000, intervalMs: 2 }).start();
  running.add(producer);
  return producer;
}

/** Stops every producer a failed scenario left running (their outstanding requests are abandoned). */
export async function stopAllProducers(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop({ abandonAfterMs: 2_000 })));
  running.clear();
}

/** Waits until the producer has `count` acknowledged records (load before the fault). */
export async function warmUp(producer: AckProducer, count = 100): Promise<void> {
  await waitFor(() => producer.acked.length >= count, { timeoutMs: 20_000, what: `${count} acknowledged records`, describe: () => JSON.stringify(producer.summary()) });
}

export interface ScenarioResult {
  report: VerifyReport;
  replicas: ReplicaComparison[];
}

/**
 * The end of every fault scenario: stop the producers, wait for the cluster to heal (3 active brokers,
 * every ISR full), then check that every acknowledged record is read back once at its offset with no gap,
 * that nothing refused before its append survived, and that every replica holds the same bytes up to the
 * high watermark (and ends there: nothing a deposed leader appended survives anywhere).
 */
export async function finishScenario(
  cluster: TestCluster,
  topic: string,
  producers: AckProducer[],
  extra: { acked?: Ack[]; attempts?: Map<string, Attempt> } = {},
): Promise<ScenarioResult> {
  await Promise.all(producers.map((p) => p.stop()));
  for (const p of producers) running.delete(p);
  await waitForHealed(cluster.brook, topic, { timeoutMs: 30_000 });
  const acked = [...producers.flatMap((p) => p.acked), ...(extra.acked ?? [])];
  const attempts = new Map<string, Attempt>();
  for (const p of producers) for (const [k, v] of p.attempts) attempts.set(k, v);
  for (const [k, v] of extra.attempts ?? []) attempts.set(k, v);
  const report = await verifyAcknowledged(cluster.brook, { topic, acked, attempts });
  if (!report.ok || report.refusedButSurvived.length || report.foreign.length || acked.some((a) => a.offset < 0)) {
    throw new Error(`verification of ${topic} failed:\n${describeReport(report)}\n${await diagnostics(cluster)}`);
  }
  let replicas: ReplicaComparison[];
  try {
    replicas = await waitForReplicasIdentical(cluster.brook, topic, { timeoutMs: 15_000 });
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await diagnostics(cluster)}`);
  }
  return { report, replicas };
}

/** Metadata and the brokers' log tails, for a failure message. */
export async function diagnostics(cluster: TestCluster, lines = 40): Promise<string> {
  const parts: string[] = [];
  try {
    parts.push(`processes: ${JSON.stringify(await cluster.brook.processes())}`);
  } catch (err) {
    parts.push(`processes: ${(err as Error).message}`);
  }
  for (const id of [1, 2, 3]) parts.push(`--- broker ${id} log tail:\n${cluster.brokerLog(id, lines)}`);
  parts.push(`--- controller output tail:\n${cluster.logs.split('\n').slice(-lines).join('\n')}`);
  return parts.join('\n');
}

/** One line of figures for the test output. */
export function logFigures(name: string, figures: Record<string, unknown>): void {
  process.stdout.write(`[faults] ${name}: ${JSON.stringify(figures)}\n`);
}
