export * from './errors';
export * from './names';
export * from './validation';
export * from './metadata/records';
export * from './metadata/snapshot';
export * from './metadata/MetadataImage';
export * from './api/controller';
