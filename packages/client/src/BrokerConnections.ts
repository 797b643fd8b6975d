import { HttpJsonClient } from '@brook/runtime';
import { BrookError } from '@brook/types';
import type { Metadata } from './Metadata';

/** One keep-alive connection pool per broker URL, shared by everything a client sends to brokers. */
export class BrokerConnections {
  private readonly clients = new Map<string, HttpJsonClient>();
  private rotation = 0;

  constructor(
    private readonly metadata: Metadata,
    private readonly connectionsPerBroker: number,
  ) {}

  get(url: string): HttpJsonClient {
    let client = this.clients.get(url);
    if (!client) this.clients.set(url, (client = new HttpJsonClient(url, { connections: this.connectionsPerBroker })));
    return client;
  }

  /** Some live broker (any broker passes group requests to the coordinator); `rotate()` moves on after a failure. */
  any(): HttpJsonClient {
    const brokers = this.metadata.brokers();
    if (brokers.length === 0) throw new BrookError('BROKER_NOT_AVAILABLE', `no live broker in cluster ${this.metadata.cluster}`);
    return this.get(brokers[this.rotation % brokers.length]!.url);
  }

  rotate(): void {
    this.rotation++;
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
  }
}
