import { benchResult, benchTable, mergeSamples } from './BenchResult';
import { LatencyHistogram } from './LatencyHistogram';
import { shares } from './parallelBench';

function sample(records: number, seconds: number, latencies: number[]) {
  const latency = new LatencyHistogram();
  for (const ms of latencies) latency.record(ms);
  return { records, bytes: records * 100, seconds, latency };
}

describe('bench results', () => {
  test('rates come from records, bytes and seconds; MB is 10^6 bytes', () => {
    const r = benchResult('produce', 't', 'send → ack', sample(500_000, 2, [1, 2, 3]));
    expect(r).toMatchObject({ mode: 'produce', records: 500_000, bytes: 50_000_000, seconds: 2, recordsPerSec: 250_000, mbPerSec: 25 });
    expect(r.latencyMs).toMatchObject({ count: 3, max: 3 });
  });

  test('parallel samples add records and bytes, take the slowest duration and merge latencies', () => {
    const merged = mergeSamples([sample(100, 1.5, [1, 9]), sample(300, 2.5, [5])]);
    expect(merged).toMatchObject({ records: 400, bytes: 40_000, seconds: 2.5 });
    expect(merged.latency.count).toBe(3);
    expect(merged.latency.max).toBe(9);
  });

  test('the table shows - for a mode without latency', () => {
    const consume = { ...benchResult('consume', 't', 'none', sample(10, 1, [])), latencyMs: null };
    const [header, row] = benchTable([consume]).split('\n');
    expect(header).toMatch(/^MODE\s+RECORDS\s+SECONDS\s+RECORDS\/S\s+MB\/S\s+P50 MS\s+P95 MS\s+P99 MS\s+MAX MS\s+LATENCY OF$/);
    expect(row).toMatch(/^consume\s+10\s+1\s+10\s+0\s+-\s+-\s+-\s+-\s+none$/);
  });

  test('shares split a total into near-equal parts that add up to it', () => {
    expect(shares(10, 3)).toEqual([4, 3, 3]);
    expect(shares(2, 4)).toEqual([1, 1, 0, 0]);
  });
});
