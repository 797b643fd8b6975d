#!/usr/bin/env node
/**
 * Chaos run: random broker faults under acks=all load, then an exact accounting of what was acknowledged.
 *
 *   node scripts/chaos.js [--cycles 20] [--seed 1] [--max-seconds 300] [--partitions 3]
 *                         [--session-timeout-ms 3000] [--lag-ms 1500] [--batch 5] [--faults kill-leader,...]
 *                         [--out bench-results/chaos-<ts>.json] [--keep-data]
 *
 * Starts its own cluster (controller + 3 brokers on free ports, fresh data directory; build first with
 * `npx pnpm@9.15.9 build`), creates a topic (RF 3), runs a background acks=all producer, and for each
 * cycle picks a fault at random (seeded):
 *   kill-leader      kill -9 the leader of a random partition
 *   kill-follower    kill -9 a follower of a random partition
 *   stop-lag         SIGSTOP a random broker until the ISRs it follows in have shrunk (past the lag time), SIGCONT
 *   stop-leader      SIGSTOP a partition's leader until the controller has elected a new one (past the session
 *                    timeout), then SIGCONT
 * After each fault it waits (with a deadline) for the cluster to heal: 3 active brokers, every ISR full.
 * Failover time = fault -> first acks=all write acknowledged for the affected partition (sent after the fault).
 * At the end it reads every partition back and reports acknowledged / read back / lost / duplicated, the
 * failover times per fault kind (median, max), checks the replicas are byte-identical on disk, writes the
 * same as JSON, and exits non-zero if anything acknowledged was lost or duplicated (or the cluster did not
 * heal, or replicas differ).
 */
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const kit = require('../test/harness/faultkit');
const { freePorts } = require('./lib/cluster');

const ROOT = path.resolve(__dirname, '..');
const FAULTS = ['kill-leader', 'kill-follower', 'stop-lag', 'stop-leader'];

function parseArgs(argv) {
  const defaults = {
    cycles: 20,
    seed: 1,
    maxSeconds: 300,
    partitions: 3,
    sessionTimeoutMs: 3000,
    lagMs: 1500,
    batch: 5,
    faults: FAULTS.join(','),
    healTimeoutMs: 60000,
    out: '',
    keepData: false,
  };
  const args = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--help' || argv[i] === '-h') {
      console.log(fs.readFileSync(__filename, 'utf8').split('*/')[0]);
      process.exit(0);
    }
    const key = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in defaults)) throw new Error(`unknown option ${argv[i]} (see --help)`);
    if (typeof defaults[key] === 'boolean') {
      args[key] = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${argv[i - 1]} needs a value`);
    args[key] = typeof defaults[key] === 'number' ? Number(value) : value;
    if (typeof defaults[key] === 'number' && !Number.isFinite(args[key])) throw new Error(`${argv[i - 1]}: not a number: ${value}`);
  }
  args.faultKinds = args.faults.split(',').map((f) => f.trim()).filter(Boolean);
  for (const f of args.faultKinds) if (!FAULTS.includes(f)) throw new Error(`unknown fault ${f} (known: ${FAULTS.join(', ')})`);
  return args;
}

/** mulberry32: a small seeded PRNG, so a run can be repeated with --seed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const log = (...a) => console.log(`[chaos ${new Date().toISOString().slice(11, 23)}]`, ...a);

async function startCluster(args) {
  const [controllerPort, ...brokerPorts] = await freePorts(4);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-chaos-'));
  const controllerLog = path.join(dataDir, 'controller.log');
  const out = fs.openSync(controllerLog, 'a');
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'packages/controller/dist/main.js'),
      '--port', String(controllerPort),
      '--host', '127.0.0.1',
      '--data-dir', dataDir,
      '--brokers', '3',
      '--broker-ports', brokerPorts.join(','),
      '--session-timeout-ms', String(args.sessionTimeoutMs),
    ],
    {
      env: {
        ...process.env,
        BROOK_LOG_LEVEL: process.env.BROOK_LOG_LEVEL ?? 'info',
        BROOK_REPLICA_LAG_TIME_MAX_MS: String(args.lagMs),
        BROOK_PRODUCE_TIMEOUT_MS: process.env.BROOK_PRODUCE_TIMEOUT_MS ?? '8000',
      },
      stdio: ['ignore', out, out],
    },
  );
  fs.closeSync(out);
  const brook = new kit.Brook({ controllerUrl: `http://127.0.0.1:${controllerPort}`, dataDir, brokerPorts });
  const stopped = new Set();
  const cluster = {
    brook,
    dataDir,
    child,
    controllerLog,
    stopped,
    signal(pid, sig) {
      if (sig === 'SIGSTOP') stopped.add(pid);
      if (sig === 'SIGCONT' || sig === 'SIGKILL') stopped.delete(pid);
      return kit.signal(pid, sig);
    },
    async stop() {
      for (const pid of stopped) kit.signal(pid, 'SIGCONT');
      stopped.clear();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
        await exited;
        clearTimeout(timer);
      }
      for (const { pid } of kit.brokerPidsFromFiles(dataDir)) kit.signal(pid, 'SIGKILL');
      await brook.close();
      if (!args.keepData) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  await kit.waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`controller exited with ${child.exitCode}; see ${controllerLog}`);
      const procs = await brook.processes();
      if (procs.length < 3 || procs.some((b) => b.state !== 'active' || b.process !== 'running')) return false;
      for (const b of procs) {
        const h = await brook.http.get(`${brook.brokerUrl(b.id)}/health`, { timeoutMs: 2000 });
        if (h.status !== 200 || !h.data.metadataLoaded) return false;
      }
      return true;
    },
    { timeoutMs: 60000, intervalMs: 100, what: '3 active brokers' },
  );
  cluster.startupMs = Date.now() - started;
  return cluster;
}

