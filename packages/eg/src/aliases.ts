import {
  chain,
  type EmptyState,
  type GradientTransformation,
  InvalidOptionError,
  identity,
  type ScalarOrSchedule,
  withSpec,
} from '@tfopt/core';
import {
  assertKnownOptions,
  assertOptions,
  boolean,
  decayRate,
  nonNegative,
  numberOrFunction,
} from '@tfopt/core/options';
import {
  type ScaleByAdagradOptions,
  type ScaleByAdagradState,
  type ScaleByAdamOptions,
  type ScaleByAdamState,
  type ScaleByScheduleState,
  scaleByAdagrad,
  scaleByAdam,
  scaleByLearningRate,
  type TraceState,
  trace,
} from '@tfopt/transforms';
import {
  type EgCoordinateGainsOptions,
  type EgCoordinateGainsState,
  egCoordinateGains,
} from './coordinateGains.js';
import {
  type EgGlobalScaleOptions,
  type EgGlobalScaleState,
  egGlobalScale,
} from './globalScale.js';

/**
 * The EG parts of an optimizer: `gains` configures {@link egCoordinateGains}
 * and `scale` {@link egGlobalScale}, each with exactly that transform's
 * options (`{ gainLearningRate, beta, signal, min, max }` and
 * `{ scaleLearningRate, normalize, min, max, perTensor }`); `false` leaves
 * that part out (its link becomes `identity`, so the state keeps the same
 * shape). The groups keep apart the options both parts have (`min`, `max`,
 * with different defaults) and from the base optimizer's.
 *
 * @category Optimizers
 */
export interface EgParts {
  /** Options of the per-coordinate gains, or `false` for none. Default `{}`. */
  readonly gains?: EgCoordinateGainsOptions | false;
  /** Options of the step-size scale, or `false` for none. Default `{}`. */
  readonly scale?: EgGlobalScaleOptions | false;
}

/** The state of the gains link: the gains, or nothing when switched off. @category Optimizers */
export type EgGainsLinkState = EgCoordinateGainsState | EmptyState;

/** The state of the scale link: the scale, or nothing when switched off. @category Optimizers */
export type EgScaleLinkState = EgGlobalScaleState | EmptyState;

/** Rethrow an option error of a part as an error of the alias, with a dotted option path. */
function asPart<T>(owner: string, prefix: string, build: () => T): T {
  try {
    return build();
  } catch (e) {
    if (e instanceof InvalidOptionError) {
      throw new InvalidOptionError(owner, `${prefix}${e.option}`, e.value, e.expected);
    }
    throw e;
  }
}

function checkLearningRate(owner: string, learningRate: unknown): void {
  assertOptions(owner, { learningRate: [learningRate, numberOrFunction(nonNegative)] });
}

function gainsLink(owner: string, gains: unknown): GradientTransformation<EgGainsLinkState> {
  if (gains === false) return identity() as GradientTransformation<EgGainsLinkState>;
  if (
    gains !== undefined &&
    (typeof gains !== 'object' || gains === null || Array.isArray(gains))
  ) {
    throw new InvalidOptionError(owner, 'gains', gains, 'an options object or false');
  }
  return asPart(
    owner,
    'gains.',
    () =>
      egCoordinateGains(
        gains as EgCoordinateGainsOptions,
      ) as GradientTransformation<EgGainsLinkState>,
  );
}

function scaleLink(owner: string, scale: unknown): GradientTransformation<EgScaleLinkState> {
  if (scale === false) return identity() as GradientTransformation<EgScaleLinkState>;
  if (
    scale !== undefined &&
    (typeof scale !== 'object' || scale === null || Array.isArray(scale))
  ) {
    throw new InvalidOptionError(owner, 'scale', scale, 'an options object or false');
  }
  return asPart(
    owner,
    'scale.',
    () => egGlobalScale(scale as EgGlobalScaleOptions) as GradientTransformation<EgScaleLinkState>,
  );
}

/** Options of {@link egSgdm}. @category Optimizers */
export interface EgSgdmOptions extends EgParts {
  /** Momentum decay `mu` in `[0, 1)`. Default `0.9`. */
  readonly momentum?: number;
  /** Nesterov momentum. Default `false`. */
  readonly nesterov?: boolean;
}

/** State of {@link egSgdm}: gains, momentum, scale, learning-rate count. @category Optimizers */
export type EgSgdmState = readonly [
  EgGainsLinkState,
  TraceState,
  EgScaleLinkState,
  ScaleByScheduleState,
];

/**
 * SGD with momentum, per-coordinate gains and a step-size scale adapted by
 * exponentiated-gradient updates: the reference ("funnel") algorithm of Amid,
 * Anil, Fifty and Warmuth, *Step-size Adaptation Using Exponentiated Gradient
 * Updates* (arXiv 2202.00145, 2022):
 *
 * ```
 * chain(egCoordinateGains(gains), trace({ decay: momentum, nesterov }),
 *       egGlobalScale(scale), scaleByLearningRate(lr))
 * ```
 *
 * Each step, with gradient `g`, gains `p`, momentum `v`, gradient EMA `gbar`
 * and scale `s` (previous values on the right):
 *
 * ```
 * s    <- clip(s * exp(eta_s * cos(g, v)), 0.1, 10)
 * p    <- clip(p * exp(eta_p * sign(g) * sign(gbar)), 0.01, 100)
 * v    <- momentum * v + p * g
 * gbar <- beta * gbar + (1 - beta) * g
 * θ    <- θ - lr * s * v
 * ```
 *
 * With a constant `lr` this is the reference algorithm step for step (the
 * reference keeps `lr` inside `v`), with one scale for the whole model by
 * default; pass `scale: { perTensor: true }` for the reference's scale per
 * parameter tensor. With `scale: { normalize: false }` the signal `<g, v>`
 * lacks the reference's factor `lr` (see {@link egGlobalScale}).
 * `gains: false` or `scale: false` switch a part off.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Optimizers
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { egSgdm, readEgScale } from '@tfopt/eg';
 * const w = { x: tf.variable(tf.tensor([3, -1])) };
 * const tx = egSgdm(0.05, { momentum: 0.9, scale: { scaleLearningRate: 0.01 } });
 * let state = tx.init(w);
 * for (let i = 0; i < 100; i++) {
 *   const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 *   state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 *   tf.dispose([value, grads]);
 * }
 * console.log(readEgScale(state));
 * ```
 */
