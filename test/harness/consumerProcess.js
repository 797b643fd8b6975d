#!/usr/bin/env node
/**
 * A group consumer in its own process, for handover tests: the built @brook/client Consumer subscribes
 * and prints one line per event on stdout: `assigned <topic>:<p>,...`, `revoked ...`, `record <p> <offset>`,
 * then `closed` after SIGTERM made it close (commit, leave the group).
 *
 *   node test/harness/consumerProcess.js <controllerUrl> <group> <topic> [autoCommitIntervalMs]
 */
'use strict';

const path = require('node:path');
const { Consumer } = require(path.resolve(__dirname, '../../packages/client/dist/index.js'));

const [controllerUrl, groupId, topic, interval] = process.argv.slice(2);
const list = (tps) => tps.map((tp) => `${tp.topic}:${tp.partition}`).join(',');
const consumer = new Consumer({
  controllerUrl,
  groupId,
  autoOffsetReset: 'earliest',
  autoCommitIntervalMs: Number(interval ?? 100),
  onPartitionsAssigned: (tps) => void process.stdout.write(`assigned ${list(tps)}\n`),
  onPartitionsRevoked: (tps) => void process.stdout.write(`revoked ${list(tps)}\n`),
});

process.on('SIGTERM', () => {
  consumer.close().then(
    () => {
      process.stdout.write('closed\n');
      process.exit(0);
    },
    (err) => {
      process.stderr.write(`close failed: ${err.stack}\n`);
      process.exit(1);
    },
  );
});

(async () => {
  await consumer.subscribe([topic]);
  process.stdout.write('subscribed\n');
  for await (const record of consumer) process.stdout.write(`record ${record.partition} ${record.offset}\n`);
})().catch((err) => {
  process.stderr.write(`consumer failed: ${err.stack}\n`);
  process.exit(1);
});
