// Option checks shared by the factories of this package. Internal.
import { InvalidOptionError, isPlainRecord } from '@tfopt/core';
import { assertKnownOptions } from '@tfopt/core/options';

/** Throw unless `value` is a finite number `>= 1` (the upper bound of a multiplier starting at 1). */
export function assertUpperBound(owner: string, option: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1) {
    throw new InvalidOptionError(owner, option, value, 'a finite number >= 1');
  }
}

/**
 * `assertKnownOptions`, except that an option this package renamed (a key of
 * `renamed`, mapped to its new name) is rejected with a message naming the new
 * name: `egGlobalScale: option "learningRate" must be absent (renamed
 * scaleLearningRate; egGlobalScale takes scaleLearningRate, ...), got 0.1`.
 */
export function assertKnownRenamedOptions(
  owner: string,
  options: unknown,
  known: readonly string[],
  renamed: Readonly<Record<string, string>>,
): void {
  if (isPlainRecord(options)) {
    for (const [old, now] of Object.entries(renamed)) {
      if (Object.hasOwn(options, old)) {
        throw new InvalidOptionError(
          owner,
          old,
          options[old],
          `absent (renamed ${now}; ${owner} takes ${known.join(', ')})`,
        );
      }
    }
  }
  assertKnownOptions(owner, options, known);
}
