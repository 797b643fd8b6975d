#!/usr/bin/env node
/**
 * Produce benchmark over the plain-HTTP JSON path (POST /events), one client.
 *
 *   pnpm bench [-- --records 200000 --value-bytes 100 --batch 100 --inflight 1 --partitions 3 --route leader --acks all]
 *
 * Without --controller it starts its own cluster (controller + 3 brokers, fresh data directory, free ports)
 * and reports how long that took. --route leader sends each batch to its partition's leader, as a
 * metadata-aware client does; --route any sends to brokers in turn and lets them forward.
 * Prints records/s, MB/s (of values) and request latency p50/p99/max, and writes the same as JSON to
 * bench-results/.
 */
const { Pool } = require('undici');
const { json, until, startCluster, percentile, writeResult } = require('./lib/cluster');
const { parseFlags } = require('./lib/flags');

const DEFAULTS = { records: 200000, valueBytes: 100, batch: 100, inflight: 1, partitions: 3, route: 'leader', acks: 'all', controller: '' };

async function main() {
  const args = parseFlags(process.argv.slice(2), DEFAULTS);
  const cluster = args.controller ? { url: args.controller, startupMs: null, stop: async () => {} } : await startCluster();
  const controller = new Pool(cluster.url);
  const topic = `bench-${Date.now()}`;
  const created = await json(controller, 'POST', '/create_topic/', { name: topic, partitions: args.partitions });
  if (created.status !== 201) throw new Error(`create_topic: ${JSON.stringify(created.data)}`);
  const brokers = (await json(controller, 'GET', '/brokers')).data.filter((b) => b.state === 'active');
  const pools = new Map(brokers.map((b) => [b.id, new Pool(`http://127.0.0.1:${b.port}`, { connections: args.inflight })]));
  const leaders = await until(async () => {
    const t = (await json(controller, 'GET', `/topic/${topic}`)).data;
    for (let p = 0; p < args.partitions; p++) {
      const r = await json(pools.get(t.partitions[p].leader), 'GET', `/topics/${topic}/partitions/${p}/offsets`);
      if (r.status !== 200) return false;
    }
    return t.partitions.map((p) => p.leader);
  }, 20000, 'leaders');

  const value = 'x'.repeat(args.valueBytes);
  const batches = Math.ceil(args.records / args.batch);
  const bodies = Array.from({ length: args.partitions }, (_, p) =>
    JSON.stringify({ topic, records: Array.from({ length: args.batch }, () => ({ partition: p, value })) }),
  );
  const brokerIds = [...pools.keys()];
  const latencies = [];
  let next = 0;
  const started = process.hrtime.bigint();
  async function worker() {
    for (;;) {
      const i = next++;
      if (i >= batches) return;
      const p = i % args.partitions;
      const pool = args.route === 'leader' ? pools.get(leaders[p]) : pools.get(brokerIds[i % brokerIds.length]);
      const t0 = process.hrtime.bigint();
      const res = await pool.request({ method: 'POST', path: `/events?acks=${args.acks}`, headers: { 'content-type': 'application/json' }, body: bodies[p] });
      const text = await res.body.text();
      if (res.statusCode !== 200 && res.statusCode !== 202) throw new Error(`produce failed: ${res.statusCode} ${text}`);
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  await Promise.all(Array.from({ length: args.inflight }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const records = batches * args.batch;
  latencies.sort((a, b) => a - b);
  const result = {
    benchmark: 'produce-json-http',
    params: args,
    clusterStartupMs: cluster.startupMs === null ? null : Math.round(cluster.startupMs),
    records,
    seconds: +seconds.toFixed(3),
    recordsPerSec: Math.round(records / seconds),
    mbPerSec: +((records * args.valueBytes) / seconds / 1e6).toFixed(2),
    requestLatencyMs: { p50: +percentile(latencies, 50).toFixed(2), p99: +percentile(latencies, 99).toFixed(2), max: +latencies[latencies.length - 1].toFixed(2) },
  };
  console.log(JSON.stringify(result, null, 2));
  writeResult('produce', result);
  await Promise.all([...pools.values()].map((p) => p.close()));
  await controller.close();
  await cluster.stop();
}

main().catch((err) => {
  console.error(`bench failed: ${err.message}`);
  process.exit(1);
});
