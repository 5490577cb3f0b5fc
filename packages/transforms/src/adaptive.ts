// Adam's relatives: the same two moving averages, with another second moment
// (AdaBelief, Yogi, AMSGrad, Adamax) or a rectified step (RAdam).
import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  type Tree,
  tidy,
  treeFull,
  treeMapN,
  treeZerosLike,
  withSpec,
} from '@tfopt/core';
import { boolean, decayRate, finite, nonNegative } from '@tfopt/core/options';
import type { ScaleByAdamState } from './adam.js';
import { biasCorrection, momentWeights, updateMoment, updateMomentSquared } from './moments.js';
import { type OptionRules, readOptions } from './options.js';

/**
 * The scalars of a bias-corrected first moment, `a·mu + b·g`: `a = 1 / (1 − b1^t)`
 * and `b = 0`, or with Nesterov's look-ahead (Dozat, 2016, as Optax writes it)
 * `a = b1 / (1 − b1^(t+1))` and `b = (1 − b1) / (1 − b1^t)`. Both scaled by `k`.
 */
function firstMomentFactors(
  b1: number,
  count: number,
  nesterov: boolean,
  k = 1,
): readonly [tf.Scalar, tf.Scalar | undefined] {
  const c1 = biasCorrection(b1, count);
  if (!nesterov) return [tf.scalar(k / c1), undefined];
  return [tf.scalar((k * b1) / biasCorrection(b1, count + 1)), tf.scalar((k * (1 - b1)) / c1)];
}

/** `a·mu + b·g` for the factors of {@link firstMomentFactors}. */
function correctedFirstMoment(
  mu: tf.Tensor,
  g: tf.Tensor,
  [a, b]: readonly [tf.Scalar, tf.Scalar | undefined],
): tf.Tensor {
  return b === undefined ? tf.mul(mu, a) : tf.add(tf.mul(mu, a), tf.mul(g, b));
}

/**
 * State of {@link scaleByBelief}: the step count, the first moment `mu` and
 * the second moment of the prediction error `nu` (with `epsRoot` folded in).
 *
 * @category Transforms
 */
export type ScaleByBeliefState = ScaleByAdamState;

/**
 * State of {@link scaleByRadam}: Adam's `{ count, mu, nu }`.
 *
 * @category Transforms
 */
export type ScaleByRadamState = ScaleByAdamState;

/**
 * State of {@link scaleByAdamax}: the step count, the first moment `mu` and
 * the exponentially weighted infinity norm `nu`.
 *
 * @category Transforms
 */
export type ScaleByAdamaxState = ScaleByAdamState;

/**
 * State of {@link scaleByYogi}: the step count and Yogi's two moments `mu`, `nu`.
 *
 * @category Transforms
 */
export type ScaleByYogiState = ScaleByAdamState;

/** Options of {@link scaleByBelief}. @category Transforms */
export interface ScaleByBeliefOptions {
  /** Decay of the first moment, in `[0, 1)`. Default `0.9`. */
  readonly b1?: number;
  /** Decay of the second moment of the prediction error, in `[0, 1)`. Default `0.999`. */
  readonly b2?: number;
  /** Added to the square root of the second moment, `>= 0`. Default `1e-16`. */
  readonly eps?: number;
  /** Added to the second moment itself at every step (it is kept in the state), `>= 0`. Default `1e-16`. */
  readonly epsRoot?: number;
  /** Use Nesterov's look-ahead on the first moment. Default `false`. */
  readonly nesterov?: boolean;
}

/** @internal */
export const BELIEF_RULES: OptionRules<ScaleByBeliefOptions> = {
  b1: decayRate,
  b2: decayRate,
  eps: nonNegative,
  epsRoot: nonNegative,
  nesterov: boolean,
};
/** @internal */
export const BELIEF_DEFAULTS = {
  b1: 0.9,
  b2: 0.999,
  eps: 1e-16,
  epsRoot: 1e-16,
  nesterov: false,
} as const;

