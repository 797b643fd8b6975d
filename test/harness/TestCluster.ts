import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import axios, { type AxiosInstance } from 'axios';
import { Brook, brokerPidsFromFiles, signal as sendSignal } from './faultkit';
import { freePorts } from './ports';
import { waitFor } from './waitFor';

const ROOT = path.resolve(__dirname, '../..');
export const CONTROLLER_MAIN = path.join(ROOT, 'packages/controller/dist/main.js');
export const BROKER_MAIN = path.join(ROOT, 'packages/broker/dist/main.js');

export interface BrokerInfo {
  id: number;
  host: string;
  port: number;
  state: string;
  pid?: number;
  process?: string;
  restarts?: number;
}

export interface TestClusterOptions {
  brokers?: number;
  sessionTimeoutMs?: number;
  /** Extra controller flags. */
  args?: string[];
  /** Extra environment for the controller and, through it, its brokers. */
  env?: Record<string, string>;
}

/**
 * A real Brook cluster for integration tests: one controller process (port and broker ports picked free,
 * a fresh data directory) that launches and supervises real broker processes, as `pnpm start` does.
 */
export class TestCluster {
  controller: ChildProcess | undefined;
  readonly http: AxiosInstance;
  private output = '';
  private brookClient: Brook | undefined;
  /** Broker pids this test SIGSTOPped and has not SIGCONTed yet (resumed before the cluster stops). */
  readonly stoppedPids = new Set<number>();
  /** When the current controller process was spawned. */
  controllerStartedAt = 0;

  private constructor(
    readonly dataDir: string,
    readonly controllerPort: number,
    readonly brokerPorts: number[],
    private readonly options: TestClusterOptions,
  ) {
    // Answers of every status are returned, so tests assert on status and body.
    this.http = axios.create({ validateStatus: () => true, timeout: 30_000 });
  }

  static async start(options: TestClusterOptions = {}): Promise<TestCluster> {
    const n = options.brokers ?? 3;
    const [controllerPort, ...brokerPorts] = await freePorts(n + 1);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-test-'));
    const cluster = new TestCluster(dataDir, controllerPort!, brokerPorts, options);
    await cluster.startController();
    return cluster;
  }

  get controllerUrl(): string {
    return `http://127.0.0.1:${this.controllerPort}`;
  }

  brokerUrl(id: number): string {
    return `http://127.0.0.1:${this.brokerPorts[id - 1]}`;
  }

