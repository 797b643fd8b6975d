import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { envName, type ConfigSpec } from '@brook/runtime';
import { brokerConfigSpec } from '../packages/broker/src/config';
import { controllerConfigSpec } from '../packages/controller/src/config';

/**
 * There is no Docker engine where the tests run, so this reads docker-compose.yml and checks it against
 * the services' real options: every variable it sets is one the service reads, the brokers are distinct,
 * and each reaches the controller at the address and port the controller listens on.
 */
describe('docker-compose.yml', () => {
  const root = path.resolve(__dirname, '..');
  const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
  const services = compose.services as Record<string, { command: string[]; environment: Record<string, string>; ports: string[]; volumes: string[]; depends_on?: string[] }>;
  const brokers = Object.entries(services).filter(([name]) => name.startsWith('broker-'));

  function knownEnv(spec: ConfigSpec): Set<string> {
    return new Set(Object.entries(spec).map(([key, option]) => envName(key, option)));
  }

  test('runs a controller and three brokers', () => {
    expect(Object.keys(services).sort()).toEqual(['broker-1', 'broker-2', 'broker-3', 'controller']);
  });

  test('each service runs an entry point that the build produces', () => {
    const tsconfigOut = (pkg: string) => path.join(root, 'packages', pkg, 'src', 'main.ts');
    expect(services.controller!.command).toEqual(['node', 'packages/controller/dist/main.js']);
    expect(fs.existsSync(tsconfigOut('controller'))).toBe(true);
    for (const [, s] of brokers) {
      expect(s.command).toEqual(['node', 'packages/broker/dist/main.js']);
    }
    expect(fs.existsSync(tsconfigOut('broker'))).toBe(true);
    const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/pnpm@9\.15\.9 install --frozen-lockfile/);
    expect(dockerfile).toMatch(/pnpm@9\.15\.9 build/);
  });

  test('every environment variable is an option the service reads', () => {
    const controllerEnv = knownEnv(controllerConfigSpec);
    for (const key of Object.keys(services.controller!.environment)) expect(controllerEnv).toContain(key);
    const brokerEnv = knownEnv(brokerConfigSpec);
    for (const [, s] of brokers) for (const key of Object.keys(s.environment)) expect(brokerEnv).toContain(key);
  });

  test('the controller launches no brokers of its own and publishes its port', () => {
    const env = services.controller!.environment;
    expect(env.BROOK_LAUNCH).toBe('false');
    expect(services.controller!.ports).toEqual([`${env.BROOK_CONTROLLER_PORT}:${env.BROOK_CONTROLLER_PORT}`]);
  });

  test('brokers have distinct ids, ports, hosts and volumes, and reach the controller', () => {
    const controllerPort = services.controller!.environment.BROOK_CONTROLLER_PORT;
    const seen = { id: new Set<string>(), port: new Set<string>(), volume: new Set<string>() };
    for (const [name, s] of brokers) {
      const env = s.environment;
      expect(env.BROOK_HOST).toBe(name); // the address other containers reach it at
      expect(env.BROOK_CONTROLLER_URL).toBe(`http://controller:${controllerPort}`);
      expect(s.ports).toEqual([`${env.BROOK_BROKER_PORT}:${env.BROOK_BROKER_PORT}`]);
      expect(s.depends_on).toContain('controller');
      seen.id.add(env.BROOK_BROKER_ID!);
      seen.port.add(env.BROOK_BROKER_PORT!);
      seen.volume.add(s.volumes[0]!.split(':')[0]!);
    }
    expect(seen.id.size).toBe(3);
    expect(seen.port.size).toBe(3);
    expect(seen.volume.size).toBe(3);
    for (const v of seen.volume) expect(Object.keys(compose.volumes)).toContain(v);
  });
});