/**
 * Rescale the updates by AdaBelief's estimates (Zhuang et al., 2020): Adam
 * with the second moment of the prediction error `g − mu` instead of `g`, so
 * steps are large where the gradient is what the average predicts. With
 * `t = count + 1`:
 *
 * ```
 * mu ← b1·mu + (1 − b1)·g
 * s  ← b2·s + (1 − b2)·(g − mu)² + epsRoot
 * u  ← (mu / (1 − b1^t)) / (sqrt(s / (1 − b2^t)) + eps)
 * ```
 *
 * As in Optax, `epsRoot` is added to `s` in the state (it accumulates), and
 * the defaults are `eps = epsRoot = 1e-16`; the paper uses `eps = 1e-8` and
 * no `epsRoot`. `nesterov` swaps the corrected first moment for the look-ahead
 * of {@link scaleByAdam}.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scaleByBelief, scaleByLearningRate } from '@tfopt/transforms';
 * const tx = chain(scaleByBelief({ eps: 1e-8, epsRoot: 0 }), scaleByLearningRate(1e-3));
 * ```
 */
export function scaleByBelief(
  options?: ScaleByBeliefOptions,
): GradientTransformation<ScaleByBeliefState> {
  const { b1, b2, eps, epsRoot, nesterov } = readOptions(
    'scaleByBelief',
    options,
    BELIEF_RULES,
    BELIEF_DEFAULTS,
  );
  return withSpec(
    {
      init: (params) =>
        tidy(() => ({ count: 0, mu: treeZerosLike(params), nu: treeZerosLike(params) })),
      update: (updates, state) =>
        tidy(() => {
          const count = state.count + 1;
          const rootC2 = Math.sqrt(biasCorrection(b2, count));
          // m̂ / (sqrt(s / c2) + eps) = sqrt(c2)·m̂ / (sqrt(s) + eps·sqrt(c2))
          const factors = firstMomentFactors(b1, count, nesterov, rootC2);
          const epsHat = tf.scalar(eps * rootC2);
          const epsRootScalar = epsRoot === 0 ? undefined : tf.scalar(epsRoot);
          const w1 = momentWeights(b1);
          const w2 = momentWeights(b2);
          const [u, mu, nu] = treeMapN(
            3,
            (g, m, s) => {
              const mu = updateMoment(g, m, w1);
              const squared = updateMomentSquared(tf.sub(g, mu), s, w2);
              const nu = epsRootScalar === undefined ? squared : tf.add(squared, epsRootScalar);
              const u = tf.div(correctedFirstMoment(mu, g, factors), tf.add(tf.sqrt(nu), epsHat));
              return [u, mu, nu];
            },
            updates,
            state.mu,
            state.nu,
          ) as [Tree, Tree, Tree];
          return [u, { count, mu, nu }] as const;
        }),
    },
    'scaleByBelief',
    [options],
  );
}

/** Options of {@link scaleByRadam}. @category Transforms */
export interface ScaleByRadamOptions {
  /** Decay of the first moment, in `[0, 1)`. Default `0.9`. */
  readonly b1?: number;
  /** Decay of the second moment, in `[0, 1)`. Default `0.999`. */
  readonly b2?: number;
  /** Added to the square root of the second moment, `>= 0`. Default `1e-8`. */
  readonly eps?: number;
  /** Added to the second moment inside the square root, `>= 0`. Default `0`. */
  readonly epsRoot?: number;
  /**
   * The length `ρ` of the second moment's average from which the adaptive step
   * is used (`ρ >= threshold`); below it the step is plain momentum. Default `5`.
   * Values below 4 make the rectification undefined (NaN) for `ρ` in `[threshold, 4)`.
   */
  readonly threshold?: number;
  /** Use Nesterov's look-ahead on the first moment. Default `false`. */
  readonly nesterov?: boolean;
}

