import { MetadataImage } from './MetadataImage';
import type { MetadataRecord } from './records';

let offset = 0;
function rec<T extends MetadataRecord['type']>(type: T, payload: Extract<MetadataRecord, { type: T }>['payload'], cluster: string | null = 'default'): MetadataRecord {
  return { offset: offset++, type, timestamp: 1000 + offset, cluster, payload } as MetadataRecord;
}

describe('MetadataImage', () => {
  beforeEach(() => {
    offset = 0;
  });

  function history(): MetadataRecord[] {
    return [
      rec('ClusterRecord', { name: 'default', logDirectory: 'default', numBrokers: 2, defaultPartitions: 1, retentionMs: null, managed: true, brokerIds: [1, 2], brokerPorts: [9001, 9002] }),
      rec('RegisterBrokerRecord', { brokerId: 1, brokerEpoch: 1, incarnationId: 'a', cluster: 'default', host: 'h1', port: 9001, rack: null, fenced: true }),
      rec('RegisterBrokerRecord', { brokerId: 2, brokerEpoch: 2, incarnationId: 'b', cluster: 'default', host: 'h2', port: 9002, rack: null, fenced: true }),
      rec('BrokerRegistrationChangeRecord', { brokerId: 1, brokerEpoch: 1, fenced: false }),
      rec('BrokerRegistrationChangeRecord', { brokerId: 2, brokerEpoch: 2, fenced: false, port: 9102 }),
      rec('TopicRecord', { topicId: 't1', name: 'orders', cluster: 'default', configs: { 'retention.ms': '1000' } }),
      rec('PartitionRecord', { topicId: 't1', partition: 0, replicas: [1, 2], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0 }),
      rec('PartitionRecord', { topicId: 't1', partition: 1, replicas: [2, 1], isr: [2], leader: 2, leaderEpoch: 0, partitionEpoch: 0 }),
      rec('PartitionChangeRecord', { topicId: 't1', partition: 1, leader: -1, leaderEpoch: 1, partitionEpoch: 1 }),
      rec('BrokerRegistrationChangeRecord', { brokerId: 2, brokerEpoch: 2, fenced: true }),
      rec('ConfigRecord', { resourceType: 'topic', resourceName: 'orders', cluster: 'default', name: 'segment.bytes', value: '2048' }),
      rec('ConfigRecord', { resourceType: 'topic', resourceName: 'orders', cluster: 'default', name: 'retention.ms', value: null }),
      rec('TopicRecord', { topicId: 't2', name: 'gone', cluster: 'default', configs: {} }),
      rec('PartitionRecord', { topicId: 't2', partition: 0, replicas: [1], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0 }),
      rec('RemoveTopicRecord', { topicId: 't2' }),
      rec('ProducerIdsRecord', { brokerId: 1, brokerEpoch: 1, nextProducerId: 1000 }),
    ];
  }

  test('applying records gives the state they describe', () => {
    const image = new MetadataImage();
    for (const r of history()) image.apply(r);
    expect(image.offset).toBe(15);
    expect(image.brokers.get(1)!.state).toBe('active');
    expect(image.brokers.get(2)).toMatchObject({ state: 'fenced', port: 9102 });
    const orders = image.topicByName('default', 'orders')!;
    expect(orders.configs).toEqual({ 'segment.bytes': '2048' });
    expect(orders.partitions[1]).toMatchObject({ leader: -1, leaderEpoch: 1, partitionEpoch: 1, isr: [2] });
    expect(image.topicByName('default', 'gone')).toBeUndefined();
    expect(image.topicByName('other', 'orders')).toBeUndefined();
    expect(image.nextProducerId).toBe(1000);
  });

  test('a snapshot loads into the same image, and is independent of the original', () => {
    const image = new MetadataImage();
    for (const r of history()) image.apply(r);
    const snapshot = image.toSnapshot();
    const copy = MetadataImage.fromSnapshot(JSON.parse(JSON.stringify(snapshot)));
    expect(copy.toSnapshot()).toEqual(snapshot);
    // Changing the copy leaves the original alone.
    copy.apply({ offset: 99, type: 'PartitionChangeRecord', timestamp: 0, cluster: 'default', payload: { topicId: 't1', partition: 0, isr: [1, 2], leaderEpoch: 0, partitionEpoch: 1 } });
    expect(image.topicByName('default', 'orders')!.partitions[0]!.isr).toEqual([1]);
  });

  test('a delta applied after a snapshot equals the whole history applied', () => {
    const all = history();
    const full = new MetadataImage();
    for (const r of all) full.apply(r);
    const partial = new MetadataImage();
    for (const r of all.slice(0, 7)) partial.apply(r);
    const resumed = MetadataImage.fromSnapshot(partial.toSnapshot());
    for (const r of all.slice(7)) resumed.apply(r);
    expect(resumed.toSnapshot()).toEqual(full.toSnapshot());
  });

  test('unregistering a broker removes it; controlled shutdown and unfencing change its state', () => {
    const image = new MetadataImage();
    for (const r of history()) image.apply(r);
    image.apply(rec('BrokerRegistrationChangeRecord', { brokerId: 1, brokerEpoch: 1, inControlledShutdown: true }));
    expect(image.brokers.get(1)!.state).toBe('controlled_shutdown');
    image.apply(rec('UnregisterBrokerRecord', { brokerId: 1, brokerEpoch: 1 }));
    expect(image.brokers.has(1)).toBe(false);
  });
});
