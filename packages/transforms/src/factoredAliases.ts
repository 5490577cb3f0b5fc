// Aliases of the memory-saving and layer-wise optimizers: Adafactor, Adadelta,
// SM3, Rprop, LAMB, LARS and Fromage. Each is only a chain of transforms.
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
  positive,
} from '@tfopt/core/options';
import {
  ADADELTA_DEFAULTS,
  ADADELTA_RULES,
  type ScaleByAdadeltaState,
  scaleByAdadelta,
} from './adadelta.js';
import { ADAM_RULES, type ScaleByAdamState, scaleByAdam } from './adam.js';
import { clipByBlockRms } from './clipBlock.js';
import {
  FACTORED_DEFAULTS,
  FACTORED_RULES,
  type ScaleByFactoredRmsState,
  scaleByFactoredRms,
} from './factored.js';
import { type MaskedState, masked } from './masking.js';
import { type OptionRules, readOptions } from './options.js';
import { addScaledParams, scaleByParamBlockRms } from './paramTerms.js';
import {
  readRpropOptions,
  type ScaleByRpropOptions,
  type ScaleByRpropState,
  scaleByRprop,
} from './rprop.js';
import { type ScaleByScheduleState, scale, scaleByLearningRate } from './scale.js';
import { type ScaleBySm3State, SM3_DEFAULTS, scaleBySm3 } from './sm3.js';
import { type EmaState, ema, type TraceState, trace } from './trace.js';
import { scaleByTrustRatio } from './trust.js';
import { type AddDecayedWeightsOptions, addDecayedWeights, assertMask } from './weightDecay.js';

type Mask = AddDecayedWeightsOptions['mask'];

function checkLearningRate(owner: string, learningRate: unknown): void {
  assertOptions(owner, { learningRate: [learningRate, numberOrFunction(nonNegative)] });
}

/** `assertMask`, with errors naming the alias's own option (`weightDecayMask`, `trustRatioMask`). */
function checkMask(owner: string, option: string, mask: unknown): void {
  try {
    assertMask(owner, mask);
  } catch (e) {
    if (!(e instanceof InvalidOptionError)) throw e;
    throw new InvalidOptionError(
      owner,
      option,
      e.value,
      e.expected.replace('(at mask', `(at ${option}`),
    );
  }
}

/** `addDecayedWeights`, or `identity()` (the same empty state) when there is no decay. */
function decayedWeights(weightDecay: number, mask: Mask): GradientTransformation<EmptyState> {
  if (weightDecay === 0) return identity();
  return addDecayedWeights(mask === undefined ? { weightDecay } : { weightDecay, mask });
}

const maybe = <S>(tx: GradientTransformation<S> | undefined) =>
  (tx ?? identity()) as GradientTransformation<S | EmptyState>;

/** Options of {@link adafactor}. @category Aliases */
export interface AdafactorOptions {
  /** Factor a leaf's second moment only if two dimensions are at least this size. Default `128`. */
  readonly minDimSizeToFactor?: number;
  /** Exponent of the second moment's decay schedule `1 − t^(−decayRate)`. Default `0.8`. */
  readonly decayRate?: number;
  /** Steps subtracted from the count before the schedule (fine-tuning). Default `0`. */
  readonly decayOffset?: number;
  /** Multiply steps by each parameter leaf's root mean square (relative steps). Default `true`. */
  readonly multiplyByParameterScale?: boolean;
  /** Clip each leaf's update to this root mean square; `null` for no clipping. Default `1`. */
  readonly clippingThreshold?: number | null;
  /** Decay of a momentum (an average without bias correction) of the steps, in `[0, 1)`; none when absent. */
  readonly momentum?: number;
  /** Weight decay added after the learning rate (not scaled by it), `>= 0`; none when absent. */
  readonly weightDecayRate?: number;
  /** Leaves to decay (see {@link addDecayedWeights}). Default: every leaf. */
  readonly weightDecayMask?: Mask;
  /** Added to the squared gradient. Default `1e-30`. */
  readonly eps?: number;
  /** Factor the second moments at all. Default `true`. */
  readonly factored?: boolean;
  /** Cap on the second moment's decay (see {@link scaleByFactoredRms}). Default `1`, no cap. */
  readonly beta2Cap?: number;
}

