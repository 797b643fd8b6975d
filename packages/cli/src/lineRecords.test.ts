import { formatRecord, splitKeyValue } from './lineRecords';

describe('splitKeyValue', () => {
  test('splits at the first separator only', () => {
    expect(splitKeyValue('user-1:a:b', ':', 1)).toEqual({ key: 'user-1', value: 'a:b' });
  });
  test('a multi-character separator, an empty key and an empty value', () => {
    expect(splitKeyValue('k::=v', '::=', 1)).toEqual({ key: 'k', value: 'v' });
    expect(splitKeyValue(':v', ':', 1)).toEqual({ key: '', value: 'v' });
    expect(splitKeyValue('k:', ':', 1)).toEqual({ key: 'k', value: '' });
  });
  test('without a separator option the line is the value', () => {
    expect(splitKeyValue('a:b', undefined, 1)).toEqual({ key: null, value: 'a:b' });
  });
  test('a line without the separator is an error naming the line', () => {
    expect(() => splitKeyValue('novalue', '\t', 7)).toThrow('line 7 has no key separator "\\t"');
  });
});

describe('formatRecord', () => {
  const record = {
    topic: 't',
    partition: 2,
    offset: 5,
    timestamp: 1700000000000,
    key: Buffer.from('k'),
    value: Buffer.from('héllo'),
    headers: { trace: Buffer.from('abc'), empty: null },
  };
  test('text is the value, kv is key, separator, value', () => {
    expect(formatRecord(record, 'text', ':')).toBe('héllo');
    expect(formatRecord(record, 'kv', ':')).toBe('k:héllo');
    expect(formatRecord({ ...record, key: null }, 'kv', '\t')).toBe('\théllo');
  });
  test('json carries every field, with UTF-8 text for key, value and headers', () => {
    expect(JSON.parse(formatRecord(record, 'json', ':'))).toEqual({
      topic: 't',
      partition: 2,
      offset: 5,
      timestamp: 1700000000000,
      key: 'k',
      value: 'héllo',
      headers: { trace: 'abc', empty: null },
    });
  });
});
