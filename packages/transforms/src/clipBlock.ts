import * as tf from '@tensorflow/tfjs-core';
import { type EmptyState, type GradientTransformation, tidy, treeMap, withSpec } from '@tfopt/core';
import { assertOptions, positive } from '@tfopt/core/options';

const EMPTY: EmptyState = Object.freeze({}) as EmptyState;

/**
 * Clip each leaf of the updates (a weight vector, matrix or kernel: a
 * "block") to a root mean square of at most `threshold`, as Adafactor does
 * after its factored scaling (Shazeer & Stern, 2018, section 6):
 *
 * ```
 * u ← u / max(1, sqrt(mean(u²)) / threshold)        per leaf
 * ```
 *
 * Unlike {@link clipByGlobalNorm} the bound is per leaf and on the mean, so
 * it does not depend on the leaf's size. Empty leaves pass through.
 *
 * @category Transforms
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { clipByBlockRms } from '@tfopt/transforms';
 * const tx = clipByBlockRms(1);
 * const [u] = tx.update({ w: tf.tensor([3, -4]) }, tx.init({}));
 * (u as { w: tf.Tensor }).w.print(); // rms 3.54, so [0.85, -1.13]
 * ```
 */
export function clipByBlockRms(threshold: number): GradientTransformation<EmptyState> {
  assertOptions('clipByBlockRms', { threshold: [threshold, positive] });
  return withSpec(
    {
      init: () => EMPTY,
      update: (updates) =>
        tidy(() => {
          const one = tf.scalar(1);
          const bound = tf.scalar(threshold);
          const clipped = treeMap((u) => {
            if (u.size === 0) return u;
            const rms = tf.sqrt(tf.mean(tf.square(u)));
            return tf.div(u, tf.maximum(one, tf.div(rms, bound)));
          }, updates);
          return [clipped, EMPTY] as const;
        }),
    },
    'clipByBlockRms',
    [threshold],
  );
}
