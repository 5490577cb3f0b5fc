// Helpers shared by the contrib transforms. Internal: not exported from the package.
import { InvalidOptionError, TfoptError, type Tree } from '@tfopt/core';

/** `value`, or `fallback` when the option was not given. */
export function pick<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

/** Throw, saying why `owner` needs them, unless `update` was given the params. */
export function requireParams(
  owner: string,
  params: Tree | undefined,
  why: string,
): asserts params is Tree {
  if (params === undefined) {
    throw new TfoptError(
      `${owner}: update needs the current params (${why}); pass them as the third argument of ` +
        'update (step, stepVariables and TransformOptimizer do)',
    );
  }
}

/** The growth cap of Prodigy and D-Adaptation: a number `>= 1`, or Infinity for none. */
export function checkGrowthRate(owner: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 1) {
    throw new InvalidOptionError(owner, 'growthRate', value, 'a number >= 1 (or Infinity)');
  }
  return value;
}
