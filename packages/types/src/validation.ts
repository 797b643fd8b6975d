import { z } from 'zod';
import { BrookError } from './errors';

/** Parses input with a zod schema; a mismatch becomes one INVALID_REQUEST naming the first problem. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'request'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = issue.path.length ? issue.path.join('.') : what;
  throw new BrookError('INVALID_REQUEST', `${where}: ${issue.message}`);
}

const DIGITS = /^\d{1,16}$/;

/**
 * A non-negative whole number given as a JSON number or as a query-string of digits. Strings are held
 * to digits only, so "", "-1", "1e3" and "0x10" are refused rather than coerced.
 */
export const nonNegativeInt = z
  .union([z.number(), z.string().regex(DIGITS, { error: 'must be a non-negative whole number' }).transform(Number)])
  .pipe(
    z
      .number()
      .int({ error: 'must be a whole number' })
      .nonnegative({ error: 'must not be negative' })
      .max(Number.MAX_SAFE_INTEGER, { error: 'is too large' }),
  );
