import type {
  BrokerRegistration,
  PartitionRecord,
  TopicImage,
  BrokerView,
  PartitionView,
  TopicView,
} from '@brook/types';

/** JSON views of the metadata, as the admin routes answer with them. */

export function partitionView(p: PartitionRecord): PartitionView {
  return {
    partition: p.partition,
    leader: p.leader,
    replicas: [...p.replicas],
    isr: [...p.isr],
    leaderEpoch: p.leaderEpoch,
    partitionEpoch: p.partitionEpoch,
  };
}

export function topicView(t: TopicImage): TopicView {
  return {
    name: t.name,
    topicId: t.topicId,
    cluster: t.cluster,
    configs: { ...t.configs },
    partitions: t.partitions.map(partitionView),
  };
}

export function brokerView(b: BrokerRegistration): BrokerView {
  return {
    id: b.brokerId,
    host: b.host,
    port: b.port,
    state: b.state,
    cluster: b.cluster,
    brokerEpoch: b.brokerEpoch,
    rack: b.rack,
  };
}