export function egSgdm(
  learningRate: ScalarOrSchedule,
  options?: EgSgdmOptions,
): GradientTransformation<EgSgdmState> {
  const owner = 'egSgdm';
  checkLearningRate(owner, learningRate);
  assertKnownOptions(owner, options, ['momentum', 'nesterov', 'gains', 'scale']);
  const { momentum = 0.9, nesterov = false, gains, scale } = options ?? {};
  assertOptions(owner, { momentum: [momentum, decayRate], nesterov: [nesterov, boolean] });
  return withSpec(
    chain(
      gainsLink(owner, gains),
      trace({ decay: momentum, nesterov }),
      scaleLink(owner, scale),
      scaleByLearningRate(learningRate),
    ),
    owner,
    [learningRate, options],
  );
}

/** Options of {@link egAdam}: Adam's options and the EG parts. @category Optimizers */
export interface EgAdamOptions extends ScaleByAdamOptions, EgParts {}

/** State of {@link egAdam}: Adam's moments, gains, scale, learning-rate count. @category Optimizers */
export type EgAdamState = readonly [
  ScaleByAdamState,
  EgGainsLinkState,
  EgScaleLinkState,
  ScaleByScheduleState,
];

/**
 * Adam with per-coordinate gains and a step-size scale adapted by
 * exponentiated-gradient updates (Amid et al., arXiv 2202.00145):
 *
 * ```
 * chain(scaleByAdam({ b1, b2, eps, epsRoot }), egCoordinateGains(gains),
 *       egGlobalScale(scale), scaleByLearningRate(lr))
 * ```
 *
 * The gains act on Adam's normalised update (before it, Adam would divide
 * them away); both EG parts take their signal from the raw gradient, and the
 * scale aligns it with the previous step's (gained) Adam direction.
 * `gains: false` or `scale: false` switch a part off.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Optimizers
 * @example
 * ```ts
 * import { egAdam } from '@tfopt/eg';
 * const globalOnly = egAdam(1e-3, { gains: false, scale: { scaleLearningRate: 0.01 } });
 * ```
 */
export function egAdam(
  learningRate: ScalarOrSchedule,
  options?: EgAdamOptions,
): GradientTransformation<EgAdamState> {
  const owner = 'egAdam';
  checkLearningRate(owner, learningRate);
  assertKnownOptions(owner, options, ['b1', 'b2', 'eps', 'epsRoot', 'gains', 'scale']);
  const { gains, scale, ...adamOptions } = options ?? {};
  return withSpec(
    chain(
      asPart(owner, '', () => scaleByAdam(adamOptions)),
      gainsLink(owner, gains),
      scaleLink(owner, scale),
      scaleByLearningRate(learningRate),
    ),
    owner,
    [learningRate, options],
  );
}

/** Options of {@link egAdagrad}: AdaGrad's options and the EG parts. @category Optimizers */
export interface EgAdagradOptions extends ScaleByAdagradOptions, EgParts {}

/** State of {@link egAdagrad}: sum of squares, gains, scale, learning-rate count. @category Optimizers */
export type EgAdagradState = readonly [
  ScaleByAdagradState,
  EgGainsLinkState,
  EgScaleLinkState,
  ScaleByScheduleState,
];

/**
 * AdaGrad with per-coordinate gains and a step-size scale adapted by
 * exponentiated-gradient updates (Amid et al., arXiv 2202.00145):
 *
 * ```
 * chain(scaleByAdagrad({ initialAccumulatorValue, eps }), egCoordinateGains(gains),
 *       egGlobalScale(scale), scaleByLearningRate(lr))
 * ```
 *
 * As in {@link egAdam}, the gains act after AdaGrad's normalisation.
 * `gains: false` or `scale: false` switch a part off.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Optimizers
 * @example
 * ```ts
 * import { egAdagrad } from '@tfopt/eg';
 * const tx = egAdagrad(0.1, { scale: { perTensor: true } });
 * ```
 */
export function egAdagrad(
  learningRate: ScalarOrSchedule,
  options?: EgAdagradOptions,
): GradientTransformation<EgAdagradState> {
  const owner = 'egAdagrad';
  checkLearningRate(owner, learningRate);
  assertKnownOptions(owner, options, ['initialAccumulatorValue', 'eps', 'gains', 'scale']);
  const { gains, scale, ...adagradOptions } = options ?? {};
  return withSpec(
    chain(
      asPart(owner, '', () => scaleByAdagrad(adagradOptions)),
      gainsLink(owner, gains),
      scaleLink(owner, scale),
      scaleByLearningRate(learningRate),
    ),
    owner,
    [learningRate, options],
  );
}
