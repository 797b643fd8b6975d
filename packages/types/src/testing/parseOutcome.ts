import { BrookError } from '../errors';

/**
 * What a parse gives, or the error body it throws: tests compare a hand-written validator's outcome with
 * its zod schema's, which must be exactly the same. Test support; not exported from the package.
 */
export function parseOutcome(parse: () => unknown): unknown {
  try {
    return { ok: parse() };
  } catch (err) {
    if (!(err instanceof BrookError)) throw err;
    return { error: err.toBody() };
  }
}
