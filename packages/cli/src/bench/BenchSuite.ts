import { Admin, type Acks } from '@brook/client';
import { partitionOffsets } from '../PartitionOffsets';
import type { ProgressReporter } from '../ProgressReporter';
import { benchResult, type BenchMode, type BenchResult, type BenchSample } from './BenchResult';
import { createBenchTopic, freshTopicName } from './benchTopic';
import { ConsumeBench } from './ConsumeBench';
import { JsonProduceBench } from './JsonProduceBench';
import { LatencyBench } from './LatencyBench';
import { runInWorkers, shares, type WorkerJob } from './parallelBench';

export interface BenchSettings {
  controllerUrl: string;
  cluster: string;
  recordSize: number;
  /** Records per run; 1,000,000 by default unless a duration is given (e2e: at most rate × duration). */
  records?: number;
  durationMs?: number;
  acks: Acks;
  partitions: number;
  replicationFactor: number;
  producers: number;
  consumers: number;
  /** Records per second: required pace of e2e (5,000 by default), optional cap of produce. */
  rate?: number;
  /** Use this topic instead of a fresh one per run. */
  topic?: string;
  batchSize: number;
  /** 5 ms by default; 0 for e2e, where lingering would be measured as latency. */
  lingerMs?: number;
  /** json mode: records per `POST /events`. */
  recordsPerRequest: number;
  /** json mode: requests in flight. */
  inflight: number;
}

export interface BenchReport {
  mode: BenchMode | 'all';
  startedAt: string;
  settings: BenchSettings;
  results: BenchResult[];
}

const DEFAULT_RECORDS = 1_000_000;
const DEFAULT_E2E_RATE = 5_000;
const DEFAULT_E2E_DURATION_MS = 10_000;

/**
 * The benchmarks of `brook bench`, against a running cluster: produce (client library), consume (a group
 * member from the beginning), e2e (latency at a steady rate) and json (the plain-HTTP produce path).
 * `all` runs them in that order, and consume reads what produce wrote.
 */
export class BenchSuite {
  private readonly admin: Admin;
  /** Fresh topics of this run, deleted at its end so a long-lived cluster does not collect them. */
  private readonly createdTopics: string[] = [];

  constructor(
    private readonly settings: BenchSettings,
    private readonly progress: ProgressReporter,
  ) {
    this.admin = new Admin({ controllerUrl: settings.controllerUrl, cluster: settings.cluster });
  }

  async run(mode: BenchMode | 'all'): Promise<BenchReport> {
    const startedAt = new Date().toISOString();
    const results: BenchResult[] = [];
    try {
      if (mode === 'produce' || mode === 'all') results.push(await this.produce());
      if (mode === 'consume' || mode === 'all') results.push(await this.consume(mode === 'all' ? results[0]!.topic : undefined));
      if (mode === 'e2e' || mode === 'all') results.push(await this.endToEnd());
      if (mode === 'json' || mode === 'all') results.push(await this.jsonProduce());
    } finally {
      this.progress.stop();
      await Promise.allSettled(this.createdTopics.map((t) => this.admin.deleteTopic(t)));
      await this.admin.close();
    }
    return { mode, startedAt, settings: this.settings, results };
  }

  private get records(): number {
    return this.settings.records ?? (this.settings.durationMs === undefined ? DEFAULT_RECORDS : Number.MAX_SAFE_INTEGER);
  }

  private async topic(mode: string): Promise<string> {
    const s = this.settings;
    if (s.topic) return s.topic;
    const name = freshTopicName(mode);
    this.createdTopics.push(name);
    await createBenchTopic(this.admin, s.controllerUrl, name, s.partitions, s.replicationFactor);
    return name;
  }

  /** Runs are bounded by --duration alone. */
  private get byTime(): boolean {
    return this.settings.durationMs !== undefined && this.settings.records === undefined;
  }

  /** Runs one phase with a progress bar over records, or over seconds when `byTime`. */
  private async timed(label: string, records: number, byTime: boolean, work: (onProgress: (records: number) => void) => Promise<BenchSample>): Promise<BenchSample> {
    const startedAt = performance.now();
    this.progress.start(label, byTime ? Math.round(this.settings.durationMs! / 1000) : records, byTime ? 's' : 'records');
    const sample = await work((n) => this.progress.update(byTime ? (performance.now() - startedAt) / 1000 : n, n));
    this.progress.stop();
    return sample;
  }

  private async produce(): Promise<BenchResult> {
    const topic = await this.topic('produce');
    const sample = await this.timed('produce', this.records, this.byTime, (onProgress) => this.produceRecords(topic, this.records, this.settings.durationMs, onProgress));
    return benchResult('produce', topic, 'send → ack', sample);
  }

