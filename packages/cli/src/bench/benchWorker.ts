import { parentPort, workerData } from 'node:worker_threads';
import { BrookError } from '@brook/types';
import type { WorkerJob, WorkerMessage } from './parallelBench';
import { ProduceBench } from './ProduceBench';
import { ConsumeBench } from './ConsumeBench';

/** A worker thread of a parallel bench: runs one producer or consumer and reports back plain data. */
async function runJob(job: WorkerJob): Promise<void> {
  const post = (message: WorkerMessage) => parentPort!.postMessage(message);
  let lastPost = 0;
  const onProgress = (records: number) => {
    const now = performance.now();
    if (now - lastPost < 100) return;
    lastPost = now;
    post({ type: 'progress', records });
  };
  try {
    const bench = job.kind === 'produce' ? new ProduceBench(job.options) : new ConsumeBench(job.options);
    const sample = await bench.run(onProgress);
    post({ type: 'done', sample: { ...sample, latency: sample.latency.toJSON() } });
  } catch (err) {
    // Only plain data crosses threads: the code goes into the message, as the CLI prints Brook errors.
    post({ type: 'failed', message: err instanceof BrookError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err) });
  }
}

void runJob(workerData as WorkerJob);