const ADAFACTOR_RULES: OptionRules<AdafactorOptions> = {
  minDimSizeToFactor: FACTORED_RULES.minDimSizeToFactor,
  decayRate: FACTORED_RULES.decayRate,
  decayOffset: FACTORED_RULES.stepOffset,
  multiplyByParameterScale: boolean,
  clippingThreshold: null,
  momentum: decayRate,
  weightDecayRate: nonNegative,
  weightDecayMask: null,
  eps: FACTORED_RULES.eps,
  factored: FACTORED_RULES.factored,
  beta2Cap: FACTORED_RULES.beta2Cap,
};

/**
 * State of {@link adafactor}: one entry per link, an empty state where a
 * link is switched off.
 *
 * @category Aliases
 */
export type AdafactorState = readonly [
  ScaleByFactoredRmsState,
  EmptyState,
  ScaleByScheduleState,
  EmptyState,
  EmaState | EmptyState,
  EmptyState,
  EmptyState,
];

/**
 * Adafactor (Shazeer & Stern, 2018, "Adafactor: Adaptive Learning Rates with
 * Sublinear Memory Cost", arXiv:1804.04235), as Optax composes it:
 *
 * ```
 * chain(scaleByFactoredRms(...),         u = g / factored sqrt(E[g² + eps]), β_t = 1 − t^(−decayRate)
 *       clipByBlockRms(clippingThreshold), u ← u / max(1, rms(u) / threshold)      (per leaf)
 *       scaleByLearningRate(lr, { flipSign: false }),
 *       scaleByParamBlockRms(),          u ← u · max(rms(θ), 1e-3)                (per leaf)
 *       ema({ decay: momentum, debias: false }),
 *       addDecayedWeights({ weightDecay: weightDecayRate }),
 *       scale(-1))
 * θ ← θ + u
 * ```
 *
 * A link switched off by its option is `identity()`, so the state keeps
 * seven entries. Leaves of rank 2 and more whose second-largest dimension is
 * at least `minDimSizeToFactor` keep row and column statistics only. With
 * `multiplyByParameterScale` the learning rate is relative to each
 * parameter's scale (0.01 is the paper's); without it, it is the absolute
 * step. The weight decay comes after the learning rate, as in Optax, so it is
 * not scaled by it. Not in tf.train. Differences from Optax: the learning
 * rate is required (Optax's `None` leaves it out), there is no
 * `dtypeMomentum` (everything is float32), and `beta2Cap` is an addition
 * (see {@link scaleByFactoredRms}). Needs the params when
 * `multiplyByParameterScale` or `weightDecayRate` is set.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { adafactor } from '@tfopt/transforms';
 * const w = { kernel: tf.variable(tf.randomNormal([4, 3])) };
 * const tx = adafactor(1e-2, { minDimSizeToFactor: 2 });
 * let state = tx.init(w);
 * const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.kernel)));
 * state = stepVariables(tx, w, { kernel: grads[w.kernel.name]! }, state);
 * tf.dispose([value, grads]);
 * ```
 */
export function adafactor(
  learningRate: ScalarOrSchedule,
  options?: AdafactorOptions,
): GradientTransformation<AdafactorState> {
  const owner = 'adafactor';
  checkLearningRate(owner, learningRate);
  const o = readOptions(owner, options, ADAFACTOR_RULES, {
    minDimSizeToFactor: FACTORED_DEFAULTS.minDimSizeToFactor,
    decayRate: FACTORED_DEFAULTS.decayRate,
    decayOffset: FACTORED_DEFAULTS.stepOffset,
    multiplyByParameterScale: true,
    clippingThreshold: 1 as number | null,
    eps: FACTORED_DEFAULTS.eps,
    factored: FACTORED_DEFAULTS.factored,
    beta2Cap: FACTORED_DEFAULTS.beta2Cap,
  });
  if (o.clippingThreshold !== null) {
    assertOptions(owner, { clippingThreshold: [o.clippingThreshold, positive] });
  }
  checkMask(owner, 'weightDecayMask', o.weightDecayMask);
  const decay =
    o.weightDecayRate === undefined
      ? undefined
      : addDecayedWeights(
          o.weightDecayMask === undefined
            ? { weightDecay: o.weightDecayRate }
            : { weightDecay: o.weightDecayRate, mask: o.weightDecayMask },
        );
  return withSpec(
    chain(
      scaleByFactoredRms({
        factored: o.factored,
        decayRate: o.decayRate,
        stepOffset: o.decayOffset,
        minDimSizeToFactor: o.minDimSizeToFactor,
        eps: o.eps,
        beta2Cap: o.beta2Cap,
      }),
      maybe(o.clippingThreshold === null ? undefined : clipByBlockRms(o.clippingThreshold)),
      scaleByLearningRate(learningRate, { flipSign: false }),
      maybe(o.multiplyByParameterScale ? scaleByParamBlockRms() : undefined),
      maybe(o.momentum === undefined ? undefined : ema({ decay: o.momentum, debias: false })),
      maybe(decay),
      scale(-1),
    ) as GradientTransformation<AdafactorState>,
    owner,
    [learningRate, options],
  );
}

