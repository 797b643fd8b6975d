import type { TopicAdmin } from '../admin/TopicAdmin';
import type { FetchService } from '../fetch/FetchService';
import type { ConsumerFetchService } from '../fetch/ConsumerFetchService';
import type { MetadataCache } from '../metadata/MetadataCache';
import type { ProduceService } from '../produce/ProduceService';
import type { ReplicaManager } from '../server/ReplicaManager';
import type { GroupAdmin } from '../group/GroupAdmin';
import type { GroupService } from '../group/GroupService';
import type { ConsumerInstanceManager } from '../consumer/ConsumerInstanceManager';
import type { SeedConsumers } from '../consumer/SeedConsumers';

/** The logic objects the routes are thin adapters over. */
export interface BrokerServices {
  brokerId: number;
  metadata: MetadataCache;
  produce: ProduceService;
  fetch: FetchService;
  consumerFetch: ConsumerFetchService;
  topics: TopicAdmin;
  replicas: ReplicaManager;
  groups: GroupService;
  groupAdmin: GroupAdmin;
  consumers: ConsumerInstanceManager;
  seedConsumers: SeedConsumers;
}
