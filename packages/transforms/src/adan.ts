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
import { biasCorrection, momentWeights, updateMoment, updateMomentSquared } from './moments.js';
import { type OptionRules, readOptions } from './options.js';

/** Options of {@link scaleByAdan}. @category Transforms */
export interface ScaleByAdanOptions {
  /** Decay of the average of the gradients, in `[0, 1)`. Default `0.98`. */
  readonly b1?: number;
  /** Decay of the average of the gradient differences, in `[0, 1)`. Default `0.92`. */
  readonly b2?: number;
  /** Decay of the average of the squared look-ahead gradients, in `[0, 1)`. Default `0.99`. */
  readonly b3?: number;
  /** Added to the square root of the second moment, `>= 0`. Default `1e-8`. */
  readonly eps?: number;
  /** Added to the second moment inside the square root, `>= 0`. Default `0`. */
  readonly epsRoot?: number;
}

/** @internal */
export const ADAN_RULES: OptionRules<ScaleByAdanOptions> = {
  b1: decayRate,
  b2: decayRate,
  b3: decayRate,
  eps: nonNegative,
  epsRoot: nonNegative,
};
/** @internal */
export const ADAN_DEFAULTS = { b1: 0.98, b2: 0.92, b3: 0.99, eps: 1e-8, epsRoot: 0 } as const;

/**
 * State of {@link scaleByAdan}.
 *
 * @category Transforms
 */
export interface ScaleByAdanState {
  /** Updates done so far. */
  readonly count: number;
  /** Moving average of the updates. */
  readonly m: Tree;
  /** Moving average of the differences of consecutive updates. */
  readonly v: Tree;
  /** Moving average of the squared look-ahead updates `g + (1 − b2)·(g − gPrev)`. */
  readonly n: Tree;
  /** The previous step's incoming updates (a copy), zeros before the first step. */
  readonly prevUpdates: Tree;
}

/**
 * Rescale the updates by Adan, the adaptive Nesterov momentum algorithm
 * (Xie et al., 2022, Algorithm 1), in Optax's form: three bias-corrected
 * moving averages (of the gradient, of its change, and of the squared
 * look-ahead gradient) give Nesterov's momentum without evaluating the
 * gradient at an extrapolated point. With `t = count + 1` and `d = g − gPrev`
 * (`d = 0` at the first step):
 *
 * ```
 * m ← b1·m + (1 − b1)·g
 * v ← b2·v + (1 − b2)·d
 * n ← b3·n + (1 − b3)·(g + (1 − b2)·d)²
 * u ← (m / (1 − b1^t) + (1 − b2)·v / (1 − b2^t)) / (sqrt(n / (1 − b3^t) + epsRoot) + eps)
 * ```
 *
 * The decays weight the old average, as in Optax's code: the paper's
 * `β1 = 0.02, β2 = 0.08, β3 = 0.01` are `1 − b1, 1 − b2, 1 − b3` here. The
 * state keeps a copy of the incoming updates for the next difference.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scaleByAdan, scaleByLearningRate } from '@tfopt/transforms';
 * const tx = chain(scaleByAdan(), scaleByLearningRate(1e-3));
 * ```
 */
export function scaleByAdan(
  options?: ScaleByAdanOptions,
): GradientTransformation<ScaleByAdanState> {
  const { b1, b2, b3, eps, epsRoot } = readOptions(
    'scaleByAdan',
    options,
    ADAN_RULES,
    ADAN_DEFAULTS,
  );
  return withSpec(
    {
      init: (params) =>
        tidy(() => ({
          count: 0,
          m: treeZerosLike(params),
          v: treeZerosLike(params),
          n: treeZerosLike(params),
          prevUpdates: treeZerosLike(params),
        })),
      update: (updates, state) =>
        tidy(() => {
          const first = state.count === 0;
          const count = state.count + 1;
          const c3 = biasCorrection(b3, count);
          const rootC3 = Math.sqrt(c3);
          // Fold the corrections: sqrt(c3)·(m/c1 + (1 − b2)·v/c2) / (sqrt(n + epsRoot·c3) + eps·sqrt(c3)).
          const mScale = tf.scalar(rootC3 / biasCorrection(b1, count));
          const vScale = tf.scalar((rootC3 * (1 - b2)) / biasCorrection(b2, count));
          const epsHat = tf.scalar(eps * rootC3);
          const epsRootHat = epsRoot === 0 ? undefined : tf.scalar(epsRoot * c3);
          const lookAhead = tf.scalar(1 - b2);
          const w1 = momentWeights(b1);
          const w2 = momentWeights(b2);
          const w3 = momentWeights(b3);
          const [u, m, v, n, prevUpdates] = treeMapN(
            5,
            (g, mPrev, vPrev, nPrev, gPrev) => {
              const d = first ? tf.zerosLike(g) : tf.sub(g, gPrev);
              const m = updateMoment(g, mPrev, w1);
              const v = updateMoment(d, vPrev, w2);
              const n = updateMomentSquared(tf.add(g, tf.mul(d, lookAhead)), nPrev, w3);
              const root = tf.sqrt(epsRootHat === undefined ? n : tf.add(n, epsRootHat));
              const numerator = tf.add(tf.mul(m, mScale), tf.mul(v, vScale));
              // The state must not hold the caller's tensor: keep a copy.
              return [tf.div(numerator, tf.add(root, epsHat)), m, v, n, tf.clone(g)];
            },
            updates,
            state.m,
            state.v,
            state.n,
            state.prevUpdates,
          ) as [Tree, Tree, Tree, Tree, Tree];
          return [u, { count, m, v, n, prevUpdates }] as const;
        }),
    },
    'scaleByAdan',
    [options],
  );
}
