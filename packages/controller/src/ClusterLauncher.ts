import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '@brook/runtime';
import type {
  ClusterRecord,
  ClusterBrokerView,
} from '@brook/types';

export interface ClusterLauncherOptions {
  /** The data directory; cluster directories are resolved inside it. */
  dataDir: string;
  /** The broker's main.js. */
  brokerEntry: string;
  /** The controller's URL as brokers reach it (known once the controller listens). */
  controllerUrl: () => string;
  logger: Logger;
  /** Host brokers advertise. */
  brokerHost?: string;
  /**
   * A supervised broker exited without being asked. The supervisor knows before any session timeout
   * that the process is gone, so the controller can fence it and move its leadership at once.
   */
  onBrokerExit?: (brokerId: number) => void;
  /** The node binary brokers run with. */
  execPath?: string;
  /** Restart backoff: first delay, doubled per quick failure up to max; reset after resetAfterMs up. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  backoffResetAfterMs?: number;
  /** How often an adopted process (not our child) is checked for life. */
  pollIntervalMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number;
  now?: () => number;
}

type ProcessState = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped';

interface SupervisedBroker {
  cluster: string;
  id: number;
  port: number;
  clusterDir: string;
  logDir: string;
  logFile: string;
  pidFile: string;
  state: ProcessState;
  pid: number | null;
  child: ChildProcess | undefined;
  adopted: boolean;
  restarts: number;
  startedAt: number;
  backoffMs: number;
  restartTimer: NodeJS.Timeout | undefined;
  pollTimer: NodeJS.Timeout | undefined;
  /** Resolves when the current process is gone. */
  exited: Promise<void>;
  markExited: () => void;
  stopRequested: boolean;
}

/**
 * Runs the brokers of managed clusters as separate OS processes and keeps them running: a broker that
 * exits without being asked is restarted with a backoff (200 ms doubling to 5 s, reset after 30 s up).
 * Each broker's pid is kept in `<cluster dir>/broker-<id>/broker.pid`, so a restarted controller adopts
 * the brokers still running (it watches them by polling) instead of starting duplicates: the controller
 * can be killed and restarted while its brokers keep serving. stop() sends SIGTERM to every broker and
 * waits for them (SIGKILL after stopTimeoutMs).
 */
export class ClusterLauncher {
  private readonly brokers = new Map<string, SupervisedBroker>();
  private readonly execPath: string;
  private readonly brokerEntry: string;
  private readonly now: () => number;
  private stopping = false;

  constructor(private readonly options: ClusterLauncherOptions) {
    this.execPath = options.execPath ?? process.execPath;
    this.brokerEntry = path.resolve(options.brokerEntry);
    this.now = options.now ?? Date.now;
  }

  /** Starts (or adopts) every broker of a managed cluster that is not supervised yet. */
  launch(cluster: ClusterRecord): void {
    if (!cluster.managed || this.stopping) return;
    if (!fs.existsSync(this.brokerEntry)) {
      this.options.logger.error({ brokerEntry: this.brokerEntry }, 'broker entry not found (build the broker first); launching anyway');
    }
    const clusterDir = path.resolve(this.options.dataDir, cluster.logDirectory);
    fs.mkdirSync(path.join(clusterDir, 'logs'), { recursive: true });
    cluster.brokerIds.forEach((id, i) => {
      const key = `${cluster.name}/${id}`;
      if (this.brokers.has(key)) return;
      const logDir = path.join(clusterDir, `broker-${id}`);
      fs.mkdirSync(logDir, { recursive: true });
      const b: SupervisedBroker = {
        cluster: cluster.name,
        id,
        port: cluster.brokerPorts[i] ?? 9000 + id,
        clusterDir,
        logDir,
        logFile: path.join(clusterDir, 'logs', `broker-${id}.log`),
        pidFile: path.join(logDir, 'broker.pid'),
        state: 'starting',
        pid: null,
        child: undefined,
        adopted: false,
        restarts: 0,
        startedAt: 0,
        backoffMs: this.options.backoffInitialMs ?? 200,
        restartTimer: undefined,
        pollTimer: undefined,
        exited: Promise.resolve(),
        markExited: () => {},
        stopRequested: false,
      };
      this.brokers.set(key, b);
      if (!this.adopt(b)) this.spawn(b);
    });
  }

