import { renderTable } from '../output';
import { LatencyHistogram, type LatencySummary } from './LatencyHistogram';

export type BenchMode = 'produce' | 'consume' | 'e2e' | 'json';

/** What one bench run measured, before it is turned into rates. Crosses worker threads as plain data. */
export interface BenchSample {
  records: number;
  bytes: number;
  seconds: number;
  latency: LatencyHistogram;
}

/** One line of the bench report, as printed and as written to the JSON file. */
export interface BenchResult {
  mode: BenchMode;
  topic: string;
  /** What the latency figures time. */
  latencyOf: string;
  records: number;
  bytes: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
  /** Null when the mode times no latency (consume). */
  latencyMs: LatencySummary | null;
}

export function benchResult(mode: BenchMode, topic: string, latencyOf: string, sample: BenchSample): BenchResult {
  const seconds = Math.max(sample.seconds, 1e-9);
  return {
    mode,
    topic,
    latencyOf,
    records: sample.records,
    bytes: sample.bytes,
    seconds: Math.round(sample.seconds * 1000) / 1000,
    recordsPerSec: Math.round(sample.records / seconds),
    mbPerSec: Math.round((sample.bytes / seconds / 1e6) * 100) / 100,
    latencyMs: sample.latency.summary(),
  };
}

/** Samples of parallel producers or consumers as one: counts add up, the slowest sets the duration. */
export function mergeSamples(samples: BenchSample[]): BenchSample {
  const latency = new LatencyHistogram();
  for (const s of samples) latency.merge(s.latency);
  return {
    records: samples.reduce((n, s) => n + s.records, 0),
    bytes: samples.reduce((n, s) => n + s.bytes, 0),
    seconds: Math.max(0, ...samples.map((s) => s.seconds)),
    latency,
  };
}

export function benchTable(results: BenchResult[]): string {
  return renderTable(results, [
    { header: 'MODE', value: (r) => r.mode },
    { header: 'RECORDS', value: (r) => r.records },
    { header: 'SECONDS', value: (r) => r.seconds },
    { header: 'RECORDS/S', value: (r) => r.recordsPerSec },
    { header: 'MB/S', value: (r) => r.mbPerSec },
    { header: 'P50 MS', value: (r) => r.latencyMs?.p50 },
    { header: 'P95 MS', value: (r) => r.latencyMs?.p95 },
    { header: 'P99 MS', value: (r) => r.latencyMs?.p99 },
    { header: 'MAX MS', value: (r) => r.latencyMs?.max },
    { header: 'LATENCY OF', value: (r) => r.latencyOf },
  ]);
}
