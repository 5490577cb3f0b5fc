import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  type Tree,
  tidy,
  treeMapN,
  treeZerosLike,
  withSpec,
} from '@tfopt/core';
import { finite } from '@tfopt/core/options';
import { type OptionRules, readOptions } from './options.js';

/** Options of {@link scaleByOptimisticGradient}. @category Transforms */
export interface ScaleByOptimisticGradientOptions {
  /** Weight of the current update. Default `1`. */
  readonly alpha?: number;
  /** Weight of the negative momentum: the change since the last update. Default `1`. */
  readonly beta?: number;
}

/** @internal */
export const OPTIMISTIC_RULES: OptionRules<ScaleByOptimisticGradientOptions> = {
  alpha: finite,
  beta: finite,
};
/** @internal */
export const OPTIMISTIC_DEFAULTS = { alpha: 1, beta: 1 } as const;

/**
 * State of {@link scaleByOptimisticGradient}.
 *
 * @category Transforms
 */
export interface ScaleByOptimisticGradientState {
  /** `true` until the first update: there is no previous update yet. */
  readonly isInitialStep: boolean;
  /** The incoming updates of the last step (zeros before the first). */
  readonly previousGradient: Tree;
}

/**
 * Generalised optimistic gradient (Mokhtari, Ozdaglar & Pattathil, 2019,
 * arXiv:1901.08511), as Optax's `scale_by_optimistic_gradient`:
 *
 * ```
 * u ← (alpha + beta)·g − beta·g_prev       (on the first update g_prev = g, so u = alpha·g)
 * g_prev ← g
 * ```
 *
 * With `alpha = beta = 1` this is `2·g_t − g_(t−1)`, the optimistic step of
 * Daskalakis et al. (2018), a cheap stand-in for extra-gradient that
 * converges in the last iterate on bilinear min-max games where gradient
 * descent-ascent cycles. The first update uses the current gradient as the
 * previous one (as Optax since its issue #1082), rather than zeros.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scaleByLearningRate, scaleByOptimisticGradient } from '@tfopt/transforms';
 * const tx = chain(scaleByOptimisticGradient({ alpha: 1, beta: 0.5 }), scaleByLearningRate(0.05));
 * ```
 */
export function scaleByOptimisticGradient(
  options?: ScaleByOptimisticGradientOptions,
): GradientTransformation<ScaleByOptimisticGradientState> {
  const { alpha, beta } = readOptions(
    'scaleByOptimisticGradient',
    options,
    OPTIMISTIC_RULES,
    OPTIMISTIC_DEFAULTS,
  );
  return withSpec(
    {
      init: (params) =>
        tidy(() => ({ isInitialStep: true, previousGradient: treeZerosLike(params) })),
      update: (updates, state) =>
        tidy(() => {
          const current = tf.scalar(alpha + beta);
          const previous = tf.scalar(beta);
          const before = state.isInitialStep ? updates : state.previousGradient;
          const [u, kept] = treeMapN(
            2,
            // The state keeps its own copy: the caller may dispose the updates.
            (g, p) => [tf.sub(tf.mul(g, current), tf.mul(p, previous)), tf.clone(g)],
            updates,
            before,
          ) as [Tree, Tree];
          return [u, { isInitialStep: false, previousGradient: kept }] as const;
        }),
    },
    'scaleByOptimisticGradient',
    [options],
  );
}
