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
  assertOptions,
  boolean,
  decayRate,
  nonNegative,
  numberOrFunction,
} from '@tfopt/core/options';
import {
  ADAGRAD_DEFAULTS,
  ADAGRAD_RULES,
  type ScaleByAdagradOptions,
  type ScaleByAdagradState,
  scaleByAdagrad,
} from './adagrad.js';
import {
  ADAM_DEFAULTS,
  ADAM_RULES,
  type ScaleByAdamOptions,
  type ScaleByAdamState,
  scaleByAdam,
} from './adam.js';
import { type OptionRules, readOptions } from './options.js';
import {
  RMS_DEFAULTS,
  RMS_RULES,
  type ScaleByRmsOptions,
  type ScaleByRmsState,
  type ScaleByStddevState,
  scaleByRms,
  scaleByStddev,
} from './rms.js';
import { type ScaleByScheduleState, scaleByLearningRate } from './scale.js';
import { type TraceState, trace } from './trace.js';
import {
  type AddDecayedWeightsOptions,
  addDecayedWeights,
  assertMask,
  WEIGHT_DECAY_RULES,
} from './weightDecay.js';

function checkLearningRate(owner: string, learningRate: unknown): void {
  assertOptions(owner, { learningRate: [learningRate, numberOrFunction(nonNegative)] });
}

function checkNesterov(owner: string, momentum: number | undefined, nesterov: boolean): void {
  if (nesterov && momentum === undefined) {
    throw new InvalidOptionError(owner, 'nesterov', nesterov, 'false unless "momentum" is set');
  }
}

/** Options of {@link sgd}. @category Aliases */
export interface SgdOptions {
  /** Momentum decay in `[0, 1)`; no momentum buffer when absent. */
  readonly momentum?: number;
  /** Nesterov momentum (needs `momentum`). Default `false`. */
  readonly nesterov?: boolean;
}

/** State of {@link sgd}: the momentum trace (or nothing) and the step count. @category Aliases */
export type SgdState = readonly [TraceState | EmptyState, ScaleByScheduleState];

/**
 * Stochastic gradient descent, optionally with heavy-ball or Nesterov
 * momentum: `chain(trace({ decay: momentum, nesterov }), scaleByLearningRate(lr))`.
 *
 * ```
 * t ← momentum·t + g
 * θ ← θ − lr·t                    (nesterov: θ ← θ − lr·(g + momentum·t))
 * ```
 *
 * Same algorithm as `tf.train.sgd(lr)` without momentum and
 * `tf.train.momentum(lr, momentum, nesterov)` with it (both accumulate the raw
 * gradient and apply the learning rate afterwards).
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { sgd } from '@tfopt/transforms';
 * const w = { x: tf.variable(tf.tensor([3])) };
 * const tx = sgd(0.1, { momentum: 0.9 });
 * let state = tx.init(w);
 * const { grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 * state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 * ```
 */
export function sgd(
  learningRate: ScalarOrSchedule,
  options?: SgdOptions,
): GradientTransformation<SgdState> {
  checkLearningRate('sgd', learningRate);
  const { momentum, nesterov } = readOptions(
    'sgd',
    options,
    { momentum: decayRate, nesterov: boolean },
    { nesterov: false },
  );
  checkNesterov('sgd', momentum, nesterov);
  const head = (
    momentum === undefined ? identity() : trace({ decay: momentum, nesterov })
  ) as GradientTransformation<TraceState | EmptyState>;
  return withSpec(chain(head, scaleByLearningRate(learningRate)), 'sgd', [learningRate, options]);
}

/** Options of {@link adam}. @category Aliases */
export type AdamOptions = ScaleByAdamOptions;

/** State of {@link adam}. @category Aliases */
export type AdamState = readonly [ScaleByAdamState, ScaleByScheduleState];

