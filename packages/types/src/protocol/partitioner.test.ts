import murmurhash from 'murmurhash';
import { murmur2, partitionForKey, toPositive } from './partitioner';

/** Kafka's UtilsTest.testMurmur2 vectors. */
const KAFKA_MURMUR2_VECTORS: Array<[string, number]> = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

describe("Kafka's default partitioner", () => {
  it.each(KAFKA_MURMUR2_VECTORS)('murmur2(%s) = %d', (key, expected) => {
    expect(murmur2(Buffer.from(key))).toBe(expected);
  });

  it('is not the MurmurHash3 that murmurhash exports by default', () => {
    expect(murmurhash(Buffer.from('foobar')) | 0).not.toBe(-790332482);
  });

  it('hashes empty keys and keys of every tail length', () => {
    expect(Number.isInteger(murmur2(Buffer.alloc(0)))).toBe(true);
    const hashes = new Set([1, 2, 3, 4, 5].map((n) => murmur2(Buffer.alloc(n, 0x61))));
    expect(hashes.size).toBe(5);
  });

  it('makes hashes positive by clearing the sign bit, as Kafka does', () => {
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(5)).toBe(5);
  });

  it('picks toPositive(murmur2(key)) % numPartitions', () => {
    // Expected values computed from Kafka's vectors by hand: (-790332482 & 0x7fffffff) = 1357151166.
    expect(partitionForKey(Buffer.from('foobar'), 3)).toBe(1357151166 % 3);
    expect(partitionForKey(Buffer.from('21'), 10)).toBe((-973932308 & 0x7fffffff) % 10);
    expect(partitionForKey(Buffer.from('abc'), 7)).toBe(479470107 % 7);
    expect(partitionForKey(Buffer.from('abc'), 1)).toBe(0);
  });

  it('refuses an impossible partition count', () => {
    expect(() => partitionForKey(Buffer.from('a'), 0)).toThrow(/partitions/);
  });
});
