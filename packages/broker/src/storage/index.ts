export { DEFAULT_LOG_CONFIG, parseLogConfig, type CleanupPolicy, type LogConfig } from './LogConfig';
export { Log, type LeaderAppendResult, type LogOpenOptions, type ReadResult, type StorageLogger } from './Log';
export { LogManager, type LogManagerOptions } from './LogManager';
export { LogCleaner } from './LogCleaner';
export type { CleanResult } from './Cleaner';
