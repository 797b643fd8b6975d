import { InvalidArgumentError } from 'commander';

/** Parsers of flag values, so `--partitions abc` fails with a one-line error before anything runs. */

export function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

export function nonNegativeInt(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`expected an integer ≥ 0, got ${JSON.stringify(text)}`);
  return n;
}

export function positiveNumber(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got ${JSON.stringify(text)}`);
  return n;
}

export type AcksFlag = 'all' | '1' | '0';

export function acks(text: string): AcksFlag {
  if (text === 'all' || text === '-1') return 'all';
  if (text === '1' || text === '0') return text;
  throw new InvalidArgumentError(`expected all, -1, 1 or 0, got ${JSON.stringify(text)}`);
}