/** Options of {@link adadelta}. @category Aliases */
export interface AdadeltaOptions {
  /** Decay of both running averages, in `[0, 1)`. Default `0.9`. */
  readonly rho?: number;
  /** Added inside both square roots, `>= 0`. Default `1e-6`. */
  readonly eps?: number;
  /** Weight decay added to the gradient first (coupled, as L2), `>= 0`. Default `0`. */
  readonly weightDecay?: number;
  /** Leaves to decay (see {@link addDecayedWeights}). Default: every leaf. */
  readonly weightDecayMask?: Mask;
}

/** State of {@link adadelta}. @category Aliases */
export type AdadeltaState = readonly [EmptyState, ScaleByAdadeltaState, ScaleByScheduleState];

/**
 * Adadelta (Zeiler, 2012, "ADADELTA: An Adaptive Learning Rate Method",
 * arXiv:1212.5701):
 * `chain(addDecayedWeights({ weightDecay, mask }), scaleByAdadelta({ rho, eps }), scaleByLearningRate(lr))`.
 *
 * ```
 * g      ← g + weightDecay·θ
 * E[g²]  ← rho·E[g²] + (1 − rho)·g²
 * Δ      ← sqrt(E[Δx²] + eps) / sqrt(E[g²] + eps) · g
 * E[Δx²] ← rho·E[Δx²] + (1 − rho)·Δ²
 * θ      ← θ − lr·Δ
 * ```
 *
 * The paper has no learning rate (`lr = 1`); Optax's and PyTorch's is a
 * multiplier, as here. Without weight decay the first link is `identity()`
 * (the same empty state) and the params are not needed.
 *
 * Differences from `tf.train.adadelta(lr = 0.001, rho = 0.95, epsilon)`:
 * tf.train divides by `sqrt(E[g²] + eps)` with `E[g²]` from *before* this
 * step's gradient was added (so its first step is `−lr·g` exactly), where
 * Zeiler, Optax and PyTorch use the updated average; its epsilon defaults to
 * the backend's (`1e-7` on cpu and wasm, `1e-6` here), its `rho` to 0.95
 * (`0.9` here) and it has no weight decay. Both keep `E[Δx²]` of the step
 * before the learning rate.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { adadelta } from '@tfopt/transforms';
 * const w = { x: tf.variable(tf.tensor([1, 2, 3])) };
 * const tx = adadelta(10);
 * let state = tx.init(w);
 * for (let i = 0; i < 5; i++) {
 *   const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 *   state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 *   tf.dispose([value, grads]);
 * }
 * ```
 */
export function adadelta(
  learningRate: ScalarOrSchedule,
  options?: AdadeltaOptions,
): GradientTransformation<AdadeltaState> {
  const owner = 'adadelta';
  checkLearningRate(owner, learningRate);
  const { rho, eps, weightDecay, weightDecayMask } = readOptions(
    owner,
    options,
    { ...ADADELTA_RULES, weightDecay: nonNegative, weightDecayMask: null },
    { ...ADADELTA_DEFAULTS, weightDecay: 0 },
  );
  checkMask(owner, 'weightDecayMask', weightDecayMask);
  return withSpec(
    chain(
      decayedWeights(weightDecay, weightDecayMask),
      scaleByAdadelta({ rho, eps }),
      scaleByLearningRate(learningRate),
    ),
    owner,
    [learningRate, options],
  );
}

/** Options of {@link sm3}. @category Aliases */
export interface Sm3Options {
  /** Decay of the momentum on the scaled gradients, in `[0, 1)`. Default `0.9`. */
  readonly momentum?: number;
}