function pick(random, list) {
  return list[Math.floor(random() * list.length)];
}

/** One fault; returns what happened. Every wait is bounded; SIGCONT always follows a SIGSTOP. */
async function runFault(kind, ctx) {
  const { brook, cluster, producer, topic, random, args } = ctx;
  const parts = await brook.partitions(topic);
  const p = pick(random, parts);
  const r = { kind, partition: p.partition, leaderBefore: p.leader, epochBefore: p.leaderEpoch };
  const failover = (since, partition, timeoutMs = 60000) =>
    producer.waitForAck(since, { partition, timeoutMs }).then(
      (a) => a.ackAt - since,
      () => null,
    );

  if (kind === 'kill-leader' || kind === 'kill-follower') {
    const victim = kind === 'kill-leader' ? p.leader : pick(random, p.replicas.filter((id) => id !== p.leader));
    const pid = await brook.pidOf(victim);
    Object.assign(r, { victim, pid });
    const t0 = Date.now();
    cluster.signal(pid, 'SIGKILL');
    r.failoverMs = await failover(t0, p.partition);
    const after = await brook.partition(topic, p.partition);
    Object.assign(r, { leaderAfter: after.leader, epochAfter: after.leaderEpoch });
    return r;
  }

  if (kind === 'stop-lag') {
    const victim = pick(random, [1, 2, 3]);
    const pid = await brook.pidOf(victim);
    const led = parts.filter((x) => x.leader === victim).map((x) => x.partition);
    const followed = parts.filter((x) => x.leader !== victim && x.isr.includes(victim)).map((x) => x.partition);
    const affected = led.length ? led[0] : p.partition;
    Object.assign(r, { victim, pid, partition: affected, led, followed });
    const t0 = Date.now();
    cluster.signal(pid, 'SIGSTOP');
    try {
      // Held past the lag time: until every ISR it was a follower in has dropped it.
      await kit.waitFor(
        async () => {
          const now = await brook.partitions(topic);
          return now.filter((x) => followed.includes(x.partition)).every((x) => !x.isr.includes(victim)) && Date.now() - t0 > args.lagMs;
        },
        { timeoutMs: args.lagMs + args.sessionTimeoutMs + 15000, intervalMs: 50, what: `ISRs to drop broker ${victim}` },
      );
      r.heldMs = Date.now() - t0;
      r.fencedWhileStopped = (await brook.brokers()).find((b) => b.id === victim).state === 'fenced';
    } finally {
      cluster.signal(pid, 'SIGCONT');
    }
    r.failoverMs = await failover(t0, affected);
    return r;
  }

  if (kind === 'stop-leader') {
    const victim = p.leader;
    const pid = await brook.pidOf(victim);
    Object.assign(r, { victim, pid });
    const t0 = Date.now();
    cluster.signal(pid, 'SIGSTOP');
    try {
      const elected = await kit.waitFor(
        async () => {
          const x = await brook.partition(topic, p.partition);
          return x.leader >= 0 && x.leader !== victim && x.leaderEpoch > p.leaderEpoch && x;
        },
        { timeoutMs: args.sessionTimeoutMs + 15000, intervalMs: 50, what: `a new leader of ${topic}-${p.partition}` },
      );
      r.electionMs = Date.now() - t0;
      Object.assign(r, { leaderAfter: elected.leader, epochAfter: elected.leaderEpoch });
      r.failoverMs = await failover(t0, p.partition, 30000);
    } finally {
      cluster.signal(pid, 'SIGCONT');
    }
    return r;
  }
  throw new Error(`unknown fault ${kind}`);
}

