#!/usr/bin/env node
/**
 * `pnpm bench`: `brook bench` (every mode unless one is named) against a throwaway local cluster: a
 * controller and 3 brokers on free ports with a fresh data directory, stopped afterwards. With
 * --controller <url> it runs against that cluster instead. Every other argument goes to `brook bench`.
 *
 *   pnpm bench
 *   pnpm bench produce --records 2000000 --record-size 1024
 *   pnpm bench e2e --rate 5000 --duration 30 --controller http://localhost:9000
 */
const { spawn } = require('node:child_process');
const path = require('node:path');
const { ROOT, startCluster } = require('./lib/cluster');

async function main() {
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const external = args.some((a) => a === '--controller' || a.startsWith('--controller='));
  const cluster = external ? undefined : await startCluster();
  if (cluster) process.stderr.write(`started a cluster at ${cluster.url} in ${Math.round(cluster.startupMs)} ms\n`);
  // Ctrl-C reaches the bench too; this process outlives it to stop the cluster.
  process.on('SIGINT', () => undefined);
  try {
    process.exitCode = await new Promise((resolve) => {
      const cli = path.join(ROOT, 'packages/cli/dist/main.js');
      const child = spawn(process.execPath, [cli, 'bench', ...args, ...(cluster ? ['--controller', cluster.url] : [])], { stdio: 'inherit' });
      child.on('exit', (code) => resolve(code ?? 1));
    });
  } finally {
    await cluster?.stop();
  }
}

main().catch((err) => {
  console.error(`bench: ${err.message}`);
  process.exit(1);
});
