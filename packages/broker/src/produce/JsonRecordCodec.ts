import type { ConsumedRecord, DecodedRecord, ProduceRecord, RecordHeader } from '@brook/types';
import type { OutgoingRecord } from './ProduceService';

/**
 * How JSON records map to record bytes. Keys are sent as their UTF-8 bytes, as Kafka's StringSerializer
 * does, so a key lands on the partition Kafka would choose. Values are stored as their JSON text and read
 * back as the same JSON; bytes that are not JSON (written by a binary client) read back as a string.
 */
export function toOutgoingRecord(record: ProduceRecord): OutgoingRecord {
  return toOutgoingRecords([record])[0]!;
}

/**
 * A request's records at once. Keys, and value texts, are each encoded into one buffer and each record gets
 * views of them: one allocation and one UTF-8 pass per request instead of a Buffer per key and per value,
 * which the profile showed as the JSON path's largest per-record cost. encodeBatch copies the bytes on.
 */
export function toOutgoingRecords(records: readonly ProduceRecord[]): OutgoingRecord[] {
  const keys = utf8Views(records.map(({ key }) => (key === undefined || key === null ? null : String(key))));
  const values =
    stringValueViews(records) ??
    utf8Views(records.map(({ value }) => (value === undefined || value === null ? null : JSON.stringify(value))));
  return records.map((record, i) => ({
    partition: record.partition,
    key: keys[i]!,
    value: values[i]!,
    headers: toHeaders(record.headers),
    timestamp: record.timestamp,
  }));
}

export function keyBytes(key: ProduceRecord['key']): Buffer | null {
  return key === undefined || key === null ? null : Buffer.from(String(key), 'utf8');
}

/** UTF-8 bytes of each text, as views of one buffer (null stays null). */
function utf8Views(texts: readonly (string | null)[]): (Buffer | null)[] {
  const joined = texts.join(''); // null joins as ''
  const bytes = Buffer.from(joined, 'utf8');
  // All ASCII (the common case) when no character took more than one byte: then lengths need no recount.
  const ascii = bytes.length === joined.length;
  const views: (Buffer | null)[] = new Array(texts.length);
  let at = 0;
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i]!;
    if (text === null) {
      views[i] = null;
      continue;
    }
    const length = ascii ? text.length : Buffer.byteLength(text, 'utf8');
    views[i] = bytes.subarray(at, at + length);
    at += length;
  }
  return views;
}

/**
 * Value bytes when every value is a string (or null). One JSON.stringify over all of them costs half of one
 * call per value, the largest part of the JSON path left in the profile. When nothing needed escaping, the
 * array's text is the values in quotes joined by commas, so each value's text is found by its length;
 * otherwise (or with values of other kinds) undefined, and the caller stringifies value by value.
 */
function stringValueViews(records: readonly ProduceRecord[]): (Buffer | null)[] | undefined {
  const strings: string[] = [];
  let chars = 0;
  for (const { value } of records) {
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') return undefined;
    strings.push(value);
    chars += value.length;
  }
  if (strings.length === 0) return undefined;
  const json = JSON.stringify(strings);
  // '[' + '"v"' per value + ',' between them + ']'; an escape would have made it longer.
  if (json.length !== chars + 3 * strings.length + 1) return undefined;
  const bytes = Buffer.from(json, 'utf8');
  const ascii = bytes.length === json.length;
  let at = 1;
  return records.map(({ value }) => {
    if (typeof value !== 'string') return null;
    const length = (ascii ? value.length : Buffer.byteLength(value, 'utf8')) + 2;
    const view = bytes.subarray(at, at + length);
    at += length + 1;
    return view;
  });
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
