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
import { boolean, decayRate, nonNegative } from '@tfopt/core/options';
import { momentWeights, updateMoment, updateMomentSquared } from './moments.js';
import { type OptionRules, readOptions } from './options.js';

/** Options of {@link scaleByRms} and {@link scaleByStddev}. @category Transforms */
export interface ScaleByRmsOptions {
  /** Decay of the average of squared updates, in `[0, 1)`. Default `0.9`. */
  readonly decay?: number;
  /** Stabilises the division, `>= 0`. Default `1e-8`. */
  readonly eps?: number;
  /** Initial value of the average of squared updates, `>= 0`. Default `0`. */
  readonly initialScale?: number;
  /** Add `eps` inside the square root (`true`, default) or after it. */
  readonly epsInSqrt?: boolean;
}

/** @internal */
export const RMS_RULES: OptionRules<ScaleByRmsOptions> = {
  decay: decayRate,
  eps: nonNegative,
  initialScale: nonNegative,
  epsInSqrt: boolean,
};
/** @internal */
export const RMS_DEFAULTS = { decay: 0.9, eps: 1e-8, initialScale: 0, epsInSqrt: true } as const;

/** `g / sqrt(variance + eps)` or `g / (sqrt(variance) + eps)`; no eps when undefined. */
function normalise(
  g: tf.Tensor,
  variance: tf.Tensor,
  eps: tf.Scalar | undefined,
  epsInSqrt: boolean,
): tf.Tensor {
  if (eps === undefined) return tf.div(g, tf.sqrt(variance));
  return epsInSqrt
    ? tf.div(g, tf.sqrt(tf.add(variance, eps)))
    : tf.div(g, tf.add(tf.sqrt(variance), eps));
}

/**
 * State of {@link scaleByRms}.
 *
 * @category Transforms
 */
export interface ScaleByRmsState {
  /** Average of the squared updates. */
  readonly nu: Tree;
}

/**
 * Divide the updates by the root mean square of past updates (Tieleman &
 * Hinton, 2012), the core of RMSProp:
 *
 * ```
 * nu ← decay·nu + (1 − decay)·g²
 * u  ← g / sqrt(nu + eps)        (epsInSqrt = false: g / (sqrt(nu) + eps))
 * ```
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scaleByLearningRate, scaleByRms } from '@tfopt/transforms';
 * const tx = chain(scaleByRms({ decay: 0.95 }), scaleByLearningRate(1e-3));
 * ```
 */
export function scaleByRms(options?: ScaleByRmsOptions): GradientTransformation<ScaleByRmsState> {
  const { decay, eps, initialScale, epsInSqrt } = readOptions(
    'scaleByRms',
    options,
    RMS_RULES,
    RMS_DEFAULTS,
  );
  return withSpec(
    {
      init: (params) =>
        tidy(() => ({
          nu: initialScale === 0 ? treeZerosLike(params) : treeFull(params, initialScale),
        })),
      update: (updates, state) =>
        tidy(() => {
          const w = momentWeights(decay);
          const e = eps === 0 ? undefined : tf.scalar(eps);
          const [u, nu] = treeMapN(
            2,
            (g, v) => {
              const nu = updateMomentSquared(g, v, w);
              return [normalise(g, nu, e, epsInSqrt), nu];
            },
            updates,
            state.nu,
          ) as [Tree, Tree];
          return [u, { nu }] as const;
        }),
    },
    'scaleByRms',
    [options],
  );
}

/**
 * State of {@link scaleByStddev}.
 *
 * @category Transforms
 */
export interface ScaleByStddevState {
  /** Average of the updates. */
  readonly mu: Tree;
  /** Average of the squared updates. */
  readonly nu: Tree;
}

/**
 * Divide the updates by a running estimate of their standard deviation, the
 * core of centered RMSProp (Graves, 2013):
 *
 * ```
 * mu ← decay·mu + (1 − decay)·g      nu ← decay·nu + (1 − decay)·g²
 * u  ← g / sqrt(nu − mu² + eps)      (epsInSqrt = false: g / (sqrt(nu − mu²) + eps))
 * ```
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scaleByLearningRate, scaleByStddev } from '@tfopt/transforms';
 * const centeredRmsprop = chain(scaleByStddev(), scaleByLearningRate(1e-3));
 * ```
 */
export function scaleByStddev(
  options?: ScaleByRmsOptions,
): GradientTransformation<ScaleByStddevState> {
  const { decay, eps, initialScale, epsInSqrt } = readOptions(
    'scaleByStddev',
    options,
    RMS_RULES,
    RMS_DEFAULTS,
  );
  return withSpec(
    {
      init: (params) =>
        tidy(() => ({
          mu: treeZerosLike(params),
          nu: initialScale === 0 ? treeZerosLike(params) : treeFull(params, initialScale),
        })),
      update: (updates, state) =>
        tidy(() => {
          const w = momentWeights(decay);
          const e = eps === 0 ? undefined : tf.scalar(eps);
          const [u, mu, nu] = treeMapN(
            3,
            (g, m, v) => {
              const mu = updateMoment(g, m, w);
              const nu = updateMomentSquared(g, v, w);
              return [normalise(g, tf.sub(nu, tf.square(mu)), e, epsInSqrt), mu, nu];
            },
            updates,
            state.mu,
            state.nu,
          ) as [Tree, Tree, Tree];
          return [u, { mu, nu }] as const;
        }),
    },
    'scaleByStddev',
    [options],
  );
}