  async startController(): Promise<void> {
    const n = this.options.brokers ?? 3;
    this.output = '';
    const child = spawn(
      process.execPath,
      [
        CONTROLLER_MAIN,
        '--port', String(this.controllerPort),
        '--host', '127.0.0.1',
        '--data-dir', this.dataDir,
        '--brokers', String(n),
        '--broker-ports', this.brokerPorts.join(','),
        '--session-timeout-ms', String(this.options.sessionTimeoutMs ?? 3000),
        ...(this.options.args ?? []),
      ],
      { env: { ...process.env, BROOK_LOG_LEVEL: process.env.BROOK_TEST_LOG_LEVEL ?? 'warn', ...this.options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (d) => (this.output += d));
    child.stderr!.on('data', (d) => (this.output += d));
    this.controller = child;
    this.controllerStartedAt = Date.now();
    await this.waitForActiveBrokers(n);
    // A restarted controller shows the brokers it knew as active at once (that state is in its log) and
    // adopts still-running broker processes by pid file: wait until its launcher runs (or has adopted)
    // every broker, so callers see pids of live processes.
    await waitFor(
      async () => {
        const procs = await this.brokerProcesses();
        return procs.length >= n && procs.every((b) => b.process === 'running' && (b.pid ?? 0) > 0) && procs;
      },
      { timeoutMs: 30_000, what: `the launcher to run ${n} brokers` },
    );
    await this.waitForActiveBrokers(n);
  }

  /** The fault kit's client for this cluster (controller URL, data directory, broker ports). */
  get brook(): Brook {
    this.brookClient ??= new Brook({ controllerUrl: this.controllerUrl, dataDir: this.dataDir, brokerPorts: this.brokerPorts });
    return this.brookClient;
  }

  /** The pid of broker `id`'s process, from the launcher. */
  async brokerPid(id: number): Promise<number> {
    const b = (await this.brokerProcesses()).find((x) => x.id === id);
    if (!b?.pid) throw new Error(`broker ${id} has no process: ${JSON.stringify(b)}`);
    return b.pid;
  }

  /** Sends `sig` to broker `id` (pid from the launcher); SIGSTOPped pids are remembered and resumed by stop(). */
  async signalBroker(id: number, sig: NodeJS.Signals): Promise<number> {
    const pid = await this.brokerPid(id);
    this.signalPid(pid, sig);
    return pid;
  }

  signalPid(pid: number, sig: NodeJS.Signals): void {
    if (sig === 'SIGSTOP') this.stoppedPids.add(pid);
    if (sig === 'SIGCONT' || sig === 'SIGKILL') this.stoppedPids.delete(pid);
    sendSignal(pid, sig);
  }

  get controllerRunning(): boolean {
    const c = this.controller;
    return !!c && c.exitCode === null && c.signalCode === null;
  }

  /** kill -9 the controller (its brokers keep running); resolves when it is gone. */
  async killController(): Promise<number> {
    const child = this.controller;
    if (!child || !this.controllerRunning) throw new Error('the controller is not running');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    return child.pid!;
  }

  /** The tail of broker `id`'s log file (its stdout and stderr), for failure reports. */
  brokerLog(id: number, lines = 80): string {
    try {
      const text = fs.readFileSync(path.join(this.dataDir, 'default', 'logs', `broker-${id}.log`), 'utf8');
      return text.split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Waits until `count` brokers are registered and unfenced, and every one answers its health check. */
  async waitForActiveBrokers(count: number, timeoutMs = 30_000): Promise<BrokerInfo[]> {
    return waitFor(
      async () => {
        if (this.controller?.exitCode !== null && this.controller?.exitCode !== undefined) {
          throw new Error(`controller exited with ${this.controller.exitCode}:\n${this.output}`);
        }
        const res = await this.http.get<BrokerInfo[]>(`${this.controllerUrl}/brokers`);
        if (res.status !== 200) return false;
        const active = res.data.filter((b) => b.state === 'active');
        if (active.length < count) return false;
        for (const b of active) {
          const h = await this.http.get(`http://127.0.0.1:${b.port}/health`);
          if (h.status !== 200 || !h.data.metadataLoaded) return false;
        }
        return active;
      },
      { timeoutMs, what: `${count} active brokers` },
    );
  }

  /** The launcher's view: broker processes with their pids. */
  async brokerProcesses(): Promise<BrokerInfo[]> {
    const res = await this.http.get(`${this.controllerUrl}/cluster/default`);
    if (res.status !== 200) throw new Error(`GET /cluster/default: ${res.status} ${JSON.stringify(res.data)}`);
    return res.data.brokers as BrokerInfo[];
  }

  async createTopic(name: string, partitions: number, replicationFactor?: number): Promise<void> {
    const res = await this.http.post(`${this.controllerUrl}/create_topic/`, {
      name,
      partitions,
      ...(replicationFactor ? { replication_factor: replicationFactor } : {}),
    });
    if (res.status !== 201) throw new Error(`create_topic ${name}: ${res.status} ${JSON.stringify(res.data)}`);
    await this.waitForLeaders(name, partitions);
  }

  /** Waits until every partition has a leader that serves it. */
  async waitForLeaders(topic: string, partitions: number, timeoutMs = 20_000): Promise<void> {
    await waitFor(
      async () => {
        for (let p = 0; p < partitions; p++) {
          const res = await this.http.get(`${this.brokerUrl(1)}/topics/${topic}/partitions/${p}/offsets`);
          if (res.status !== 200) return false;
        }
        return true;
      },
      { timeoutMs, what: `leaders of ${topic}` },
    );
  }

  /** SIGTERM to the controller, which stops its brokers; resolves when it has exited. */
  async stop(): Promise<void> {
    // A broker left SIGSTOPped would never act on the SIGTERM the controller sends it.
    for (const pid of this.stoppedPids) sendSignal(pid, 'SIGCONT');
    this.stoppedPids.clear();
    const child = this.controller;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  /**
   * Stops everything and removes the data directory. Brokers a killed controller left behind (found by
   * their pid files, checked against /proc/<pid>/cmdline) are killed by pid.
   */
  async destroy(): Promise<void> {
    await this.stop();
    for (const { pid } of brokerPidsFromFiles(this.dataDir)) sendSignal(pid, 'SIGKILL');
    await this.brookClient?.close();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  get logs(): string {
    return this.output;
  }
}
