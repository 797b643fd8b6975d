import type { AxiosInstance } from 'axios';

export interface ProducedRecord {
  key: string | null;
  value: unknown;
  partition: number;
  offset: number;
}

/** Reads a whole partition through the JSON read route, page by page, from `offset` to the high watermark. */
export async function readPartition(http: AxiosInstance, brokerUrl: string, topic: string, partition: number, offset = 0) {
  const out: Array<{ offset: number; key: string | null; value: unknown; timestamp: number; headers: Record<string, string | null> }> = [];
  let next = offset;
  for (;;) {
    const res = await http.get(`${brokerUrl}/topics/${topic}/partitions/${partition}/records`, {
      params: { offset: next, max_records: 1000 },
    });
    if (res.status !== 200) throw new Error(`read ${topic}-${partition}@${next}: ${res.status} ${JSON.stringify(res.data)}`);
    out.push(...res.data.records);
    if (res.data.records.length === 0 || next >= res.data.high_watermark) return { records: out, highWatermark: res.data.high_watermark as number };
    next = res.data.records[res.data.records.length - 1].offset + 1;
    if (next >= res.data.high_watermark) return { records: out, highWatermark: res.data.high_watermark as number };
  }
}

/**
 * Asserts that every produced record is readable exactly once at its acknowledged offset, and that each
 * partition holds nothing else: offsets 0..n-1 with no gap.
 */
export async function expectExactlyProduced(http: AxiosInstance, brokerUrl: string, topic: string, partitions: number, produced: ProducedRecord[]) {
  for (let p = 0; p < partitions; p++) {
    const expected = produced.filter((r) => r.partition === p).sort((a, b) => a.offset - b.offset);
    const { records, highWatermark } = await readPartition(http, brokerUrl, topic, p);
    expect(highWatermark).toBe(expected.length);
    expect(records.map((r) => r.offset)).toEqual(expected.map((_, i) => i));
    expect(records.map((r) => ({ offset: r.offset, key: r.key, value: r.value }))).toEqual(
      expected.map((r) => ({ offset: r.offset, key: r.key, value: r.value })),
    );
  }
}
