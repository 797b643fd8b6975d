import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeBatch } from '@brook/types';
import type { StorageLogger } from './Log';
import { DEFAULT_LOG_CONFIG, type LogConfig } from './LogConfig';
import { CLEAN_SHUTDOWN_FILE, LogManager } from './LogManager';

const CONFIG: LogConfig = { ...DEFAULT_LOG_CONFIG, segmentBytes: 1024, retentionMs: -1 };
const TOPIC_ID = 'Qm9va1RvcGljSWQxMjM0';
const OTHER_TOPIC_ID = 'T3RoZXJUb3BpY0lkNTY3';

let logDir: string;
let managers: LogManager[] = [];
const messages: string[] = [];
const logger: StorageLogger = {
  debug() {},
  info: (_obj, msg) => messages.push(msg ?? ''),
  warn: (_obj, msg) => messages.push(msg ?? ''),
  error: (_obj, msg) => messages.push(msg ?? ''),
};

beforeEach(() => {
  logDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'brook-logs-')), 'broker-1');
  messages.length = 0;
});

afterEach(() => {
  for (const m of managers) m.shutdown();
  managers = [];
  fs.rmSync(path.dirname(logDir), { recursive: true, force: true });
});

function start(opts: Partial<ConstructorParameters<typeof LogManager>[0]> = {}): LogManager {
  const manager = new LogManager({ logDir, defaults: CONFIG, logger, ...opts });
  manager.startup();
  managers.push(manager);
  return manager;
}

function stop(manager: LogManager): void {
  manager.shutdown();
  managers = managers.filter((m) => m !== manager);
}