/** @internal */
export const RADAM_RULES: OptionRules<ScaleByRadamOptions> = {
  b1: decayRate,
  b2: decayRate,
  eps: nonNegative,
  epsRoot: nonNegative,
  threshold: finite,
  nesterov: boolean,
};
/** @internal */
export const RADAM_DEFAULTS = {
  b1: 0.9,
  b2: 0.999,
  eps: 1e-8,
  epsRoot: 0,
  threshold: 5,
  nesterov: false,
} as const;

/**
 * Rescale the updates by Rectified Adam (Liu et al., 2020): Adam's adaptive
 * step is used only once the second moment averages enough steps to have a
 * tractable variance, and is then rectified by `r`; before that the step is
 * the bias-corrected momentum. With `t = count + 1`:
 *
 * ```
 * mu ← b1·mu + (1 − b1)·g        nu ← b2·nu + (1 − b2)·g²
 * ρ∞ = 2 / (1 − b2) − 1           ρ  = ρ∞ − 2t·b2^t / (1 − b2^t)
 * m̂  = mu / (1 − b1^t)            v̂  = nu / (1 − b2^t)
 * u  ← r·m̂ / (sqrt(v̂ + epsRoot) + eps)   if ρ >= threshold,
 *      r = sqrt((ρ − 4)(ρ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ))
 * u  ← m̂                                 otherwise
 * ```
 *
 * `ρ` and `r` depend on the step only, so they are computed as plain numbers.
 * With the default `b2 = 0.999` the first five steps are momentum steps.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scaleByLearningRate, scaleByRadam } from '@tfopt/transforms';
 * const tx = chain(scaleByRadam({ threshold: 5 }), scaleByLearningRate(1e-3));
 * ```
 */
export function scaleByRadam(
  options?: ScaleByRadamOptions,
): GradientTransformation<ScaleByRadamState> {
  const { b1, b2, eps, epsRoot, threshold, nesterov } = readOptions(
    'scaleByRadam',
    options,
    RADAM_RULES,
    RADAM_DEFAULTS,
  );
  const roInf = 2 / (1 - b2) - 1;
  return withSpec(
    {
      init: (params) =>
        tidy(() => ({ count: 0, mu: treeZerosLike(params), nu: treeZerosLike(params) })),
      update: (updates, state) =>
        tidy(() => {
          const count = state.count + 1;
          const b2t = b2 ** count;
          const ro = roInf - (2 * count * b2t) / (1 - b2t);
          const adaptive = ro >= threshold;
          const r = Math.sqrt(((ro - 4) * (ro - 2) * roInf) / ((roInf - 4) * (roInf - 2) * ro));
          const c2 = biasCorrection(b2, count);
          const rootC2 = Math.sqrt(c2);
          // r·m̂ / (sqrt(nu/c2 + epsRoot) + eps) = r·sqrt(c2)·m̂ / (sqrt(nu + epsRoot·c2) + eps·sqrt(c2))
          const factors = firstMomentFactors(b1, count, nesterov, adaptive ? r * rootC2 : 1);
          const epsHat = tf.scalar(eps * rootC2);
          const epsRootHat = epsRoot === 0 ? undefined : tf.scalar(epsRoot * c2);
          const w1 = momentWeights(b1);
          const w2 = momentWeights(b2);
          const [u, mu, nu] = treeMapN(
            3,
            (g, m, v) => {
              const mu = updateMoment(g, m, w1);
              const nu = updateMomentSquared(g, v, w2);
              const mHat = correctedFirstMoment(mu, g, factors);
              if (!adaptive) return [mHat, mu, nu];
              const root = tf.sqrt(epsRootHat === undefined ? nu : tf.add(nu, epsRootHat));
              return [tf.div(mHat, tf.add(root, epsHat)), mu, nu];
            },
            updates,
            state.mu,
            state.nu,
          ) as [Tree, Tree, Tree];
          return [u, { count, mu, nu }] as const;
        }),
    },
    'scaleByRadam',
    [options],
  );
}

