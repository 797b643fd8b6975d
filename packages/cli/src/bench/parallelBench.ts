import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { LatencyHistogram } from './LatencyHistogram';
import { mergeSamples, type BenchSample } from './BenchResult';
import type { ProduceBenchOptions } from './ProduceBench';
import type { ConsumeBenchOptions } from './ConsumeBench';

export type WorkerJob = { kind: 'produce'; options: ProduceBenchOptions } | { kind: 'consume'; options: ConsumeBenchOptions };

export type WorkerMessage =
  | { type: 'progress'; records: number }
  | { type: 'done'; sample: Omit<BenchSample, 'latency'> & { latency: ReturnType<LatencyHistogram['toJSON']> } }
  | { type: 'failed'; message: string };

/**
 * Young generation of a bench thread. A producer keeps its window of unacknowledged sends alive (a
 * promise and handlers per record); in V8's default young generation (16 MB semi-spaces) they outlive
 * a scavenge or two and are copied, then promoted. Measured at 100 B: 32 MB semi-spaces (3 × 32 MB in
 * all) take ~7% less bench CPU and give ~10% more records/s.
 */
const YOUNG_GENERATION_MB = 96;

/**
 * Runs one bench per job, each in its own worker thread, so several producers or consumers use more than
 * one core; answers the merged sample. The first failure fails the run (and stops the other workers).
 */
export async function runInWorkers(jobs: WorkerJob[], onProgress: (records: number) => void): Promise<BenchSample> {
  const progress = jobs.map(() => 0);
  const workers = jobs.map(
    (job) => new Worker(path.join(__dirname, 'benchWorker.js'), { workerData: job, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } }),
  );
  try {
    const samples = await Promise.all(
      workers.map(
        (worker, i) =>
          new Promise<BenchSample>((resolve, reject) => {
            worker.on('message', (m: WorkerMessage) => {
              if (m.type === 'progress') {
                progress[i] = m.records;
                onProgress(progress.reduce((a, b) => a + b, 0));
              } else if (m.type === 'done') resolve({ ...m.sample, latency: LatencyHistogram.fromJSON(m.sample.latency) });
              else reject(new Error(m.message));
            });
            worker.on('error', reject);
            worker.on('exit', (code) => reject(new Error(`bench worker ${i} exited with code ${code}`)));
          }),
      ),
    );
    return mergeSamples(samples);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Splits `total` into `parts` near-equal shares that add up to it. */
export function shares(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}
