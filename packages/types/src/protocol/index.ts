export * from './RecordBatch';
export * from './partitioner';
