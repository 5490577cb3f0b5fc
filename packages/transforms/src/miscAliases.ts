// Aliases of the noisy, optimistic, Polyak and sign methods: each only a chain.
import {
  chain,
  type EmptyState,
  type GradientTransformation,
  type ScalarOrSchedule,
  withSpec,
} from '@tfopt/core';
import { assertOptions, decayRate, nonNegative, numberOrFunction } from '@tfopt/core/options';
import {
  ADAM_DEFAULTS,
  ADAM_RULES,
  type ScaleByAdamOptions,
  type ScaleByAdamState,
  scaleByAdam,
} from './adam.js';
import { ADD_NOISE_RULES, type AddNoiseState, addNoise, seedToKey } from './noise.js';
import {
  OPTIMISTIC_DEFAULTS,
  OPTIMISTIC_RULES,
  type ScaleByOptimisticGradientOptions,
  type ScaleByOptimisticGradientState,
  scaleByOptimisticGradient,
} from './optimistic.js';
import { type OptionRules, readOptions } from './options.js';
import {
  POLYAK_DEFAULTS,
  POLYAK_RULES,
  type PolyakVariant,
  scaleByPolyakStepSize,
} from './polyak.js';
import { type ScaleByScheduleState, scaleByLearningRate } from './scale.js';
import { scaleBySign } from './sign.js';
import { type EmaState, ema } from './trace.js';

function checkLearningRate(owner: string, learningRate: unknown): void {
  assertOptions(owner, { learningRate: [learningRate, numberOrFunction(nonNegative)] });
}

/** Options of {@link noisySgd}. @category Aliases */
export interface NoisySgdOptions {
  /** Variance of the noise on the first update, `>= 0`. Default `0.01`. */
  readonly eta?: number;
  /** Decay exponent of the variance, `>= 0`. Default `0.55`. */
  readonly gamma?: number;
  /** Seed of the noise stream, an integer in `[0, 2^32)`. Default `0`. */
  readonly seed?: number;
}

/** State of {@link noisySgd}. @category Aliases */
export type NoisySgdState = readonly [AddNoiseState, ScaleByScheduleState];

/**
 * SGD with annealed Gaussian gradient noise (Neelakantan et al., 2015,
 * "Adding Gradient Noise Improves Learning for Very Deep Networks",
 * arXiv:1511.06807): `chain(addNoise({ eta, gamma, seed }), scaleByLearningRate(lr))`.
 * With `t` the update number, from 1:
 *
 * ```
 * sigma_t² = eta / t^gamma
 * θ ← θ − lr · (g + sigma_t·z),     z ~ N(0, 1) per coordinate
 * ```
 *
 * Optax's defaults (`eta = 0.01`, `gamma = 0.55`, the paper's values). The
 * noise is a deterministic stream of the seed, kept in the state as plain
 * numbers, so two runs with one seed are identical and a saved state resumes
 * the same stream (see {@link addNoise}). tfjs has no noisy SGD.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { noisySgd } from '@tfopt/transforms';
 * const w = { x: tf.variable(tf.tensor([3, -1])) };
 * const tx = noisySgd(0.1, { seed: 7 });
 * let state = tx.init(w);
 * for (let i = 0; i < 100; i++) {
 *   const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 *   state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 *   tf.dispose([value, grads]);
 * }
 * ```
 */
export function noisySgd(
  learningRate: ScalarOrSchedule,
  options?: NoisySgdOptions,
): GradientTransformation<NoisySgdState> {
  checkLearningRate('noisySgd', learningRate);
  const noise = readOptions('noisySgd', options, ADD_NOISE_RULES, {
    eta: 0.01,
    gamma: 0.55,
    seed: 0,
  });
  seedToKey('noisySgd', noise.seed);
  return withSpec(chain(addNoise(noise), scaleByLearningRate(learningRate)), 'noisySgd', [
    learningRate,
    options,
  ]);
}

/** Options of {@link optimisticGradientDescent}. @category Aliases */
export type OptimisticGradientDescentOptions = ScaleByOptimisticGradientOptions;

/** State of {@link optimisticGradientDescent}. @category Aliases */
export type OptimisticGradientDescentState = readonly [
  ScaleByOptimisticGradientState,
  ScaleByScheduleState,
];

