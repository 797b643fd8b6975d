import { encodeBatch } from '../protocol';
import { decodeProduceFrame, encodeProduceFrame } from './ProduceFrame';
import { decodeFetchResponse, encodeFetchResponse } from './fetch';

describe('binary frames', () => {
  const batch = encodeBatch([{ key: Buffer.from('k'), value: Buffer.from('v') }]);

  test('a produce frame round-trips many topics and partitions, as views into the frame', () => {
    const entries = [
      { topic: 'a', partition: 0, batches: batch },
      { topic: 'b', partition: 3, batches: Buffer.concat([batch, batch]) },
      { topic: 'a', partition: 1, batches: batch },
    ];
    const decoded = decodeProduceFrame(encodeProduceFrame(entries));
    expect(decoded.map((e) => [e.topic, e.partition, e.batches.toString('hex')])).toEqual([
      ['a', 0, batch.toString('hex')],
      ['a', 1, batch.toString('hex')],
      ['b', 3, Buffer.concat([batch, batch]).toString('hex')],
    ]);
  });

  test('truncated or padded produce frames are CORRUPT_RECORD', () => {
    const frame = encodeProduceFrame([{ topic: 'a', partition: 0, batches: batch }]);
    for (const bad of [frame.subarray(0, frame.length - 1), frame.subarray(0, 3), Buffer.concat([frame, Buffer.from([0])])]) {
      expect(() => decodeProduceFrame(bad)).toThrow(expect.objectContaining({ code: 'CORRUPT_RECORD' }));
    }
  });

  test('a fetch answer round-trips errors, offsets and records', () => {
    const results = [
      { topic: 't', partition: 0, error: null, highWatermark: 2 ** 40, logStartOffset: 5, logEndOffset: 2 ** 40 + 7, records: batch },
      { topic: 't', partition: 1, error: { code: 'NOT_LEADER', message: 'no' }, highWatermark: -1, logStartOffset: -1, logEndOffset: -1, records: Buffer.alloc(0) },
    ];
    const encoded = Buffer.concat(encodeFetchResponse(results));
    const decoded = decodeFetchResponse(encoded);
    expect(decoded.map((r) => ({ ...r, records: r.records.toString('hex') }))).toEqual(results.map((r) => ({ ...r, records: r.records.toString('hex') })));
    // The stored records go out as they are, not copied into the answer.
    expect(encodeFetchResponse(results)).toContain(batch);
    expect(() => decodeFetchResponse(encoded.subarray(0, encoded.length - 2))).toThrow(expect.objectContaining({ code: 'CORRUPT_RECORD' }));
  });
});