/** State of {@link sm3}. @category Aliases */
export type Sm3State = readonly [ScaleBySm3State, ScaleByScheduleState];

/**
 * SM3 (Anil, Gupta, Koren & Singer, 2019, "Memory-Efficient Adaptive
 * Optimization", arXiv:1901.11150):
 * `chain(scaleBySm3({ b1: momentum }), scaleByLearningRate(lr))`.
 *
 * ```
 * ν(i) ← min over axes of μ_axis(i_axis) + g(i)²     (vectors and scalars: ν ← ν + g²)
 * μ_axis(j) ← max of ν over the entries with index j on that axis
 * m ← momentum·m + (1 − momentum)·g / sqrt(ν + 1e-8)       (0 where ν = 0)
 * θ ← θ − lr·m
 * ```
 *
 * An Adagrad whose accumulator of a leaf of shape `[n1, …, nk]` takes
 * `n1 + … + nk` numbers. Optax's alias scales by a fixed `−lr`; here the
 * learning rate may also be a schedule. Not in tf.train.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import { sm3 } from '@tfopt/transforms';
 * const tx = sm3(0.1, { momentum: 0.5 });
 * ```
 */
export function sm3(
  learningRate: ScalarOrSchedule,
  options?: Sm3Options,
): GradientTransformation<Sm3State> {
  checkLearningRate('sm3', learningRate);
  const { momentum } = readOptions(
    'sm3',
    options,
    { momentum: decayRate },
    { momentum: SM3_DEFAULTS.b1 },
  );
  return withSpec(chain(scaleBySm3({ b1: momentum }), scaleByLearningRate(learningRate)), 'sm3', [
    learningRate,
    options,
  ]);
}

/** Options of {@link rprop}. @category Aliases */
export type RpropOptions = ScaleByRpropOptions;

/** State of {@link rprop}. @category Aliases */
export type RpropState = readonly [ScaleByRpropState, EmptyState];

/**
 * Rprop (Riedmiller & Braun, 1993, "A direct adaptive method for faster
 * backpropagation learning: the RPROP algorithm", IEEE ICNN; iRprop⁻ of Igel
 * & Hüsken, 2003): `chain(scaleByRprop(lr, options), scale(-1))`.
 *
 * ```
 * step ← clip(step·etaPlus or step·etaMinus, minStepSize, maxStepSize)  as g·prev > 0 or < 0
 * u    ← 0 if the sign flipped, else step·sign(g);   prev ← u
 * θ    ← θ − u
 * ```
 *
 * The learning rate is the initial step size of every entry, a number (it is
 * read at `init`; under `injectHyperparams`, changing it later has no
 * effect). Meant for full-batch training: the sign of a noisy minibatch
 * gradient flips often. Not in tf.train. Unlike Optax's (see
 * {@link scaleByRprop}), the update is this step's, not the previous one's.
 *
 * @param learningRate - The initial step size, `>= 0`.
 * @category Aliases
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { rprop } from '@tfopt/transforms';
 * const w = { x: tf.variable(tf.tensor([1, 2, 3])) };
 * const tx = rprop(0.1);
 * let state = tx.init(w);
 * for (let i = 0; i < 20; i++) {
 *   const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 *   state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 *   tf.dispose([value, grads]);
 * }
 * ```
 */
export function rprop(
  learningRate: number,
  options?: RpropOptions,
): GradientTransformation<RpropState> {
  const resolved = readRpropOptions('rprop', learningRate, options);
  return withSpec(chain(scaleByRprop(learningRate, resolved), scale(-1)), 'rprop', [
    learningRate,
    options,
  ]);
}

/** Options of {@link lamb}. @category Aliases */
export interface LambOptions {
  /** Decay of the first moment, in `[0, 1)`. Default `0.9`. */
  readonly b1?: number;
  /** Decay of the second moment, in `[0, 1)`. Default `0.999`. */
  readonly b2?: number;
  /** Added to the square root of the second moment, `>= 0`. Default `1e-6`. */
  readonly eps?: number;
  /** Added to the second moment inside the square root, `>= 0`. Default `0`. */
  readonly epsRoot?: number;
  /** Decoupled weight decay, added before the trust ratio, `>= 0`. Default `0`. */
  readonly weightDecay?: number;
  /** Leaves to decay (see {@link addDecayedWeights}). Default: every leaf. */
  readonly mask?: Mask;
}

