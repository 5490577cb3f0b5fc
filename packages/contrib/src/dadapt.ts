import * as tf from '@tensorflow/tfjs-core';
import {
  assertSameStructure,
  evaluateSchedule,
  findInState,
  type GradientTransformation,
  isPlainRecord,
  isTensor,
  type ScalarOrSchedule,
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
  boolean,
  decayRate,
  nonNegative,
  numberOrFunction,
  positive,
} from '@tfopt/core/options';
import { checkGrowthRate, pick, requireParams } from './common.js';

/** Options of {@link dadaptAdamw}. @category Learning-rate-free */
export interface DAdaptAdamWOptions {
  /** Decay of the first moment, in `[0, 1)`. Default `0.9` (optax `betas[0]`). */
  readonly b1?: number;
  /** Decay of the second moment, in `[0, 1)`; `s` and the numerator decay by `sqrt(b2)`. Default `0.999`. */
  readonly b2?: number;
  /** Added to `sqrt(v)`, `> 0`. Default `1e-8`. */
  readonly eps?: number;
  /** Initial (under-)estimate of `d`, `> 0`. Default `1e-6` (optax `estim_lr0`, PyTorch `d0`). */
  readonly d0?: number;
  /** Decoupled (AdamW-style) weight decay, `>= 0`, scaled by `d·lr`. Default `0`. */
  readonly weightDecay?: number;
  /**
   * Adam's bias correction `sqrt(1 − b2^t) / (1 − b1^t)` in the step size. Default `true`,
   * as optax (which always applies it); PyTorch's `use_bias_correction` defaults to `false`.
   */
  readonly biasCorrection?: boolean;
  /**
   * Cap on how fast `d` grows per step, PyTorch's `growth_rate`: `d ← max(d, min(d̂, d·growthRate))`.
   * A number `>= 1` or `Infinity`. Default `Infinity` (no cap; optax has none).
   */
  readonly growthRate?: number;
}

/**
 * State of {@link dadaptAdamw}. `d` and `numerator` are float32 scalar
 * tensors (as optax keeps them); read `d` with {@link readDAdaptD}.
 *
 * @category Learning-rate-free
 */
export interface DAdaptAdamWState {
  /** Updates done so far (0 before the first); a schedule is evaluated at it. */
  readonly count: number;
  /** The current estimate `d` of the distance to the solution (the step-size scale). */
  readonly d: tf.Scalar;
  /** The weighted sum `Σ dlr·<g, s / (sqrt(v) + eps)>`, decayed by `sqrt(b2)`. */
  readonly numerator: tf.Scalar;
  /** First moment of `dlr·g` (the step size is already inside). */
  readonly mu: Tree;
  /** Second moment of `g`. */
  readonly nu: Tree;
  /** The weighted gradient sum `s` whose L1 norm is the estimate's denominator. */
  readonly s: Tree;
}

const OWNER = 'dadaptAdamw';
const KNOWN = ['b1', 'b2', 'eps', 'd0', 'weightDecay', 'biasCorrection', 'growthRate'] as const;

