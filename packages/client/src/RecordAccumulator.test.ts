import { RecordAccumulator, estimateRecordSize } from './RecordAccumulator';
import { StickyPartitioner } from './StickyPartitioner';

const rec = (n: number) => ({ key: null, value: Buffer.alloc(n) });
const leaders = () => 'http://b1';
const always = () => true;

describe('RecordAccumulator', () => {
  test('many appends become few batches, each at most batchSize bytes', () => {
    const acc = new RecordAccumulator({ batchSize: 1024, lingerMs: 5 });
    const size = estimateRecordSize(rec(100));
    for (let i = 0; i < 100; i++) acc.append('t', i % 2, rec(100), size, 0);
    // 100 records of ~116 bytes: 8 per 1 KiB batch, so about 13 batches instead of 100 requests.
    expect(acc.batchesCreated).toBeLessThanOrEqual(14);
    const all = [...acc.queues()].flatMap((q) => q.queue);
    expect(all.reduce((n, b) => n + b.recordCount, 0)).toBe(100);
    for (const b of all) expect(b.sizeBytes).toBeLessThanOrEqual(1024);
  });

  test('a batch is ready when full or after lingerMs, not before', () => {
    const acc = new RecordAccumulator({ batchSize: 1061, lingerMs: 50 });
    acc.append('t', 0, rec(10), 100, 1000);
    expect(acc.drain(1010, leaders, always, 1 << 20).size).toBe(0);
    expect(acc.nextReadyAt()).toBe(1050);
    const drained = acc.drain(1050, leaders, always, 1 << 20);
    expect(drained.get('http://b1')!.map((d) => d.batch.recordCount)).toEqual([1]);

    // Full: ready at once.
    for (let i = 0; i < 10; i++) acc.append('t', 1, rec(10), 100, 2000);
    const full = acc.drain(2000, leaders, always, 1 << 20).get('http://b1')!;
    expect(full).toHaveLength(1);
    expect(full[0]!.batch.recordCount).toBe(10);
    expect(full[0]!.batch.closed).toBe(true);
  });

  test('drain takes one batch per partition and groups partitions by leader', () => {
    const acc = new RecordAccumulator({ batchSize: 1061, lingerMs: 0 });
    for (let p = 0; p < 4; p++) for (let i = 0; i < 25; i++) acc.append('t', p, rec(10), 100, 0);
    const drained = acc.drain(0, (_t, p) => (p % 2 === 0 ? 'A' : 'B'), always, 1 << 20);
    expect(drained.get('A')!.map((d) => d.batch.partition)).toEqual([0, 2]);
    expect(drained.get('B')!.map((d) => d.batch.partition)).toEqual([1, 3]);
    expect([...drained.values()].flat().every((d) => d.batch.recordCount === 10)).toBe(true);
  });

  test('flush makes lingering batches ready; a retrying partition sends one batch at a time', () => {
    const acc = new RecordAccumulator({ batchSize: 100_000, lingerMs: 10_000 });
    acc.append('t', 0, rec(10), 100, 0);
    expect(acc.drain(1, leaders, always, 1 << 20).size).toBe(0);
    acc.flushing++;
    const [first] = acc.drain(1, leaders, always, 1 << 20).get('http://b1')!;
    first!.queue.inFlight++;
    acc.append('t', 0, rec(10), 100, 2);
    first!.queue.retrying = true;
    expect(acc.drain(3, leaders, always, 1 << 20).size).toBe(0);
    first!.queue.inFlight--;
    expect(acc.drain(3, leaders, always, 1 << 20).size).toBe(1);
  });

  test('idempotent: a partition sends its first batch alone, then up to the in-flight limit once one is acknowledged', () => {
    const acc = new RecordAccumulator({ batchSize: 200, lingerMs: 0, idempotent: true });
    for (let i = 0; i < 3; i++) acc.append('t', 0, rec(100), 116, 0);
    const [first] = acc.drain(0, leaders, always, 1 << 20).get('http://b1')!;
    first!.queue.inFlight++;
    expect(acc.drain(0, leaders, always, 1 << 20).size).toBe(0);
    first!.queue.firstAcked = true;
    expect(acc.drain(0, leaders, always, 1 << 20).size).toBe(1);
  });

  test('requeue keeps retried batches first, in sequence order', () => {
    const acc = new RecordAccumulator({ batchSize: 100, lingerMs: 0 });
    const batches = [0, 1, 2].map(() => acc.append('t', 0, rec(10), 100, 0).batch);
    const q = acc.partitionQueue('t', 0);
    q.queue.splice(0);
    batches.forEach((b, i) => (b.baseSequence = i * 10));
    const fresh = acc.append('t', 0, rec(10), 100, 0).batch;
    q.requeue(batches[2]!);
    q.requeue(batches[0]!);
    q.requeue(batches[1]!);
    expect(q.queue).toEqual([batches[0], batches[1], batches[2], fresh]);
  });
});

describe('StickyPartitioner', () => {
  test('keyless records stick to one partition until its batch is closed, then move', () => {
    const acc = new RecordAccumulator({ batchSize: 1061, lingerMs: 5 });
    const sticky = new StickyPartitioner(() => 0.5);
    const used: number[] = [];
    for (let i = 0; i < 30; i++) {
      let p = sticky.partition('t', 4);
      if (acc.closeIfFull('t', p, 100)) p = sticky.partition('t', 4);
      used.push(p);
      sticky.onAppend('t', acc.append('t', p, rec(10), 100, 0).batch);
    }
    // 10 records of 100 bytes fill a batch: three runs of 10, each on one partition, never twice in a row.
    const runs = used.filter((p, i) => i === 0 || used[i - 1] !== p);
    expect(runs).toHaveLength(3);
    for (let i = 0; i < 30; i += 10) expect(new Set(used.slice(i, i + 10)).size).toBe(1);
  });

  test('a drained (sent) batch moves the sticky partition too', () => {
    const acc = new RecordAccumulator({ batchSize: 100_000, lingerMs: 0 });
    const sticky = new StickyPartitioner(() => 0);
    const p1 = sticky.partition('t', 3);
    sticky.onAppend('t', acc.append('t', p1, rec(10), 100, 0).batch);
    expect(sticky.partition('t', 3)).toBe(p1);
    acc.drain(0, leaders, always, 1 << 20);
    expect(sticky.partition('t', 3)).not.toBe(p1);
  });
});
