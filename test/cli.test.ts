import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { partitionForKey } from '@brook/types';
import { TestCluster } from './harness/TestCluster';
import { freePorts } from './harness/ports';

jest.setTimeout(120_000);

const CLI = path.resolve(__dirname, '../packages/cli/dist/main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface JsonLine {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string;
}

/** The built `brook` CLI, end to end: a child process against a real controller and three brokers. */
describe('brook CLI', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await TestCluster.start();
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  function brook(args: string[], stdin = '', controller = cluster.controllerUrl): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, '--controller', controller, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(stdin);
    });
  }

  async function ok(args: string[], stdin = ''): Promise<string> {
    const run = await brook(args, stdin);
    if (run.code !== 0) throw new Error(`brook ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
    return run.stdout;
  }

  const jsonLines = (stdout: string): JsonLine[] => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonLine);

  /** Fails with the one-line `brook: …` error the CLI promises, and no stack trace. */
  function expectOneLineError(run: Run, pattern: RegExp) {
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^brook: /);
    expect(run.stderr).toMatch(pattern);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }

  test('topics create, list, describe --json and delete', async () => {
    expect(await ok(['topics', 'create', 'cli-topics', '--partitions', '4', '--replication-factor', '2', '--config', 'retention.ms=3600000'])).toMatch(
      /created topic cli-topics with 4 partitions/,
    );
    const list = JSON.parse(await ok(['topics', 'list', '--json'])) as Array<{ name: string; partitions: number; replicationFactor: number }>;
    expect(list.find((t) => t.name === 'cli-topics')).toMatchObject({ partitions: 4, replicationFactor: 2 });
    expect(await ok(['topics', 'list'])).toMatch(/^TOPIC\s+PARTITIONS\s+RF/);

    const described = JSON.parse(await ok(['topics', 'describe', 'cli-topics', '--json']));
    expect(described.name).toBe('cli-topics');
    expect(described.configs['retention.ms']).toBe('3600000');
    expect(described.partitions).toHaveLength(4);
    for (const p of described.partitions) {
      expect(p.replicas).toHaveLength(2);
      expect(p.replicas).toContain(p.leader);
    }
    expect(await ok(['topics', 'describe', 'cli-topics'])).toMatch(/PARTITION\s+LEADER\s+REPLICAS\s+ISR/);

    expect(await ok(['topics', 'delete', 'cli-topics'])).toMatch(/deleted topic cli-topics/);
    expect((JSON.parse(await ok(['topics', 'list', '--json'])) as Array<{ name: string }>).map((t) => t.name)).not.toContain('cli-topics');
  });

  test('lines produced from stdin with a key separator are consumed back, in order per partition, by partition, group and from the beginning', async () => {
    const topic = 'cli-lines';
    const partitions = 3;
    await ok(['topics', 'create', topic, '--partitions', String(partitions)]);
    await cluster.waitForLeaders(topic, partitions);
    const lines = Array.from({ length: 300 }, (_, i) => ({ key: `user-${i % 17}`, value: `event ${i}: a=b, c:d` }));
    const input = `${lines.map((l) => `${l.key}:${l.value}`).join('\n')}\n`;

    const summary = JSON.parse(await ok(['produce', topic, '--key-separator', ':', '--json'], input));
    expect(summary.records).toBe(300);
    const expected = (p: number) => lines.filter((l) => partitionForKey(Buffer.from(l.key), partitions) === p);
    for (const s of summary.partitions) expect(s).toMatchObject({ records: expected(s.partition).length, firstOffset: 0, lastOffset: expected(s.partition).length - 1 });

    const perPartition = (records: JsonLine[], p: number) => records.filter((r) => r.partition === p).map((r) => ({ key: r.key, value: r.value, offset: r.offset }));
    const expectedWithOffsets = (p: number) => expected(p).map((l, offset) => ({ ...l, offset }));

    // Every partition from the beginning, stopping at the high watermarks of the start.
    const all = jsonLines(await ok(['consume', topic, '--from-beginning', '--format', 'json']));
    expect(all).toHaveLength(300);
    for (let p = 0; p < partitions; p++) expect(perPartition(all, p)).toEqual(expectedWithOffsets(p));

    // One partition from an offset.
    const one = jsonLines(await ok(['consume', topic, '--partition', '1', '--offset', '2', '--format', 'json']));
    expect(one.map((r) => ({ key: r.key, value: r.value, offset: r.offset }))).toEqual(expectedWithOffsets(1).slice(2));

    // kv gives back the input lines of a partition exactly.
    const kv = await ok(['consume', topic, '--partition', '0', '--from-beginning', '--format', 'kv', '--key-separator', ':']);
    expect(kv).toBe(expected(0).map((l) => `${l.key}:${l.value}\n`).join(''));

    // A group: 10 records, then the rest after its committed offsets, then nothing; a reset reads it all again.
    const first = jsonLines(await ok(['consume', topic, '--group', 'cli-group', '--from-beginning', '--max-records', '10', '--format', 'json']));
    expect(first).toHaveLength(10);
    const rest = jsonLines(await ok(['consume', topic, '--group', 'cli-group', '--from-beginning', '--format', 'json']));
    const grouped = [...first, ...rest];
    expect(grouped).toHaveLength(300);
    for (let p = 0; p < partitions; p++) expect(perPartition(grouped, p)).toEqual(expectedWithOffsets(p));
    expect(await ok(['consume', topic, '--group', 'cli-group'])).toBe('');

    const described = JSON.parse(await ok(['groups', 'describe', 'cli-group', '--json']));
    expect(described.totalLag).toBe(0);
    expect(described.offsets.filter((o: { topic: string }) => o.topic === topic).map((o: { offset: number }) => o.offset).sort()).toEqual(
      [0, 1, 2].map((p) => expected(p).length).sort(),
    );
    expect(await ok(['groups', 'describe', 'cli-group'])).toMatch(/total lag 0/);
    const groups = JSON.parse(await ok(['groups', 'list', '--json'])) as Array<{ groupId: string; members: number }>;
    expect(groups.find((g) => g.groupId === 'cli-group')).toMatchObject({ members: 0 });

    const reset = JSON.parse(await ok(['groups', 'reset-offsets', 'cli-group', '--to', 'earliest', '--topic', topic, '--json']));
    expect(reset.offsets.map((o: { offset: number }) => o.offset)).toEqual([0, 0, 0]);
    const again = (await ok(['consume', topic, '--group', 'cli-group', '--format', 'text'])).split('\n').filter(Boolean);
    expect(again.sort()).toEqual(lines.map((l) => l.value).sort());
    expect(await ok(['groups', 'reset-offsets', 'cli-group', '--to', 'offset', '--offset', '299', '--topic', topic])).toMatch(/reset group cli-group/);
  });

  test('failures exit 1 with one line on stderr and no stack trace', async () => {
    expectOneLineError(await brook(['topics', 'describe', 'no-such-topic']), /UNKNOWN_TOPIC/);
    expectOneLineError(await brook(['topics', 'create', 'x', '--partitions', 'many']), /expected a positive integer/);
    expectOneLineError(await brook(['topics', 'frobnicate']), /unknown command/);
    expectOneLineError(await brook(['produce', 'no-such-topic'], 'a\n'), /UNKNOWN_TOPIC/);
    expectOneLineError(await brook(['groups', 'reset-offsets', 'g', '--to', 'offset']), /--to offset needs --offset/);
    await ok(['topics', 'create', 'cli-bad', '--partitions', '1']);
    expectOneLineError(await brook(['produce', 'cli-bad', '--key-separator', '\t'], 'k\tv\nno separator here\n'), /line 2 has no key separator/);
    const [deadPort] = await freePorts(1);
    expectOneLineError(await brook(['cluster', 'status'], '', `http://127.0.0.1:${deadPort}`), /BROKER_NOT_AVAILABLE/);
    expect(await ok(['cluster', 'status'])).toMatch(/3 of 3 brokers active/);
  });

  test('bench smoke run of every mode writes its JSON report (shape, not speed)', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'brook-bench-')), 'report.json');
    const stdout = await ok(['bench', 'all', '--records', '400', '--rate', '2000', '--partitions', '2', '--json', '--out', out]);
    const report = JSON.parse(stdout);
    expect(JSON.parse(fs.readFileSync(out, 'utf8'))).toEqual(report);
    expect(report.mode).toBe('all');
    expect(report.settings).toMatchObject({ recordSize: 100, records: 400, acks: 'all', partitions: 2 });
    expect(report.results.map((r: { mode: string }) => r.mode)).toEqual(['produce', 'consume', 'e2e', 'json']);
    for (const r of report.results) {
      expect(r.records).toBe(400);
      expect(r.bytes).toBe(400 * 100);
      for (const field of ['seconds', 'recordsPerSec', 'mbPerSec']) expect(r[field]).toBeGreaterThan(0);
      if (r.mode === 'consume') expect(r.latencyMs).toBeNull();
      else expect(Object.keys(r.latencyMs).sort()).toEqual(['count', 'max', 'mean', 'p50', 'p95', 'p99']);
    }
    // Fresh topics of the run are deleted afterwards.
    expect((JSON.parse(await ok(['topics', 'list', '--json'])) as Array<{ name: string }>).filter((t) => t.name.startsWith('bench-'))).toEqual([]);
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  });
});