/** Options of {@link scaleByAmsgrad}. @category Transforms */
export interface ScaleByAmsgradOptions {
  /** Decay of the first moment, in `[0, 1)`. Default `0.9`. */
  readonly b1?: number;
  /** Decay of the second moment, in `[0, 1)`. Default `0.999`. */
  readonly b2?: number;
  /** Added to the square root of the running maximum, `>= 0`. Default `1e-8`. */
  readonly eps?: number;
  /** Added to the running maximum inside the square root, `>= 0`. Default `0`. */
  readonly epsRoot?: number;
  /** Divide the first moment by `1 − b1^t`. Default `true`; the paper's algorithm does not. */
  readonly biasCorrectionMu?: boolean;
  /** Divide the second moment by `1 − b2^t` before the maximum. Default `true`; the paper does not. */
  readonly biasCorrectionNu?: boolean;
}

/** @internal */
export const AMSGRAD_RULES: OptionRules<ScaleByAmsgradOptions> = {
  b1: decayRate,
  b2: decayRate,
  eps: nonNegative,
  epsRoot: nonNegative,
  biasCorrectionMu: boolean,
  biasCorrectionNu: boolean,
};
/** @internal */
export const AMSGRAD_DEFAULTS = {
  b1: 0.9,
  b2: 0.999,
  eps: 1e-8,
  epsRoot: 0,
  biasCorrectionMu: true,
  biasCorrectionNu: true,
} as const;

/**
 * State of {@link scaleByAmsgrad}.
 *
 * @category Transforms
 */
export interface ScaleByAmsgradState extends ScaleByAdamState {
  /** The running elementwise maximum of the (corrected) second moment. */
  readonly nuMax: Tree;
}

/**
 * Rescale the updates by AMSGrad (Reddi et al., 2018): Adam divided by the
 * running maximum of its second moment, so the per-coordinate step never
 * grows. With `t = count + 1` and Optax's default bias corrections:
 *
 * ```
 * mu   ← b1·mu + (1 − b1)·g        nu ← b2·nu + (1 − b2)·g²
 * nuMax ← max(nuMax, nu / (1 − b2^t))
 * u    ← (mu / (1 − b1^t)) / (sqrt(nuMax + epsRoot) + eps)
 * ```
 *
 * `biasCorrectionMu: false` and `biasCorrectionNu: false` give the paper's
 * uncorrected algorithm.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scaleByAmsgrad, scaleByLearningRate } from '@tfopt/transforms';
 * const tx = chain(scaleByAmsgrad({ b2: 0.99 }), scaleByLearningRate(1e-3));
 * ```
 */
export function scaleByAmsgrad(
  options?: ScaleByAmsgradOptions,
): GradientTransformation<ScaleByAmsgradState> {
  const { b1, b2, eps, epsRoot, biasCorrectionMu, biasCorrectionNu } = readOptions(
    'scaleByAmsgrad',
    options,
    AMSGRAD_RULES,
    AMSGRAD_DEFAULTS,
  );
  return withSpec(
    {
      init: (params) =>
        tidy(() => ({
          count: 0,
          mu: treeZerosLike(params),
          nu: treeZerosLike(params),
          nuMax: treeZerosLike(params),
        })),
      update: (updates, state) =>
        tidy(() => {
          const count = state.count + 1;
          // nuMax holds corrected values, so the corrections cannot be folded as in Adam.
          const muScale = biasCorrectionMu ? tf.scalar(1 / biasCorrection(b1, count)) : undefined;
          const nuScale = biasCorrectionNu ? tf.scalar(1 / biasCorrection(b2, count)) : undefined;
          const e = tf.scalar(eps);
          const er = epsRoot === 0 ? undefined : tf.scalar(epsRoot);
          const w1 = momentWeights(b1);
          const w2 = momentWeights(b2);
          const [u, mu, nu, nuMax] = treeMapN(
            4,
            (g, m, v, vMax) => {
              const mu = updateMoment(g, m, w1);
              const nu = updateMomentSquared(g, v, w2);
              const nuMax = tf.maximum(vMax, nuScale === undefined ? nu : tf.mul(nu, nuScale));
              const mHat = muScale === undefined ? mu : tf.mul(mu, muScale);
              const root = tf.sqrt(er === undefined ? nuMax : tf.add(nuMax, er));
              return [tf.div(mHat, tf.add(root, e)), mu, nu, nuMax];
            },
            updates,
            state.mu,
            state.nu,
            state.nuMax,
          ) as [Tree, Tree, Tree, Tree];
          return [u, { count, mu, nu, nuMax }] as const;
        }),
    },
    'scaleByAmsgrad',
    [options],
  );
}