/**
 * Adam (Kingma & Ba, 2015): `chain(scaleByAdam(options), scaleByLearningRate(lr))`.
 *
 * ```
 * mu ← b1·mu + (1 − b1)·g        nu ← b2·nu + (1 − b2)·g²
 * θ  ← θ − lr · (mu / (1 − b1^t)) / (sqrt(nu / (1 − b2^t) + epsRoot) + eps)
 * ```
 *
 * Differences from `tf.train.adam(lr, b1, b2, epsilon)`: the same formula
 * (epsilon outside the square root of the bias-corrected second moment), but
 * tf.train's default epsilon is the backend's (`1e-7` on cpu and wasm) where
 * the default here is `1e-8`; tf.train keeps `b1^t`, `b2^t` as float32
 * tensors while here they are computed in float64; tf.train has no `epsRoot`.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { adam } from '@tfopt/transforms';
 * const w = { x: tf.variable(tf.tensor([3, -1])) };
 * const tx = adam(1e-2);
 * let state = tx.init(w);
 * for (let i = 0; i < 100; i++) {
 *   const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 *   state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 *   tf.dispose([value, grads]);
 * }
 * ```
 */
export function adam(
  learningRate: ScalarOrSchedule,
  options?: AdamOptions,
): GradientTransformation<AdamState> {
  checkLearningRate('adam', learningRate);
  const resolved = readOptions('adam', options, ADAM_RULES, ADAM_DEFAULTS);
  return withSpec(chain(scaleByAdam(resolved), scaleByLearningRate(learningRate)), 'adam', [
    learningRate,
    options,
  ]);
}

/** Options of {@link adamw}. @category Aliases */
export interface AdamwOptions extends ScaleByAdamOptions {
  /** Decoupled weight decay coefficient, `>= 0`. Default `1e-4`. */
  readonly weightDecay?: number;
  /** Leaves to decay (see {@link addDecayedWeights}). Default: every leaf. */
  readonly mask?: AddDecayedWeightsOptions['mask'];
}

/** State of {@link adamw}. @category Aliases */
export type AdamwState = readonly [ScaleByAdamState, EmptyState, ScaleByScheduleState];

const ADAMW_RULES: OptionRules<AdamwOptions> = { ...ADAM_RULES, ...WEIGHT_DECAY_RULES };

/**
 * AdamW, Adam with decoupled weight decay (Loshchilov & Hutter, 2019):
 * `chain(scaleByAdam(...), addDecayedWeights({ weightDecay, mask }), scaleByLearningRate(lr))`.
 *
 * ```
 * θ ← θ − lr · (adamUpdate + weightDecay·θ)
 * ```
 *
 * The decay is scaled by the learning rate (as in Optax and PyTorch), not
 * applied at a fixed rate. tfjs has no AdamW.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import { adamw } from '@tfopt/transforms';
 * const tx = adamw(1e-3, { weightDecay: 1e-2, mask: { kernel: true, bias: false } });
 * ```
 */
export function adamw(
  learningRate: ScalarOrSchedule,
  options?: AdamwOptions,
): GradientTransformation<AdamwState> {
  checkLearningRate('adamw', learningRate);
  const { weightDecay, mask, ...adamOptions } = readOptions('adamw', options, ADAMW_RULES, {
    ...ADAM_DEFAULTS,
    weightDecay: 1e-4,
  });
  assertMask('adamw', mask);
  return withSpec(
    chain(
      scaleByAdam(adamOptions),
      addDecayedWeights(mask === undefined ? { weightDecay } : { weightDecay, mask }),
      scaleByLearningRate(learningRate),
    ),
    'adamw',
    [learningRate, options],
  );
}

/** Options of {@link adagrad}. @category Aliases */
export type AdagradOptions = ScaleByAdagradOptions;

/** State of {@link adagrad}. @category Aliases */
export type AdagradState = readonly [ScaleByAdagradState, ScaleByScheduleState];

