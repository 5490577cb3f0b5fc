import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  type Tree,
  tidy,
  treeMapN,
  treeZerosLike,
  withSpec,
} from '@tfopt/core';
import { decayRate, nonNegative } from '@tfopt/core/options';
import { momentWeights, updateMomentSquared } from './moments.js';
import { type OptionRules, readOptions } from './options.js';

/** Options of {@link scaleByAdadelta}. @category Transforms */
export interface ScaleByAdadeltaOptions {
  /** Decay of both running averages, in `[0, 1)`. Default `0.9`. */
  readonly rho?: number;
  /** Added inside both square roots, `>= 0`. Default `1e-6`. */
  readonly eps?: number;
}

/** @internal */
export const ADADELTA_RULES: OptionRules<ScaleByAdadeltaOptions> = {
  rho: decayRate,
  eps: nonNegative,
};
/** @internal */
export const ADADELTA_DEFAULTS = { rho: 0.9, eps: 1e-6 } as const;

/**
 * State of {@link scaleByAdadelta}.
 *
 * @category Transforms
 */
export interface ScaleByAdadeltaState {
  /** Running average of the squared gradients, `E[g²]`. */
  readonly eG: Tree;
  /** Running average of the squared updates, `E[Δx²]`. */
  readonly eX: Tree;
}

/**
 * Rescale the updates as Adadelta does (Zeiler, 2012, algorithm 1): the step
 * is the RMS of past steps over the RMS of gradients, so it has the units of
 * the parameters.
 *
 * ```
 * E[g²]  ← rho·E[g²] + (1 − rho)·g²
 * u      ← sqrt(E[Δx²] + eps) / sqrt(E[g²] + eps) · g      (E[Δx²] of the previous step)
 * E[Δx²] ← rho·E[Δx²] + (1 − rho)·u²
 * ```
 *
 * As Optax's `scale_by_adadelta`, `E[Δx²]` averages this transform's output
 * `u`, before any learning rate applied after it.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scaleByAdadelta, scaleByLearningRate } from '@tfopt/transforms';
 * const tx = chain(scaleByAdadelta({ rho: 0.95 }), scaleByLearningRate(1));
 * ```
 */
export function scaleByAdadelta(
  options?: ScaleByAdadeltaOptions,
): GradientTransformation<ScaleByAdadeltaState> {
  const { rho, eps } = readOptions('scaleByAdadelta', options, ADADELTA_RULES, ADADELTA_DEFAULTS);
  return withSpec(
    {
      init: (params) => tidy(() => ({ eG: treeZerosLike(params), eX: treeZerosLike(params) })),
      update: (updates, state) =>
        tidy(() => {
          const w = momentWeights(rho);
          const epsilon = tf.scalar(eps);
          const [u, eG, eX] = treeMapN(
            3,
            (g, prevG, prevX) => {
              const eG = updateMomentSquared(g, prevG, w);
              const ratio = tf.div(tf.sqrt(tf.add(prevX, epsilon)), tf.sqrt(tf.add(eG, epsilon)));
              const u = tf.mul(ratio, g);
              return [u, eG, updateMomentSquared(u, prevX, w)];
            },
            updates,
            state.eG,
            state.eX,
          ) as [Tree, Tree, Tree];
          return [u, { eG, eX }] as const;
        }),
    },
    'scaleByAdadelta',
    [options],
  );
}
