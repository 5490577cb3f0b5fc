import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  type Tree,
  tidy,
  treeMapN,
  treeZerosLike,
  withSpec,
} from '@tfopt/core';
import { boolean, decayRate, nonNegative } from '@tfopt/core/options';
import { biasCorrection, momentWeights, updateMoment, updateMomentSquared } from './moments.js';
import { type OptionRules, readOptions } from './options.js';

/** Options of {@link scaleByAdam}. @category Transforms */
export interface ScaleByAdamOptions {
  /** Decay of the first moment, in `[0, 1)`. Default `0.9`. */
  readonly b1?: number;
  /** Decay of the second moment, in `[0, 1)`. Default `0.999`. */
  readonly b2?: number;
  /** Added to the square root of the second moment, `>= 0`. Default `1e-8`. */
  readonly eps?: number;
  /** Added to the second moment inside the square root, `>= 0`. Default `0`. */
  readonly epsRoot?: number;
  /**
   * Use Nesterov momentum (Dozat, 2016), as in NAdam: the first moment is
   * looked one step ahead (see {@link scaleByAdam}). Default `false`.
   */
  readonly nesterov?: boolean;
}

/** @internal */
export const ADAM_RULES: OptionRules<ScaleByAdamOptions> = {
  b1: decayRate,
  b2: decayRate,
  eps: nonNegative,
  epsRoot: nonNegative,
  nesterov: boolean,
};
/** @internal */
export const ADAM_DEFAULTS = {
  b1: 0.9,
  b2: 0.999,
  eps: 1e-8,
  epsRoot: 0,
  nesterov: false,
} as const;

/**
 * State of {@link scaleByAdam}.
 *
 * @category Transforms
 */
export interface ScaleByAdamState {
  /** Updates done so far. */
  readonly count: number;
  /** First moment: the average of the updates. */
  readonly mu: Tree;
  /** Second moment: the average of the squared updates. */
  readonly nu: Tree;
}

/**
 * Rescale the updates by Adam's moment estimates (Kingma & Ba, 2015).
 * With `t = count + 1`:
 *
 * ```
 * mu ← b1·mu + (1 − b1)·g        nu ← b2·nu + (1 − b2)·g²
 * u  ← (mu / (1 − b1^t)) / (sqrt(nu / (1 − b2^t) + epsRoot) + eps)
 * ```
 *
 * With `nesterov: true` (NAdam, Dozat 2016, in Optax's form) the bias-corrected
 * first moment `mu / (1 − b1^t)` is replaced by the look-ahead
 * `b1·mu / (1 − b1^(t+1)) + (1 − b1)·g / (1 − b1^t)`; Dozat's extra factor
 * `b2` on the second moment is omitted, as in Optax and PyTorch.
 *
 * The bias corrections are computed as plain numbers and folded into one
 * multiply; the scalars are built once per update and shared by all leaves.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scaleByAdam, scaleByLearningRate } from '@tfopt/transforms';
 * const tx = chain(scaleByAdam({ b2: 0.99 }), scaleByLearningRate(1e-3));
 * ```
 */
export function scaleByAdam(
  options?: ScaleByAdamOptions,
): GradientTransformation<ScaleByAdamState> {
  const { b1, b2, eps, epsRoot, nesterov } = readOptions(
    'scaleByAdam',
    options,
    ADAM_RULES,
    ADAM_DEFAULTS,
  );
  return withSpec(
    {
      init: (params) =>
        tidy(() => ({ count: 0, mu: treeZerosLike(params), nu: treeZerosLike(params) })),
      update: (updates, state) =>
        tidy(() => {
          const count = state.count + 1;
          const c1 = biasCorrection(b1, count);
          const rootC2 = Math.sqrt(biasCorrection(b2, count));
          // mu/c1 / (sqrt(nu/c2 + epsRoot) + eps)
          //   = (sqrt(c2)/c1) · mu / (sqrt(nu + epsRoot·c2) + eps·sqrt(c2))
          const factor = tf.scalar(rootC2 / c1);
          const epsHat = tf.scalar(eps * rootC2);
          const epsRootHat = epsRoot === 0 ? undefined : tf.scalar(epsRoot * rootC2 * rootC2);
          const w1 = momentWeights(b1);
          const w2 = momentWeights(b2);
          // Nesterov: rootC2 · (b1/c1next · mu + (1 − b1)/c1 · g) over the same denominator.
          const muAhead = nesterov
            ? tf.scalar((rootC2 * b1) / biasCorrection(b1, count + 1))
            : null;
          const gAhead = nesterov ? tf.scalar((rootC2 * (1 - b1)) / c1) : null;
          const [u, mu, nu] = treeMapN(
            3,
            (g, m, v) => {
              const mu = updateMoment(g, m, w1);
              const nu = updateMomentSquared(g, v, w2);
              const root = tf.sqrt(epsRootHat === undefined ? nu : tf.add(nu, epsRootHat));
              const denominator = tf.add(root, epsHat);
              const u =
                muAhead === null || gAhead === null
                  ? tf.mul(tf.div(mu, denominator), factor)
                  : tf.div(tf.add(tf.mul(mu, muAhead), tf.mul(g, gAhead)), denominator);
              return [u, mu, nu];
            },
            updates,
            state.mu,
            state.nu,
          ) as [Tree, Tree, Tree];
          return [u, { count, mu, nu }] as const;
        }),
    },
    'scaleByAdam',
    [options],
  );
}
