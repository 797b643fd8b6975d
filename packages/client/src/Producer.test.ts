import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeProduceFrame, decodeRecords, iterateBatches } from '@brook/types';
import { Producer, toBytes } from './Producer';

/**
 * A fake controller + one broker in one HTTP server, with the broker's idempotence rule: a batch must
 * follow the producer's last sequence; a retried batch is answered with its original offset.
 */
class FakeCluster {
  server = http.createServer((req, res) => this.handle(req, res));
  port = 0;
  log: Array<{ partition: number; value: string }>[] = [[], []];
  /** Per producer id and partition, as a broker keeps them: `${producerId}/${partition}`. */
  lastSeq = new Map<string, number>();
  seen = new Map<string, number>();
  nextProducerId = 42;
  sequences: Array<{ partition: number; baseSequence: number; count: number }> = [];
  requests = 0;
  /**
   * Next produce answers: 'before' fails before the append, 'after' appends then answers a timeout,
   * 'moved' answers NOT_LEADER naming `movedTo` as the leader.
   */
  faults: Array<'before' | 'after' | 'moved' | undefined> = [];
  movedTo = '';

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.url!.startsWith('/metadata_fetch_client')) {
        return json(200, {
          cluster: 'default',
          controller: { host: '127.0.0.1', port: this.port },
          brokers: [{ id: 1, host: '127.0.0.1', port: this.port, state: 'active' }],
          topics: [{ name: 't', topicId: 'x', configs: {}, partitions: [0, 1].map((p) => ({ partition: p, leader: 1, replicas: [1], isr: [1], leaderEpoch: 0, partitionEpoch: 0 })) }],
        });
      }
      if (req.url!.startsWith('/register_producer')) return json(200, { producerId: this.nextProducerId++, producerEpoch: 0 });
      if (!req.url!.startsWith('/produce')) return json(404, { error: { code: 'NOT_FOUND', message: req.url } });
      this.requests++;
      const fault = this.faults.shift();
      const results = decodeProduceFrame(Buffer.concat(chunks)).map(({ topic, partition, batches }) => {
        if (fault === 'before') return { topic, partition, baseOffset: -1, error: { code: 'NOT_LEADER', message: 'moved' } };
        if (fault === 'moved') return { topic, partition, baseOffset: -1, error: { code: 'NOT_LEADER', message: 'moved', leaderUrl: this.movedTo } };
        let baseOffset = -1;
        for (const h of iterateBatches(batches)) {
          this.sequences.push({ partition, baseSequence: h.baseSequence, count: h.recordCount });
          const producer = `${h.producerId}/${partition}`;
          const dup = this.seen.get(`${producer}/${h.baseSequence}`);
          if (dup !== undefined) {
            baseOffset = dup;
            continue;
          }
          const lastSeq = this.lastSeq.get(producer) ?? -1;
          if (h.baseSequence !== lastSeq + 1) {
            return { topic, partition, baseOffset: -1, error: { code: 'OUT_OF_ORDER_SEQUENCE', message: `expected ${lastSeq + 1}` } };
          }
          baseOffset = this.log[partition]!.length;
          this.seen.set(`${producer}/${h.baseSequence}`, baseOffset);
          this.lastSeq.set(producer, h.baseSequence + h.recordCount - 1);
          for (const r of decodeRecords(batches, h.position, h)) this.log[partition]!.push({ partition, value: r.value!.toString() });
        }
        if (fault === 'after') return { topic, partition, baseOffset: -1, error: { code: 'REQUEST_TIMED_OUT', message: 'slow isr' } };
        return { topic, partition, baseOffset, error: null };
      });
      json(200, { results });
    });
  }
}

