import { InvalidOptionError, TfoptError } from '@tfopt/core';
import { assertKnownOptions, assertOptions, nonNegative } from '@tfopt/core/options';

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

/**
 * Read a `{ boundary: scale }` object: integer update counts `>= 0` (in their
 * canonical spelling, as object keys are strings) mapped to scales `>= 0`,
 * sorted by boundary.
 */
export function readBoundariesAndScales(
  owner: string,
  boundariesAndScales: unknown,
): { boundary: number; scale: number }[] {
  if (
    typeof boundariesAndScales !== 'object' ||
    boundariesAndScales === null ||
    Array.isArray(boundariesAndScales)
  ) {
    throw new InvalidOptionError(
      owner,
      'boundariesAndScales',
      boundariesAndScales,
      'an object mapping boundary counts to scales, e.g. { 100: 0.1 }',
    );
  }
  const pieces: { boundary: number; scale: number }[] = [];
  for (const [key, scale] of Object.entries(boundariesAndScales)) {
    if (!/^(0|[1-9][0-9]*)$/.test(key)) {
      throw new InvalidOptionError(
        owner,
        `boundariesAndScales[${JSON.stringify(key)}]`,
        key,
        'keyed by an integer update count >= 0',
      );
    }
    assertOptions(owner, { [`boundariesAndScales[${key}]`]: [scale, nonNegative] });
    pieces.push({ boundary: Number(key), scale: scale as number });
  }
  return pieces.sort((a, b) => a.boundary - b.boundary);
}