/**
 * Optimistic gradient descent (Mokhtari, Ozdaglar & Pattathil, 2019, "A
 * Unified Analysis of Extra-gradient and Optimistic Gradient Methods for
 * Saddle Point Problems: Proximal Point Approach", arXiv:1901.08511):
 * `chain(scaleByOptimisticGradient({ alpha, beta }), scaleByLearningRate(lr))`.
 *
 * ```
 * u_t ← (alpha + beta)·g_t − beta·g_(t−1)        (g_0 = g_1: the first step is alpha·g_1)
 * θ   ← θ − lr · u_t
 * ```
 *
 * A one-gradient approximation of extra-gradient, with last-iterate
 * convergence on min-max games (descend on one player's gradient, ascend on
 * the other's) where plain gradient descent-ascent cycles or diverges.
 * Optax's defaults, `alpha = beta = 1`. tfjs has no optimistic method.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { optimisticGradientDescent } from '@tfopt/transforms';
 * // The bilinear game min_x max_y x·y: descend in x, ascend in y (negated gradient).
 * const p = { x: tf.variable(tf.scalar(1)), y: tf.variable(tf.scalar(2)) };
 * const tx = optimisticGradientDescent(0.2);
 * let state = tx.init(p);
 * for (let i = 0; i < 500; i++) {
 *   const grads = tf.tidy(() => ({ x: p.y.clone(), y: tf.neg(p.x) }));
 *   state = stepVariables(tx, p, grads, state);
 *   tf.dispose([grads.x, grads.y]);
 * }
 * console.log(Math.hypot(p.x.dataSync()[0]!, p.y.dataSync()[0]!)); // about 5e-5, from sqrt(5)
 * ```
 */
export function optimisticGradientDescent(
  learningRate: ScalarOrSchedule,
  options?: OptimisticGradientDescentOptions,
): GradientTransformation<OptimisticGradientDescentState> {
  checkLearningRate('optimisticGradientDescent', learningRate);
  const resolved = readOptions(
    'optimisticGradientDescent',
    options,
    OPTIMISTIC_RULES,
    OPTIMISTIC_DEFAULTS,
  );
  return withSpec(
    chain(scaleByOptimisticGradient(resolved), scaleByLearningRate(learningRate)),
    'optimisticGradientDescent',
    [learningRate, options],
  );
}

/** Options of {@link optimisticAdam}. @category Aliases */
export interface OptimisticAdamOptions
  extends ScaleByAdamOptions,
    ScaleByOptimisticGradientOptions {}

/** State of {@link optimisticAdam}. @category Aliases */
export type OptimisticAdamState = readonly [
  ScaleByAdamState,
  ScaleByOptimisticGradientState,
  ScaleByScheduleState,
];

const OPTIMISTIC_ADAM_RULES: OptionRules<OptimisticAdamOptions> = {
  ...ADAM_RULES,
  ...OPTIMISTIC_RULES,
};

/**
 * Optimistic Adam (Daskalakis et al., 2018, "Training GANs with Optimism",
 * arXiv:1711.00141): the optimistic step taken on Adam's direction,
 * `chain(scaleByAdam({ b1, b2, eps, epsRoot, nesterov }), scaleByOptimisticGradient({ alpha, beta }), scaleByLearningRate(lr))`.
 * With `r_t` Adam's update (see {@link scaleByAdam}):
 *
 * ```
 * r_t ← (mu_t / (1 − b1^t)) / (sqrt(nu_t / (1 − b2^t) + epsRoot) + eps)
 * θ   ← θ − lr · ((alpha + beta)·r_t − beta·r_(t−1))       (r_0 = r_1)
 * ```
 *
 * This is Optax's `optimistic_adam_v2`, with its defaults: `alpha = beta = 1`,
 * `nesterov = true` (NAdam's look-ahead moment), Adam's `b1 = 0.9`,
 * `b2 = 0.999`, `eps = 1e-8`, `epsRoot = 0`. Optax's older
 * `optimistic_adam(lr, optimism)` (deprecated there, and without schedules)
 * is `optimisticAdam(1, { alpha: lr, beta: optimism })`. tfjs has no
 * optimistic method.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { optimisticAdam } from '@tfopt/transforms';
 * // Optax's example: the bilinear game min_x max_y x·y from (1, 2), with a small
 * // alpha and beta = 1 (Optax's deprecated optimistic_adam(0.01, 1)).
 * const p = { x: tf.variable(tf.scalar(1)), y: tf.variable(tf.scalar(2)) };
 * const tx = optimisticAdam(1, { alpha: 0.01, beta: 1 });
 * let state = tx.init(p);
 * for (let i = 0; i < 1024; i++) {
 *   const grads = tf.tidy(() => ({ x: p.y.clone(), y: tf.neg(p.x) }));
 *   state = stepVariables(tx, p, grads, state);
 *   tf.dispose([grads.x, grads.y]);
 * }
 * console.log(Math.hypot(p.x.dataSync()[0]!, p.y.dataSync()[0]!)); // 0.001, from 2.236
 * ```
 */
