// Internal: the check every transform that reads the parameters makes. Not exported from the package.
import { TfoptError, type Tree } from '@tfopt/core';

/** Throw, naming `owner` and saying what it reads them for, unless `update` was given the params. */
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
