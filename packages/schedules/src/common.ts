import { TfoptError } from '@tfopt/core';
import { assertKnownOptions } from '@tfopt/core/options';

/** Options objects are required for schedules; unknown keys are rejected. */
export function checkOptionKeys(owner: string, options: unknown, known: readonly string[]): void {
  assertKnownOptions(owner, options, known, { required: true });
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
