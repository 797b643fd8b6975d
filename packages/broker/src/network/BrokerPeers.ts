import { HttpJsonClient } from '@brook/runtime';
import { BrookError } from '@brook/types';
import type { MetadataCache } from '../metadata/MetadataCache';

/** Header marking a request one broker passed to another, so it is never passed on a second time. */
export const FORWARDED_HEADER = 'x-brook-forwarded';

/** Keep-alive connections to the other brokers of the cluster, by broker id, following endpoint changes. */
export class BrokerPeers {
  private readonly clients = new Map<number, HttpJsonClient>();

  constructor(private readonly metadata: MetadataCache) {}

  get(brokerId: number): HttpJsonClient {
    const broker = this.metadata.broker(brokerId);
    if (!broker || broker.state === 'fenced') {
      throw new BrookError('LEADER_NOT_AVAILABLE', `broker ${brokerId} is not available`, { broker: brokerId });
    }
    const url = `http://${broker.host}:${broker.port}`;
    let client = this.clients.get(brokerId);
    if (client && client.baseUrl !== url) {
      void client.close();
      client = undefined;
    }
    if (!client) {
      client = new HttpJsonClient(url);
      this.clients.set(brokerId, client);
    }
    return client;
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
  }
}
