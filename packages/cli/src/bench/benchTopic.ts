import type { Admin } from '@brook/client';
import { partitionOffsets } from '../PartitionOffsets';
import { waitFor } from '../waitFor';

/**
 * Creates `name` and waits until the controller shows every partition with a leader and its full ISR,
 * and the leaders serve it, so a run starts on a settled topic rather than measuring retries.
 */
export async function createBenchTopic(admin: Admin, controllerUrl: string, name: string, partitions: number, replicationFactor: number): Promise<void> {
  await admin.createTopic({ topic: name, partitions, replicationFactor });
  const what = `leaders and in-sync replicas of ${name}`;
  await waitFor(async () => (await admin.describeTopic(name)).partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length), { timeoutMs: 30_000, what });
  await waitFor(async () => (await partitionOffsets(controllerUrl, admin.clusterName, name)).length === partitions, { timeoutMs: 30_000, what });
}

/** A fresh topic name per run, so runs never read each other's records. */
export function freshTopicName(mode: string): string {
  return `bench-${mode}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}
