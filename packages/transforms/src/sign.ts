import * as tf from '@tensorflow/tfjs-core';
import { type EmptyState, type GradientTransformation, tidy, treeMap, withSpec } from '@tfopt/core';

const EMPTY: EmptyState = Object.freeze({}) as EmptyState;

/**
 * Replace every coordinate of the updates by its sign, as Optax's
 * `scale_by_sign`:
 *
 * ```
 * u ← sign(u)          (−1, 0 or 1)
 * ```
 *
 * The building block of {@link signSgd} and {@link signum}. Stateless.
 *
 * The sign is computed from comparisons with zero rather than `tf.sign`,
 * so every backend gives the same answer: tfjs-backend-wasm's `tf.sign`
 * returns 0 for magnitudes below about `1.2e-7`, and the cpu backend's turns
 * NaN into 0. Here a coordinate of any nonzero size gives `±1`, and NaN stays
 * NaN (as `jnp.sign` in Optax), so `applyIfFinite` still sees a bad gradient.
 *
 * @category Transforms
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { scaleBySign } from '@tfopt/transforms';
 * const tx = scaleBySign();
 * const g = { w: tf.tensor([0.3, -2, 0]) };
 * const [u] = tx.update(g, tx.init(g));
 * console.log((u as { w: tf.Tensor }).w.arraySync()); // [1, -1, 0]
 * ```
 */
export function scaleBySign(): GradientTransformation<EmptyState> {
  return withSpec(
    {
      init: () => EMPTY,
      update: (updates) => [tidy(() => treeMap(exactSign, updates)), EMPTY],
    },
    'scaleBySign',
    [],
  );
}

/** `sign(x)` by comparisons: exact for tiny values on every backend, NaN kept. */
function exactSign(x: tf.Tensor): tf.Tensor {
  const zero = tf.scalar(0, x.dtype);
  const sign = tf.sub(tf.cast(tf.greater(x, zero), x.dtype), tf.cast(tf.less(x, zero), x.dtype));
  return tf.where(tf.isNaN(x), x, sign);
}