export function optimisticAdam(
  learningRate: ScalarOrSchedule,
  options?: OptimisticAdamOptions,
): GradientTransformation<OptimisticAdamState> {
  checkLearningRate('optimisticAdam', learningRate);
  const { alpha, beta, ...adam } = readOptions('optimisticAdam', options, OPTIMISTIC_ADAM_RULES, {
    ...ADAM_DEFAULTS,
    ...OPTIMISTIC_DEFAULTS,
    nesterov: true,
  });
  return withSpec(
    chain(
      scaleByAdam(adam),
      scaleByOptimisticGradient({ alpha, beta }),
      scaleByLearningRate(learningRate),
    ),
    'optimisticAdam',
    [learningRate, options],
  );
}

/** Options of {@link polyakSgd}. @category Aliases */
export interface PolyakSgdOptions {
  /** Factor on the gradient before the Polyak step: a number `>= 0` or a schedule. Default `1`. */
  readonly scaling?: ScalarOrSchedule;
  /** A lower bound on the loss, `f*` below. Default `0`. */
  readonly fMin?: number;
  /** Added to the squared norm in the denominator, `>= 0`. Default `0`. */
  readonly eps?: number;
  /** `'sps'`, or `'sps+'` to clip the gap `loss − fMin` at 0. Default `'sps'`. */
  readonly variant?: PolyakVariant;
}

/** State of {@link polyakSgd}. @category Aliases */
export type PolyakSgdState = readonly [ScaleByScheduleState, EmptyState];

const POLYAK_SGD_RULES: OptionRules<PolyakSgdOptions> = {
  scaling: numberOrFunction(nonNegative),
  fMin: POLYAK_RULES.fMin,
  eps: POLYAK_RULES.eps,
  variant: POLYAK_RULES.variant,
};

/**
 * SGD with the stochastic Polyak step size (Loizou et al., 2021,
 * "Stochastic Polyak Step-size for SGD: An Adaptive Learning Rate for Fast
 * Convergence", arXiv:2002.10542; `'sps+'`: Garrigos et al., 2023,
 * arXiv:2307.14528), capped at `maxLearningRate`:
 * `chain(scaleByLearningRate(scaling), scaleByPolyakStepSize({ maxLearningRate, fMin, eps, variant }))`.
 * With `s` the scaling and `f` the loss at the current params:
 *
 * ```
 * u    = −s·g
 * step = min((f − fMin) / (‖u‖² + eps), maxLearningRate)      (0 when ‖u‖² + eps <= 2.2e-16)
 * θ    ← θ + step · u
 * ```
 *
 * The learning rate, first argument as for every alias, is the cap
 * `maxLearningRate` (Optax's first argument too, default `1`); it is a
 * number (under `injectHyperparams` it can follow a schedule). As in Optax the
 * norm is of the scaled update, so with `s ≠ 1` the uncapped step is
 * `(f − fMin)·g / (s·‖g‖²)`. Every update needs the loss, in
 * `context.loss`: `step(tx, params, grads, state, { loss })`,
 * `stepVariables(...)` likewise, or `TransformOptimizer` (`model.fit`),
 * which passes it; without it `update` throws. `fMin` must be a lower bound
 * on the loss (`0` for a model that can fit the data exactly). tfjs has no
 * Polyak step size.
 *
 * @param maxLearningRate - The cap on the step size, a number `>= 0`. Default `1`.
 * @category Aliases
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { polyakSgd } from '@tfopt/transforms';
 * const w = { x: tf.variable(tf.tensor([1, 2, 3])) };
 * const tx = polyakSgd(1);
 * let state = tx.init(w);
 * for (let i = 0; i < 5; i++) {
 *   const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 *   // f = ‖x‖², ‖g‖² = 4f: each step halves x, so f falls by 4 (14, 3.5, 0.875, ...).
 *   state = stepVariables(tx, w, { x: grads[w.x.name]! }, state, { loss: value });
 *   tf.dispose([value, grads]);
 * }
 * ```
 */
