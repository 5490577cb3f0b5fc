import * as tf from '@tensorflow/tfjs-core';
import {
  type EmptyState,
  type GradientTransformation,
  type Tree,
  tidy,
  treeMap,
  withSpec,
} from '@tfopt/core';
import { requireParams } from './requireParams.js';

const EMPTY: EmptyState = Object.freeze({}) as EmptyState;

/**
 * State of {@link zeroNans}.
 *
 * @category Transforms
 */
export interface ZeroNansState {
  /**
   * Shaped like the parameters: one scalar `bool` tensor per leaf, `true` when
   * the last update found a NaN in that leaf (all `false` after `init`).
   */
  readonly foundNan: Tree;
}

/**
 * Replace every NaN in the updates by `0`, and record per leaf whether one
 * was found (as Optax's `zero_nans`):
 *
 * ```
 * u ← isNaN(u) ? 0 : u              foundNan[leaf] ← any(isNaN(u[leaf]))
 * ```
 *
 * The state only reports; the transform never reads it. Infinities pass
 * through unchanged. Put it first in a chain to keep one bad gradient from
 * poisoning the moment estimates of the links after it (or see
 * `applyIfFinite`, which skips the whole step instead).
 *
 * @category Transforms
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { chain } from '@tfopt/core';
 * import { scaleByAdam, scaleByLearningRate, zeroNans } from '@tfopt/transforms';
 * const tx = chain(zeroNans(), scaleByAdam(), scaleByLearningRate(1e-3));
 * const clean = zeroNans();
 * const g = { w: tf.tensor([1, Number.NaN]) };
 * const [u, state] = clean.update(g, clean.init(g));
 * console.log((u as { w: tf.Tensor }).w.arraySync()); // [1, 0]
 * console.log((state.foundNan as { w: tf.Tensor }).w.arraySync()); // 1: a NaN was found
 * ```
 */
export function zeroNans(): GradientTransformation<ZeroNansState> {
  return withSpec(
    {
      init: (params) => tidy(() => ({ foundNan: treeMap(() => tf.scalar(false), params) })),
      update: (updates, _state) =>
        tidy(() => {
          // Same-shape branches: tf.where broadcasts a scalar against an empty leaf to [1].
          const u = treeMap((g) => tf.where(tf.isNaN(g), tf.zerosLike(g), g), updates);
          // tfjs-backend-wasm's reductions over zero elements read whatever the
          // output buffer held, so an empty leaf is answered without one.
          const foundNan = treeMap(
            (g) => (g.size === 0 ? tf.scalar(false) : tf.any(tf.isNaN(g))),
            updates,
          );
          return [u, { foundNan }] as const;
        }),
    },
    'zeroNans',
    [],
  );
}

/**
 * Change the updates so that no parameter goes below zero (as Optax's
 * `keep_params_nonnegative`): where a step would end below zero it ends at
 * zero instead.
 *
 * ```
 * u ← p + u < 0 ? −p : u
 * ```
 *
 * Put it last in a chain, after the learning rate, so it sees the step that is
 * actually applied. A parameter that is already negative is moved to `0`.
 * Needs the params in `update`.
 *
 * @category Transforms
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { chain, step } from '@tfopt/core';
 * import { keepParamsNonnegative, sgd } from '@tfopt/transforms';
 * const tx = chain(sgd(1), keepParamsNonnegative());
 * const params = { w: tf.tensor([0.5, 2]) };
 * const grads = { w: tf.tensor([1, 1]) };
 * const next = step(tx, params, grads, tx.init(params));
 * console.log((next.params as { w: tf.Tensor }).w.arraySync()); // [0, 1]
 * ```
 */
export function keepParamsNonnegative(): GradientTransformation<EmptyState> {
  return withSpec(
    {
      init: () => EMPTY,
      update: (updates, _state, params) => {
        requireParams('keepParamsNonnegative', params, 'it stops them at zero');
        const u = tidy(() => {
          const zero = tf.scalar(0);
          return treeMap(
            (g, p) => tf.where(tf.less(tf.add(p, g), zero), tf.neg(p), g),
            updates,
            params,
          );
        });
        return [u, EMPTY];
      },
    },
    'keepParamsNonnegative',
    [],
  );
}