function records(n: number, prefix = 'r'): Buffer {
  return encodeBatch(Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`${prefix}${i}-${'p'.repeat(40)}`) })));
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('LogManager', () => {
  it('creates partition logs with their topic id and finds them again after a clean restart', () => {
    const manager = start();
    expect(fs.existsSync(logDir)).toBe(true);
    const log = manager.getOrCreateLog('orders.v1', 3, TOPIC_ID, CONFIG);
    expect(log.dir).toBe(path.join(logDir, 'orders.v1-3'));
    expect(fs.readFileSync(path.join(log.dir, 'partition.metadata'), 'utf8')).toBe(`version: 0\ntopic_id: ${TOPIC_ID}\n`);
    expect(manager.getOrCreateLog('orders.v1', 3, TOPIC_ID, CONFIG)).toBe(log);
    expect(manager.getLog('orders.v1', 3)).toBe(log);
    expect(manager.getLog('orders.v1', 4)).toBeUndefined();
    for (let i = 0; i < 10; i++) log.appendAsLeader(records(5), 0);
    manager.getOrCreateLog('a-b-c', 0, OTHER_TOPIC_ID, CONFIG).appendAsLeader(records(2), 0);
    stop(manager);

    expect(fs.existsSync(path.join(logDir, CLEAN_SHUTDOWN_FILE))).toBe(true);
    expect(fs.readFileSync(path.join(logDir, 'recovery-point-offset-checkpoint'), 'utf8').split('\n').slice(0, 2)).toEqual(['0', '2']);
    expect(fs.readFileSync(path.join(logDir, 'recovery-point-offset-checkpoint'), 'utf8')).toContain('orders.v1 3 50\n');
    expect(fs.readFileSync(path.join(logDir, 'log-start-offset-checkpoint'), 'utf8')).toContain('a-b-c 0 0\n');

    const again = start();
    expect(fs.existsSync(path.join(logDir, CLEAN_SHUTDOWN_FILE))).toBe(false); // consumed: a crash from now on is unclean
    expect(again.allLogs().map((l) => `${l.topic}/${l.partition}`).sort()).toEqual(['a-b-c/0', 'orders.v1/3']);
    const reopened = again.getLog('orders.v1', 3)!;
    expect(reopened).toMatchObject({ topicId: TOPIC_ID, logEndOffset: 50, recoveryPoint: 50 });
    expect(again.getLog('a-b-c', 0)!.logEndOffset).toBe(2);
  });

  it('recovers from the checkpointed recovery point after a crash', () => {
    const manager = start();
    const log = manager.getOrCreateLog('events', 0, TOPIC_ID, CONFIG);
    for (let i = 0; i < 20; i++) log.appendAsLeader(records(3), 0);
    log.flush();
    manager.checkpointRecoveryPointsAndLogStartOffsets();
    log.appendAsLeader(records(3), 0);
    // A crash: no shutdown, no marker; the last batch is torn.
    const segment = fs.readdirSync(log.dir).filter((f) => f.endsWith('.log')).sort().at(-1)!;
    fs.truncateSync(path.join(log.dir, segment), fs.statSync(path.join(log.dir, segment)).size - 7);
    log.close();
    managers = [];

    const recovered = start().getLog('events', 0)!;
    expect(recovered.logEndOffset).toBe(60);
    expect(messages).toContain('recovered log after an unclean shutdown');
    expect(messages).toContain('recovery truncated the log at a bad batch');
  });

  it('checkpoints at once when a truncation moves a recovery point back', () => {
    const manager = start();
    const log = manager.getOrCreateLog('t', 0, TOPIC_ID, CONFIG);
    for (let i = 0; i < 10; i++) log.appendAsLeader(records(2), 0);
    log.flush();
    manager.checkpointRecoveryPointsAndLogStartOffsets();
    const checkpoint = () => fs.readFileSync(path.join(logDir, 'recovery-point-offset-checkpoint'), 'utf8');
    expect(checkpoint()).toContain('t 0 20\n');
    log.truncateTo(8);
    expect(checkpoint()).toContain('t 0 8\n');
  });

  it('replaces a stray log of a deleted topic when the topic id differs', async () => {
    const manager = start();
    const stray = manager.getOrCreateLog('orders', 0, OTHER_TOPIC_ID, CONFIG);
    stray.appendAsLeader(records(4), 0);
    const fresh = manager.getOrCreateLog('orders', 0, TOPIC_ID, CONFIG);
    expect(fresh).not.toBe(stray);
    expect(fresh).toMatchObject({ topicId: TOPIC_ID, logEndOffset: 0 });
    expect(fresh.dir).toBe(path.join(logDir, 'orders-0'));
    expect(() => stray.read(0, { maxBytes: 10 })).toThrow(/closed/);
    await until(() => fs.readdirSync(logDir).every((d) => !d.endsWith('-delete')), 'the stray log to be removed');
    fresh.appendAsLeader(records(2), 0);

    // The same after a restart: the log on disk belongs to another topic id than the one asked for.
    stop(manager);
    const restarted = start();
    expect(restarted.getLog('orders', 0)!.logEndOffset).toBe(2);
    const recreated = restarted.getOrCreateLog('orders', 0, OTHER_TOPIC_ID, CONFIG);
    expect(recreated).toMatchObject({ topicId: OTHER_TOPIC_ID, logEndOffset: 0 });
  });

  it('deletes a log: renamed at once, removed in the background', async () => {
    const manager = start();
    const log = manager.getOrCreateLog('doomed', 1, TOPIC_ID, CONFIG);
    log.appendAsLeader(records(3), 0);
    manager.deleteLog('doomed', 1);
    expect(manager.getLog('doomed', 1)).toBeUndefined();
    expect(fs.existsSync(path.join(logDir, 'doomed-1'))).toBe(false);
    expect(fs.readdirSync(logDir).some((d) => /^doomed-1\.[0-9a-f]{32}-delete$/.test(d))).toBe(true);
    await until(() => !fs.readdirSync(logDir).some((d) => d.endsWith('-delete')), 'the deleted log to be removed');
    manager.deleteLog('doomed', 1); // nothing left: nothing to do
    expect(manager.getOrCreateLog('doomed', 1, TOPIC_ID, CONFIG).logEndOffset).toBe(0);
  });

  it('keeps delete-directory names legal for the longest topic names', () => {
    const manager = start();
    const topic = 'x'.repeat(240);
    manager.getOrCreateLog(topic, 7, TOPIC_ID, CONFIG);
    manager.deleteLog(topic, 7);
    expect(fs.readdirSync(logDir).filter((d) => d.endsWith('-delete')).every((d) => Buffer.byteLength(d) <= 255)).toBe(true);
  });

  it('finishes deletions and ignores strangers at startup', async () => {
    fs.mkdirSync(path.join(logDir, 'old-0.0123456789abcdef0123456789abcdef-delete', 'x'), { recursive: true });
    fs.mkdirSync(path.join(logDir, 'not a log'), { recursive: true });
    fs.mkdirSync(path.join(logDir, 'nopartition'), { recursive: true });
    fs.writeFileSync(path.join(logDir, 'recovery-point-offset-checkpoint'), 'garbage');
    const manager = start();
    expect(manager.allLogs()).toEqual([]);
    expect(messages).toContain('ignoring an unreadable checkpoint');
    expect(fs.existsSync(path.join(logDir, 'not a log'))).toBe(true);
    await until(() => !fs.readdirSync(logDir).some((d) => d.endsWith('-delete')), 'the leftover deletion');
  });

  it('refuses invalid names before touching the disk', () => {
    const manager = start();
    expect(() => manager.getOrCreateLog('../etc', 0, TOPIC_ID, CONFIG)).toThrow(/invalid topic name/);
    expect(() => manager.getOrCreateLog('ok', -1, TOPIC_ID, CONFIG)).toThrow(/invalid partition/);
    expect(fs.readdirSync(logDir, { withFileTypes: true }).filter((e) => e.isDirectory())).toEqual([]);
  });

  it('applies the config it is given to an existing log', () => {
    const manager = start();
    manager.getOrCreateLog('t', 0, TOPIC_ID, CONFIG);
    const log = manager.getOrCreateLog('t', 0, TOPIC_ID, { ...CONFIG, retentionMs: 1234 });
    expect(log.config.retentionMs).toBe(1234);
  });

  it('runs retention, flush.ms and checkpoints on timers', async () => {
    const manager = start({ retentionCheckIntervalMs: 20, flushCheckIntervalMs: 10, checkpointIntervalMs: 20 });
    const expiring = manager.getOrCreateLog('expiring', 0, TOPIC_ID, { ...CONFIG, retentionMs: 1000 });
    expiring.appendAsLeader(encodeBatch([{ key: null, value: Buffer.from('old') }], { timestamp: Date.now() - 10_000 }), 0);
    const flushed = manager.getOrCreateLog('flushed', 0, TOPIC_ID, { ...CONFIG, flushMs: 10 });
    flushed.appendAsLeader(records(2), 0);
    expect(flushed.recoveryPoint).toBe(0);
    await until(() => expiring.logStartOffset === 1, 'retention');
    await until(() => flushed.recoveryPoint === 2, 'flush.ms');
    await until(
      () => fs.existsSync(path.join(logDir, 'recovery-point-offset-checkpoint')) &&
        fs.readFileSync(path.join(logDir, 'recovery-point-offset-checkpoint'), 'utf8').includes('flushed 0 2'),
      'a checkpoint',
    );
  });

  it('runs the cleaner on compacted logs every log.cleaner.backoff.ms and keeps its checkpoint', async () => {
    const manager = start({ cleanerBackoffMs: 10 });
    const keyed = (i: number) => encodeBatch([{ key: Buffer.from(`k${i % 5}`), value: Buffer.from(`v${i}-${'p'.repeat(60)}`) }]);
    const compacted = manager.getOrCreateLog('offsets', 0, TOPIC_ID, { ...CONFIG, cleanupPolicy: 'compact' });
    const plain = manager.getOrCreateLog('plain', 0, OTHER_TOPIC_ID, CONFIG);
    for (let i = 0; i < 60; i++) {
      compacted.appendAsLeader(keyed(i), 0);
      plain.appendAsLeader(keyed(i), 0);
    }
    compacted.flush();
    plain.flush();
    const size = plain.size;
    const checkpoint = path.join(logDir, 'cleaner-offset-checkpoint');
    const checkpointed = () => (fs.existsSync(checkpoint) ? fs.readFileSync(checkpoint, 'utf8') : '');
    await until(() => checkpointed().includes(`offsets 0 ${compacted.firstUncleanableOffset}\n`), 'a cleaning');
    expect(compacted.size).toBeLessThan(size / 2);
    expect(plain.size).toBe(size);
    expect(messages).toContain('cleaned log');

    compacted.truncateTo(7); // a follower truncating: the dirty part starts there again
    expect(checkpointed()).toContain('offsets 0 7\n');
    manager.deleteLog('offsets', 0);
    expect(checkpointed()).toBe('0\n0\n');
  });
});