  /** The process side of a broker, for GET /cluster. */
  status(cluster: string, brokerId: number): Pick<ClusterBrokerView, 'pid' | 'process' | 'restarts' | 'logFile'> | undefined {
    const b = this.brokers.get(`${cluster}/${brokerId}`);
    if (!b) return undefined;
    return { pid: b.pid, process: b.state, restarts: b.restarts, logFile: b.logFile };
  }

  /** Every supervised broker: cluster, id, port and pid. */
  list(): Array<{ cluster: string; id: number; port: number; pid: number | null; adopted: boolean }> {
    return [...this.brokers.values()].map((b) => ({ cluster: b.cluster, id: b.id, port: b.port, pid: b.pid, adopted: b.adopted }));
  }

  /** SIGTERM to every broker, then wait for all of them (SIGKILL after stopTimeoutMs). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.brokers.values()].map((b) => this.stopBroker(b)));
  }

  private args(b: SupervisedBroker): string[] {
    return [
      this.brokerEntry,
      '--broker-id', String(b.id),
      '--cluster', b.cluster,
      '--port', String(b.port),
      '--host', this.options.brokerHost ?? 'localhost',
      '--log-dir', b.logDir,
      '--controller-url', this.options.controllerUrl(),
    ];
  }

  private spawn(b: SupervisedBroker): void {
    b.restartTimer = undefined;
    if (this.stopping || b.stopRequested) return;
    b.state = 'starting';
    b.adopted = false;
    let out: number | undefined;
    let child: ChildProcess;
    try {
      out = fs.openSync(b.logFile, 'a');
      fs.writeSync(out, `\n--- ${new Date(this.now()).toISOString()} controller starting broker ${b.id} (restarts: ${b.restarts})\n`);
      // Detached: a broker is its own process group, so a Ctrl-C meant for the controller does not hit
      // it directly (the controller stops it in order) and it outlives a killed controller.
      child = spawn(this.execPath, this.args(b), { stdio: ['ignore', out, out], env: process.env, detached: true });
    } catch (err) {
      this.options.logger.error({ err, cluster: b.cluster, brokerId: b.id }, 'could not start broker');
      this.trackExit(b);
      this.onExit(b, null, null);
      return;
    } finally {
      if (out !== undefined) fs.closeSync(out);
    }
    b.child = child;
    b.pid = child.pid ?? null;
    b.startedAt = this.now();
    this.trackExit(b);
    let gone = false;
    const exit = (code: number | null, signal: NodeJS.Signals | null) => {
      if (gone) return;
      gone = true;
      this.onExit(b, code, signal);
    };
    child.once('exit', exit);
    child.once('error', (err) => {
      this.options.logger.error({ err, cluster: b.cluster, brokerId: b.id }, 'broker process error');
      if (child.pid === undefined) exit(null, null);
    });
    if (b.pid !== null) {
      b.state = 'running';
      writePidFile(b.pidFile, b.pid);
      this.options.logger.info({ cluster: b.cluster, brokerId: b.id, brokerPid: b.pid, port: b.port }, 'broker started');
    }
  }

  /** Adopts a broker a previous controller started, if its pid file names a live process running it. */
  private adopt(b: SupervisedBroker): boolean {
    const pid = readPidFile(b.pidFile);
    if (pid === undefined || !isAlive(pid) || !this.isOurBroker(pid, b)) return false;
    b.pid = pid;
    b.adopted = true;
    b.state = 'running';
    b.startedAt = this.now();
    this.trackExit(b);
    b.pollTimer = setInterval(() => {
      if (!isAlive(pid) || !this.isOurBroker(pid, b)) {
        clearInterval(b.pollTimer);
        b.pollTimer = undefined;
        this.onExit(b, null, null);
      }
    }, this.options.pollIntervalMs ?? 200);
    b.pollTimer.unref();
    this.options.logger.info({ cluster: b.cluster, brokerId: b.id, brokerPid: pid }, 'adopted running broker');
    return true;
  }