function stats(values) {
  const v = values.filter((x) => typeof x === 'number');
  if (!v.length) return { count: 0, medianMs: null, maxMs: null };
  return { count: v.length, medianMs: Math.round(kit.median(v)), maxMs: Math.max(...v) };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const startedAt = Date.now();
  const deadline = startedAt + args.maxSeconds * 1000;
  const random = rng(args.seed);
  log(`starting a cluster (session timeout ${args.sessionTimeoutMs} ms, lag time ${args.lagMs} ms)`);
  const cluster = await startCluster(args);
  const { brook } = cluster;
  // Hard bound: the final checks have their own deadlines, this catches anything that does not.
  const watchdog = setTimeout(async () => {
    log(`--max-seconds ${args.maxSeconds} exceeded by 120 s: giving up`);
    args.keepData = true;
    await cluster.stop().catch(() => {});
    process.exit(3);
  }, (args.maxSeconds + 120) * 1000);
  watchdog.unref();
  let exitCode = 0;
  const problems = [];
  const faults = [];
  const onSignal = async () => {
    log('interrupted: cleaning up');
    await cluster.stop().catch(() => {});
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let producer;
  let result;
  try {
    log(`cluster up in ${cluster.startupMs} ms; data in ${cluster.dataDir}`);
    const topic = 'chaos';
    await brook.createTopic(topic, args.partitions);
    producer = new kit.AckProducer(brook, { topic, partitions: args.partitions, batchSize: args.batch, tag: `chaos-${args.seed}`, timeoutMs: 15000, intervalMs: 2 }).start();
    await kit.waitFor(() => producer.acked.length >= 100, { timeoutMs: 30000, what: 'the producer to get going', describe: () => JSON.stringify(producer.summary()) });

    for (let cycle = 1; cycle <= args.cycles; cycle++) {
      // Keep room for a fault, healing and the final check.
      if (Date.now() + Math.min(30000, args.maxSeconds * 200) > deadline) {
        problems.push(`stopped after ${cycle - 1} of ${args.cycles} cycles: --max-seconds ${args.maxSeconds} reached`);
        log(problems[problems.length - 1]);
        break;
      }
      const kind = pick(random, args.faultKinds);
      const t0 = Date.now();
      let r;
      try {
        r = await runFault(kind, { brook, cluster, producer, topic, random, args });
      } catch (err) {
        r = { kind, error: err.message };
        problems.push(`cycle ${cycle} ${kind}: ${err.message}`);
      }
      try {
        await kit.waitForHealed(brook, topic, { timeoutMs: Math.min(args.healTimeoutMs, Math.max(5000, deadline - Date.now() - 20000)) });
        r.healMs = Date.now() - t0;
      } catch (err) {
        r.healError = err.message;
        problems.push(`cycle ${cycle} ${kind}: the cluster did not heal: ${err.message}`);
        log(`cycle ${cycle}: ${JSON.stringify(r)}`);
        faults.push({ cycle, ...r });
        break;
      }
      faults.push({ cycle, ...r });
      log(`cycle ${cycle}/${args.cycles} ${kind}: ${JSON.stringify(r)} acked so far ${producer.acked.length}`);
    }

    await producer.stop();
    log(`producer stopped: ${JSON.stringify(producer.summary())}`);
    await kit.waitForHealed(brook, topic, { timeoutMs: 60000 });
    const report = await kit.verifyAcknowledged(brook, { topic, producer });
    let replicas;
    try {
      replicas = await kit.waitForReplicasIdentical(brook, topic, { timeoutMs: 30000 });
    } catch (err) {
      problems.push(`replicas differ: ${err.message}`);
    }
    const byKind = {};
    for (const kind of args.faultKinds) {
      const of = faults.filter((f) => f.kind === kind);
      byKind[kind] = {
        count: of.length,
        failover: stats(of.map((f) => f.failoverMs)),
        heal: stats(of.map((f) => f.healMs)),
        ...(kind === 'stop-leader' ? { election: stats(of.map((f) => f.electionMs)) } : {}),
        noFailover: of.filter((f) => f.failoverMs === null).length,
      };
    }
    result = {
      benchmark: 'chaos',
      params: { ...args, faultKinds: undefined },
      clusterStartupMs: cluster.startupMs,
      seconds: +((Date.now() - startedAt) / 1000).toFixed(1),
      cycles: faults.length,
      acknowledged: report.acknowledged,
      readBack: report.readBack,
      lost: report.lost.length,
      duplicated: report.duplicated.length,
      gaps: report.gaps.length + report.repeatedOffsets.length,
      duplicateValues: report.duplicateValues.length,
      survivedUnacknowledged: report.survivedUnacknowledged,
      refusedButSurvived: report.refusedButSurvived.length,
      producer: producer.summary(),
      partitions: report.partitions,
      replicasIdentical: !!replicas,
      failoverByKind: byKind,
      faults,
      problems,
      details: {
        lost: report.lost.slice(0, 20),
        duplicated: report.duplicated.slice(0, 20),
        gaps: report.gaps.slice(0, 20),
        duplicateValues: report.duplicateValues.slice(0, 20),
        refusedButSurvived: report.refusedButSurvived.slice(0, 20),
      },
    };
    if (!report.ok || report.refusedButSurvived.length || !replicas || faults.some((f) => f.healError)) exitCode = 1;
  } catch (err) {
    problems.push(`chaos run failed: ${err.stack || err.message}`);
    exitCode = 2;
    if (producer) await producer.stop({ abandonAfterMs: 1000 }).catch(() => {});
  } finally {
    if (exitCode !== 0) {
      log(`keeping the data directory for inspection: ${cluster.dataDir}`);
      args.keepData = true;
    }
    await cluster.stop().catch((err) => log(`cleanup: ${err.message}`));
  }

  result = result ?? { benchmark: 'chaos', params: { ...args, faultKinds: undefined }, faults, problems };
  console.log(JSON.stringify({ ...result, faults: undefined }, null, 2));
  const out = args.out || path.join(ROOT, 'bench-results', `chaos-${Date.now()}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(result, null, 2));
  log(`acknowledged ${result.acknowledged ?? '?'}, read back ${result.readBack ?? '?'}, lost ${result.lost ?? '?'}, duplicated ${result.duplicated ?? '?'}; written to ${path.relative(process.cwd(), out)}`);
  for (const [kind, s] of Object.entries(result.failoverByKind ?? {})) {
    log(`${kind}: ${s.count} faults, failover median ${s.failover.medianMs} ms, max ${s.failover.maxMs} ms; heal median ${s.heal.medianMs} ms`);
  }
  if (problems.length) log(`problems:\n  ${problems.join('\n  ')}`);
  process.exit(exitCode);
}

main().catch((err) => {
  console.error(`chaos failed: ${err.message}`);
  process.exit(2);
});
