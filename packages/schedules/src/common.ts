import { InvalidOptionError, TfoptError } from '@tfopt/core';

/**
 * Reject a missing options object and misspelled option names at construction:
 * a typo in an optional option would otherwise be ignored without a word.
 */
export function checkOptionKeys(owner: string, options: unknown, known: readonly string[]): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(owner, 'options', options, `an object with ${known.join(', ')}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(
        owner,
        key,
        (options as Record<string, unknown>)[key],
        `absent: ${owner} takes only ${known.join(', ')}`,
      );
    }
  }
}

/**
 * Schedules are called with the update count; a negative or non-finite count is
 * a caller bug that would otherwise surface later as a NaN learning rate.
 */
export function checkCount(owner: string, count: number): void {
  if (typeof count !== 'number' || !Number.isFinite(count) || count < 0) {
    throw new TfoptError(`${owner}: count must be a finite number >= 0, got ${String(count)}`);
  }
}
