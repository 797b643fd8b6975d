import type { HttpJsonClient } from '@brook/runtime';
import type { MetadataCache } from '../metadata/MetadataCache';

export interface TopicView {
  name: string;
  topicId: string;
  cluster: string;
  partitions: unknown[];
}

/**
 * Topic creation and deletion from a broker's routes: the controller owns metadata, so these are passed
 * to it, and the answer waits until this broker's own metadata shows the change, so a produce sent right
 * after creating a topic finds it.
 */
export class TopicAdmin {
  constructor(
    private readonly cluster: string,
    private readonly controller: HttpJsonClient,
    private readonly metadata: MetadataCache,
  ) {}

  async createTopic(name: string, partitions: number): Promise<TopicView> {
    const topic = await this.controller.post<TopicView>('/create_topic/', { name, cluster: this.cluster, partitions });
    await this.metadata.waitFor(() => this.metadata.topic(name)?.topicId === topic.topicId, 5000);
    return topic;
  }

  async deleteTopic(name: string): Promise<{ name: string; deleted: true }> {
    await this.controller.delete(`/topic/${encodeURIComponent(name)}`, { query: { cluster: this.cluster } });
    await this.metadata.waitFor(() => !this.metadata.topic(name), 5000);
    return { name, deleted: true };
  }
}
