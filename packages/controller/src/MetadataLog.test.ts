import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MetadataImage, type MetadataRecord } from '@brook/types';
import { MetadataLog } from './MetadataLog';
import { ManualClock, alterIsr, heartbeat, startBroker, testController } from './testing';

function imageOf(records: MetadataRecord[]): MetadataImage {
  const image = new MetadataImage();
  for (const r of records) image.apply(r);
  return image;
}

/** Drives the real control logic through a varied history: every record type and the tricky cases. */
async function buildHistory(t = testController()) {
  const { controller, log, clock } = t;
  controller.clusters.createCluster(
    { name: 'other', logDirectory: 'other', numBrokers: 1, defaultPartitions: 2, retentionMs: 3_600_000 },
    false,
    [],
  );
  const e1 = await startBroker(controller, 1);
  await startBroker(controller, 2);
  const e3 = await startBroker(controller, 3);
  await startBroker(controller, 7, 'other');
  const orders = controller.replication.createTopic({ name: 'orders', partitions: 6, replicationFactor: 3 });
  controller.replication.createTopic({ name: 'audit', cluster: 'other', configs: { 'cleanup.policy': 'compact' } });
  const doomed = controller.replication.createTopic({ name: 'doomed', partitions: 2, replicationFactor: 2 });
  controller.replication.createTopic({ name: 'small', partitions: 1, replicationFactor: 2 });
  // New partitions start with every replica in sync. The leaders of orders 1-5 shrink their ISR to
  // themselves (AlterPartition), partition 0 keeps all three; then broker 2 dies (a failover, and an
  // offline partition where 2 was the only in-sync replica) and broker 3 re-registers.
  for (const p of orders.partitions.slice(1)) alterIsr(controller, orders.topicId, p.partition, [p.leader]);
  controller.producerIds.registerProducer();
  controller.producerIds.allocateBlock(1, e1);
  log.append([
    { type: 'ConfigRecord', payload: { resourceType: 'topic', resourceName: 'orders', cluster: 'default', name: 'retention.ms', value: '1000' } },
    { type: 'ConfigRecord', payload: { resourceType: 'topic', resourceName: 'orders', cluster: 'default', name: 'segment.bytes', value: '4096' } },
    { type: 'ConfigRecord', payload: { resourceType: 'topic', resourceName: 'orders', cluster: 'default', name: 'segment.bytes', value: null } },
    { type: 'ConfigRecord', payload: { resourceType: 'cluster', resourceName: 'default', cluster: 'default', name: 'x', value: '1' } },
    // Records the image ignores: a change of an unknown broker and of an unknown partition.
    { type: 'BrokerRegistrationChangeRecord', payload: { brokerId: 99, brokerEpoch: 0, fenced: false } },
    { type: 'PartitionChangeRecord', payload: { topicId: orders.topicId, partition: 99, leader: 1, leaderEpoch: 5, partitionEpoch: 5 } },
  ]);
  controller.replication.deleteTopic({ topicId: doomed.topicId });
  clock.advance(7000);
  await heartbeat(controller, 1, e1, log.highOffset);
  await heartbeat(controller, 3, e3, log.highOffset);
  controller.heartbeats.touch(7);
  expect(controller.fenceExpiredBrokers()).toEqual([2]);
  const ordersNow = log.topic(orders.topicId)!.partitions;
  expect(ordersNow.filter((p) => p.leader === -1).length).toBeGreaterThan(0);
  expect(ordersNow.every((p) => !p.isr.includes(2) || p.isr.length === 1)).toBe(true);
  const { brokerEpoch: e3b } = controller.registerBroker({ brokerId: 3, cluster: 'default', host: 'h3', port: 9303, incarnationId: 'second', rack: 'r1' });
  await heartbeat(controller, 3, e3b, log.highOffset);
  controller.clusters.updateBroker({ brokerId: 1, host: 'new-host' });
  controller.clusters.unregisterBroker(2);
  controller.replication.createPartitions({ topic: 'small', cluster: 'default', count: 2 });
  return t;
}

