import { BrookError } from './errors';

/** Kafka's legal topic name: at most 249 of [a-zA-Z0-9._-], and never "." or "..". */
export const NAME_PATTERN = /^[a-zA-Z0-9._-]{1,249}$/;

export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && NAME_PATTERN.test(name) && name !== '.' && name !== '..';
}

/**
 * Checks a topic or cluster name. Such names become directory names, so this check is what keeps a
 * client's string from ever being used as a path that escapes the data directory.
 */
export function validateName(kind: 'topic' | 'cluster', name: unknown): string {
  if (!isValidName(name)) {
    throw new BrookError(
      kind === 'topic' ? 'INVALID_TOPIC_NAME' : 'INVALID_REQUEST',
      `invalid ${kind} name ${JSON.stringify(name)}: use 1 to 249 of the characters [a-zA-Z0-9._-], and not "." or ".."`,
    );
  }
  return name;
}