describe('Producer (against a fake broker)', () => {
  let fake: FakeCluster;
  beforeEach(async () => {
    fake = new FakeCluster();
    await fake.start();
  });
  afterEach(() => new Promise((r) => fake.server.close(r)));

  test('batches carry consecutive per-partition sequences; retries keep theirs and nothing is duplicated or reordered', async () => {
    const producer = new Producer({ controllerUrl: `http://127.0.0.1:${fake.port}`, batchSize: 400, lingerMs: 2, retryBackoffMs: 5, retries: 10 });
    await producer.connect();
    expect(producer.producerIdentity).toEqual({ producerId: 42, producerEpoch: 0 });
    fake.faults = ['after', 'before', 'after'];
    const sends = [];
    for (let i = 0; i < 200; i++) sends.push(producer.send({ topic: 't', partition: i % 2, value: `v${i}` }));
    const results = await Promise.all(sends);
    await producer.disconnect();

    for (const p of [0, 1]) {
      // Each record exactly once, in send order, at the offset its send resolved with.
      expect(fake.log[p]!.map((r) => r.value)).toEqual(Array.from({ length: 100 }, (_, k) => `v${2 * k + p}`));
      const seqs = fake.sequences.filter((s) => s.partition === p);
      const firstSends = new Map<number, number>();
      for (const s of seqs) firstSends.set(s.baseSequence, s.count);
      let next = 0;
      for (const [seq, count] of [...firstSends].sort((a, b) => a[0] - b[0])) {
        expect(seq).toBe(next);
        next += count;
      }
      expect(next).toBe(100);
    }
    results.forEach((r, i) => {
      expect(r.partition).toBe(i % 2);
      expect(fake.log[r.partition]![r.offset]!.value).toBe(`v${i}`);
    });
    expect(producer.stats.retries).toBeGreaterThan(0);
    expect(fake.requests).toBeLessThan(200);
  });

  test('a batch that keeps failing rejects each of its sends after the retries', async () => {
    const producer = new Producer({ controllerUrl: `http://127.0.0.1:${fake.port}`, lingerMs: 1, retryBackoffMs: 1, retries: 2 });
    await producer.connect();
    fake.faults = ['before', 'before', 'before'];
    const sends = [producer.send({ topic: 't', partition: 0, value: 'a' }), producer.send({ topic: 't', partition: 0, value: 'b' })];
    for (const s of sends) await expect(s).rejects.toMatchObject({ code: 'NOT_LEADER' });
    // The producer goes on (with a new producer id, so the sequence gap does not block it).
    await expect(producer.send({ topic: 't', partition: 0, value: 'c' })).resolves.toMatchObject({ partition: 0 });
    await producer.disconnect();
  });

  test('a batch given up does not get later, already numbered batches renumbered (and so duplicated)', async () => {
    const producer = new Producer({ controllerUrl: `http://127.0.0.1:${fake.port}`, batchSize: 80, lingerMs: 0, retryBackoffMs: 1, retries: 1 });
    await producer.connect();
    // a: appended, then a timeout, twice: given up. b (sent while a was out): appended, then a timeout;
    // its retry is a duplicate the broker recognises only under b's first producer id and sequence.
    fake.faults = ['after', 'after', 'after'];
    const a = producer.send({ topic: 't', partition: 0, value: 'a' });
    const b = producer.send({ topic: 't', partition: 0, value: 'b' });
    await expect(a).rejects.toMatchObject({ code: 'REQUEST_TIMED_OUT' });
    await expect(b).resolves.toMatchObject({ partition: 0, offset: 1 });
    // Only then a new producer id, whose sequences start again at 0.
    await expect(producer.send({ topic: 't', partition: 0, value: 'c' })).resolves.toMatchObject({ partition: 0, offset: 2 });
    expect(producer.producerIdentity.producerId).toBe(43);
    expect(fake.log[0]!.map((r) => r.value)).toEqual(['a', 'b', 'c']);
    await producer.disconnect();
  });

  test('NOT_LEADER with the leader\'s URL: the retry goes there at once, without waiting for new metadata', async () => {
    const leader = new FakeCluster();
    await leader.start();
    try {
      const producer = new Producer({ controllerUrl: `http://127.0.0.1:${fake.port}`, lingerMs: 0, retryBackoffMs: 60_000 });
      await producer.connect();
      fake.faults = ['moved'];
      fake.movedTo = `http://127.0.0.1:${leader.port}`;
      const started = Date.now();
      await expect(producer.send({ topic: 't', partition: 1, value: 'x' })).resolves.toMatchObject({ partition: 1, offset: 0 });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(leader.log[1]!.map((r) => r.value)).toEqual(['x']);
      await producer.disconnect();
    } finally {
      await new Promise((r) => leader.server.close(r));
    }
  });

  test('a record with a bad timestamp is refused alone; the batch it would have joined goes on', async () => {
    const producer = new Producer({ controllerUrl: `http://127.0.0.1:${fake.port}`, lingerMs: 1 });
    await producer.connect();
    const ok = producer.send({ topic: 't', partition: 0, value: 'a' });
    await expect(producer.send({ topic: 't', partition: 0, value: 'b', timestamp: -1 })).rejects.toMatchObject({ code: 'INVALID_RECORD' });
    await expect(ok).resolves.toMatchObject({ partition: 0, offset: 0 });
    expect(fake.log[0]!.map((r) => r.value)).toEqual(['a']);
    await producer.disconnect();
  });

  test('bufferMemory bounds what is buffered: sends wait instead', async () => {
    const producer = new Producer({ controllerUrl: `http://127.0.0.1:${fake.port}`, lingerMs: 20, bufferMemory: 2000, batchSize: 1000 });
    await producer.connect();
    const sends = [];
    for (let i = 0; i < 300; i++) sends.push(producer.send({ topic: 't', partition: 0, value: Buffer.alloc(100) }));
    await Promise.all(sends);
    expect(producer.stats.backpressureWaits).toBeGreaterThan(0);
    expect(producer.stats.maxBufferedBytes).toBeLessThanOrEqual(2000);
    expect(fake.log[0]).toHaveLength(300);
    await producer.disconnect();
  });

  test('values: Buffers as is, strings as UTF-8, other values as JSON text', () => {
    expect(toBytes(Buffer.from([1, 2]))).toEqual(Buffer.from([1, 2]));
    expect(toBytes('héllo')!.toString('utf8')).toBe('héllo');
    expect(toBytes({ a: [1, 2] })!.toString()).toBe('{"a":[1,2]}');
    expect(toBytes(7)!.toString()).toBe('7');
    expect(toBytes(null)).toBeNull();
  });
});