/** Options of {@link scaleByAdamax}. @category Transforms */
export interface ScaleByAdamaxOptions {
  /** Decay of the first moment, in `[0, 1)`. Default `0.9`. */
  readonly b1?: number;
  /** Decay of the infinity norm, in `[0, 1)`. Default `0.999`. */
  readonly b2?: number;
  /** Added to `|g|` inside the maximum, `>= 0`. Default `1e-8`. */
  readonly eps?: number;
}

/** @internal */
export const ADAMAX_RULES: OptionRules<ScaleByAdamaxOptions> = {
  b1: decayRate,
  b2: decayRate,
  eps: nonNegative,
};
/** @internal */
export const ADAMAX_DEFAULTS = { b1: 0.9, b2: 0.999, eps: 1e-8 } as const;

/**
 * Rescale the updates by Adamax (Kingma & Ba, 2015, section 7.1): Adam with
 * the second moment replaced by an exponentially weighted infinity norm,
 * which needs no bias correction. With `t = count + 1`:
 *
 * ```
 * mu ← b1·mu + (1 − b1)·g
 * nu ← max(|g| + eps, b2·nu)
 * u  ← (mu / (1 − b1^t)) / nu
 * ```
 *
 * Differences from `tf.train.adamax(lr, beta1, beta2, epsilon, decay)`:
 * tf.train takes `max(b2·nu, |g|)` and divides by `nu + epsilon`, adding
 * epsilon after the maximum at every step, where Optax (and this transform)
 * add it to `|g|` inside the maximum, so it is carried, decayed, in `nu`; the
 * two agree for `eps = 0` (and gradients that are never exactly zero), and
 * tf.train's default epsilon is the backend's (`1e-7` on cpu and wasm).
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scaleByAdamax, scaleByLearningRate } from '@tfopt/transforms';
 * const tx = chain(scaleByAdamax(), scaleByLearningRate(2e-3));
 * ```
 */
export function scaleByAdamax(
  options?: ScaleByAdamaxOptions,
): GradientTransformation<ScaleByAdamaxState> {
  const { b1, b2, eps } = readOptions('scaleByAdamax', options, ADAMAX_RULES, ADAMAX_DEFAULTS);
  return withSpec(
    {
      init: (params) =>
        tidy(() => ({ count: 0, mu: treeZerosLike(params), nu: treeZerosLike(params) })),
      update: (updates, state) =>
        tidy(() => {
          const count = state.count + 1;
          const muScale = tf.scalar(1 / biasCorrection(b1, count));
          const decay = tf.scalar(b2);
          const e = eps === 0 ? undefined : tf.scalar(eps);
          const w1 = momentWeights(b1);
          const [u, mu, nu] = treeMapN(
            3,
            (g, m, v) => {
              const mu = updateMoment(g, m, w1);
              const magnitude = e === undefined ? tf.abs(g) : tf.add(tf.abs(g), e);
              const nu = tf.maximum(magnitude, tf.mul(v, decay));
              return [tf.div(tf.mul(mu, muScale), nu), mu, nu];
            },
            updates,
            state.mu,
            state.nu,
          ) as [Tree, Tree, Tree];
          return [u, { count, mu, nu }] as const;
        }),
    },
    'scaleByAdamax',
    [options],
  );
}

