import { LatencyHistogram } from './LatencyHistogram';

describe('LatencyHistogram', () => {
  test('percentiles of 1..1000 ms are within 1% of the exact ranks', () => {
    const h = new LatencyHistogram();
    for (let ms = 1; ms <= 1000; ms++) h.record(ms);
    const s = h.summary();
    expect(s.count).toBe(1000);
    expect(s.p50).toBeGreaterThanOrEqual(500);
    expect(s.p50).toBeLessThanOrEqual(505);
    expect(s.p95).toBeGreaterThanOrEqual(950);
    expect(s.p95).toBeLessThanOrEqual(960);
    expect(s.p99).toBeGreaterThanOrEqual(990);
    expect(s.p99).toBeLessThanOrEqual(1000);
    expect(s.max).toBe(1000);
    expect(s.mean).toBeCloseTo(500.5, 3);
  });

  test('a percentile never exceeds the exact max', () => {
    const h = new LatencyHistogram();
    h.record(3.3);
    expect(h.percentile(50)).toBe(3.3);
    expect(h.percentile(100)).toBe(3.3);
  });

  test('negative and sub-microsecond samples land in the first bucket; summaries are rounded to 1 µs', () => {
    const h = new LatencyHistogram();
    expect(h.summary()).toEqual({ count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 });
    h.record(-1);
    h.record(0.0001);
    expect(h.counts[0]).toBe(2);
    expect(h.summary()).toEqual({ count: 2, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 });
  });

  test('merging equals recording everything in one, also across a JSON round trip', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const all = new LatencyHistogram();
    for (let i = 0; i < 500; i++) {
      const ms = (i * 7) % 97;
      (i % 2 ? a : b).record(ms);
      all.record(ms);
    }
    const merged = LatencyHistogram.fromJSON(JSON.parse(JSON.stringify(a)));
    merged.merge(b);
    expect(merged.summary()).toEqual(all.summary());
  });
});
