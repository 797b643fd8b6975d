import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveClusterDirectory } from './ClusterControl';
import { MetadataLog } from './MetadataLog';
import { QuorumController } from './QuorumController';
import { testController } from './testing';

describe('cluster log directories', () => {
  const root = '/data/brook';
  const clusters = [
    { name: 'default', logDirectory: 'default', numBrokers: 3, defaultPartitions: 1, retentionMs: 1, managed: true, brokerIds: [], brokerPorts: [] },
    { name: 'deep', logDirectory: 'nested/deep', numBrokers: 1, defaultPartitions: 1, retentionMs: 1, managed: true, brokerIds: [], brokerPorts: [] },
  ];

  it('accepts relative paths inside the data directory, normalized', () => {
    expect(resolveClusterDirectory(root, 'blue', clusters)).toBe('blue');
    expect(resolveClusterDirectory(root, './blue/', clusters)).toBe('blue');
    expect(resolveClusterDirectory(root, 'teams/blue', clusters)).toBe(path.join('teams', 'blue'));
    expect(resolveClusterDirectory(root, 'x/../blue', clusters)).toBe('blue');
    expect(resolveClusterDirectory(root, 'nested/other', clusters)).toBe(path.join('nested', 'other'));
  });

  it.each([
    ['../escape'],
    ['a/../../escape'],
    ['..'],
    ['/abs'],
    ['/data/brook/blue'],
    [''],
    ['  '],
    ['.'],
    ['./'],
    ['controller'],
    ['controller/x'],
    ['./controller'],
    ['default'],
    ['default/inner'],
    ['nested'],
    ['nested/deep/more'],
    ['a\0b'],
  ])('refuses %j', (dir) => {
    expect(() => resolveClusterDirectory(root, dir, clusters)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  });
});

describe('creating clusters', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-clusters-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  function setup() {
    const created: string[] = [];
    const launched: string[] = [];
    const t = testController({
      dataDir,
      manageClusters: true,
      hooks: {
        allocatePorts: async (n) => Array.from({ length: n }, (_v, i) => 20_000 + i),
        prepareDirectory: (c) => {
          created.push(c.logDirectory);
          fs.mkdirSync(path.join(dataDir, c.logDirectory), { recursive: true });
        },
        created: (c) => launched.push(c.name),
      },
    });
    return { ...t, created, launched };
  }

  it('creates a managed cluster with defaults: 3 brokers on the next free ids, 1 partition, 168 h', async () => {
    const { controller, created, launched } = setup();
    const c = await controller.createCluster({ name: 'blue' });
    expect(c).toEqual({
      name: 'blue',
      logDirectory: 'blue',
      numBrokers: 3,
      defaultPartitions: 1,
      retentionMs: 168 * 3_600_000,
      managed: true,
      brokerIds: [1, 2, 3],
      brokerPorts: [20_000, 20_001, 20_002],
    });
    expect(created).toEqual(['blue']);
    expect(launched).toEqual(['blue']);
    expect(fs.existsSync(path.join(dataDir, 'blue'))).toBe(true);
    const green = await controller.createCluster({ name: 'green', num_brokers: 2, log_directory: 'teams/green', partitions: 4, retention_policies: 0.5 });
    expect(green).toMatchObject({ brokerIds: [4, 5], logDirectory: path.join('teams', 'green'), defaultPartitions: 4, retentionMs: 1_800_000 });
  });

  it('changes nothing for a bad request', async () => {
    const { controller, log, created, launched } = setup();
    await controller.createCluster({ name: 'blue' });
    const count = log.recordCount;
    const bad: Array<[Parameters<typeof controller.createCluster>[0], string]> = [
      [{ name: '../x' }, 'INVALID_REQUEST'],
      [{ name: 'a/b' }, 'INVALID_REQUEST'],
      [{ name: '..' }, 'INVALID_REQUEST'],
      [{ name: '' }, 'INVALID_REQUEST'],
      [{ name: 'x'.repeat(250) }, 'INVALID_REQUEST'],
      [{ name: 'blue' }, 'CLUSTER_ALREADY_EXISTS'],
      [{ name: 'ok', log_directory: '../escape' }, 'INVALID_REQUEST'],
      [{ name: 'ok', log_directory: '/abs' }, 'INVALID_REQUEST'],
      [{ name: 'ok', log_directory: 'controller' }, 'INVALID_REQUEST'],
      [{ name: 'ok', log_directory: 'blue/inside' }, 'INVALID_REQUEST'],
      [{ name: 'ok', log_directory: '.' }, 'INVALID_REQUEST'],
      [{ name: 'ok', num_brokers: 0 }, 'INVALID_REQUEST'],
      [{ name: 'ok', num_brokers: 17 }, 'INVALID_REQUEST'],
      [{ name: 'ok', partitions: 0 }, 'INVALID_PARTITIONS'],
      [{ name: 'ok', retention_policies: 0 }, 'INVALID_REQUEST'],
      [{ name: 'ok', retention_policies: -1 }, 'INVALID_REQUEST'],
      [{ name: 'ok', retention_policies: Infinity }, 'INVALID_REQUEST'],
    ];
    for (const [input, code] of bad) await expect(controller.createCluster(input)).rejects.toMatchObject({ code });
    expect(log.recordCount).toBe(count);
    expect(created).toEqual(['blue']);
    expect(launched).toEqual(['blue']);
    expect(fs.readdirSync(dataDir)).toEqual(['blue']);
    expect(fs.existsSync(path.resolve(dataDir, '..', 'escape'))).toBe(false);
  });

  it('creates an unmanaged cluster when the controller launches nothing', async () => {
    const { controller } = testController({ dataDir, manageClusters: false });
    const c = await controller.createCluster({ name: 'blue', num_brokers: 2 });
    expect(c).toMatchObject({ managed: false, brokerIds: [], brokerPorts: [], numBrokers: 2 });
  });

  it('creates the default cluster once: managed brokers 1..n on the configured ports', () => {
    const log = new MetadataLog({ file: ':memory:' });
    const controller = new QuorumController({ log, dataDir, sessionTimeoutMs: 6000, metadataDeltaMaxAgeMs: 600_000, manageClusters: true });
    const first = controller.clusters.ensureDefaultCluster({ managed: true, numBrokers: 3, brokerPorts: [9101, 9102] });
    expect(first).toMatchObject({ name: 'default', logDirectory: 'default', managed: true, brokerIds: [1, 2, 3], brokerPorts: [9101, 9102, 9003] });
    expect(controller.clusters.ensureDefaultCluster({ managed: false, numBrokers: 5, brokerPorts: [] })).toEqual(first);
    expect(log.readRecords({ type: 'ClusterRecord' })).toHaveLength(1);
  });
});
