import * as tf from '@tensorflow/tfjs-core';
import {
  clipByValue,
  type EmptyState,
  type GradientTransformation,
  tidy,
  treeFlatten,
  treeLeaves,
  treeMap,
  withSpec,
} from '@tfopt/core';
import { assertOptions, nonNegative, positive } from '@tfopt/core/options';

const EMPTY: EmptyState = Object.freeze({}) as EmptyState;

/**
 * `Σ u²` over the leaves as a [1, 1] tensor: one matrix product of each leaf's
 * flat view with itself, which reads the leaf once and writes no squared copy
 * (as `sum(square(u))` does). Empty leaves add nothing (and tfjs-backend-wasm's
 * reductions over zero elements are unreliable).
 */
function squaredNorm(leaves: readonly tf.Tensor[]): tf.Tensor {
  const parts = leaves
    .filter((leaf) => leaf.size > 0)
    .map((leaf) => {
      const row = tf.reshape(leaf, [1, leaf.size]);
      return tf.matMul(row, row, false, true);
    });
  if (parts.length === 0) return tf.zeros([1, 1]);
  return parts.length === 1 ? (parts[0] as tf.Tensor) : tf.addN(parts);
}

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
          const norm = tf.sqrt(squaredNorm(treeLeaves(updates)));
          const bound = tf.scalar(maxNorm);
          const factor = tf.reshape(tf.div(bound, tf.maximum(norm, bound)), []);
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
