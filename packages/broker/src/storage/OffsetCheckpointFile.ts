import { CheckpointFile, type CheckpointFormat } from './CheckpointFile';

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

const TOPIC_PARTITION_OFFSET: CheckpointFormat<TopicPartitionOffset> = {
  toLine: (e) => `${e.topic} ${e.partition} ${e.offset}`,
  fromLine: (line) => {
    const match = /^(\S+) (\d+) (-?\d+)$/.exec(line);
    return match ? { topic: match[1]!, partition: Number(match[2]), offset: Number(match[3]) } : undefined;
  },
};

/**
 * Kafka's per-log-dir offset checkpoint (recovery-point-offset-checkpoint, log-start-offset-checkpoint):
 * lines of `topic partition offset`.
 */
export class OffsetCheckpointFile extends CheckpointFile<TopicPartitionOffset> {
  constructor(path: string) {
    super(path, TOPIC_PARTITION_OFFSET);
  }
}
