// Option checks shared by the factories of this package. Internal.
import { InvalidOptionError } from '@tfopt/core';

/**
 * Throw unless `options` is undefined or a plain object whose keys are all in
 * `allowed`, so a misspelt option fails loudly instead of falling back to its
 * default.
 */
export function assertKnownOptions(owner: string, options: unknown, allowed: readonly string[]): void {
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
