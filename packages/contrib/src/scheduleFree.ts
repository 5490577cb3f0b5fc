import * as tf from '@tensorflow/tfjs-core';
import {
  chain,
  type EmptyState,
  evaluateSchedule,
  findInState,
  type GradientTransformation,
  InvalidOptionError,
  isPlainRecord,
  isTransform,
  type ScalarOrSchedule,
  TfoptError,
  type Tree,
  tidy,
  treeMap,
  treeMapN,
  treeZerosLike,
  withSpec,
} from '@tfopt/core';
import {
  assertKnownOptions,
  assertOptions,
  decayRate,
  inRange,
  nonNegative,
  numberOrFunction,
  positiveInteger,
} from '@tfopt/core/options';
import {
  addDecayedWeights,
  type ScaleByScheduleState,
  scaleByLearningRate,
  sgd,
} from '@tfopt/transforms';
import { requireParams } from './common.js';

/** Options of {@link scheduleFree}. @category Learning-rate-free */
export interface ScheduleFreeOptions {
  /** Interpolation between the average `x` and the base iterate `z`, in `(0, 1]`. Default `0.9`. */
  readonly b1?: number;
  /** The average weighs step `t` by `maxLr_t ^ weightLrPower`, `>= 0`. Default `2`. */
  readonly weightLrPower?: number;
}

/**
 * State of {@link scheduleFree}.
 *
 * @category Learning-rate-free
 */
export interface ScheduleFreeState<B = unknown> {
  /** The interpolation `b1` (kept so that {@link scheduleFreeEvalParams} needs only the state). */
  readonly b1: number;
  /** Sum of the averaging weights so far. */
  readonly weightSum: number;
  /** The step count; 1 before the first update, as in optax. */
  readonly stepCount: number;
  /** The largest learning rate seen so far. */
  readonly maxLr: number;
  /** The base optimizer's state. */
  readonly baseState: B;
  /** The base optimizer's own iterate `z`, shaped like the params. */
  readonly z: Tree;
}

const B1_RULE = inRange(0, 1, { lowerOpen: true });
const LR_RULE = numberOrFunction(nonNegative);

function checkKnown(owner: string, options: unknown, known: readonly string[]): void {
  assertKnownOptions(owner, options, known);
}

/** `ck = w / (sum + w)`, NaN-safe as in optax: NaN stays NaN, `0/0` is 0. */
function averagingWeight(weight: number, total: number): number {
  if (Number.isNaN(weight) || Number.isNaN(total)) return Number.NaN;
  const c = weight / total;
  return Number.isNaN(c) ? 0 : c;
}

