import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger, loadConfig } from '@brook/runtime';
import { controllerConfigSpec } from './config';
import { Controller } from './Controller';

describe('Controller', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-controller-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('reads its options from flags and the environment', () => {
    const config = loadConfig(controllerConfigSpec, ['--no-launch', '--brokers', '5'], {
      BROOK_CONTROLLER_PORT: '9100',
      BROOK_BROKER_PORTS: '9201,9202',
      BROOK_DATA_DIR: '/srv/brook',
    });
    expect(config).toMatchObject({
      port: 9100,
      host: 'localhost',
      bind: '0.0.0.0',
      dataDir: '/srv/brook',
      launch: false,
      brokers: 5,
      brokerPorts: [9201, 9202],
      sessionTimeoutMs: 6000,
      metadataDeltaMaxAgeMs: 600_000,
      maxRequestBytes: 1024 * 1024,
    });
    expect(config.brokerEntry).toMatch(/broker[/\\]dist[/\\]main\.js$/);
  });

  it('starts on a port, serves, stops, and comes back with its state (launch off)', async () => {
    const config = loadConfig(controllerConfigSpec, ['--port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir, '--no-launch']);
    const logger = createLogger('test', 'silent');
    const first = await Controller.start(config, logger);
    try {
      expect(first.listenerLines()).toEqual([`controller http://localhost:${first.port}`]);
      const health = await fetch(`http://127.0.0.1:${first.port}/health`).then((r) => r.json());
      expect(health).toEqual({ status: 'ok', offset: 0 });
      const reg = await fetch(`http://127.0.0.1:${first.port}/register/`, {
        method: 'POST',
        body: JSON.stringify({ brokerId: 1, host: 'localhost', port: 9001 }),
      });
      expect(reg.status).toBe(200);
    } finally {
      await first.stop();
    }
    expect(fs.existsSync(path.join(dataDir, 'controller', 'metadata.db'))).toBe(true);
    expect(fs.existsSync(path.join(dataDir, 'default'))).toBe(true);

    const second = await Controller.start(config, logger);
    try {
      const brokers = await fetch(`http://127.0.0.1:${second.port}/brokers`).then((r) => r.json());
      expect(brokers).toEqual([expect.objectContaining({ id: 1, state: 'fenced', brokerEpoch: 1 })]);
      expect(second.log.readRecords({ type: 'ClusterRecord' })).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });
});