/** State of {@link lamb}. @category Aliases */
export type LambState = readonly [ScaleByAdamState, EmptyState, EmptyState, ScaleByScheduleState];

/**
 * LAMB (You et al., 2020, "Large Batch Optimization for Deep Learning:
 * Training BERT in 76 minutes", arXiv:1904.00962): Adam with decoupled
 * weight decay, rescaled leaf by leaf by the trust ratio,
 * `chain(scaleByAdam({ b1, b2, eps, epsRoot }), addDecayedWeights({ weightDecay, mask }), scaleByTrustRatio(), scaleByLearningRate(lr))`.
 *
 * ```
 * r ← adamUpdate + weightDecay·θ                 (adamUpdate: mû / (sqrt(nû + epsRoot) + eps))
 * θ ← θ − lr · (‖θ‖ / ‖r‖) · r                   per leaf; ratio 1 if either norm is 0
 * ```
 *
 * Without weight decay the second link is `identity()` (the same empty
 * state). Needs the params. Not in tf.train.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import { lamb } from '@tfopt/transforms';
 * const tx = lamb(1e-3, { weightDecay: 1e-2, mask: { kernel: true, bias: false } });
 * ```
 */
export function lamb(
  learningRate: ScalarOrSchedule,
  options?: LambOptions,
): GradientTransformation<LambState> {
  const owner = 'lamb';
  checkLearningRate(owner, learningRate);
  const { weightDecay, mask, ...adamOptions } = readOptions(
    owner,
    options,
    {
      b1: ADAM_RULES.b1,
      b2: ADAM_RULES.b2,
      eps: ADAM_RULES.eps,
      epsRoot: ADAM_RULES.epsRoot,
      weightDecay: nonNegative,
      mask: null,
    },
    { b1: 0.9, b2: 0.999, eps: 1e-6, epsRoot: 0, weightDecay: 0 },
  );
  assertMask(owner, mask);
  return withSpec(
    chain(
      scaleByAdam(adamOptions),
      decayedWeights(weightDecay, mask),
      scaleByTrustRatio(),
      scaleByLearningRate(learningRate),
    ),
    owner,
    [learningRate, options],
  );
}

/** Options of {@link lars}. @category Aliases */
export interface LarsOptions {
  /** Weight decay added to the gradient first, `>= 0`. Default `0`. */
  readonly weightDecay?: number;
  /** Leaves to decay (see {@link addDecayedWeights}). Default: every leaf. */
  readonly weightDecayMask?: Mask;
  /** Multiplier of the trust ratio (LARS's η), `>= 0`. Default `0.001`. */
  readonly trustCoefficient?: number;
  /** Added to the update norm in the trust ratio, `>= 0`. Default `0`. */
  readonly eps?: number;
  /** Leaves rescaled by the trust ratio (see {@link masked}). Default: every leaf. */
  readonly trustRatioMask?: Mask;
  /** Momentum decay, in `[0, 1)`. Default `0.9`. */
  readonly momentum?: number;
  /** Nesterov momentum. Default `false`. */
  readonly nesterov?: boolean;
}

/** State of {@link lars}. @category Aliases */
export type LarsState = readonly [
  EmptyState,
  EmptyState | MaskedState<EmptyState>,
  ScaleByScheduleState,
  TraceState,
];

/**
 * LARS (You, Gitman & Ginsburg, 2017, "Large Batch Training of
 * Convolutional Networks", arXiv:1708.03888): momentum SGD whose step of
 * each leaf is scaled by its trust ratio,
 * `chain(addDecayedWeights({ weightDecay, mask }), masked(scaleByTrustRatio({ trustCoefficient, eps }), trustRatioMask), scaleByLearningRate(lr), trace({ decay: momentum, nesterov }))`.
 *
 * ```
 * r ← g + weightDecay·θ
 * r ← trustCoefficient · ‖θ‖ / (‖r‖ + eps) · r      per leaf; ratio 1 if either norm is 0
 * m ← momentum·m − lr·r
 * θ ← θ + m                                         (nesterov: θ ← θ − lr·r + momentum·m)
 * ```
 *
 * Without weight decay the first link is `identity()`; without a
 * `trustRatioMask` (or with `true`) the second is `scaleByTrustRatio` itself
 * rather than `masked(...)`. Optax's defaults, so the trust coefficient
 * 0.001 makes every step a thousandth of the leaf's norm times `lr`: rates
 * near 1 are usual. Needs the params. Not in tf.train.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import { lars } from '@tfopt/transforms';
 * const tx = lars(1, { weightDecay: 1e-4, trustRatioMask: { kernel: true, bias: false } });
 * ```
 */