/**
 * Schedule-Free learning (Defazio, Yang, Mehta, Mishchenko, Khaled &
 * Cutkosky, 2024, "The Road Less Scheduled", arXiv 2405.15682) around a base
 * optimizer **without momentum**: the momentum is replaced by interpolation
 * and averaging, and no decaying schedule is needed. As
 * `optax.contrib.schedule_free`, with its defaults and update order. The
 * params the model trains at are `y`; with `u` the base update, `lr_t` the
 * learning rate and `t` the step count (1 on the first update):
 *
 * ```
 * maxLr  ← max(maxLr, lr_t)          w = maxLr^weightLrPower
 * c      = w / (weightSum + w)        weightSum ← weightSum + w
 * z_new  = z + u
 * x_prev = (y − (1 − b1)·z) / b1
 * x      = (1 − c)·x_prev + c·z_new
 * y_new  = b1·x + (1 − b1)·z_new      update = y_new − y
 * ```
 *
 * Evaluate (and export a model for inference) at `x = (y − (1 − b1)·z) / b1`,
 * which {@link scheduleFreeEvalParams} computes, or with
 * `TransformOptimizer.withEvaluationParams` from `@tfopt/layers`; `y` is
 * for training and for checkpoints that resume training. BatchNorm-style
 * statistics collected at `y` may need recomputing at `x`. Long runs may
 * prefer `b1` of 0.95 to 0.98.
 *
 * `learningRate` must be the base optimizer's learning rate (the same number
 * or schedule): it weighs the average. Warmup is a schedule (for example
 * `warmupConstantSchedule` from `@tfopt/schedules`). As in optax, the schedule
 * is evaluated here at the step count starting at 1, while the base
 * optimizer's `scaleByLearningRate` evaluates it from 0. `update` needs the
 * params. The weight sum, `maxLr` and `c` are JS numbers (float64; optax:
 * float32 arrays).
 *
 * Differences from the authors' PyTorch optimizers (`schedulefree`): there
 * warmup is built in (`warmup_steps`, rate `(k + 1)/warmup` for both the
 * step and the weight, where optax's base step uses the schedule at `k`);
 * `r` adds a polynomial weighting `(k + 1)^r` (absent in optax and here);
 * and the parameters are switched between `y` and `x` in place with
 * `optimizer.train()` / `optimizer.eval()` where here they stay at `y` and
 * `x` is computed on demand.
 *
 * @param base - A transform without momentum (e.g. `sgd(lr)` without `momentum`).
 * @param learningRate - The base optimizer's learning rate: a number `>= 0` or a schedule.
 * @param options - See {@link ScheduleFreeOptions}.
 * @category Learning-rate-free
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables, treeDispose } from '@tfopt/core';
 * import { scheduleFree, scheduleFreeEvalParams } from '@tfopt/contrib';
 * import { sgd } from '@tfopt/transforms';
 * const w = { x: tf.variable(tf.tensor([3, -1])) };
 * const tx = scheduleFree(sgd(0.1), 0.1);
 * let state = tx.init(w);
 * for (let i = 0; i < 50; i++) {
 *   const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 *   state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 *   tf.dispose([value, grads]);
 * }
 * const evalParams = scheduleFreeEvalParams(state, w); // new tensors: dispose them
 * treeDispose(evalParams);
 * ```
 */
export function scheduleFree<B>(
  base: GradientTransformation<B>,
  learningRate: ScalarOrSchedule,
  options?: ScheduleFreeOptions,
): GradientTransformation<ScheduleFreeState<B>> {
  const owner = 'scheduleFree';
  if (!isTransform(base)) {
    throw new InvalidOptionError(owner, 'base', base, 'a gradient transformation');
  }
  assertOptions(owner, { learningRate: [learningRate, LR_RULE] });
  checkKnown(owner, options, ['b1', 'weightLrPower']);
  const { b1 = 0.9, weightLrPower = 2 } = options ?? {};
  assertOptions(owner, { b1: [b1, B1_RULE], weightLrPower: [weightLrPower, nonNegative] });
  return withSpec(
    {
      init: (params) =>
        tidy(() => ({
          b1,
          weightSum: 0,
          stepCount: 1,
          maxLr: 0,
          baseState: base.init(params),
          z: treeMap((p) => tf.clone(p), params),
        })),
      update: (grads, state, params, context) => {
        requireParams(owner, params, 'they are the iterate y');
        const lr = evaluateSchedule(learningRate, state.stepCount, `${owner}: learningRate`);
        const maxLr = Math.max(state.maxLr, lr);
        const weight = maxLr ** weightLrPower;
        const weightSum = state.weightSum + weight;
        const c = averagingWeight(weight, weightSum);
        return tidy(() => {
          const [baseUpdates, baseState] = base.update(grads, state.baseState, params, context);
          const keep = tf.scalar(1 - b1);
          const b1T = tf.scalar(b1);
          const cT = tf.scalar(c);
          const notC = tf.scalar(1 - c);
          const [z, updates] = treeMapN(
            2,
            (y, zOld, u) => {
              const zNew = tf.add(zOld, u);
              const xPrev = tf.div(tf.sub(y, tf.mul(keep, zOld)), b1T);
              const x = tf.add(tf.mul(notC, xPrev), tf.mul(cT, zNew));
              const yNew = tf.add(tf.mul(b1T, x), tf.mul(keep, zNew));
              return [zNew, tf.sub(yNew, y)];
            },
            params,
            state.z,
            baseUpdates,
          ) as [Tree, Tree];
          const next: ScheduleFreeState<B> = {
            b1: state.b1,
            weightSum,
            stepCount: state.stepCount + 1,
            maxLr,
            baseState,
            z,
          };
          return [updates, next] as const;
        });
      },
    },
    owner,
    [base, learningRate, options],
  );
}