/**
 * D-Adaptation AdamW (Defazio & Mishchenko, 2023, "Learning-Rate-Free
 * Learning by D-Adaptation", arXiv 2301.07733): AdamW whose step size `d` is
 * a lower bound on the distance to the solution, estimated from the
 * gradients. It follows `optax.contrib.dadapt_adamw`: the same state,
 * defaults and order of operations. With `t = count + 1`,
 * `lr = learningRate(count)`, `β = sqrt(b2)` and every `<·,·>` and `Σ` over
 * the whole tree:
 *
 * ```
 * bc   = sqrt(1 − b2^t) / (1 − b1^t)              (1 with biasCorrection: false)
 * dlr  = d · lr · bc
 * num  ← β·num + (1 − β)·dlr·<g, s / (sqrt(v) + eps)>      (s and v from before the step)
 * m    ← b1·m + (1 − b1)·dlr·g                     v ← b2·v + (1 − b2)·g²
 * s    ← β·s + (1 − β)·dlr·g
 * d'   ← max(d, num / ((1 − β)·Σ|s|))             (growthRate: max(d, min(d̂, d·growthRate)))
 * u    = −m / (sqrt(v) + eps) − weightDecay · dlr · x
 * ```
 *
 * Unlike {@link prodigy}, `m` holds the step size already, so the new `d`
 * acts from the next step on. The weight decay needs the current parameters:
 * pass `params` to `update` (`step`, `stepVariables` and `TransformOptimizer`
 * do); without them it throws, as optax does.
 *
 * Differences from the authors' PyTorch `DAdaptAdam` (facebookresearch/dadaptation), and how
 * to get its behaviour:
 * - Bias correction: PyTorch's `use_bias_correction` is off by default, optax's is always on.
 *   `biasCorrection` (default `true`, as optax); pass `false` for PyTorch's default.
 * - Growth cap: PyTorch's `growth_rate` (default infinite), `d ← max(d, min(d̂, d·growthRate))`,
 *   is `growthRate` (default `Infinity`, optax's rule).
 * - Weight decay: PyTorch's default `decouple=False` adds `weightDecay·x` to the gradient (L2,
 *   as Adam); this is the decoupled (AdamW) form, PyTorch's `decouple=True` and optax's. For
 *   the L2 form, chain `addDecayedWeights({ weightDecay })` before `dadaptAdamw`.
 * - A step whose `Σ|s|` is 0 (every gradient so far all zeros, or parameters with no elements):
 *   PyTorch returns without moving the parameters and optax divides 0 by 0, so its `d` becomes
 *   NaN. Here `d` is kept and the rest of the step runs as in optax.
 * - PyTorch's `layer_scale`, `log_every`, `fsdp_in_use` and per-group learning rates are not
 *   offered; PyTorch keeps `d` and the numerator as float64 numbers, here (as in optax) float32.
 * - `eps` must be `> 0` (as in PyTorch; optax accepts 0, which gives 0/0 where a gradient
 *   coordinate was always 0).
 *
 * @param learningRate - Multiplies the estimated step size: a number `>= 0` or a schedule of
 *   the step count. Default `1`; the authors recommend 1 as the peak of a decaying schedule.
 * @param options - See {@link DAdaptAdamWOptions}.
 * @category Learning-rate-free
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { dadaptAdamw, readDAdaptD } from '@tfopt/contrib';
 * const w = { x: tf.variable(tf.tensor([3, -1])) };
 * const tx = dadaptAdamw(1, { weightDecay: 1e-4 });
 * let state = tx.init(w);
 * for (let i = 0; i < 100; i++) {
 *   const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 *   state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 *   tf.dispose([value, grads]);
 * }
 * console.log(readDAdaptD(state)); // the estimated step size, grown from 1e-6
 * ```
 */
