#!/usr/bin/env node
/**
 * Producer throughput of @brook/client: one producer, idempotent, acks=all, 100-byte values, against a
 * cluster of its own (controller + 3 brokers), topic with 6 partitions and replication factor 3.
 *
 *   node scripts/bench-client.js [--records 1000000] [--value-bytes 100] [--batch-size 65536] [--linger-ms 5] [--acks all]
 */
const path = require('node:path');
const { json, until, startCluster, writeResult, ROOT } = require('./lib/cluster');
const { parseFlags } = require('./lib/flags');
const { Producer } = require(path.join(ROOT, 'packages/client/dist'));

const DEFAULTS = { records: 1000000, valueBytes: 100, batchSize: 65536, lingerMs: 5, acks: 'all', partitions: 6 };

async function main() {
  const args = parseFlags(process.argv.slice(2), DEFAULTS);
  const cluster = await startCluster();
  try {
    const topic = 'client-bench';
    await json(cluster.controller, 'POST', '/create_topic/', { name: topic, partitions: args.partitions, replication_factor: 3 });
    await until(async () => (await cluster.topic(topic)).partitions.every((p) => p.isr.length === 3), 20000, 'the topic');
    const producer = new Producer({ controllerUrl: cluster.url, acks: args.acks, lingerMs: args.lingerMs, batchSize: args.batchSize });
    await producer.connect();
    const value = Buffer.alloc(args.valueBytes, 120);
    await Promise.all(Array.from({ length: 10000 }, () => producer.send({ topic, value }))); // warm-up
    const started = process.hrtime.bigint();
    const pending = [];
    for (let i = 0; i < args.records; i++) pending.push(producer.send({ topic, value }));
    await Promise.all(pending);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await producer.disconnect();
    const result = {
      benchmark: 'client-produce',
      params: args,
      records: args.records,
      seconds: +seconds.toFixed(3),
      recordsPerSec: Math.round(args.records / seconds),
      mbPerSec: +((args.records * args.valueBytes) / seconds / 1e6).toFixed(2),
      requests: producer.stats.requests,
      batches: producer.stats.batchesSent,
    };
    console.log(JSON.stringify(result, null, 2));
    writeResult('client-produce', result);
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(`bench-client failed: ${err.message}`);
  process.exit(1);
});
