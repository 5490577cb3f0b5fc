import { optimizerCatalog, specOf, TfoptError, type TransformSpec } from '@tfopt/core';

// Transforms whose input must point along the gradient.
const EG_TRANSFORMS = new Set(['egGlobalScale', 'egCoordinateGains', 'hypergradientScale']);
// Complete optimizers, whose output already points downhill: this package's aliases and
// every alias in the catalog of the packages registered (imported, under Node).
const EG_ALIASES = new Set(['egSgdm', 'egAdam', 'egAdagrad']);
function isDescentAlias(name: string): boolean {
  return EG_ALIASES.has(name) || optimizerCatalog().some((entry) => entry.name === name);
}

function isSpec(value: unknown): value is TransformSpec {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as TransformSpec).name === 'string' &&
    Array.isArray((value as TransformSpec).args)
  );
}

/** Whether a leaf spec flips the sign of the updates, or `undefined` for "look inside". */
function flipsSign(spec: TransformSpec): boolean | undefined {
  if (isDescentAlias(spec.name)) return true;
  if (spec.name === 'scaleByLearningRate') {
    const options = spec.args[1] as { flipSign?: boolean } | undefined;
    return options?.flipSign !== false;
  }
  if (spec.name === 'scale') return typeof spec.args[0] === 'number' && spec.args[0] < 0;
  return undefined;
}

/**
 * Check, from its spec, that a composed transform puts every EG transform
 * ({@link egGlobalScale}, {@link egCoordinateGains}, {@link hypergradientScale})
 * where the updates still point along the gradient: before
 * `scaleByLearningRate`, a negative `scale`, or a complete optimizer such as
 * `adam`. Throws a `TfoptError` naming the misplaced transform otherwise.
 *
 * Only what the spec records can be checked: a chain with a link built
 * without a spec has no spec itself and passes unchecked, and
 * `scaleBySchedule` is assumed not to flip the sign. Complete optimizers are
 * known from the optimizer catalog, which a bundle fills only with the
 * packages whose registration module (`@tfopt/<package>/register`) it
 * imports; under Node, importing a package is enough.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { assertEgSignConvention, egGlobalScale } from '@tfopt/eg';
 * import { scaleByAdam, scaleByLearningRate } from '@tfopt/transforms';
 * assertEgSignConvention(chain(scaleByAdam(), egGlobalScale(), scaleByLearningRate(1e-3))); // ok
 * try {
 *   assertEgSignConvention(chain(scaleByAdam(), scaleByLearningRate(1e-3), egGlobalScale()));
 * } catch (error) {
 *   console.log((error as Error).message); // egGlobalScale at chain[2] comes after a step that flips ...
 * }
 * ```
 */
export function assertEgSignConvention(transform: unknown): void {
  const root = specOf(transform);
  if (root === undefined) return;
  let flipped = false;
  const walk = (spec: TransformSpec, path: string): void => {
    if (EG_TRANSFORMS.has(spec.name)) {
      if (flipped) {
        throw new TfoptError(
          `${spec.name} at ${path} comes after a step that flips the sign of the updates ` +
            '(scaleByLearningRate, a negative scale or a complete optimizer); EG transforms expect ' +
            'updates that point along the gradient, so place it before that step',
        );
      }
      return;
    }
    const flips = flipsSign(spec);
    if (flips !== undefined) {
      if (flips) flipped = !flipped;
      return;
    }
    spec.args.forEach((arg, i) => {
      if (isSpec(arg)) walk(arg, `${path}[${i}]`);
      else if (Array.isArray(arg)) {
        arg.forEach((item, j) => {
          if (isSpec(item)) walk(item, `${path}[${i}][${j}]`);
        });
      }
    });
  };
  walk(root, root.name);
}
