/**
 * Kafka's default partitioner for keyed records: murmur2 of the key bytes with Kafka's seed, made
 * positive, modulo the partition count. The same key lands on the same partition as in Kafka.
 */
import murmurhash from 'murmurhash';
import { BrookError } from '../errors';

/** The seed of Kafka's Utils.murmur2. murmurhash's default export is MurmurHash3 and does not match. */
const MURMUR2_SEED = 0x9747b28c;

/** Kafka's Utils.murmur2: the 32-bit MurmurHash2 of the bytes, as a signed int. */
export function murmur2(key: Uint8Array): number {
  return murmurhash.v2(key, MURMUR2_SEED) | 0;
}

/** Kafka's Utils.toPositive: clears the sign bit (not Math.abs, which fails on the smallest int). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  if (!Number.isInteger(numPartitions) || numPartitions < 1) {
    throw new BrookError('INVALID_PARTITIONS', `cannot choose among ${numPartitions} partitions`);
  }
  return toPositive(murmur2(key)) % numPartitions;
}
