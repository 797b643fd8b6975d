import { Metadata } from '@brook/client';
import { HttpJsonClient } from '@brook/runtime';

export interface PartitionOffsets {
  partition: number;
  /** The log start offset. */
  earliest: number;
  /** The high watermark: the offset after the last record a reader can see. */
  latest: number;
}

/**
 * The earliest and latest offsets of every partition of `topic`, asked of any live broker (it forwards to
 * each partition's leader): where `consume` stops when not following, and where benches start reading.
 */
export async function partitionOffsets(controllerUrl: string, cluster: string, topic: string): Promise<PartitionOffsets[]> {
  const controller = new HttpJsonClient(controllerUrl, { connections: 1 });
  const clients = new Map<string, HttpJsonClient>();
  try {
    const metadata = new Metadata(controller, { cluster });
    const partitions = await metadata.requirePartitions(topic);
    const brokers = metadata.brokers();
    return await Promise.all(
      partitions.map(async ({ partition, leaderUrl }) => {
        const url = leaderUrl ?? brokers[partition % brokers.length]!.url;
        let client = clients.get(url);
        if (!client) clients.set(url, (client = new HttpJsonClient(url, { connections: 2 })));
        const { earliest, latest } = await client.get<{ earliest: number; latest: number }>(`/topics/${encodeURIComponent(topic)}/partitions/${partition}/offsets`);
        return { partition, earliest, latest };
      }),
    );
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
    await controller.close();
  }
}
