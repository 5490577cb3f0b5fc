// Aliases of Adam's relatives and of Lion, NovoGrad and Adan: each only a chain.
import {
  chain,
  type EmptyState,
  type GradientTransformation,
  identity,
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
import { ADAN_RULES, type ScaleByAdanOptions, type ScaleByAdanState, scaleByAdan } from './adan.js';
import {
  ADAMAX_DEFAULTS,
  ADAMAX_RULES,
  AMSGRAD_DEFAULTS,
  AMSGRAD_RULES,
  BELIEF_DEFAULTS,
  BELIEF_RULES,
  RADAM_DEFAULTS,
  RADAM_RULES,
  type ScaleByAdamaxOptions,
  type ScaleByAdamaxState,
  type ScaleByAmsgradOptions,
  type ScaleByAmsgradState,
  type ScaleByBeliefOptions,
  type ScaleByBeliefState,
  type ScaleByRadamOptions,
  type ScaleByRadamState,
  type ScaleByYogiOptions,
  type ScaleByYogiState,
  scaleByAdamax,
  scaleByAmsgrad,
  scaleByBelief,
  scaleByRadam,
  scaleByYogi,
  YOGI_DEFAULTS,
  YOGI_RULES,
} from './adaptive.js';
import { type ScaleByLionState, scaleByLion } from './lion.js';
import {
  NOVOGRAD_RULES,
  type ScaleByNovogradOptions,
  type ScaleByNovogradState,
  scaleByNovograd,
} from './novograd.js';
import { readOptions } from './options.js';
import { type ScaleByScheduleState, scaleByLearningRate } from './scale.js';
import {
  type AddDecayedWeightsOptions,
  addDecayedWeights,
  assertMask,
  WEIGHT_DECAY_RULES,
} from './weightDecay.js';

function checkLearningRate(owner: string, learningRate: unknown): void {
  assertOptions(owner, { learningRate: [learningRate, numberOrFunction(nonNegative)] });
}

/** Options that add decoupled weight decay through {@link addDecayedWeights}. @category Aliases */
export interface DecoupledWeightDecayOptions {
  /** Decoupled weight decay coefficient, `>= 0` (multiplied by the learning rate). */
  readonly weightDecay?: number;
  /** Leaves to decay (see {@link addDecayedWeights}). Default: every leaf. */
  readonly mask?: AddDecayedWeightsOptions['mask'];
}

/** The weight-decay link of an alias, checked under the alias's name. */
function decayLink(
  owner: string,
  weightDecay: number,
  mask: AddDecayedWeightsOptions['mask'] | undefined,
): GradientTransformation<EmptyState> {
  assertMask(owner, mask);
  return addDecayedWeights(mask === undefined ? { weightDecay } : { weightDecay, mask });
}

/** Options of {@link adabelief}. @category Aliases */
export interface AdabeliefOptions extends ScaleByBeliefOptions, DecoupledWeightDecayOptions {}

/** State of {@link adabelief}: the belief moments, the weight decay's (empty) state, the step count. @category Aliases */
export type AdabeliefState = readonly [ScaleByBeliefState, EmptyState, ScaleByScheduleState];

/**
 * AdaBelief (Zhuang et al., 2020, "AdaBelief Optimizer: Adapting Stepsizes by
 * the Belief in Observed Gradients", arXiv:2010.07468):
 * `chain(scaleByBelief(...), addDecayedWeights(...) or identity(), scaleByLearningRate(lr))`.
 *
 * ```
 * mu ← b1·mu + (1 − b1)·g
 * s  ← b2·s + (1 − b2)·(g − mu)² + epsRoot
 * θ  ← θ − lr · ((mu / (1 − b1^t)) / (sqrt(s / (1 − b2^t)) + eps) + weightDecay·θ)
 * ```
 *
 * Optax's defaults: `eps = epsRoot = 1e-16` (the paper's are `1e-8` and `0`),
 * and no weight decay unless `weightDecay` is given (the weight-decay link is
 * then `identity()`, so the state has the same shape either way). tfjs has no
 * AdaBelief.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { adabelief } from '@tfopt/transforms';
 * const w = { x: tf.variable(tf.tensor([3, -1])) };
 * const tx = adabelief(1e-2);
 * let state = tx.init(w);
 * for (let i = 0; i < 100; i++) {
 *   const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 *   state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 *   tf.dispose([value, grads]);
 * }
 * ```
 */
export function adabelief(
  learningRate: ScalarOrSchedule,
  options?: AdabeliefOptions,
): GradientTransformation<AdabeliefState> {
  checkLearningRate('adabelief', learningRate);
  const { weightDecay, mask, ...belief } = readOptions(
    'adabelief',
    options,
    { ...BELIEF_RULES, ...WEIGHT_DECAY_RULES },
    BELIEF_DEFAULTS,
  );
  assertMask('adabelief', mask);
  const decay = weightDecay === undefined ? identity() : decayLink('adabelief', weightDecay, mask);
  return withSpec(
    chain(scaleByBelief(belief), decay, scaleByLearningRate(learningRate)),
    'adabelief',
    [learningRate, options],
  );
}

/** Options of {@link adamax}. @category Aliases */
export type AdamaxOptions = ScaleByAdamaxOptions;

/** State of {@link adamax}. @category Aliases */
export type AdamaxState = readonly [ScaleByAdamaxState, ScaleByScheduleState];

/**
 * Adamax (Kingma & Ba, 2015, "Adam: A Method for Stochastic Optimization",
 * section 7.1, arXiv:1412.6980), Adam with an infinity norm:
 * `chain(scaleByAdamax(options), scaleByLearningRate(lr))`.
 *
 * ```
 * mu ← b1·mu + (1 − b1)·g        nu ← max(|g| + eps, b2·nu)
 * θ  ← θ − lr · (mu / (1 − b1^t)) / nu
 * ```
 *
 * Differences from `tf.train.adamax(lr, beta1, beta2, epsilon, decay)`:
 * tf.train computes `nu ← max(b2·nu, |g|)` and divides by `nu + epsilon`
 * (epsilon after the maximum, not carried in `nu`), with the backend's
 * epsilon (`1e-7` on cpu and wasm) by default; for `eps = 0` here and
 * `epsilon = 0` there the two are the same algorithm. tf.train's `decay` is a
 * learning-rate decay `lr / (1 + decay·t)` (t counted from 0), which here is
 * the schedule `(count) => lr / (1 + decay·count)`.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import { adamax } from '@tfopt/transforms';
 * // tf.train.adamax(0.002, 0.9, 0.999, 0, 0.01) as an alias with a schedule:
 * const tx = adamax((count) => 0.002 / (1 + 0.01 * count), { eps: 0 });
 * ```
 */
export function adamax(
  learningRate: ScalarOrSchedule,
  options?: AdamaxOptions,
): GradientTransformation<AdamaxState> {
  checkLearningRate('adamax', learningRate);
  const resolved = readOptions('adamax', options, ADAMAX_RULES, ADAMAX_DEFAULTS);
  return withSpec(chain(scaleByAdamax(resolved), scaleByLearningRate(learningRate)), 'adamax', [
    learningRate,
    options,
  ]);
}

/** Options of {@link adamaxw}. @category Aliases */
export interface AdamaxwOptions extends ScaleByAdamaxOptions, DecoupledWeightDecayOptions {}

/** State of {@link adamaxw}. @category Aliases */
export type AdamaxwState = readonly [ScaleByAdamaxState, EmptyState, ScaleByScheduleState];

/**
 * Adamax with decoupled weight decay (Loshchilov & Hutter, 2019, arXiv:1711.05101):
 * `chain(scaleByAdamax(...), addDecayedWeights({ weightDecay, mask }), scaleByLearningRate(lr))`.
 *
 * ```
 * θ ← θ − lr · (adamaxUpdate + weightDecay·θ)      (weightDecay default 1e-4)
 * ```
 *
 * tfjs has no AdamaxW; see {@link adamax} for the differences from `tf.train.adamax`.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import { adamaxw } from '@tfopt/transforms';
 * const tx = adamaxw(2e-3, { weightDecay: 1e-2, mask: { kernel: true, bias: false } });
 * ```
 */
export function adamaxw(
  learningRate: ScalarOrSchedule,
  options?: AdamaxwOptions,
): GradientTransformation<AdamaxwState> {
  checkLearningRate('adamaxw', learningRate);
  const { weightDecay, mask, ...rest } = readOptions(
    'adamaxw',
    options,
    { ...ADAMAX_RULES, ...WEIGHT_DECAY_RULES },
    { ...ADAMAX_DEFAULTS, weightDecay: 1e-4 },
  );
  return withSpec(
    chain(
      scaleByAdamax(rest),
      decayLink('adamaxw', weightDecay, mask),
      scaleByLearningRate(learningRate),
    ),
    'adamaxw',
    [learningRate, options],
  );
}

/** Options of {@link amsgrad}. @category Aliases */
export type AmsgradOptions = ScaleByAmsgradOptions;

/** State of {@link amsgrad}. @category Aliases */
export type AmsgradState = readonly [ScaleByAmsgradState, ScaleByScheduleState];

/**
 * AMSGrad (Reddi, Kale & Kumar, 2018, "On the Convergence of Adam and Beyond",
 * ICLR 2018): `chain(scaleByAmsgrad(options), scaleByLearningRate(lr))`.
 *
 * ```
 * mu ← b1·mu + (1 − b1)·g        nu ← b2·nu + (1 − b2)·g²
 * nuMax ← max(nuMax, nu / (1 − b2^t))
 * θ  ← θ − lr · (mu / (1 − b1^t)) / (sqrt(nuMax + epsRoot) + eps)
 * ```
 *
 * With Optax's defaults both moments are bias-corrected;
 * `biasCorrectionMu: false, biasCorrectionNu: false` is the paper's algorithm.
 * tf.train's Adam has no AMSGrad flag.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import { amsgrad } from '@tfopt/transforms';
 * const tx = amsgrad(1e-3, { b2: 0.99 });
 * ```
 */
export function amsgrad(
  learningRate: ScalarOrSchedule,
  options?: AmsgradOptions,
): GradientTransformation<AmsgradState> {
  checkLearningRate('amsgrad', learningRate);
  const resolved = readOptions('amsgrad', options, AMSGRAD_RULES, AMSGRAD_DEFAULTS);
  return withSpec(chain(scaleByAmsgrad(resolved), scaleByLearningRate(learningRate)), 'amsgrad', [
    learningRate,
    options,
  ]);
}

/** Options of {@link nadam}: Adam's, without `nesterov` (always on). @category Aliases */
export type NadamOptions = Omit<ScaleByAdamOptions, 'nesterov'>;

/** State of {@link nadam}. @category Aliases */
export type NadamState = readonly [ScaleByAdamState, ScaleByScheduleState];

const { nesterov: _nesterovRule, ...NADAM_RULES } = ADAM_RULES;
const { nesterov: _nesterovDefault, ...NADAM_DEFAULTS } = ADAM_DEFAULTS;

/**
 * NAdam, Adam with Nesterov momentum (Dozat, 2016, "Incorporating Nesterov
 * Momentum into Adam", ICLR 2016 workshop):
 * `chain(scaleByAdam({ ...options, nesterov: true }), scaleByLearningRate(lr))`.
 *
 * ```
 * mu ← b1·mu + (1 − b1)·g        nu ← b2·nu + (1 − b2)·g²
 * m̂  = b1·mu / (1 − b1^(t+1)) + (1 − b1)·g / (1 − b1^t)
 * θ  ← θ − lr · m̂ / (sqrt(nu / (1 − b2^t) + epsRoot) + eps)
 * ```
 *
 * Optax's form, which (like PyTorch) omits Dozat's momentum schedule and his
 * extra factor `b2` on the second moment. tfjs has no NAdam.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import { nadam } from '@tfopt/transforms';
 * const tx = nadam(2e-3);
 * ```
 */
export function nadam(
  learningRate: ScalarOrSchedule,
  options?: NadamOptions,
): GradientTransformation<NadamState> {
  checkLearningRate('nadam', learningRate);
  const resolved = readOptions('nadam', options, NADAM_RULES, NADAM_DEFAULTS);
  return withSpec(
    chain(scaleByAdam({ ...resolved, nesterov: true }), scaleByLearningRate(learningRate)),
    'nadam',
    [learningRate, options],
  );
}

/** Options of {@link nadamw}. @category Aliases */
export interface NadamwOptions extends NadamOptions, DecoupledWeightDecayOptions {}

/** State of {@link nadamw}. @category Aliases */
export type NadamwState = readonly [ScaleByAdamState, EmptyState, ScaleByScheduleState];

/**
 * NAdamW, NAdam with decoupled weight decay:
 * `chain(scaleByAdam({ ...options, nesterov: true }), addDecayedWeights({ weightDecay, mask }), scaleByLearningRate(lr))`.
 *
 * ```
 * θ ← θ − lr · (nadamUpdate + weightDecay·θ)      (weightDecay default 1e-4)
 * ```
 *
 * See {@link nadam} for the first moment and Loshchilov & Hutter (2019,
 * arXiv:1711.05101) for the decay. tfjs has no NAdamW.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import { nadamw } from '@tfopt/transforms';
 * const tx = nadamw(1e-3, { weightDecay: 1e-2 });
 * ```
 */
export function nadamw(
  learningRate: ScalarOrSchedule,
  options?: NadamwOptions,
): GradientTransformation<NadamwState> {
  checkLearningRate('nadamw', learningRate);
  const { weightDecay, mask, ...rest } = readOptions(
    'nadamw',
    options,
    { ...NADAM_RULES, ...WEIGHT_DECAY_RULES },
    { ...NADAM_DEFAULTS, weightDecay: 1e-4 },
  );
  return withSpec(
    chain(
      scaleByAdam({ ...rest, nesterov: true }),
      decayLink('nadamw', weightDecay, mask),
      scaleByLearningRate(learningRate),
    ),
    'nadamw',
    [learningRate, options],
  );
}

/** Options of {@link radam}. @category Aliases */
export type RadamOptions = ScaleByRadamOptions;

/** State of {@link radam}. @category Aliases */
export type RadamState = readonly [ScaleByRadamState, ScaleByScheduleState];

/**
 * Rectified Adam (Liu et al., 2020, "On the Variance of the Adaptive Learning
 * Rate and Beyond", arXiv:1908.03265):
 * `chain(scaleByRadam(options), scaleByLearningRate(lr))`.
 *
 * ```
 * ρ = ρ∞ − 2t·b2^t / (1 − b2^t),   ρ∞ = 2 / (1 − b2) − 1
 * θ ← θ − lr · r·m̂ / (sqrt(v̂ + epsRoot) + eps)    if ρ >= threshold (r: the rectification)
 * θ ← θ − lr · m̂                                   otherwise
 * ```
 *
 * See {@link scaleByRadam} for `r`. tfjs has no RAdam.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import { radam } from '@tfopt/transforms';
 * const tx = radam(1e-3, { nesterov: true });
 * ```
 */
export function radam(
  learningRate: ScalarOrSchedule,
  options?: RadamOptions,
): GradientTransformation<RadamState> {
  checkLearningRate('radam', learningRate);
  const resolved = readOptions('radam', options, RADAM_RULES, RADAM_DEFAULTS);
  return withSpec(chain(scaleByRadam(resolved), scaleByLearningRate(learningRate)), 'radam', [
    learningRate,
    options,
  ]);
}

/** Options of {@link yogi}. @category Aliases */
export type YogiOptions = ScaleByYogiOptions;

/** State of {@link yogi}. @category Aliases */
export type YogiState = readonly [ScaleByYogiState, ScaleByScheduleState];

/**
 * Yogi (Zaheer et al., 2018, "Adaptive Methods for Nonconvex Optimization",
 * NeurIPS 2018): `chain(scaleByYogi(options), scaleByLearningRate(lr))`.
 *
 * ```
 * mu ← b1·mu + (1 − b1)·g        nu ← nu − (1 − b2)·sign(nu − g²)·g²
 * θ  ← θ − lr · (mu / (1 − b1^t)) / (sqrt(nu / (1 − b2^t) + epsRoot) + eps)
 * ```
 *
 * Optax's defaults: `eps = 1e-3`, both moments start at `1e-6`. tfjs has no Yogi.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import { yogi } from '@tfopt/transforms';
 * const tx = yogi(1e-2);
 * ```
 */
export function yogi(
  learningRate: ScalarOrSchedule,
  options?: YogiOptions,
): GradientTransformation<YogiState> {
  checkLearningRate('yogi', learningRate);
  const resolved = readOptions('yogi', options, YOGI_RULES, YOGI_DEFAULTS);
  return withSpec(chain(scaleByYogi(resolved), scaleByLearningRate(learningRate)), 'yogi', [
    learningRate,
    options,
  ]);
}

/** Options of {@link lion}. @category Aliases */
export interface LionOptions extends DecoupledWeightDecayOptions {
  /** Weight of the momentum in the step's direction, in `[0, 1)`. Default `0.9`. */
  readonly b1?: number;
  /** Decay of the momentum, in `[0, 1)`. Default `0.99`. */
  readonly b2?: number;
}

/** State of {@link lion}. @category Aliases */
export type LionState = readonly [ScaleByLionState, EmptyState, ScaleByScheduleState];

/**
 * Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms",
 * arXiv:2302.06675):
 * `chain(scaleByLion({ b1, b2 }), addDecayedWeights({ weightDecay, mask }), scaleByLearningRate(lr))`.
 *
 * ```
 * θ  ← θ − lr · (sign(b1·mu + (1 − b1)·g) + weightDecay·θ)
 * mu ← b2·mu + (1 − b2)·g
 * ```
 *
 * Optax's defaults `b1 = 0.9`, `b2 = 0.99`, `weightDecay = 1e-3`. Each step
 * moves every coordinate by about `lr`, so Lion wants a learning rate 3–10
 * times smaller than AdamW's. tfjs has no Lion.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import { lion } from '@tfopt/transforms';
 * const tx = lion(1e-4, { weightDecay: 1e-2 });
 * ```
 */
export function lion(
  learningRate: ScalarOrSchedule,
  options?: LionOptions,
): GradientTransformation<LionState> {
  checkLearningRate('lion', learningRate);
  const { b1, b2, weightDecay, mask } = readOptions(
    'lion',
    options,
    { b1: decayRate, b2: decayRate, ...WEIGHT_DECAY_RULES },
    { b1: 0.9, b2: 0.99, weightDecay: 1e-3 },
  );
  return withSpec(
    chain(
      scaleByLion({ b1, b2 }),
      decayLink('lion', weightDecay, mask),
      scaleByLearningRate(learningRate),
    ),
    'lion',
    [learningRate, options],
  );
}

/** Options of {@link novograd}. @category Aliases */
export type NovogradOptions = ScaleByNovogradOptions;

/** State of {@link novograd}. @category Aliases */
export type NovogradState = readonly [ScaleByNovogradState, ScaleByScheduleState];

/**
 * NovoGrad (Ginsburg et al., 2019, "Stochastic Gradient Methods with
 * Layer-wise Adaptive Moments for Training of Deep Networks",
 * arXiv:1905.11286): `chain(scaleByNovograd(options), scaleByLearningRate(lr))`.
 *
 * ```
 * n  ← b2·n + (1 − b2)·‖g‖²       (per leaf; n ← ‖g‖² at the first step)
 * mu ← b1·mu + g / (sqrt(n + epsRoot) + eps) + weightDecay·θ
 * θ  ← θ − lr · mu
 * ```
 *
 * Optax's alias defaults: `b2 = 0.25`, `eps = 1e-6` (the transform's is
 * `1e-8`), `weightDecay = 0`. The weight decay is inside the momentum, as in
 * the paper, not decoupled. tfjs has no NovoGrad.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import { novograd } from '@tfopt/transforms';
 * const tx = novograd(1e-2, { weightDecay: 1e-3 });
 * ```
 */
export function novograd(
  learningRate: ScalarOrSchedule,
  options?: NovogradOptions,
): GradientTransformation<NovogradState> {
  checkLearningRate('novograd', learningRate);
  const resolved = readOptions('novograd', options, NOVOGRAD_RULES, {
    b1: 0.9,
    b2: 0.25,
    eps: 1e-6,
    epsRoot: 0,
    weightDecay: 0,
  });
  return withSpec(chain(scaleByNovograd(resolved), scaleByLearningRate(learningRate)), 'novograd', [
    learningRate,
    options,
  ]);
}

/** Options of {@link adan}. @category Aliases */
export interface AdanOptions extends ScaleByAdanOptions, DecoupledWeightDecayOptions {}

/** State of {@link adan}. @category Aliases */
export type AdanState = readonly [ScaleByAdanState, EmptyState, ScaleByScheduleState];

/**
 * Adan, adaptive Nesterov momentum (Xie et al., 2022, "Adan: Adaptive
 * Nesterov Momentum Algorithm for Faster Optimizing Deep Models",
 * arXiv:2208.06677):
 * `chain(scaleByAdan(...), addDecayedWeights({ weightDecay, mask }), scaleByLearningRate(lr))`.
 *
 * ```
 * d = g − gPrev (0 at the first step)
 * m ← b1·m + (1 − b1)·g    v ← b2·v + (1 − b2)·d    n ← b3·n + (1 − b3)·(g + (1 − b2)·d)²
 * θ ← θ − lr · ((m̂ + (1 − b2)·v̂) / (sqrt(n̂ + epsRoot) + eps) + weightDecay·θ)
 * ```
 *
 * (hats: divided by `1 − b^t`). Optax's alias defaults: `b1 = 0.98`,
 * `b2 = 0.92`, `b3 = 0.99`, `eps = epsRoot = 1e-8`, `weightDecay = 0`. The
 * decay is the decoupled `lr·λ·θ` of AdamW, as in Optax, rather than the
 * paper's proximal `θ / (1 + lr·λ)`; the two agree to first order in `lr·λ`.
 * The weight-decay link is always there, so `update` needs the params.
 * tfjs has no Adan.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import { adan } from '@tfopt/transforms';
 * const tx = adan(1e-3, { weightDecay: 2e-2 });
 * ```
 */
export function adan(
  learningRate: ScalarOrSchedule,
  options?: AdanOptions,
): GradientTransformation<AdanState> {
  checkLearningRate('adan', learningRate);
  const { weightDecay, mask, ...rest } = readOptions(
    'adan',
    options,
    { ...ADAN_RULES, ...WEIGHT_DECAY_RULES },
    { b1: 0.98, b2: 0.92, b3: 0.99, eps: 1e-8, epsRoot: 1e-8, weightDecay: 0 },
  );
  return withSpec(
    chain(
      scaleByAdan(rest),
      decayLink('adan', weightDecay, mask),
      scaleByLearningRate(learningRate),
    ),
    'adan',
    [learningRate, options],
  );
}