  /** Whether the process runs the broker entry with `--broker-id <id>` (so a reused pid is not adopted). */
  private isOurBroker(pid: number, b: SupervisedBroker): boolean {
    let args: string[];
    try {
      args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      return false;
    }
    if (!args.includes(this.brokerEntry)) return false;
    for (let i = 0; i < args.length - 1; i++) if (args[i] === '--broker-id' && args[i + 1] === String(b.id)) return true;
    return false;
  }

  private trackExit(b: SupervisedBroker): void {
    b.exited = new Promise<void>((resolve) => {
      b.markExited = resolve;
    });
  }

  private onExit(b: SupervisedBroker, code: number | null, signal: NodeJS.Signals | null): void {
    const pid = b.pid;
    b.pid = null;
    b.child = undefined;
    b.markExited();
    if (this.stopping || b.stopRequested) {
      b.state = 'stopped';
      removePidFile(b.pidFile, pid);
      return;
    }
    const upMs = this.now() - b.startedAt;
    if (upMs >= (this.options.backoffResetAfterMs ?? 30_000)) b.backoffMs = this.options.backoffInitialMs ?? 200;
    const delay = b.backoffMs;
    b.backoffMs = Math.min(b.backoffMs * 2, this.options.backoffMaxMs ?? 5000);
    b.state = 'restarting';
    this.options.logger.warn({ cluster: b.cluster, brokerId: b.id, brokerPid: pid, code, signal, restartInMs: delay }, 'broker exited; restarting');
    this.options.onBrokerExit?.(b.id);
    b.restartTimer = setTimeout(() => {
      b.restarts++;
      this.spawn(b);
    }, delay);
  }

  private async stopBroker(b: SupervisedBroker): Promise<void> {
    b.stopRequested = true;
    if (b.restartTimer) clearTimeout(b.restartTimer);
    b.restartTimer = undefined;
    const pid = b.pid;
    if (pid === null) {
      b.state = 'stopped';
      return;
    }
    b.state = 'stopping';
    if (b.adopted && b.pollTimer) {
      // Watch an adopted process closely now that its exit is awaited.
      clearInterval(b.pollTimer);
      b.pollTimer = setInterval(() => {
        if (!isAlive(pid)) {
          clearInterval(b.pollTimer);
          b.pollTimer = undefined;
          this.onExit(b, null, null);
        }
      }, 25);
    }
    signal(pid, 'SIGTERM');
    const timeoutMs = this.options.stopTimeoutMs ?? 15_000;
    if (!(await within(b.exited, timeoutMs))) {
      this.options.logger.warn({ cluster: b.cluster, brokerId: b.id, brokerPid: pid }, 'broker did not stop in time: SIGKILL');
      signal(pid, 'SIGKILL');
      await within(b.exited, 5000);
    }
    if (b.pollTimer) clearInterval(b.pollTimer);
    b.pollTimer = undefined;
  }
}

/** Free TCP ports, found by binding port 0 (all held until every one is found, so they are distinct). */
export async function allocateFreePorts(count: number, avoid: ReadonlySet<number> = new Set()): Promise<number[]> {
  const servers: net.Server[] = [];
  const ports: number[] = [];
  try {
    for (let attempts = 0; ports.length < count && attempts < count + 50; attempts++) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, () => resolve());
      });
      servers.push(server);
      const port = (server.address() as net.AddressInfo).port;
      if (!avoid.has(port)) ports.push(port);
    }
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
  if (ports.length < count) throw new Error(`could not find ${count} free ports`);
  return ports;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped) still answers kill(0); its cmdline is empty.
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()?.[0] !== 'Z';
  } catch {
    return true;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

function readPidFile(file: string): number | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    return /^\d{1,10}$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

function writePidFile(file: string, pid: number): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${pid}\n`);
  fs.renameSync(tmp, file);
}

function removePidFile(file: string, pid: number | null): void {
  if (pid !== null && readPidFile(file) !== pid) return;
  try {
    fs.unlinkSync(file);
  } catch {
    // Not there.
  }
}

function within(promise: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    promise.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