export function dadaptAdamw(
  learningRate: ScalarOrSchedule = 1,
  options?: DAdaptAdamWOptions,
): GradientTransformation<DAdaptAdamWState> {
  assertKnownOptions(OWNER, options, KNOWN);
  const o = options ?? {};
  const b1 = pick(o.b1, 0.9);
  const b2 = pick(o.b2, 0.999);
  const eps = pick(o.eps, 1e-8);
  const d0 = pick(o.d0, 1e-6);
  const weightDecay = pick(o.weightDecay, 0);
  const biasCorrection = pick(o.biasCorrection, true);
  assertOptions(OWNER, {
    learningRate: [learningRate, numberOrFunction(nonNegative)],
    b1: [b1, decayRate],
    b2: [b2, decayRate],
    eps: [eps, positive],
    d0: [d0, positive],
    weightDecay: [weightDecay, nonNegative],
    biasCorrection: [biasCorrection, boolean],
  });
  const growthRate = checkGrowthRate(OWNER, pick(o.growthRate, Number.POSITIVE_INFINITY));
  const sb2 = Math.sqrt(b2);

  return withSpec(
    {
      init: (params) =>
        tidy(() => ({
          count: 0,
          d: tf.scalar(d0),
          numerator: tf.scalar(0),
          mu: treeZerosLike(params),
          nu: treeZerosLike(params),
          s: treeZerosLike(params),
        })),
      update: (updates, state, params) => {
        requireParams(OWNER, params, 'its weight decay uses x');
        assertSameStructure(updates, params, ['updates', 'params']);
        const lr = evaluateSchedule(learningRate, state.count, 'dadaptAdamw: learningRate');
        return tidy(() => {
          const t = state.count + 1;
          const bc = biasCorrection ? Math.sqrt(1 - b2 ** t) / (1 - b1 ** t) : 1;
          const d = state.d;
          const dlr = tf.mul(d, lr * bc);
          const dots: tf.Scalar[] = [];
          const absSums: tf.Scalar[] = [];
          // Leaves in canonical order, so the sums below are the same for any key order.
          const [mu, nu, s] = treeMapN(
            3,
            (g, m, v, sk) => {
              // An empty leaf adds nothing (and tf.sum of one is not 0 on wasm).
              const live = g.size > 0;
              if (live) dots.push(tf.sum(tf.mul(g, tf.div(sk, tf.add(tf.sqrt(v), eps)))));
              const gl = tf.mul(g, dlr);
              const mNew = tf.add(tf.mul(m, b1), tf.mul(gl, 1 - b1));
              const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
              const sNew = tf.add(tf.mul(sk, sb2), tf.mul(gl, 1 - sb2));
              if (live) absSums.push(tf.sum(tf.abs(sNew)));
              return [mNew, vNew, sNew];
            },
            updates,
            state.mu,
            state.nu,
            state.s,
          ) as [Tree, Tree, Tree];
          const dot = total(dots);
          const l1 = total(absSums);
          const numerator = tf.add(
            tf.mul(state.numerator, sb2),
            tf.mul(tf.mul(dlr, dot), 1 - sb2),
          ) as tf.Scalar;
          const estimate = tf.div(numerator, tf.mul(l1, 1 - sb2));
          const capped =
            growthRate === Number.POSITIVE_INFINITY
              ? estimate
              : tf.minimum(estimate, tf.mul(d, growthRate));
          const dNew = tf.where(tf.greater(l1, 0), tf.maximum(d, capped), d) as tf.Scalar;
          const decay = weightDecay === 0 ? undefined : tf.mul(dlr, weightDecay);
          const u = treeMap(
            (m, v, x) => {
              const step = tf.div(m, tf.add(tf.sqrt(v), eps));
              return tf.neg(decay === undefined ? step : tf.add(step, tf.mul(x, decay)));
            },
            mu,
            nu,
            params,
          );
          const next: DAdaptAdamWState = { count: t, d: dNew, numerator, mu, nu, s };
          return [u, next] as const;
        });
      },
    },
    'dadaptAdamw',
    [learningRate, options],
  );
}

/** Sum of per-leaf scalars (0 for none) with one `addN`. */
function total(parts: tf.Scalar[]): tf.Scalar {
  if (parts.length === 0) return tf.scalar(0);
  return (parts.length === 1 ? parts[0] : tf.addN(parts)) as tf.Scalar;
}

const DADAPT_KEYS = ['count', 'd', 'numerator', 'mu', 'nu', 's'];

function isDAdaptState(value: unknown): value is DAdaptAdamWState {
  if (!isPlainRecord(value)) return false;
  const own = Object.keys(value);
  return (
    own.length === DADAPT_KEYS.length &&
    DADAPT_KEYS.every((k) => Object.hasOwn(value, k)) &&
    typeof value.count === 'number' &&
    isTensor(value.d) &&
    value.d.size === 1
  );
}

/**
 * The current `d` (the estimated step size) of the first {@link dadaptAdamw}
 * state found in any optimizer state, depth first: a bare `DAdaptAdamWState`,
 * a chain's tuple, `injectHyperparams`' `inner`, `TransformOptimizer.getState()`.
 * `undefined` when there is none. Reads one number back from the tensor: use
 * it between steps (for logging and plots), not inside one.
 *
 * @category Learning-rate-free
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { dadaptAdamw, readDAdaptD } from '@tfopt/contrib';
 * const state = dadaptAdamw().init({ w: tf.zeros([3]) });
 * readDAdaptD(state); // 1e-6 as float32: 9.999999974752427e-7
 * ```
 */
export function readDAdaptD(state: unknown): number | undefined {
  const found = findInState(state, isDAdaptState)[0];
  return found === undefined ? undefined : (found.d.dataSync()[0] as number);
}