describe('MetadataLog', () => {
  it('materializes exactly what MetadataImage builds from the same records', async () => {
    const { log } = await buildHistory();
    const records = log.readRecords();
    expect(records.length).toBeGreaterThan(40);
    expect(records.map((r) => r.offset)).toEqual(records.map((_r, i) => i));
    const types = new Set(records.map((r) => r.type));
    for (const type of ['ClusterRecord', 'RegisterBrokerRecord', 'BrokerRegistrationChangeRecord', 'UnregisterBrokerRecord', 'TopicRecord', 'RemoveTopicRecord', 'PartitionRecord', 'PartitionChangeRecord', 'ProducerIdsRecord', 'ConfigRecord']) {
      expect(types).toContain(type);
    }
    const snapshot = log.snapshot();
    expect(snapshot).toEqual(imageOf(records).toSnapshot());
    expect(snapshot.nextProducerId).toBe(1001);
    expect(snapshot.topics.find((t) => t.name === 'orders')!.configs).toEqual({ 'retention.ms': '1000', 'min.insync.replicas': '2' });
    // An image loaded from the snapshot is the same image again.
    expect(MetadataImage.fromSnapshot(snapshot).toSnapshot()).toEqual(snapshot);
  });

  it('gives a cluster the snapshot a broker of it builds from the records it is sent', async () => {
    const { log } = await buildHistory();
    for (const cluster of ['default', 'other']) {
      const image = imageOf(log.recordsSince(-1, cluster));
      const { offset: _o, ...expected } = image.toSnapshot();
      const { offset, ...actual } = log.snapshot(cluster);
      expect(offset).toBe(log.highOffset);
      expect(actual).toEqual(expected);
      expect(actual.brokers.every((b) => b.cluster === cluster)).toBe(true);
      expect(actual.clusters.map((c) => c.name)).toEqual([cluster]);
    }
  });

  it('keeps its state across a restart without replaying the records', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-mlog-'));
    const file = path.join(dir, 'controller', 'metadata.db');
    try {
      const clock = new ManualClock();
      const first = new MetadataLog({ file, now: clock.now });
      await buildHistory(testController({ log: first }));
      const before = first.snapshot();
      const count = first.recordCount;
      first.close();

      const apply = jest.spyOn(MetadataLog.prototype as unknown as { apply: () => void }, 'apply');
      const reopened = new MetadataLog({ file, now: clock.now });
      expect(apply).not.toHaveBeenCalled();
      apply.mockRestore();
      expect(reopened.snapshot()).toEqual(before);
      expect(reopened.recordCount).toBe(count);
      expect(reopened.highOffset).toBe(before.offset);
      // Offsets continue where they stopped.
      const [next] = reopened.append([{ type: 'ProducerIdsRecord', payload: { brokerId: -1, brokerEpoch: -1, nextProducerId: 5000 } }]);
      expect(next!.offset).toBe(before.offset + 1);
      expect(reopened.journalMode).toBe('wal');
      reopened.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('appends a batch atomically: a failure in the middle leaves nothing behind', () => {
    const log = new MetadataLog({ file: ':memory:' });
    const heard: MetadataRecord[][] = [];
    log.onAppend((r) => heard.push(r));
    log.append([{ type: 'ClusterRecord', payload: { name: 'a', logDirectory: 'a', numBrokers: 1, defaultPartitions: 1, retentionMs: null, managed: false, brokerIds: [], brokerPorts: [] } }]);
    log.append([{ type: 'TopicRecord', payload: { topicId: 't1', name: 'x', cluster: 'a', configs: {} } }]);
    const before = log.snapshot();
    expect(() =>
      log.append([
        { type: 'TopicRecord', payload: { topicId: 't2', name: 'y', cluster: 'a', configs: {} } },
        // Same name in the same cluster: the unique constraint refuses it.
        { type: 'TopicRecord', payload: { topicId: 't3', name: 'x', cluster: 'a', configs: {} } },
      ]),
    ).toThrow();
    expect(log.snapshot()).toEqual(before);
    expect(log.highOffset).toBe(1);
    expect(log.recordCount).toBe(2);
    expect(heard).toHaveLength(2);
    const [r] = log.append([{ type: 'TopicRecord', payload: { topicId: 't4', name: 'z', cluster: 'a', configs: {} } }]);
    expect(r!.offset).toBe(2);
  });

  it('filters records by type, cluster, offset, time and count', () => {
    const clock = new ManualClock(1000);
    const log = new MetadataLog({ file: ':memory:', now: clock.now });
    const cluster = (name: string) => ({ type: 'ClusterRecord' as const, payload: { name, logDirectory: name, numBrokers: 1, defaultPartitions: 1, retentionMs: null, managed: false, brokerIds: [], brokerPorts: [] } });
    log.append([cluster('a')]);
    clock.advance(1000);
    log.append([cluster('b'), { type: 'ProducerIdsRecord', payload: { brokerId: -1, brokerEpoch: -1, nextProducerId: 1 } }]);
    clock.advance(1000);
    log.append([{ type: 'TopicRecord', payload: { topicId: 't', name: 't', cluster: 'a', configs: {} } }]);
    expect(log.readRecords({ type: 'ClusterRecord' }).map((r) => r.offset)).toEqual([0, 1]);
    expect(log.readRecords({ cluster: 'a' }).map((r) => r.offset)).toEqual([0, 3]);
    expect(log.readRecords({ relevantTo: 'a' }).map((r) => r.offset)).toEqual([0, 2, 3]);
    expect(log.readRecords({ afterOffset: 1 }).map((r) => r.offset)).toEqual([2, 3]);
    expect(log.readRecords({ sinceTimestamp: 2000 }).map((r) => r.offset)).toEqual([1, 2, 3]);
    expect(log.readRecords({ limit: 1, afterOffset: 0 }).map((r) => r.offset)).toEqual([1]);
    expect(log.readRecords({ types: ['TopicRecord', 'ProducerIdsRecord'] }).map((r) => r.offset)).toEqual([2, 3]);
    expect(log.lastOffsetAtOrBefore(2500)).toBe(2);
    expect(log.lastOffsetAtOrBefore(999)).toBe(-1);
    expect(log.readRecords()[2]).toEqual({ offset: 2, type: 'ProducerIdsRecord', timestamp: 2000, cluster: null, payload: { brokerId: -1, brokerEpoch: -1, nextProducerId: 1 } });
  });
});
