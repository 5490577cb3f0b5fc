// Option checks shared by the factories of this package. Internal.
import { InvalidOptionError } from '@tfopt/core';

/** Throw unless `value` is a finite number `>= 1` (the upper bound of a multiplier starting at 1). */
export function assertUpperBound(owner: string, option: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1) {
    throw new InvalidOptionError(owner, option, value, 'a finite number >= 1');
  }
}