export function polyakSgd(
  maxLearningRate = POLYAK_DEFAULTS.maxLearningRate as number,
  options?: PolyakSgdOptions,
): GradientTransformation<PolyakSgdState> {
  assertOptions('polyakSgd', { maxLearningRate: [maxLearningRate, nonNegative] });
  const { scaling, fMin, eps, variant } = readOptions('polyakSgd', options, POLYAK_SGD_RULES, {
    scaling: 1,
    fMin: POLYAK_DEFAULTS.fMin,
    eps: POLYAK_DEFAULTS.eps,
    variant: POLYAK_DEFAULTS.variant,
  });
  return withSpec(
    chain(
      scaleByLearningRate(scaling),
      scaleByPolyakStepSize({ maxLearningRate, fMin, eps, variant }),
    ),
    'polyakSgd',
    [maxLearningRate, options],
  );
}

/** State of {@link signSgd}. @category Aliases */
export type SignSgdState = readonly [EmptyState, ScaleByScheduleState];

/**
 * signSGD (Bernstein et al., 2018, "signSGD: Compressed Optimisation for
 * Non-Convex Problems", arXiv:1802.04434): a step of fixed length in the
 * direction of the gradient's signs,
 * `chain(scaleBySign(), scaleByLearningRate(lr))`.
 *
 * ```
 * θ ← θ − lr · sign(g)
 * ```
 *
 * Every coordinate moves by exactly `lr` (or not at all where `g = 0`), so
 * a fixed rate ends oscillating within `lr` of a minimum: pair it with a
 * decaying schedule. No options. tfjs has no signSGD.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { signSgd } from '@tfopt/transforms';
 * const w = { x: tf.variable(tf.tensor([3, -1])) };
 * const tx = signSgd((count) => 0.1 * 0.97 ** count);
 * let state = tx.init(w);
 * for (let i = 0; i < 100; i++) {
 *   const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 *   state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 *   tf.dispose([value, grads]);
 * }
 * ```
 */
export function signSgd(learningRate: ScalarOrSchedule): GradientTransformation<SignSgdState> {
  checkLearningRate('signSgd', learningRate);
  return withSpec(chain(scaleBySign(), scaleByLearningRate(learningRate)), 'signSgd', [
    learningRate,
  ]);
}

/** Options of {@link signum}. @category Aliases */
export interface SignumOptions {
  /** Decay of the moving average of the gradients, in `[0, 1)`. Default `0.9`. */
  readonly beta?: number;
}

/** State of {@link signum}. @category Aliases */
export type SignumState = readonly [EmaState, EmptyState, ScaleByScheduleState];

/**
 * Signum, signSGD with momentum (Bernstein et al., 2018, arXiv:1802.04434;
 * Zhao et al., 2024, "Deconstructing What Makes a Good Optimizer for
 * Language Models", arXiv:2407.07972): the sign of a moving average of the
 * gradients,
 * `chain(ema({ decay: beta, debias: false }), scaleBySign(), scaleByLearningRate(lr))`.
 *
 * ```
 * m ← beta·m + (1 − beta)·g
 * θ ← θ − lr · sign(m)
 * ```
 *
 * The average is not debiased: that would rescale it by a positive number,
 * which leaves its sign unchanged. Optax's default `beta = 0.9`. tfjs has no
 * Signum.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { signum } from '@tfopt/transforms';
 * const w = { x: tf.variable(tf.tensor([3, -1])) };
 * const tx = signum((count) => 0.1 * 0.97 ** count, { beta: 0.8 });
 * let state = tx.init(w);
 * for (let i = 0; i < 100; i++) {
 *   const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 *   state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 *   tf.dispose([value, grads]);
 * }
 * ```
 */
export function signum(
  learningRate: ScalarOrSchedule,
  options?: SignumOptions,
): GradientTransformation<SignumState> {
  checkLearningRate('signum', learningRate);
  const { beta } = readOptions('signum', options, { beta: decayRate }, { beta: 0.9 });
  return withSpec(
    chain(ema({ decay: beta, debias: false }), scaleBySign(), scaleByLearningRate(learningRate)),
    'signum',
    [learningRate, options],
  );
}
