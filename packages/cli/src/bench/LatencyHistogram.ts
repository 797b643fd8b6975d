/** Latency percentiles in milliseconds, as the bench reports them. */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Bucket width: consecutive bucket bounds differ by 1%, so a percentile is within 1% of the true value. */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** The smallest latency told apart from zero: 1 µs. */
const MIN_MS = 0.001;
/** Buckets up to ~1000 s (1 µs × 1.01^2100). */
const BUCKETS = 2100;

/**
 * A log-bucketed latency histogram (in the manner of HdrHistogram): constant memory and O(1) recording
 * whatever the sample count, and mergeable, so each producer or consumer thread keeps its own and the
 * bench adds them up. The max is kept exactly.
 */
export class LatencyHistogram {
  readonly counts: Uint32Array;
  count = 0;
  sum = 0;
  max = 0;

  constructor(counts?: ArrayLike<number>) {
    this.counts = new Uint32Array(BUCKETS);
    if (counts) {
      this.counts.set(counts);
      for (let i = 0; i < BUCKETS; i++) this.count += this.counts[i]!;
    }
  }

  record(ms: number): void {
    const v = ms > 0 ? ms : 0;
    const bucket = v <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(v / MIN_MS) / LOG_GROWTH));
    this.counts[bucket]!++;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    if (other.max > this.max) this.max = other.max;
  }

  /** The latency at or below which `p` percent of the samples fall (the bucket's upper bound, capped at the max). */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.max, i === 0 ? MIN_MS : MIN_MS * GROWTH ** i);
    }
    return this.max;
  }

  summary(): LatencySummary {
    const round = (ms: number) => Math.round(ms * 1000) / 1000;
    return {
      count: this.count,
      p50: round(this.percentile(50)),
      p95: round(this.percentile(95)),
      p99: round(this.percentile(99)),
      max: round(this.max),
      mean: round(this.count ? this.sum / this.count : 0),
    };
  }

  /** A plain form that crosses thread boundaries (postMessage) and comes back with `fromJSON`. */
  toJSON(): { counts: number[]; sum: number; max: number } {
    return { counts: Array.from(this.counts), sum: this.sum, max: this.max };
  }

  static fromJSON(data: { counts: number[]; sum: number; max: number }): LatencyHistogram {
    const h = new LatencyHistogram(data.counts);
    h.sum = data.sum;
    h.max = data.max;
    return h;
  }
}
