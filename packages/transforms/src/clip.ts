import * as tf from '@tensorflow/tfjs-core';
import {
  clipByValue,
  type EmptyState,
  type GradientTransformation,
  tidy,
  treeFlatten,
  treeMap,
  treeSquaredNorm,
  withSpec,
} from '@tfopt/core';
import { assertOptions, nonNegative, positive } from '@tfopt/core/options';

const EMPTY: EmptyState = Object.freeze({}) as EmptyState;

/**
 * Rescale the updates so that their global L2 norm (over all leaves) is at
 * most `maxNorm` (Pascanu et al., 2013):
 *
 * ```
 * n = sqrt(Σ_leaves Σ u²)
 * u ← u · maxNorm / max(n, maxNorm)
 * ```
 *
 * The direction is kept; updates already within the bound pass unscaled.
 * The factor stays a tensor, so no value is read back from the device.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { adam, clipByGlobalNorm } from '@tfopt/transforms';
 * const tx = chain(clipByGlobalNorm(1), adam(1e-3));
 * ```
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation<EmptyState> {
  assertOptions('clipByGlobalNorm', { maxNorm: [maxNorm, positive] });
  return withSpec(
    {
      init: () => EMPTY,
      update: (updates) => {
        if (treeFlatten(updates).length === 0) return [updates, EMPTY];
        return tidy(() => {
          const norm = tf.sqrt(treeSquaredNorm(updates));
          const factor = tf.div(maxNorm, tf.maximum(norm, maxNorm));
          return [treeMap((u) => tf.mul(u, factor), updates), EMPTY] as const;
        });
      },
    },
    'clipByGlobalNorm',
    [maxNorm],
  );
}

/**
 * Clip every element of the updates to `[-maxDelta, maxDelta]`.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { clip, sgd } from '@tfopt/transforms';
 * const tx = chain(clip(0.5), sgd(0.1));
 * ```
 */
export function clip(maxDelta: number): GradientTransformation<EmptyState> {
  assertOptions('clip', { maxDelta: [maxDelta, nonNegative] });
  return withSpec(
    {
      init: () => EMPTY,
      update: (updates) => [
        tidy(() => treeMap((u) => clipByValue(u, -maxDelta, maxDelta), updates)),
        EMPTY,
      ],
    },
    'clip',
    [maxDelta],
  );
}
