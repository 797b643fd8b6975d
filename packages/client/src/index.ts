export { Producer, toBytes, type Acks, type ProducerOptions, type ProducerRecord, type ProducerStats } from './Producer';
export { Admin, type AdminOptions, type CreateTopicOptions, type GroupDescription, type GroupListing, type ResetOffsetsOptions } from './Admin';
export { Metadata, type MetadataOptions, type PartitionInfo } from './Metadata';
export { RecordAccumulator, ProducerBatch, PartitionQueue, estimateRecordSize, type RecordMetadata, type AccumulatorOptions } from './RecordAccumulator';
export { StickyPartitioner } from './StickyPartitioner';
export type { HttpJsonClientLike } from './HttpJsonClientLike';
