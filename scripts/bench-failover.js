#!/usr/bin/env node
/**
 * Failover time: kills the leader of a partition (SIGKILL, or SIGTERM for a controlled shutdown) again
 * and again, and measures from the signal to the first acks=all write that the NEW leader (a higher
 * leader epoch) acknowledges, sent through another broker that passes it to whichever broker leads.
 * Between kills it waits for the victim to be restarted and the ISR to be full again.
 *
 *   node scripts/bench-failover.js [--kills 10] [--signal SIGKILL|SIGTERM] [--session-timeout-ms 6000]
 */
const { json, until, startCluster, percentile, writeResult } = require('./lib/cluster');
const { parseFlags } = require('./lib/flags');

const DEFAULTS = { kills: 10, signal: 'SIGKILL', sessionTimeoutMs: 6000 };

async function main() {
  const args = parseFlags(process.argv.slice(2), DEFAULTS);
  const cluster = await startCluster({ args: ['--session-timeout-ms', String(args.sessionTimeoutMs)] });
  try {
    const topic = 'failover';
    const created = await json(cluster.controller, 'POST', '/create_topic/', { name: topic, partitions: 1 });
    if (created.status !== 201) throw new Error(`create_topic: ${JSON.stringify(created.data)}`);
    const healed = (victim) =>
      until(async () => {
        const p = (await cluster.topic(topic)).partitions[0];
        if (p.leader < 0 || p.isr.length !== 3) return false;
        if (victim && (await cluster.processes()).find((b) => b.id === victim.id).pid === victim.pid) return false;
        await cluster.waitForActiveBrokers(3, 30000);
        return p;
      }, 60000, 'the cluster to heal');
    const samples = [];
    let written = 0;
    let victim;
    for (let i = 0; i < args.kills; i++) {
      const before = await healed(victim);
      victim = (await cluster.processes()).find((b) => b.id === before.leader);
      const other = (await cluster.processes()).find((b) => b.id !== before.leader);
      const started = process.hrtime.bigint();
      process.kill(victim.pid, args.signal);
      await until(async () => {
        if ((await cluster.topic(topic)).partitions[0].leaderEpoch <= before.leaderEpoch) return false;
        const res = await json(cluster.broker(other.port), 'POST', '/events?acks=all', { topic, records: [{ partition: 0, value: i }] });
        return res.status === 200;
      }, 60000, 'a write acknowledged by the new leader', 5);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const after = await cluster.topic(topic);
      samples.push(ms);
      written++;
      console.log(`kill ${i + 1}: leader ${before.leader} (epoch ${before.leaderEpoch}) -> ${after.partitions[0].leader} (epoch ${after.partitions[0].leaderEpoch}) in ${ms.toFixed(0)} ms`);
    }
    const sorted = [...samples].sort((a, b) => a - b);
    const result = {
      benchmark: 'failover',
      params: args,
      kills: samples.length,
      failoverMs: { median: +percentile(sorted, 50).toFixed(1), max: +sorted[sorted.length - 1].toFixed(1), samples: samples.map((s) => +s.toFixed(1)) },
      acknowledgedWrites: written,
    };
    console.log(JSON.stringify(result, null, 2));
    writeResult(`failover-${args.signal.toLowerCase()}`, result);
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(`bench-failover failed: ${err.message}`);
  process.exit(1);
});
