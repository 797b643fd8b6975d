import type { ProduceRecord } from '@brook/types';
import { decodeValue, toOutgoingRecord, toOutgoingRecords } from './JsonRecordCodec';

const bytesOf = (b: Buffer | null) => (b === null ? null : b.toString('hex'));
const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('hex');

describe('JSON records to record bytes', () => {
  test('keys are their UTF-8 bytes and values their JSON text, ASCII or not, null where absent', () => {
    const records: ProduceRecord[] = [
      { value: 'plain' },
      { key: 'k', value: { item: 'thé', qty: 2 }, partition: 1, timestamp: 5 },
      { key: 12.5, value: null },
      { key: '', value: '' },
      { key: '😀 \ud800', value: 'quote " backslash \\ nul \u0000' },
      { key: null, value: [1, { a: null }] },
      { value: false, headers: { trace: 'abc' } },
    ];
    const out = toOutgoingRecords(records);
    expect(out.map((r) => [bytesOf(r.key), bytesOf(r.value)])).toEqual([
      [null, utf8('"plain"')],
      [utf8('k'), utf8('{"item":"thé","qty":2}')],
      [utf8('12.5'), null],
      [utf8(''), utf8('""')],
      [utf8('😀 \ud800'), utf8(JSON.stringify('quote " backslash \\ nul \u0000'))],
      [null, utf8('[1,{"a":null}]')],
      [null, utf8('false')],
    ]);
    expect(out[1]).toMatchObject({ partition: 1, timestamp: 5 });
    expect(out[6]!.headers).toEqual([{ key: 'trace', value: Buffer.from('abc') }]);
    expect(out.map((r) => decodeValue(r.value))).toEqual(records.map((r) => r.value ?? null));
  });

  test('string values, ASCII or not, with and without escapes, are their JSON text', () => {
    for (const values of [['a', null, 'bc'], ['thé', '😀', null, 'x'], ['a', 'quote "', 'b'], ['lone \ud800'], [null, null]]) {
      const out = toOutgoingRecords(values.map((value, i) => ({ key: `k${i}`, value })));
      expect(out.map((r) => bytesOf(r.value))).toEqual(values.map((v) => (v === null ? null : utf8(JSON.stringify(v)))));
      expect(out.map((r) => bytesOf(r.key))).toEqual(values.map((_, i) => utf8(`k${i}`)));
    }
  });

  test('one record converts as it does in a batch', () => {
    const record = { key: 'k', value: { é: 1 } };
    expect(toOutgoingRecord(record)).toEqual(toOutgoingRecords([record])[0]);
  });
});
