import { encodeBatch, setBaseOffset } from '@brook/types';
import { decodeFetchedRecords, offsetAfterBatches } from './ConsumerRecord';

function batchAt(baseOffset: number, values: string[], headers = false): Buffer {
  const b = encodeBatch(
    values.map((v, i) => ({ key: i === 0 ? null : Buffer.from(`k${i}`), value: Buffer.from(v), headers: headers ? [{ key: 'h', value: Buffer.from(v) }] : [] })),
    { timestamp: 1000 },
  );
  setBaseOffset(b, 0, baseOffset);
  return b;
}

describe('decodeFetchedRecords', () => {
  test('records from the fetch offset on, with keys, values and headers as views', () => {
    const buf = Buffer.concat([batchAt(0, ['a', 'b', 'c']), batchAt(3, ['d', 'e'], true)]);
    const records = decodeFetchedRecords('t', 2, buf, 1);
    expect(records.map((r) => [r.offset, r.value!.toString(), r.key?.toString() ?? null])).toEqual([
      [1, 'b', 'k1'],
      [2, 'c', 'k2'],
      [3, 'd', null],
      [4, 'e', 'k1'],
    ]);
    expect(records[0]).toMatchObject({ topic: 't', partition: 2, timestamp: 1000, headers: {} });
    expect(records[3]!.headers.h!.toString()).toBe('e');
    expect(records[0]!.value!.buffer).toBe(buf.buffer);
  });

  test('batches wholly before the fetch offset (compaction) are skipped, and the next fetch starts after the last complete batch', () => {
    const buf = Buffer.concat([batchAt(0, ['a', 'b']), batchAt(10, ['c'])]);
    expect(decodeFetchedRecords('t', 0, buf, 5).map((r) => r.offset)).toEqual([10]);
    expect(offsetAfterBatches(buf, 5)).toBe(11);
    expect(offsetAfterBatches(batchAt(0, ['a']), 5)).toBe(5);
    // A partial trailing batch is left for the next fetch.
    const partial = Buffer.concat([batchAt(0, ['a']), batchAt(1, ['b']).subarray(0, 30)]);
    expect(offsetAfterBatches(partial, 0)).toBe(1);
    expect(decodeFetchedRecords('t', 0, partial, 0).map((r) => r.offset)).toEqual([0]);
  });
});