  private produceRecords(topic: string, records: number, durationMs: number | undefined, onProgress: (n: number) => void): Promise<BenchSample> {
    const s = this.settings;
    const options = (share: number) => ({
      controllerUrl: s.controllerUrl,
      cluster: s.cluster,
      topic,
      recordSize: s.recordSize,
      records: share,
      durationMs,
      acks: s.acks,
      batchSize: s.batchSize,
      lingerMs: s.lingerMs ?? 5,
      rate: s.rate === undefined ? undefined : s.rate / s.producers,
    });
    // Even one producer runs in a worker thread, for the young generation runInWorkers gives it.
    return runInWorkers(
      shares(Math.min(records, Number.MAX_SAFE_INTEGER / s.producers), s.producers)
        .filter((share) => share > 0)
        .map((share): WorkerJob => ({ kind: 'produce', options: options(share) })),
      onProgress,
    );
  }

  /** Reads a topic from its earliest offsets: `topic` (what produce wrote), --topic, or a fresh topic filled first. */
  private async consume(producedTopic: string | undefined): Promise<BenchResult> {
    const s = this.settings;
    let topic = producedTopic ?? s.topic;
    if (!topic) {
      topic = await this.topic('consume');
      const fill = this.records === Number.MAX_SAFE_INTEGER ? DEFAULT_RECORDS : this.records;
      await this.timed('fill', fill, false, (onProgress) => this.produceRecords(topic!, fill, undefined, onProgress));
    }
    const offsets = await partitionOffsets(s.controllerUrl, s.cluster, topic);
    const available = offsets.reduce((n, p) => n + p.latest - p.earliest, 0);
    const records = Math.min(this.records, available);
    const groupId = `bench-${Date.now().toString(36)}`;
    const sample = await this.timed('consume', records, this.byTime, (onProgress) => {
      const common = { controllerUrl: s.controllerUrl, cluster: s.cluster, topic: topic!, durationMs: s.durationMs, groupId };
      if (s.consumers === 1) return new ConsumeBench({ ...common, records }).run(onProgress);
      // Several consumers split the partitions between them, each reading its share from the earliest offsets.
      const slices = Array.from({ length: s.consumers }, (_, i) => offsets.filter((_, p) => p % s.consumers === i)).filter((slice) => slice.length > 0);
      return runInWorkers(
        slices.map((slice): WorkerJob => ({
          kind: 'consume',
          options: {
            ...common,
            records: Math.min(records, slice.reduce((n, p) => n + p.latest - p.earliest, 0)),
            assignment: slice.map((p) => ({ partition: p.partition, offset: p.earliest })),
          },
        })),
        onProgress,
      );
    });
    return { ...benchResult('consume', topic, 'none', sample), latencyMs: null };
  }

  private async endToEnd(): Promise<BenchResult> {
    const s = this.settings;
    const topic = await this.topic('e2e');
    const rate = s.rate ?? DEFAULT_E2E_RATE;
    // A latency run is as long as its duration at its rate; --records can only shorten it.
    const records = Math.max(1, Math.min(s.records ?? Infinity, Math.round((rate * (s.durationMs ?? DEFAULT_E2E_DURATION_MS)) / 1000)));
    const startOffsets = (await partitionOffsets(s.controllerUrl, s.cluster, topic)).map((p) => ({ partition: p.partition, offset: p.latest }));
    const bench = new LatencyBench({
      controllerUrl: s.controllerUrl,
      cluster: s.cluster,
      topic,
      startOffsets,
      recordSize: s.recordSize,
      records,
      rate,
      acks: s.acks,
      batchSize: s.batchSize,
      lingerMs: s.lingerMs ?? 0,
    });
    this.progress.start('e2e', records, 'records');
    const sample = await bench.run((n) => this.progress.update(n, n));
    this.progress.stop();
    return benchResult('e2e', topic, 'produce → consume', sample);
  }

  private async jsonProduce(): Promise<BenchResult> {
    const s = this.settings;
    const topic = await this.topic('json');
    const bench = new JsonProduceBench({
      controllerUrl: s.controllerUrl,
      cluster: s.cluster,
      topic,
      recordSize: s.recordSize,
      records: this.records,
      durationMs: s.durationMs,
      acks: s.acks,
      recordsPerRequest: s.recordsPerRequest,
      inflight: s.inflight,
    });
    const sample = await this.timed('json', this.records, this.byTime, (onProgress) => bench.run(onProgress));
    return benchResult('json', topic, 'request', sample);
  }
}
