// Option checks shared by the factories of this package. Internal.
import { InvalidOptionError } from '@tfopt/core';

/**
 * Throw unless `options` is undefined or a plain object whose keys are all in
 * `allowed`, so a misspelt option fails loudly instead of falling back to its
 * default.
 */
export function assertKnownOptions(
  owner: string,
  options: unknown,
  allowed: readonly string[],
): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(owner, 'options', options, 'an options object');
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new InvalidOptionError(
        owner,
        key,
        (options as Record<string, unknown>)[key],
        `absent (${owner} takes ${allowed.join(', ')})`,
      );
    }
  }
}

/** Throw unless `value` is a finite number `>= 1` (the upper bound of a multiplier starting at 1). */
export function assertUpperBound(owner: string, option: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1) {
    throw new InvalidOptionError(owner, option, value, 'a finite number >= 1');
  }
}
