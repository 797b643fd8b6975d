import { parseOutcome as outcome } from '../testing/parseOutcome';
import { parseInput } from '../validation';
import { ConsumerFetchRequest, parseConsumerFetchRequest } from './fetch';
import { parseReplicaFetchRequest, ReplicaFetchRequest } from './replication';

describe('fetch requests checked without zod on the hot path', () => {
  const p = { topic: 't', partition: 0, fetchOffset: 5 };
  const consumerBodies: unknown[] = [
    { maxWaitMs: 500, partitions: [p] },
    { maxWaitMs: 0, minBytes: 10, maxBytesPerPartition: 1, partitions: [p, { ...p, partition: 3, extra: 1 }], extra: true },
    { maxWaitMs: 30_001, partitions: [p] },
    { maxWaitMs: -1, partitions: [p] },
    { maxWaitMs: 1.5, partitions: [p] },
    { maxWaitMs: '5', partitions: [p] },
    { maxWaitMs: 5, minBytes: 0, partitions: [p] },
    { maxWaitMs: 5, maxBytesPerPartition: 64 * 1024 * 1024 + 1, partitions: [p] },
    { maxWaitMs: 5, partitions: [] },
    { maxWaitMs: 5, partitions: [{ ...p, topic: '..' }] },
    { maxWaitMs: 5, partitions: [{ ...p, partition: -1 }] },
    { maxWaitMs: 5, partitions: [{ ...p, fetchOffset: 2 ** 60 }] },
    { maxWaitMs: 5, partitions: [{ topic: 't', partition: 0 }] },
    { maxWaitMs: 5, partitions: [null] },
    { maxWaitMs: 5, partitions: 'x' },
    null,
    [1],
  ];

  test.each(consumerBodies.map((b) => [JSON.stringify(b), b]))('POST /fetch %s', (_name, body) => {
    expect(outcome(() => parseConsumerFetchRequest(body))).toEqual(outcome(() => parseInput(ConsumerFetchRequest, body)));
  });

  const r = { topic: 't', partition: 1, fetchOffset: 7, leaderEpoch: 2 };
  const replicaBodies: unknown[] = [
    { replicaId: 2, maxWaitMs: 500, maxBytesPerPartition: 4 << 20, partitions: [r, { ...r, partition: 4 }] },
    { replicaId: 2, maxWaitMs: 500, partitions: [], extra: 1 },
    { replicaId: 2, maxWaitMs: 500, partitions: [{ ...r, extra: 1 }] },
    { replicaId: -1, maxWaitMs: 500, partitions: [r] },
    { maxWaitMs: 500, partitions: [r] },
    { replicaId: 2, maxWaitMs: 500, maxBytesPerPartition: 0, partitions: [r] },
    { replicaId: 2, maxWaitMs: 500, partitions: [{ ...r, leaderEpoch: -1 }] },
    { replicaId: 2, maxWaitMs: 500, partitions: [{ ...r, topic: 7 }] },
    { replicaId: 2, maxWaitMs: 500, partitions: [{ ...r, fetchOffset: null }] },
    { replicaId: 2, maxWaitMs: 500 },
    'text',
  ];

  test.each(replicaBodies.map((b) => [JSON.stringify(b), b]))('POST /replica/fetch %s', (_name, body) => {
    expect(outcome(() => parseReplicaFetchRequest(body))).toEqual(outcome(() => parseInput(ReplicaFetchRequest, body)));
  });
});
