import type { ConsumedRecord, DecodedRecord, ProduceRecord, RecordHeader } from '@brook/types';
import type { OutgoingRecord } from './ProduceService';

/**
 * How JSON records map to record bytes. Keys are sent as their UTF-8 bytes, as Kafka's StringSerializer
 * does, so a key lands on the partition Kafka would choose. Values are stored as their JSON text and read
 * back as the same JSON; bytes that are not JSON (written by a binary client) read back as a string.
 */
export function toOutgoingRecord(record: ProduceRecord): OutgoingRecord {
  return {
    partition: record.partition,
    key: keyBytes(record.key),
    value: record.value === undefined || record.value === null ? null : Buffer.from(JSON.stringify(record.value), 'utf8'),
    headers: toHeaders(record.headers),
    timestamp: record.timestamp,
  };
}

export function keyBytes(key: ProduceRecord['key']): Buffer | null {
  return key === undefined || key === null ? null : Buffer.from(String(key), 'utf8');
}

export function toConsumedRecord(record: DecodedRecord): ConsumedRecord {
  const headers: Record<string, string | null> = {};
  for (const h of record.headers) headers[h.key] = h.value === null ? null : h.value.toString('utf8');
  return {
    offset: record.offset,
    key: record.key === null ? null : record.key.toString('utf8'),
    value: decodeValue(record.value),
    timestamp: record.timestamp,
    headers,
  };
}

export function decodeValue(value: Buffer | null): unknown {
  if (value === null) return null;
  const text = value.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function toHeaders(headers: ProduceRecord['headers']): RecordHeader[] | undefined {
  if (!headers) return undefined;
  const list = Array.isArray(headers) ? headers : Object.entries(headers).map(([key, value]) => ({ key, value }));
  return list.map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value, 'utf8') }));
}