/**
 * AdaGrad (Duchi et al., 2011): `chain(scaleByAdagrad(options), scaleByLearningRate(lr))`.
 *
 * ```
 * s ← s + g²            (s starts at initialAccumulatorValue)
 * θ ← θ − lr · g / sqrt(s + eps)
 * ```
 *
 * Same algorithm as `tf.train.adagrad(lr, initialAccumulatorValue)`: tf.train
 * always adds the backend epsilon (`1e-7` on cpu and wasm) inside the square
 * root, which is the default `eps` here; here it can be changed.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import { adagrad } from '@tfopt/transforms';
 * const tx = adagrad(0.1, { initialAccumulatorValue: 0.1 });
 * ```
 */
export function adagrad(
  learningRate: ScalarOrSchedule,
  options?: AdagradOptions,
): GradientTransformation<AdagradState> {
  checkLearningRate('adagrad', learningRate);
  const resolved = readOptions('adagrad', options, ADAGRAD_RULES, ADAGRAD_DEFAULTS);
  return withSpec(chain(scaleByAdagrad(resolved), scaleByLearningRate(learningRate)), 'adagrad', [
    learningRate,
    options,
  ]);
}

/** Options of {@link rmsprop}. @category Aliases */
export interface RmspropOptions extends ScaleByRmsOptions {
  /** Divide by the standard deviation instead of the root mean square. Default `false`. */
  readonly centered?: boolean;
  /** Momentum decay in `[0, 1)`, applied after the learning rate; none when absent. */
  readonly momentum?: number;
  /** Nesterov momentum (needs `momentum`). Default `false`. */
  readonly nesterov?: boolean;
}

/** State of {@link rmsprop}. @category Aliases */
export type RmspropState = readonly [
  ScaleByRmsState | ScaleByStddevState,
  ScaleByScheduleState,
  TraceState | EmptyState,
];

/**
 * RMSProp (Tieleman & Hinton, 2012; centered: Graves, 2013):
 * `chain(scaleByRms(...) or scaleByStddev(...), scaleByLearningRate(lr), trace({ decay: momentum, nesterov }))`.
 *
 * ```
 * nu ← decay·nu + (1 − decay)·g²          (centered: also mu ← decay·mu + (1 − decay)·g)
 * m  ← momentum·m + lr·g / sqrt(nu + eps)  (centered: sqrt(nu − mu² + eps))
 * θ  ← θ − m
 * ```
 *
 * Differences from `tf.train.rmsprop(lr, decay, momentum, epsilon, centered)`:
 * both put epsilon inside the square root and accumulate momentum on the
 * already-scaled step, so for a constant learning rate the algorithms agree,
 * except that tf.train's default epsilon is the backend's (`1e-7` on cpu and
 * wasm; `1e-8` here) and that tf.train's centered variant computes
 * `sqrt(ms − mg² − epsilon)`, subtracting epsilon, so centered runs agree
 * only with `eps = 0`. tf.train has no `initialScale` (always 0) and no
 * Nesterov momentum.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import { rmsprop } from '@tfopt/transforms';
 * const tx = rmsprop(1e-3, { decay: 0.9, momentum: 0.9, centered: true });
 * ```
 */
export function rmsprop(
  learningRate: ScalarOrSchedule,
  options?: RmspropOptions,
): GradientTransformation<RmspropState> {
  checkLearningRate('rmsprop', learningRate);
  const { centered, momentum, nesterov, ...rmsOptions } = readOptions(
    'rmsprop',
    options,
    { ...RMS_RULES, centered: boolean, momentum: decayRate, nesterov: boolean },
    { ...RMS_DEFAULTS, centered: false, nesterov: false },
  );
  checkNesterov('rmsprop', momentum, nesterov);
  const scaler = (
    centered ? scaleByStddev(rmsOptions) : scaleByRms(rmsOptions)
  ) as GradientTransformation<ScaleByRmsState | ScaleByStddevState>;
  const tail = (
    momentum === undefined ? identity() : trace({ decay: momentum, nesterov })
  ) as GradientTransformation<TraceState | EmptyState>;
  return withSpec(chain(scaler, scaleByLearningRate(learningRate), tail), 'rmsprop', [
    learningRate,
    options,
  ]);
}
