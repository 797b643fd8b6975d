import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeBatch, type BrokerRegistration, type ConsumerFetchRequest, type TopicImage } from '@brook/types';
import type { MetadataCache } from '../metadata/MetadataCache';
import { Partition } from '../server/Partition';
import type { ReplicaManager } from '../server/ReplicaManager';
import { DEFAULT_LOG_CONFIG, Log } from '../storage';
import { ConsumerFetchService } from './ConsumerFetchService';

/**
 * Broker 1 leads t-0 (followers 2 and 3, so the high watermark moves only when they fetch); t-1 is led
 * by broker 2, which this broker does not host.
 */
function leaderOfT0() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-consumer-fetch-'));
  const log = Log.open(path.join(dir, 't-0'), 't', 0, DEFAULT_LOG_CONFIG, { recoveryPoint: 0, hadCleanShutdown: true });
  const t0 = new Partition('t', 0, 'id', log, 1, 0, () => new Promise(() => undefined));
  t0.update({ topicId: 'id', partition: 0, replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1, leaderEpoch: 0, partitionEpoch: 0 }, 1);
  const topic = { name: 't', partitions: [{ partition: 0, leader: 1 }, { partition: 1, leader: 2 }] } as unknown as TopicImage;
  const broker2 = { id: 2, host: 'b2', port: 9002 } as BrokerRegistration;
  const metadata = { topic: (name: string) => (name === 't' ? topic : undefined) } as unknown as MetadataCache;
  const replicas = {
    getPartition: (name: string, p: number) => (name === 't' && p === 0 ? t0 : undefined),
    leaderPartition: () => {
      throw t0.notLeaderError(broker2);
    },
  } as unknown as ReplicaManager;
  const followersCatchUp = () => {
    for (const id of [2, 3]) t0.fetchForFollower(id, log.logEndOffset, 0, 1 << 20);
  };
  const cleanup = () => {
    log.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { service: new ConsumerFetchService(metadata, replicas), t0, followersCatchUp, cleanup };
}

const request = (partitions: ConsumerFetchRequest['partitions'], maxWaitMs = 0): ConsumerFetchRequest => ({ maxWaitMs, minBytes: 1, maxBytesPerPartition: 1 << 20, partitions });
const batch = encodeBatch([{ key: null, value: Buffer.from('v') }]);

describe('ConsumerFetchService', () => {
  test('partitions led elsewhere are NOT_LEADER with the leader URL, unknown ones UNKNOWN_*, answered at once', async () => {
    const { service, cleanup } = leaderOfT0();
    const started = Date.now();
    const results = await service.fetch(
      request(
        [
          { topic: 't', partition: 0, fetchOffset: 0 },
          { topic: 't', partition: 1, fetchOffset: 0 },
          { topic: 't', partition: 7, fetchOffset: 0 },
          { topic: 'nope', partition: 0, fetchOffset: 0 },
        ],
        5000,
      ),
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(results.map((r) => r.error?.code ?? null)).toEqual([null, 'NOT_LEADER', 'UNKNOWN_PARTITION', 'UNKNOWN_TOPIC']);
    expect(results[1]!.error).toMatchObject({ leaderUrl: 'http://b2:9002' });
    cleanup();
  });

  test('only records below the high watermark; the long poll wakes when it advances, not on the append', async () => {
    const { service, t0, followersCatchUp, cleanup } = leaderOfT0();
    let answered = false;
    const polling = service.fetch(request([{ topic: 't', partition: 0, fetchOffset: 0 }], 10_000)).then((r) => {
      answered = true;
      return r;
    });
    t0.appendAsLeader(batch);
    await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false); // appended, but not committed by the ISR yet
    followersCatchUp();
    const [result] = await polling;
    expect(result).toMatchObject({ error: null, highWatermark: 1, logEndOffset: 1 });
    expect(result!.records.equals(batch.subarray(0, result!.records.length))).toBe(true);
    cleanup();
  });

  test('nothing new within maxWaitMs answers empty; an offset past the log end is OFFSET_OUT_OF_RANGE with the range', async () => {
    const { service, t0, followersCatchUp, cleanup } = leaderOfT0();
    t0.appendAsLeader(batch);
    followersCatchUp();
    const [empty] = await service.fetch(request([{ topic: 't', partition: 0, fetchOffset: 1 }], 20));
    expect(empty).toMatchObject({ error: null, highWatermark: 1 });
    expect(empty!.records.length).toBe(0);
    const [outOfRange] = await service.fetch(request([{ topic: 't', partition: 0, fetchOffset: 5 }]));
    expect(outOfRange).toMatchObject({ error: { code: 'OFFSET_OUT_OF_RANGE' }, highWatermark: 1, logStartOffset: 0, logEndOffset: 1 });
    cleanup();
  });
});
