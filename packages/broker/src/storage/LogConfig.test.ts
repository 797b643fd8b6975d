import { BrookError } from '@brook/types';
import { DEFAULT_LOG_CONFIG, parseLogConfig } from './LogConfig';

describe('LogConfig', () => {
  it('has Kafka’s defaults', () => {
    expect(DEFAULT_LOG_CONFIG).toEqual({
      segmentBytes: 64 * 1024 * 1024,
      segmentMs: 604_800_000,
      retentionMs: 604_800_000,
      retentionBytes: -1,
      indexIntervalBytes: 4096,
      flushMessages: 0,
      flushMs: 0,
      cleanupPolicy: 'delete',
      deleteRetentionMs: 86_400_000,
      minCleanableDirtyRatio: 0.5,
      maxMessageBytes: 8 * 1024 * 1024,
      producerIdExpirationMs: 86_400_000,
    });
  });

  it('parses Kafka-named overrides and leaves other names alone', () => {
    const config = parseLogConfig(
      {
        'segment.bytes': '1048576',
        'segment.ms': '3600000',
        'retention.ms': '-1',
        'retention.bytes': '1073741824',
        'index.interval.bytes': '0',
        'flush.messages': '1',
        'flush.ms': ' 1000 ',
        'max.message.bytes': '1000000',
        'cleanup.policy': 'delete,compact',
        'delete.retention.ms': '60000',
        'min.cleanable.dirty.ratio': '0.25',
        'min.insync.replicas': '2',
        'producer.id.expiration.ms': '1000',
      },
      DEFAULT_LOG_CONFIG,
    );
    expect(config).toEqual({
      segmentBytes: 1048576,
      segmentMs: 3600000,
      retentionMs: -1,
      retentionBytes: 1073741824,
      indexIntervalBytes: 0,
      flushMessages: 1,
      flushMs: 1000,
      cleanupPolicy: 'compact,delete',
      deleteRetentionMs: 60000,
      minCleanableDirtyRatio: 0.25,
      maxMessageBytes: 1000000,
      producerIdExpirationMs: 86_400_000,
    });
    expect(parseLogConfig({ 'cleanup.policy': 'compact' }, DEFAULT_LOG_CONFIG).cleanupPolicy).toBe('compact');
    expect(parseLogConfig({}, { ...DEFAULT_LOG_CONFIG, retentionMs: 5 }).retentionMs).toBe(5);
    expect(parseLogConfig({ 'min.cleanable.dirty.ratio': '1' }, DEFAULT_LOG_CONFIG).minCleanableDirtyRatio).toBe(1);
    expect(parseLogConfig({ 'min.cleanable.dirty.ratio': '.1' }, DEFAULT_LOG_CONFIG).minCleanableDirtyRatio).toBe(0.1);
  });

  it.each([
    ['segment.bytes', '100'],
    ['segment.bytes', '4294967296'],
    ['segment.ms', '0'],
    ['retention.ms', '-2'],
    ['retention.bytes', '1.5'],
    ['flush.ms', 'soon'],
    ['max.message.bytes', ''],
    ['cleanup.policy', 'forever'],
    ['cleanup.policy', 'delete,delete'],
    ['delete.retention.ms', '-1'],
    ['min.cleanable.dirty.ratio', '1.5'],
    ['min.cleanable.dirty.ratio', '-0.1'],
    ['min.cleanable.dirty.ratio', 'half'],
    ['min.cleanable.dirty.ratio', ''],
  ])('refuses %s=%j with INVALID_REQUEST', (name, value) => {
    let error: unknown;
    try {
      parseLogConfig({ [name]: value }, DEFAULT_LOG_CONFIG);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BrookError);
    expect((error as BrookError).code).toBe('INVALID_REQUEST');
    expect((error as BrookError).message).toContain(name);
  });
});