const SF_KEYS = ['b1', 'baseState', 'maxLr', 'stepCount', 'weightSum', 'z'];

function isScheduleFreeState(node: unknown): node is ScheduleFreeState {
  if (!isPlainRecord(node)) return false;
  const keys = Object.keys(node).sort();
  return (
    keys.length === SF_KEYS.length &&
    keys.every((k, i) => k === SF_KEYS[i]) &&
    typeof node.b1 === 'number'
  );
}

/**
 * The parameters to evaluate a Schedule-Free model at,
 * `x = (y − (1 − b1)·z) / b1`, from the training params `y` and the state of
 * {@link scheduleFree} (or of anything holding it: a chain, the state of
 * `TransformOptimizer.getState()`). As `optax.contrib.schedule_free_eval_params`.
 * Returns new tensors shaped like `params`; the caller owns and disposes
 * them. Throws when `state` holds no Schedule-Free state, or more than one.
 *
 * @param state - A state holding exactly one Schedule-Free state.
 * @param params - The training params `y` (the tree the state was built for).
 * @category Learning-rate-free
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { scheduleFreeEvalParams, scheduleFreeSgd } from '@tfopt/contrib';
 * import { treeDispose } from '@tfopt/core';
 * const y = { w: tf.tensor([1, 2]) };
 * const tx = scheduleFreeSgd(0.5);
 * const state = tx.init(y);
 * const x = scheduleFreeEvalParams(state, y); // equal to y before the first step
 * treeDispose(x);
 * ```
 */
export function scheduleFreeEvalParams(state: unknown, params: Tree): Tree {
  const found = findInState(state, isScheduleFreeState);
  if (found.length !== 1) {
    throw new TfoptError(
      `scheduleFreeEvalParams: expected one scheduleFree state in the given state, found ${found.length}`,
    );
  }
  const sf = found[0] as ScheduleFreeState;
  return tidy(() => {
    const keep = tf.scalar(1 - sf.b1);
    const b1 = tf.scalar(sf.b1);
    return treeMap((y, z) => tf.div(tf.sub(y, tf.mul(keep, z)), b1), params, sf.z);
  });
}

/** `peak · min(count, steps) / steps`: optax's `warmup_constant_schedule(0, peak, steps)`. */
function warmup(peak: number, steps: number): (count: number) => number {
  return (count) => (peak * Math.min(Math.max(count, 0), steps)) / steps;
}

function withWarmup(
  owner: string,
  learningRate: ScalarOrSchedule,
  warmupSteps: number | undefined,
): ScalarOrSchedule {
  if (warmupSteps === undefined) return learningRate;
  assertOptions(owner, { warmupSteps: [warmupSteps, positiveInteger] });
  if (typeof learningRate !== 'number') {
    throw new InvalidOptionError(
      owner,
      'warmupSteps',
      warmupSteps,
      'absent when learningRate is a schedule (put the warmup in the schedule)',
    );
  }
  return warmup(learningRate, warmupSteps);
}

/** Options of {@link scheduleFreeSgd}. @category Learning-rate-free */
export interface ScheduleFreeSgdOptions extends ScheduleFreeOptions {
  /** Length of a linear warmup from 0 (needs a number learning rate), integer `>= 1`. Default: none. */
  readonly warmupSteps?: number;
  /** Weight decay added to the gradient before the learning rate, `>= 0`. Default: none. */
  readonly weightDecay?: number;
}

