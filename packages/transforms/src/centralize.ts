import * as tf from '@tensorflow/tfjs-core';
import { type EmptyState, type GradientTransformation, tidy, treeMap, withSpec } from '@tfopt/core';

const EMPTY: EmptyState = Object.freeze({}) as EmptyState;

/**
 * Gradient centralization (Yong et al., 2020, "Gradient Centralization: A New
 * Optimization Technique for Deep Neural Networks", arXiv:2004.01461): from
 * each leaf of rank 2 or more, subtract its mean over every axis but the
 * first, as Optax's `centralize`.
 *
 * ```
 * u[i, ...] ← u[i, ...] − mean(u[i, ...])        rank(u) >= 2
 * u         ← u                                  rank(u) <= 1 (biases, scalars)
 * ```
 *
 * Each slice along the first axis is centred. For a tfjs dense kernel
 * `[inputs, units]` that centres each input's outgoing weights, as Optax does
 * for Flax kernels of the same layout; the paper centres each output unit's
 * incoming weights (PyTorch's `[units, inputs]`). Stateless.
 *
 * @category Transforms
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { centralize } from '@tfopt/transforms';
 * const tx = centralize();
 * const g = { w: tf.tensor([[1, 2, 3], [4, 5, 6]]) };
 * const [u] = tx.update(g, tx.init(g));
 * console.log((u as { w: tf.Tensor }).w.arraySync()); // [[-1, 0, 1], [-1, 0, 1]]
 * ```
 */
export function centralize(): GradientTransformation<EmptyState> {
  return withSpec(
    {
      init: () => EMPTY,
      update: (updates) => [
        tidy(() =>
          treeMap((g) => {
            // Empty leaves stay as they are (and skip wasm's empty reductions).
            if (g.rank < 2 || g.size === 0) return g;
            const axes = Array.from({ length: g.rank - 1 }, (_, i) => i + 1);
            return tf.sub(g, tf.mean(g, axes, true));
          }, updates),
        ),
        EMPTY,
      ],
    },
    'centralize',
    [],
  );
}