/** Options of {@link scaleByYogi}. @category Transforms */
export interface ScaleByYogiOptions {
  /** Decay of the first moment, in `[0, 1)`. Default `0.9`. */
  readonly b1?: number;
  /** Rate of the additive second-moment update, in `[0, 1)`. Default `0.999`. */
  readonly b2?: number;
  /** Added to the square root of the second moment, `>= 0`. Default `1e-3`. */
  readonly eps?: number;
  /** Added to the second moment inside the square root, `>= 0`. Default `0`. */
  readonly epsRoot?: number;
  /** Initial value of both moments, `>= 0`. Default `1e-6`. */
  readonly initialAccumulatorValue?: number;
}

/** @internal */
export const YOGI_RULES: OptionRules<ScaleByYogiOptions> = {
  b1: decayRate,
  b2: decayRate,
  eps: nonNegative,
  epsRoot: nonNegative,
  initialAccumulatorValue: nonNegative,
};
/** @internal */
export const YOGI_DEFAULTS = {
  b1: 0.9,
  b2: 0.999,
  eps: 1e-3,
  epsRoot: 0,
  initialAccumulatorValue: 1e-6,
} as const;

/**
 * Rescale the updates by Yogi (Zaheer et al., 2018): Adam whose second moment
 * moves towards `g²` by an additive step of fixed size, so it cannot grow
 * (and the step shrink) as fast as Adam's. With `t = count + 1`:
 *
 * ```
 * mu ← b1·mu + (1 − b1)·g
 * nu ← nu − (1 − b2)·sign(nu − g²)·g²
 * u  ← (mu / (1 − b1^t)) / (sqrt(nu / (1 − b2^t) + epsRoot) + eps)
 * ```
 *
 * As in Optax, both moments start at `initialAccumulatorValue` (the paper
 * starts only `nu` there) and the moments are bias-corrected like Adam's.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scaleByLearningRate, scaleByYogi } from '@tfopt/transforms';
 * const tx = chain(scaleByYogi(), scaleByLearningRate(1e-2));
 * ```
 */
export function scaleByYogi(
  options?: ScaleByYogiOptions,
): GradientTransformation<ScaleByYogiState> {
  const { b1, b2, eps, epsRoot, initialAccumulatorValue } = readOptions(
    'scaleByYogi',
    options,
    YOGI_RULES,
    YOGI_DEFAULTS,
  );
  const start = (params: Tree) =>
    initialAccumulatorValue === 0
      ? treeZerosLike(params)
      : treeFull(params, initialAccumulatorValue);
  return withSpec(
    {
      init: (params) => tidy(() => ({ count: 0, mu: start(params), nu: start(params) })),
      update: (updates, state) =>
        tidy(() => {
          const count = state.count + 1;
          const c2 = biasCorrection(b2, count);
          const rootC2 = Math.sqrt(c2);
          // Adam's folding: sqrt(c2)/c1 · mu / (sqrt(nu + epsRoot·c2) + eps·sqrt(c2)).
          const factor = tf.scalar(rootC2 / biasCorrection(b1, count));
          const epsHat = tf.scalar(eps * rootC2);
          const epsRootHat = epsRoot === 0 ? undefined : tf.scalar(epsRoot * c2);
          const rate = tf.scalar(1 - b2);
          const w1 = momentWeights(b1);
          const [u, mu, nu] = treeMapN(
            3,
            (g, m, v) => {
              const mu = updateMoment(g, m, w1);
              const g2 = tf.square(g);
              const nu = tf.sub(v, tf.mul(tf.mul(tf.sign(tf.sub(v, g2)), g2), rate));
              const root = tf.sqrt(epsRootHat === undefined ? nu : tf.add(nu, epsRootHat));
              return [tf.mul(tf.div(mu, tf.add(root, epsHat)), factor), mu, nu];
            },
            updates,
            state.mu,
            state.nu,
          ) as [Tree, Tree, Tree];
          return [u, { count, mu, nu }] as const;
        }),
    },
    'scaleByYogi',
    [options],
  );
}
