import type { ClientMetadataResponse } from '@brook/types';
import type { HttpJsonClientLike } from './HttpJsonClientLike';
import { Metadata } from './Metadata';

function fakeController(answers: ClientMetadataResponse[]): HttpJsonClientLike & { calls: number } {
  const c = {
    baseUrl: 'http://controller',
    calls: 0,
    async get<T>(): Promise<T> {
      const a = answers[Math.min(c.calls, answers.length - 1)]!;
      c.calls++;
      return a as unknown as T;
    },
    post: async () => undefined as never,
    delete: async () => undefined as never,
    close: async () => undefined,
  };
  return c;
}

const answer = (leader: number): ClientMetadataResponse => ({
  cluster: 'default',
  controller: { host: 'localhost', port: 9000 },
  brokers: [
    { id: 1, host: 'h1', port: 9001, state: 'active' },
    { id: 2, host: 'h2', port: 9002, state: 'active' },
  ],
  topics: [{ name: 't', topicId: 'x', configs: {}, partitions: [{ partition: 0, leader, replicas: [1, 2], isr: [1, 2], leaderEpoch: leader, partitionEpoch: 0 }] }],
});

describe('Metadata', () => {
  test('leaders and broker URLs; refresh on demand; invalidate + refreshIfStale picks up a new leader', async () => {
    const controller = fakeController([answer(1), answer(2)]);
    const m = new Metadata(controller, { minRefreshIntervalMs: 20 });
    await m.refresh();
    expect(m.leaderUrl('t', 0)).toBe('http://h1:9001');
    await m.refreshIfStale();
    expect(controller.calls).toBe(1); // not stale: no request
    m.invalidate();
    const started = Date.now();
    await m.refreshIfStale();
    expect(Date.now() - started).toBeGreaterThanOrEqual(15); // the min interval since the last refresh
    expect(m.leaderUrl('t', 0)).toBe('http://h2:9002');
  });

  test('concurrent refreshes share one request; an offline partition has no leader URL; unknown topics are UNKNOWN_TOPIC', async () => {
    const controller = fakeController([answer(-1)]);
    const m = new Metadata(controller, { minRefreshIntervalMs: 0 });
    await Promise.all([m.refresh(), m.refresh(), m.refresh()]);
    expect(controller.calls).toBe(1);
    expect(m.leaderUrl('t', 0)).toBeUndefined();
    await expect(m.requirePartitions('nope')).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' });
    expect(m.brokers().map((b) => b.url)).toEqual(['http://h1:9001', 'http://h2:9002']);
  });
});
