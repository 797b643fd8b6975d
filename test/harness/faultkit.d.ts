/** Types of faultkit.js (plain CommonJS, shared with scripts/chaos.js). */

export const ROOT: string;
export function sleep(ms: number): Promise<void>;
export function waitFor<T>(
  probe: () => Promise<T | undefined | false | null> | T | undefined | false | null,
  options?: { timeoutMs?: number; intervalMs?: number; what?: string; describe?: () => string | Promise<string> },
): Promise<T>;
export function signal(pid: number, sig: NodeJS.Signals): boolean;
export function isAlive(pid: number): boolean;
export function processState(pid: number): string | undefined;
export function median(values: number[]): number | null;

export interface HttpAnswer<T = any> {
  status: number;
  data: T;
}

export class HttpError extends Error {
  kind: 'timeout' | 'network';
}

export class Http {
  constructor(options?: { connections?: number; connectTimeoutMs?: number; timeoutMs?: number });
  request<T = any>(method: string, url: string, body?: unknown, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<HttpAnswer<T>>;
  get<T = any>(url: string, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<HttpAnswer<T>>;
  post<T = any>(url: string, body: unknown, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<HttpAnswer<T>>;
  close(): Promise<void>;
}

export interface PartitionState {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  leaderEpoch: number;
  partitionEpoch: number;
}

export interface BrokerProcess {
  id: number;
  port: number;
  pid: number | null;
  state: string;
  process: string;
  restarts: number;
}

export interface ProduceAnswer extends Partial<HttpAnswer> {
  status: number;
  data?: any;
  brokerId: number;
  error?: string;
  kind?: 'timeout' | 'network';
}

export class Brook {
  constructor(options: { controllerUrl: string; dataDir?: string; cluster?: string; brokerPorts?: number[]; http?: Http });
  readonly controllerUrl: string;
  readonly dataDir: string | undefined;
  readonly cluster: string;
  readonly http: Http;
  readonly ports: Map<number, number>;
  brokerUrl(id: number): string;
  brokerIdOfUrl(url: string): number | undefined;
  brokers(): Promise<Array<{ id: number; host: string; port: number; state: string; brokerEpoch: number }>>;
  processes(): Promise<BrokerProcess[]>;
  pidOf(brokerId: number): Promise<number>;
  topic(name: string): Promise<{ name: string; topicId: string; configs: Record<string, string>; partitions: PartitionState[] }>;
  partitions(topic: string): Promise<PartitionState[]>;
  partition(topic: string, partition: number): Promise<PartitionState>;
  leaderOf(topic: string, partition: number): Promise<number>;
  createTopic(name: string, partitions: number, options?: { replicationFactor?: number; configs?: Record<string, string>; timeoutMs?: number }): Promise<any>;
  offsets(topic: string, partition: number, brokerId?: number): Promise<{ earliest: number; latest: number }>;
  produce(
    topic: string,
    records: Array<{ partition: number; key?: string | null; value: unknown }>,
    options?: { brokerId?: number; acks?: 'all' | '1' | '0' | 1 | 0; timeoutMs?: number },
  ): Promise<ProduceAnswer>;
  close(): Promise<void>;
}

export function waitForIsr(
  brook: Brook,
  topic: string,
  options?: { partitions?: number[]; full?: boolean; size?: number; includes?: number; excludes?: number; leaderOnline?: boolean; timeoutMs?: number; what?: string },
): Promise<PartitionState[]>;
export function waitForHealed(brook: Brook, topics: string | string[], options?: { brokers?: number; timeoutMs?: number }): Promise<true>;

export interface Ack {
  partition: number;
  offset: number;
  value: string;
  brokerId: number;
  sentAt: number;
  ackAt: number;
}

export interface Attempt {
  partition: number;
  status: 'pending' | 'acked' | 'refused' | 'failed' | 'unknown';
  code?: string;
  brokerId: number;
  sentAt: number;
  doneAt?: number;
}

export interface RequestEntry {
  partition: number;
  brokerId: number;
  sentAt: number;
  doneAt: number;
  status: number;
  code?: string;
  count: number;
}

export class AckProducer {
  constructor(
    brook: Brook,
    options: {
      topic: string;
      partitions: number | number[];
      batchSize?: number;
      acks?: 'all' | '1' | '0';
      timeoutMs?: number;
      stallMs?: number;
      maxOutstanding?: number;
      intervalMs?: number;
      errorBackoffMs?: number;
      tag?: string;
      valueBytes?: number;
    },
  );
  readonly acked: Ack[];
  readonly attempts: Map<string, Attempt>;
  readonly requests: RequestEntry[];
  readonly errorCounts: Record<string, number>;
  start(): this;
  stop(options?: { abandonAfterMs?: number }): Promise<void>;
  ackedSince(since: number, partition?: number): Ack[];
  waitForAck(since: number, options?: { partition?: number; timeoutMs?: number; notFrom?: number }): Promise<Ack>;
  track(
    partition: number,
    values: string[],
    answer: { status: number; data?: any; kind?: string },
    brokerId: number,
    sentAt: number,
  ): { status: number; code?: string; data?: any };
  summary(): { requests: number; acked: number; attempts: number; byStatus: Record<string, number>; errors: Record<string, number> };
}

export function readPartition(
  http: Http,
  brokerUrl: string,
  topic: string,
  partition: number,
  options?: { from?: number; pageSize?: number },
): Promise<{ records: Array<{ offset: number; key: string | null; value: unknown }>; highWatermark: number }>;

export interface VerifyReport {
  topic: string;
  acknowledged: number;
  readBack: number;
  lost: any[];
  duplicated: any[];
  gaps: any[];
  repeatedOffsets: any[];
  duplicateValues: any[];
  survivedUnacknowledged: number;
  survivedFailed: any[];
  refusedButSurvived: any[];
  foreign: any[];
  partitions: Array<{ partition: number; highWatermark: number; records: number; acknowledged: number; leader: number; leaderEpoch: number }>;
  ok: boolean;
}

export function verifyAcknowledged(
  brook: Brook,
  options: { topic: string; producer?: AckProducer; acked?: Ack[]; attempts?: Map<string, Attempt>; partitions?: number[] },
): Promise<VerifyReport>;
export function describeReport(report: VerifyReport): string;

export interface ReplicaBatch {
  file: string;
  baseOffset: number;
  lastOffset: number;
  epoch: number;
  crc: number;
  bytes: Buffer;
}
export function readReplicaLog(
  dataDir: string,
  cluster: string,
  brokerId: number,
  topic: string,
  partition: number,
): { brokerId: number; dir: string; exists: boolean; batches: ReplicaBatch[]; logEndOffset: number; problem?: string };

export interface ReplicaComparison {
  ok: boolean;
  topic: string;
  partition: number;
  highWatermark: number;
  problems: string[];
  replicas: Array<{ brokerId: number; logEndOffset: number; bytesUpToHighWatermark: number; batches: number }>;
  epochs: number[];
}
export function compareReplicas(options: {
  dataDir: string;
  cluster?: string;
  topic: string;
  partition: number;
  replicas: number[];
  highWatermark: number;
  full?: boolean;
}): ReplicaComparison;
export function waitForReplicasIdentical(
  brook: Brook,
  topic: string,
  options?: { partitions?: number[]; full?: boolean; timeoutMs?: number },
): Promise<ReplicaComparison[]>;
export function batchesWithEpoch(
  dataDir: string,
  cluster: string,
  brokerId: number,
  topic: string,
  partition: number,
  epoch: number,
): Array<{ baseOffset: number; lastOffset: number; epoch: number }>;
export function batchAt(
  dataDir: string,
  cluster: string,
  brokerId: number,
  topic: string,
  partition: number,
  offset: number,
): { baseOffset: number; lastOffset: number; epoch: number } | undefined;
export function brokerPidsFromFiles(dataDir: string, cluster?: string): Array<{ brokerId: number; pid: number }>;
export function queuedBytesAt(port: number): number | undefined;