/**
 * Schedule-Free SGD: {@link scheduleFree} around plain `sgd(learningRate)`
 * (after `addDecayedWeights(weightDecay)` when `weightDecay` is given), as
 * `optax.contrib.schedule_free_sgd`:
 *
 * ```
 * z_new = z − lr·(g + weightDecay·y)       (then the averaging of scheduleFree)
 * ```
 *
 * The weight decay is multiplied by the learning rate (as in optax and
 * PyTorch). With `warmupSteps`, the learning rate is
 * `lr · min(count, warmupSteps) / warmupSteps`. The authors' PyTorch
 * `SGDScheduleFree` has the same defaults (lr 1, b1 0.9, weight_lr_power 2);
 * see {@link scheduleFree} for how it differs.
 *
 * @param learningRate - A number `>= 0` or a schedule. Default `1`.
 * @param options - See {@link ScheduleFreeSgdOptions}.
 * @category Learning-rate-free
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables, treeDispose } from '@tfopt/core';
 * import { scheduleFreeEvalParams, scheduleFreeSgd } from '@tfopt/contrib';
 * const w = { x: tf.variable(tf.tensor([1, 2, 3])) };
 * const tx = scheduleFreeSgd(0.5, { warmupSteps: 5 });
 * let state = tx.init(w);
 * for (let i = 0; i < 20; i++) {
 *   const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 *   state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 *   tf.dispose([value, grads]);
 * }
 * const x = scheduleFreeEvalParams(state, w) as { x: tf.Tensor };
 * x.x.print();
 * treeDispose(x);
 * ```
 */
export function scheduleFreeSgd(
  learningRate: ScalarOrSchedule = 1,
  options?: ScheduleFreeSgdOptions,
): GradientTransformation<ScheduleFreeState> {
  const owner = 'scheduleFreeSgd';
  assertOptions(owner, { learningRate: [learningRate, LR_RULE] });
  checkKnown(owner, options, ['warmupSteps', 'b1', 'weightDecay', 'weightLrPower']);
  const { warmupSteps, weightDecay, b1 = 0.9, weightLrPower = 2 } = options ?? {};
  assertOptions(owner, { b1: [b1, B1_RULE], weightLrPower: [weightLrPower, nonNegative] });
  if (weightDecay !== undefined) assertOptions(owner, { weightDecay: [weightDecay, nonNegative] });
  const lr = withWarmup(owner, learningRate, warmupSteps);
  const inner: GradientTransformation<any> =
    weightDecay === undefined ? sgd(lr) : chain(addDecayedWeights({ weightDecay }), sgd(lr));
  return withSpec(scheduleFree(inner, lr, { b1, weightLrPower }), owner, [learningRate, options]);
}

/** State of the bias-corrected RMS scaling inside {@link scheduleFreeAdamw}. @category Learning-rate-free */
export interface ScaleByRmsBiasCorrectedState {
  /** Updates done so far. */
  readonly count: number;
  /** Average of the squared gradients. */
  readonly nu: Tree;
}

/** optax's `scale_by_rms(decay, eps, eps_in_sqrt=False, bias_correction=True)`. */
function scaleByRmsBiasCorrected(
  decay: number,
  eps: number,
): GradientTransformation<ScaleByRmsBiasCorrectedState> {
  return {
    init: (params) => tidy(() => ({ count: 0, nu: treeZerosLike(params) })),
    update: (updates, state) =>
      tidy(() => {
        const count = state.count + 1;
        const keep = tf.scalar(decay);
        const take = tf.scalar(1 - decay);
        const correction = tf.scalar(1 - decay ** count);
        const e = tf.scalar(eps);
        const [u, nu] = treeMapN(
          2,
          (g, v) => {
            const nu = tf.add(tf.mul(keep, v), tf.mul(take, tf.square(g)));
            return [tf.div(g, tf.add(tf.sqrt(tf.div(nu, correction)), e)), nu];
          },
          updates,
          state.nu,
        ) as [Tree, Tree];
        return [u, { count, nu }] as const;
      }),
  };
}

