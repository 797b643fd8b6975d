#!/usr/bin/env node
/**
 * Storage micro benchmark: encodes record batches, appends them with Log.appendAsLeader and reads them
 * back with Log.read, in one process, on a fresh log in a temporary directory.
 *
 *   node scripts/bench-storage.js [--batches 5000 --records 100 --value-bytes 100 --fetch-bytes 1048576]
 *
 * Needs the built packages (pnpm build). Appends go to the page cache (no fsync, the default flush
 * policy); the final flush is timed on its own. Reads come from the page cache too. MB/s counts batch
 * bytes as stored (record framing included), not values only.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { DEFAULT_LOG_CONFIG, Log } = require('../packages/broker/dist/storage');
const { encodeBatch, iterateBatches } = require('../packages/types/dist/protocol');

function parseArgs(argv) {
  const defaults = { batches: 5000, records: 100, valueBytes: 100, fetchBytes: 1024 * 1024 };
  const args = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in defaults)) throw new Error(`unknown option ${argv[i]}`);
    args[key] = Number(argv[++i]);
  }
  return args;
}

function report(phase, records, bytes, ns) {
  const seconds = Number(ns) / 1e9;
  const perSecond = Math.round(records / seconds).toLocaleString('en-US');
  const mbPerSecond = (bytes / 1e6 / seconds).toFixed(1);
  console.log(`${phase.padEnd(8)} ${records.toLocaleString('en-US').padStart(11)} records  ${(seconds * 1000).toFixed(0).padStart(6)} ms  ${perSecond.padStart(11)} records/s  ${mbPerSecond.padStart(7)} MB/s`);
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-bench-storage-'));
  const totalRecords = args.batches * args.records;
  console.log(`${args.batches} batches x ${args.records} records x ${args.valueBytes} B values, log in ${dir}`);
  try {
    // Encode: records are prepared first, so only encodeBatch is timed.
    const inputs = Array.from({ length: args.records }, (_, i) => ({
      key: Buffer.from(`key-${i}`),
      value: Buffer.alloc(args.valueBytes, i),
    }));
    for (let i = 0; i < 200; i++) encodeBatch(inputs); // warm up
    const batches = new Array(args.batches);
    let start = process.hrtime.bigint();
    for (let i = 0; i < args.batches; i++) batches[i] = encodeBatch(inputs);
    const encodeNs = process.hrtime.bigint() - start;
    const bytes = batches.reduce((n, b) => n + b.length, 0);
    report('encode', totalRecords, bytes, encodeNs);

    const log = Log.open(dir, 'bench', 0, DEFAULT_LOG_CONFIG, { recoveryPoint: 0, hadCleanShutdown: true });
    start = process.hrtime.bigint();
    for (const batch of batches) log.appendAsLeader(batch, 0);
    report('append', totalRecords, bytes, process.hrtime.bigint() - start);

    start = process.hrtime.bigint();
    log.flush();
    console.log(`flush    ${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(0).padStart(27)} ms  (fsync of ${(log.size / 1e6).toFixed(1)} MB in ${log.numberOfSegments} segment(s))`);

    start = process.hrtime.bigint();
    let offset = 0;
    let readRecords = 0;
    let readBytes = 0;
    while (offset < log.logEndOffset) {
      const read = log.read(offset, { maxBytes: args.fetchBytes });
      for (const header of iterateBatches(read.records)) readRecords += header.recordCount;
      readBytes += read.records.length;
      offset = read.nextOffset;
    }
    const readNs = process.hrtime.bigint() - start;
    if (readRecords !== totalRecords || readBytes !== bytes) throw new Error(`read back ${readRecords} records, ${readBytes} bytes`);
    report('read', readRecords, readBytes, readNs);
    log.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
