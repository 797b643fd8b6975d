import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '@brook/runtime';
import type { ClusterRecord } from '@brook/types';
import { ClusterLauncher, allocateFreePorts } from './ClusterLauncher';
import { waitUntil } from './testing';

/** A fake broker: records its pid and arguments, records SIGTERM, and otherwise sleeps. */
const FAKE_BROKER = `
const fs = require('fs');
const args = process.argv.slice(2);
const out = args[args.indexOf('--log-dir') + 1] + '/fake.out';
fs.appendFileSync(out, JSON.stringify({ pid: process.pid, args }) + '\\n');
process.on('SIGTERM', () => { fs.appendFileSync(out, JSON.stringify({ pid: process.pid, term: true }) + '\\n'); process.exit(0); });
setInterval(() => {}, 1000);
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function events(logDir: string): Array<{ pid: number; args?: string[]; term?: boolean }> {
  const file = path.join(logDir, 'fake.out');
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function pidIn(file: string): number | undefined {
  try {
    return Number(fs.readFileSync(file, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

describe('ClusterLauncher', () => {
  let dataDir: string;
  let entry: string;
  const started = new Set<number>();
  const launchers: ClusterLauncher[] = [];
  const logger = createLogger('test', 'silent');
  const cluster: ClusterRecord = {
    name: 'blue',
    logDirectory: 'blue-dir',
    numBrokers: 2,
    defaultPartitions: 1,
    retentionMs: 1000,
    managed: true,
    brokerIds: [4, 5],
    brokerPorts: [7104, 7105],
  };
  const clusterDir = () => path.join(dataDir, 'blue-dir');
  const brokerDir = (id: number) => path.join(clusterDir(), `broker-${id}`);
  const pidFile = (id: number) => path.join(brokerDir(id), 'broker.pid');

  let exits: number[] = [];
  function newLauncher(): ClusterLauncher {
    const launcher = new ClusterLauncher({
      dataDir,
      brokerEntry: entry,
      controllerUrl: () => 'http://localhost:9999',
      logger,
      onBrokerExit: (id) => exits.push(id),
      stopTimeoutMs: 5000,
      pollIntervalMs: 20,
    });
    launchers.push(launcher);
    return launcher;
  }

  beforeEach(() => {
    exits = [];
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-launcher-'));
    entry = path.join(dataDir, 'fake-broker.js');
    fs.writeFileSync(entry, FAKE_BROKER);
  });

  afterEach(async () => {
    await Promise.all(launchers.splice(0).map((l) => l.stop()));
    for (const id of [4, 5]) for (const e of events(brokerDir(id))) started.add(e.pid);
    for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
    started.clear();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('spawns each broker with its flags, restarts it after kill -9, and SIGTERMs it on stop', async () => {
    const launcher = newLauncher();
    launcher.launch(cluster);
    await waitUntil(() => events(brokerDir(4)).length === 1 && events(brokerDir(5)).length === 1, 10_000, 'both brokers to start');
    const [first] = events(brokerDir(4));
    expect(first!.args).toEqual([
      '--broker-id', '4',
      '--cluster', 'blue',
      '--port', '7104',
      '--host', 'localhost',
      '--log-dir', brokerDir(4),
      '--controller-url', 'http://localhost:9999',
    ]);
    expect(pidIn(pidFile(4))).toBe(first!.pid);
    expect(launcher.status('blue', 4)).toMatchObject({ pid: first!.pid, process: 'running', restarts: 0, logFile: path.join(clusterDir(), 'logs', 'broker-4.log') });
    expect(fs.existsSync(path.join(clusterDir(), 'logs', 'broker-4.log'))).toBe(true);

    process.kill(first!.pid, 'SIGKILL');
    await waitUntil(() => events(brokerDir(4)).length === 2, 10_000, 'broker 4 to be restarted');
    expect(exits).toEqual([4]); // reported once, so the controller can fence it before any session timeout
    const second = events(brokerDir(4))[1]!;
    expect(second.pid).not.toBe(first!.pid);
    await waitUntil(() => pidIn(pidFile(4)) === second.pid, 5000, 'the new pid file');
    expect(launcher.status('blue', 4)).toMatchObject({ pid: second.pid, restarts: 1 });
    expect(events(brokerDir(5))).toHaveLength(1);

    await launcher.stop();
    for (const id of [4, 5]) {
      const evs = events(brokerDir(id));
      expect(evs[evs.length - 1]).toEqual({ pid: evs[evs.length - 2]!.pid, term: true });
      expect(alive(evs[evs.length - 2]!.pid)).toBe(false);
      expect(fs.existsSync(pidFile(id))).toBe(false);
    }
    expect(launcher.status('blue', 4)).toMatchObject({ pid: null, process: 'stopped' });
    expect(exits).toEqual([4]); // a requested stop is not an unexpected exit
  });

  it('adopts a live broker from its pid file instead of starting a duplicate, and restarts it when it dies', async () => {
    fs.mkdirSync(brokerDir(4), { recursive: true });
    // A broker left running by a previous controller (same entry, same flags).
    const orphan = spawn(process.execPath, [entry, '--broker-id', '4', '--cluster', 'blue', '--log-dir', brokerDir(4)], { stdio: 'ignore' });
    started.add(orphan.pid!);
    fs.writeFileSync(pidFile(4), `${orphan.pid}\n`);
    // A pid file naming a live process that is not a broker (this test) is not adopted.
    fs.mkdirSync(brokerDir(5), { recursive: true });
    fs.writeFileSync(pidFile(5), `${process.pid}\n`);
    await waitUntil(() => events(brokerDir(4)).length === 1, 10_000, 'the orphan to start');

    const launcher = newLauncher();
    launcher.launch(cluster);
    expect(launcher.status('blue', 4)).toMatchObject({ pid: orphan.pid, process: 'running' });
    await waitUntil(() => events(brokerDir(5)).length === 1, 10_000, 'broker 5 to be spawned');
    expect(pidIn(pidFile(5))).toBe(events(brokerDir(5))[0]!.pid);
    expect(events(brokerDir(4))).toHaveLength(1);

    orphan.kill('SIGKILL');
    await waitUntil(() => events(brokerDir(4)).length === 2, 10_000, 'the adopted broker to be replaced');
    const replacement = events(brokerDir(4))[1]!;
    expect(replacement.args).toContain('--controller-url');
    await waitUntil(() => pidIn(pidFile(4)) === replacement.pid, 5000, 'the new pid file');
    expect(launcher.status('blue', 4)!.restarts).toBe(1);
  });

  it('SIGTERMs an adopted broker on stop and waits for it', async () => {
    fs.mkdirSync(brokerDir(4), { recursive: true });
    const orphan = spawn(process.execPath, [entry, '--broker-id', '4', '--log-dir', brokerDir(4)], { stdio: 'ignore' });
    started.add(orphan.pid!);
    fs.writeFileSync(pidFile(4), `${orphan.pid}\n`);
    await waitUntil(() => events(brokerDir(4)).length === 1, 10_000, 'the orphan to start');
    const launcher = newLauncher();
    launcher.launch({ ...cluster, brokerIds: [4], brokerPorts: [7104] });
    expect(launcher.status('blue', 4)!.pid).toBe(orphan.pid);
    await launcher.stop();
    expect(events(brokerDir(4))[1]).toEqual({ pid: orphan.pid, term: true });
    await waitUntil(() => !alive(orphan.pid!) || orphan.exitCode !== null, 5000, 'the orphan to exit');
    expect(fs.existsSync(pidFile(4))).toBe(false);
  });

  it('finds distinct free ports', async () => {
    const ports = await allocateFreePorts(3);
    expect(new Set(ports).size).toBe(3);
    for (const p of ports) expect(p).toBeGreaterThan(0);
  });
});
