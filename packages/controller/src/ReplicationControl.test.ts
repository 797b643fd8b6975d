import { BrookError } from '@brook/types';
import { validateTopicConfigs } from './ReplicationControl';

function refusal(configs: Record<string, string>): string {
  try {
    validateTopicConfigs(configs);
  } catch (err) {
    if (err instanceof BrookError) return err.code;
    throw err;
  }
  return 'accepted';
}

describe('topic configs', () => {
  test('the compaction configs the brokers apply are accepted with values they accept', () => {
    const configs = { 'cleanup.policy': 'compact', 'delete.retention.ms': '0', 'min.cleanable.dirty.ratio': '0.01', 'index.interval.bytes': '4096', 'segment.bytes': '1024' };
    expect(validateTopicConfigs(configs)).toEqual(configs);
    expect(refusal({ 'min.cleanable.dirty.ratio': '1' })).toBe('accepted');
  });

  test('values the brokers would ignore are refused up front', () => {
    expect(refusal({ 'min.cleanable.dirty.ratio': '1.5' })).toBe('INVALID_REQUEST');
    expect(refusal({ 'min.cleanable.dirty.ratio': 'half' })).toBe('INVALID_REQUEST');
    expect(refusal({ 'segment.bytes': '100' })).toBe('INVALID_REQUEST');
    expect(refusal({ 'delete.retention.ms': '-1' })).toBe('INVALID_REQUEST');
    expect(refusal({ 'cleanup.policy': 'sometimes' })).toBe('INVALID_REQUEST');
    expect(refusal({ 'no.such.config': '1' })).toBe('INVALID_REQUEST');
  });
});
