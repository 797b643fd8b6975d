/**
 * A local Brook cluster for scripts (benchmarks, chaos): a controller on free ports with a fresh data
 * directory, which launches three broker processes; plus the small HTTP helpers the scripts share.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { Pool } = require('undici');

const ROOT = path.resolve(__dirname, '../..');

async function freePorts(n) {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => resolve(s)); })),
  );
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** One JSON request; answers { status, data } whatever the status. */
async function json(pool, method, p, body) {
  const res = await pool.request({ method, path: p, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.body.text();
  let data;
  try { data = text ? JSON.parse(text) : undefined; } catch { data = text; }
  return { status: res.statusCode, data };
}

/** Polls `probe` until it returns a truthy value, failing at the deadline. */
async function until(probe, timeoutMs, what, intervalMs = 20) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try { const v = await probe(); if (v) return v; } catch { /* not there yet */ }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Starts a controller that launches `brokers` brokers and waits until all are active with metadata
 * loaded. `env` reaches the controller and, through it, the brokers.
 */
async function startCluster({ brokers = 3, env = {}, args = [] } = {}) {
  const [controllerPort, ...brokerPorts] = await freePorts(brokers + 1);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-script-'));
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [
    path.join(ROOT, 'packages/controller/dist/main.js'),
    '--port', String(controllerPort), '--host', '127.0.0.1', '--data-dir', dataDir,
    '--brokers', String(brokers), '--broker-ports', brokerPorts.join(','), ...args,
  ], { env: { ...process.env, BROOK_LOG_LEVEL: 'warn', ...env }, stdio: 'ignore' });
  const url = `http://127.0.0.1:${controllerPort}`;
  const controller = new Pool(url);
  const brokerPools = new Map();
  const broker = (port) => {
    if (!brokerPools.has(port)) brokerPools.set(port, new Pool(`http://127.0.0.1:${port}`, { connections: 8 }));
    return brokerPools.get(port);
  };
  const cluster = {
    url,
    dataDir,
    controller,
    /** A keep-alive pool to the broker listening on `port`. */
    broker,
    brokerPorts,
    async waitForActiveBrokers(count = brokers, timeoutMs = 60000) {
      return until(async () => {
        const res = await json(controller, 'GET', '/brokers');
        const active = res.data.filter((b) => b.state === 'active');
        if (active.length < count) return false;
        for (const b of active) {
          const h = await json(broker(b.port), 'GET', '/health');
          if (!h.data.metadataLoaded) return false;
        }
        return active;
      }, timeoutMs, `${count} active brokers`);
    },
    async topic(name) {
      return (await json(controller, 'GET', `/topic/${name}`)).data;
    },
    async processes() {
      return (await json(controller, 'GET', '/cluster/default')).data.brokers;
    },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      await Promise.all([...brokerPools.values()].map((p) => p.close()));
      await controller.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  await cluster.waitForActiveBrokers();
  cluster.startupMs = Number(process.hrtime.bigint() - started) / 1e6;
  return cluster;
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;
}

function writeResult(name, result) {
  const out = path.join(ROOT, 'bench-results', `${name}-${Date.now()}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(result, null, 2));
  return out;
}

module.exports = { ROOT, freePorts, json, until, startCluster, percentile, writeResult };
