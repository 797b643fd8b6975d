import type { ConsumerRecord } from '@brook/client';

/** Turning input lines into records (`brook produce`) and records back into lines (`brook consume`). */

export interface KeyedLine {
  key: string | null;
  value: string;
}

/**
 * Splits a line at the first `separator` into key and value (Kafka's console producer `parse.key`);
 * without a separator the whole line is the value. A line that lacks the separator when one is expected
 * is an error rather than a silently keyless record.
 */
export function splitKeyValue(line: string, separator: string | undefined, lineNumber: number): KeyedLine {
  if (separator === undefined) return { key: null, value: line };
  const at = line.indexOf(separator);
  if (at < 0) throw new Error(`line ${lineNumber} has no key separator ${JSON.stringify(separator)}`);
  return { key: line.slice(0, at), value: line.slice(at + separator.length) };
}

export type OutputFormat = 'text' | 'kv' | 'json';

/** One output line for a consumed record: its value (text), key + separator + value (kv), or a JSON object. */
export function formatRecord(record: ConsumerRecord, format: OutputFormat, separator: string): string {
  const value = record.value === null ? '' : record.value.toString('utf8');
  if (format === 'text') return value;
  const key = record.key === null ? '' : record.key.toString('utf8');
  if (format === 'kv') return `${key}${separator}${value}`;
  const headers: Record<string, string | null> = {};
  for (const [name, h] of Object.entries(record.headers)) headers[name] = h === null ? null : h.toString('utf8');
  return JSON.stringify({
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: record.key === null ? null : key,
    value: record.value === null ? null : value,
    headers,
  });
}