/** State of {@link scheduleFreeAdamw}. @category Learning-rate-free */
export type ScheduleFreeAdamwState = ScheduleFreeState<
  readonly [ScaleByRmsBiasCorrectedState, EmptyState, ScaleByScheduleState]
>;

/** Options of {@link scheduleFreeAdamw}. @category Learning-rate-free */
export interface ScheduleFreeAdamwOptions extends ScheduleFreeOptions {
  /** Length of a linear warmup from 0 (needs a number learning rate), integer `>= 1`. Default: none. */
  readonly warmupSteps?: number;
  /** Decay of the second moment, in `[0, 1)`. Default `0.999`. */
  readonly b2?: number;
  /** Added to the square root of the bias-corrected second moment, `>= 0`. Default `1e-8`. */
  readonly eps?: number;
  /** Decoupled weight decay (times the learning rate), `>= 0`. Default `0`. */
  readonly weightDecay?: number;
}

/**
 * Schedule-Free AdamW, as `optax.contrib.schedule_free_adamw`: {@link scheduleFree}
 * around AdamW without its momentum, i.e. RMS scaling with bias correction
 * and eps outside the square root, then weight decay, then `−lr`:
 *
 * ```
 * nu    ← b2·nu + (1 − b2)·g²
 * u     = −lr·( g / (sqrt(nu / (1 − b2^t)) + eps) + weightDecay·y )
 * (then the interpolation and averaging of scheduleFree, with b1)
 * ```
 *
 * The defaults are optax's and the authors' (`AdamWScheduleFree`): lr
 * 0.0025, b1 0.9, b2 0.999, eps 1e-8, weight decay 0, weight_lr_power 2.
 * With `warmupSteps`, the learning rate is `lr · min(count, warmupSteps) /
 * warmupSteps`. See {@link scheduleFree} for the differences from PyTorch.
 *
 * @param learningRate - A number `>= 0` or a schedule. Default `0.0025`.
 * @param options - See {@link ScheduleFreeAdamwOptions}.
 * @category Learning-rate-free
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables, treeDispose } from '@tfopt/core';
 * import { scheduleFreeAdamw, scheduleFreeEvalParams } from '@tfopt/contrib';
 * const w = { x: tf.variable(tf.tensor([1, 2, 3])) };
 * const tx = scheduleFreeAdamw(0.05, { weightDecay: 1e-4 });
 * let state = tx.init(w);
 * for (let i = 0; i < 100; i++) {
 *   const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 *   state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 *   tf.dispose([value, grads]);
 * }
 * treeDispose(scheduleFreeEvalParams(state, w));
 * ```
 */
export function scheduleFreeAdamw(
  learningRate: ScalarOrSchedule = 0.0025,
  options?: ScheduleFreeAdamwOptions,
): GradientTransformation<ScheduleFreeAdamwState> {
  const owner = 'scheduleFreeAdamw';
  assertOptions(owner, { learningRate: [learningRate, LR_RULE] });
  checkKnown(owner, options, ['warmupSteps', 'b1', 'b2', 'eps', 'weightDecay', 'weightLrPower']);
  const {
    warmupSteps,
    b1 = 0.9,
    b2 = 0.999,
    eps = 1e-8,
    weightDecay = 0,
    weightLrPower = 2,
  } = options ?? {};
  assertOptions(owner, {
    b1: [b1, B1_RULE],
    b2: [b2, decayRate],
    eps: [eps, nonNegative],
    weightDecay: [weightDecay, nonNegative],
    weightLrPower: [weightLrPower, nonNegative],
  });
  const lr = withWarmup(owner, learningRate, warmupSteps);
  const inner = chain(
    scaleByRmsBiasCorrected(b2, eps),
    addDecayedWeights({ weightDecay }),
    scaleByLearningRate(lr),
  );
  return withSpec(scheduleFree(inner, lr, { b1, weightLrPower }), owner, [learningRate, options]);
}