export function lars(
  learningRate: ScalarOrSchedule,
  options?: LarsOptions,
): GradientTransformation<LarsState> {
  const owner = 'lars';
  checkLearningRate(owner, learningRate);
  const o = readOptions(
    owner,
    options,
    {
      weightDecay: nonNegative,
      weightDecayMask: null,
      trustCoefficient: nonNegative,
      eps: nonNegative,
      trustRatioMask: null,
      momentum: decayRate,
      nesterov: boolean,
    },
    { weightDecay: 0, trustCoefficient: 0.001, eps: 0, momentum: 0.9, nesterov: false },
  );
  checkMask(owner, 'weightDecayMask', o.weightDecayMask);
  checkMask(owner, 'trustRatioMask', o.trustRatioMask);
  const ratio = scaleByTrustRatio({ trustCoefficient: o.trustCoefficient, eps: o.eps });
  const scaled = (
    o.trustRatioMask === undefined || o.trustRatioMask === true
      ? ratio
      : masked(ratio, o.trustRatioMask)
  ) as GradientTransformation<EmptyState | MaskedState<EmptyState>>;
  return withSpec(
    chain(
      decayedWeights(o.weightDecay, o.weightDecayMask),
      scaled,
      scaleByLearningRate(learningRate),
      trace({ decay: o.momentum, nesterov: o.nesterov }),
    ),
    owner,
    [learningRate, options],
  );
}

/** Options of {@link fromage}. @category Aliases */
export interface FromageOptions {
  /** Lower bound on the norms in the trust ratio, `>= 0`. Default `1e-6`. */
  readonly minNorm?: number;
}

/** State of {@link fromage}. @category Aliases */
export type FromageState = readonly [EmptyState, ScaleByScheduleState, ScaleByScheduleState];

/**
 * Fromage, Frobenius matched gradient descent (Bernstein, Vahdat, Yue & Liu,
 * 2020, "On the distance between two neural networks and the stability of
 * learning", arXiv:2002.03432): a step of relative size `lr` per leaf, then
 * a shrink that keeps the parameters' norms from growing,
 * `chain(scaleByTrustRatio({ minNorm }), scaleByLearningRate(lr·c), addScaledParams(c − 1))`
 * with `c = 1 / sqrt(1 + lr²)`.
 *
 * ```
 * θ ← (θ − lr · (‖θ‖ / ‖g‖) · g) / sqrt(1 + lr²)       per leaf; norms at least minNorm
 * ```
 *
 * With a schedule, `c` follows it step by step, as in Optax. Needs the
 * params. Not in tf.train.
 *
 * @param learningRate - A number `>= 0` or a schedule of the step count.
 * @category Aliases
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { fromage } from '@tfopt/transforms';
 * const w = { x: tf.variable(tf.tensor([1, 2, 3])) };
 * const tx = fromage(0.01);
 * let state = tx.init(w);
 * const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 * state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 * tf.dispose([value, grads]);
 * ```
 */
export function fromage(
  learningRate: ScalarOrSchedule,
  options?: FromageOptions,
): GradientTransformation<FromageState> {
  const owner = 'fromage';
  checkLearningRate(owner, learningRate);
  const { minNorm } = readOptions(owner, options, { minNorm: nonNegative }, { minNorm: 1e-6 });
  const shrink = (lr: number) => 1 / Math.sqrt(1 + lr * lr);
  const lr = learningRate;
  const step =
    typeof lr === 'number' ? lr * shrink(lr) : (count: number) => lr(count) * shrink(lr(count));
  const decay = typeof lr === 'number' ? shrink(lr) - 1 : (count: number) => shrink(lr(count)) - 1;
  return withSpec(
    chain(scaleByTrustRatio({ minNorm }), scaleByLearningRate(step), addScaledParams(decay)),
    owner,
    [learningRate, options],
  );
}
