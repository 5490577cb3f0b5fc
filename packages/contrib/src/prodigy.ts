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
  type OptionRule,
  positive,
} from '@tfopt/core/options';
import { checkGrowthRate, pick, requireParams } from './common.js';

/** Options of {@link prodigy}. @category Learning-rate-free */
export interface ProdigyOptions {
  /** Decay of the first moment, in `[0, 1)`. Default `0.9` (optax `betas[0]`). */
  readonly b1?: number;
  /** Decay of the second moment, in `[0, 1)`. Default `0.999` (optax `betas[1]`). */
  readonly b2?: number;
  /** Decay of the `d` estimate's sums `s` and numerator, in `[0, 1)`. Default `sqrt(b2)`. */
  readonly b3?: number;
  /** Added to `sqrt(v)` after scaling by the new `d`, `> 0`. Default `1e-8`. */
  readonly eps?: number;
  /** Initial (under-)estimate of `d`, `> 0`. Default `1e-6` (optax `estim_lr0`, PyTorch `d0`). */
  readonly d0?: number;
  /** Multiplies every estimate of `d`, `> 0`. Default `1` (optax `estim_lr_coef`, PyTorch `d_coef`). */
  readonly dCoef?: number;
  /** Decoupled (AdamW-style) weight decay, `>= 0`, scaled by `d·lr`. Default `0`. */
  readonly weightDecay?: number;
  /**
   * Adam's bias correction `sqrt(1 − b2^t) / (1 − b1^t)` in the step size. Default `true`,
   * as optax (which always applies it); PyTorch's `use_bias_correction` defaults to `false`.
   */
  readonly biasCorrection?: boolean;
  /**
   * Cap on how fast `d` grows: PyTorch's `growth_rate`, a number `>= 1` or `Infinity`.
   * Default `Infinity` (no cap; optax has none).
   */
  readonly growthRate?: number;
  /**
   * Accumulate `s` with `d` instead of `d·lr·bc` (so a warm-up schedule does not shrink the
   * denominator of the estimate). Default `false`, as optax and PyTorch.
   */
  readonly safeguardWarmup?: boolean;
}

/**
 * State of {@link prodigy}. The scalars `d`, `dMax` and `numerator` are
 * float32 scalar tensors (as optax keeps them), so a step needs no read-back;
 * read `d` with {@link readProdigyD}.
 *
 * @category Learning-rate-free
 */
export interface ProdigyState {
  /** Updates done so far (0 before the first); a schedule is evaluated at it. */
  readonly count: number;
  /** The current estimate `d` of the distance to the solution (the step-size scale). */
  readonly d: tf.Scalar;
  /** The largest estimate seen (PyTorch's `d_max`); equals `d` unless `growthRate` is finite. */
  readonly dMax: tf.Scalar;
  /** The weighted sum `Σ (d/d0)·dlr·<g, x0 − x>`, decayed by `b3`. */
  readonly numerator: tf.Scalar;
  /** First moment of `d·g`. */
  readonly mu: Tree;
  /** Second moment of `d·g`. */
  readonly nu: Tree;
  /** The weighted gradient sum `s` whose L1 norm is the estimate's denominator. */
  readonly s: Tree;
  /** A copy of the parameters passed to `init` (the state's own tensors, never the caller's). */
  readonly x0: Tree;
}

const OWNER = 'prodigy';
const KNOWN = [
  'b1',
  'b2',
  'b3',
  'eps',
  'd0',
  'dCoef',
  'weightDecay',
  'biasCorrection',
  'growthRate',
  'safeguardWarmup',
] as const;

/**
 * Prodigy (Mishchenko & Defazio, 2023, "Prodigy: An Expeditiously Adaptive
 * Parameter-Free Learner", arXiv 2306.06101): AdamW whose step size `d` is
 * estimated on the fly from how far the parameters have moved from `x0`,
 * with weights that favour recent gradients. It follows `optax.contrib.prodigy`:
 * the same state, defaults and order of operations. With `t = count + 1`,
 * `lr = learningRate(count)` and every `<·,·>` and `Σ` over the whole tree:
 *
 * ```
 * bc   = sqrt(1 − b2^t) / (1 − b1^t)              (1 with biasCorrection: false)
 * dlr  = d · lr · bc
 * m    ← b1·m + (1 − b1)·d·g                       v ← b2·v + (1 − b2)·(d·g)²
 * s    ← b3·s + (dlr / d0)·d·g                     (d / d0 · d·g with safeguardWarmup)
 * num  ← b3·num + (d / d0)·dlr·<g, x0 − x>
 * d'   ← max(d, dCoef · num / Σ|s|)               (growthRate: see below)
 * u    = −dlr · m / (sqrt(v) + d'·eps) − weightDecay · dlr · x
 * ```
 *
 * `dlr` uses the `d` from before the step, the `eps` term the new one. The
 * update needs the current parameters (for `x0 − x` and the weight decay):
 * pass `params` to `update` (`step`, `stepVariables` and `TransformOptimizer`
 * do); without them it throws.
 *
 * Differences from the authors' PyTorch `Prodigy` (prodigyopt), and how to get its behaviour:
 * - Bias correction: PyTorch's `use_bias_correction` is off by default, optax's is always on.
 *   `biasCorrection` (default `true`, as optax); pass `false` for PyTorch's default.
 * - Growth cap: PyTorch's `growth_rate` (default infinite) keeps a running maximum
 *   `dMax = max(dMax, d̂)` and sets `d ← min(dMax, d_prev · growthRate)`, except that while `d` is
 *   still `d0` it first jumps to `max(d, d̂)` uncapped. `growthRate` does exactly that; at its
 *   default `Infinity` it is optax's `max(d, d̂)`. optax has no cap.
 * - `safeguardWarmup` is in both (default off).
 * - A step whose `Σ|s|` is 0 (every gradient so far all zeros, or parameters with no elements):
 *   PyTorch returns without moving the parameters and optax divides 0 by 0, so its `d` becomes
 *   NaN. Here `d` and `dMax` are kept and the rest of the step runs as in optax.
 * - PyTorch's default `decouple=True` is this weight decay; its `decouple=False` (L2 added to
 *   the gradient) is `chain(addDecayedWeights({ weightDecay }), prodigy(lr))`. PyTorch's
 *   `slice_p`, `fsdp_in_use` and per-group learning rates are not offered.
 * - PyTorch keeps `d` and the numerator as float64 numbers; here, as in optax, they are float32.
 * - `eps` must be `> 0` (as in PyTorch; optax accepts 0, which gives 0/0 where a gradient
 *   coordinate was always 0).
 *
 * @param learningRate - Multiplies the estimated step size: a number `>= 0` or a schedule of
 *   the step count. Default `1`. The authors recommend 1 as the peak of a decaying schedule.
 * @param options - See {@link ProdigyOptions}.
 * @category Learning-rate-free
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { prodigy, readProdigyD } from '@tfopt/contrib';
 * const w = { x: tf.variable(tf.tensor([3, -1])) };
 * const tx = prodigy(1, { weightDecay: 1e-4 });
 * let state = tx.init(w);
 * for (let i = 0; i < 100; i++) {
 *   const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 *   state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 *   tf.dispose([value, grads]);
 * }
 * console.log(readProdigyD(state)); // the estimated step size, grown from 1e-6
 * ```
 */
export function prodigy(
  learningRate: ScalarOrSchedule = 1,
  options?: ProdigyOptions,
): GradientTransformation<ProdigyState> {
  assertKnownOptions(OWNER, options, KNOWN);
  const o = options ?? {};
  const b1 = pick(o.b1, 0.9);
  const b2 = pick(o.b2, 0.999);
  const eps = pick(o.eps, 1e-8);
  const d0 = pick(o.d0, 1e-6);
  const dCoef = pick(o.dCoef, 1);
  const weightDecay = pick(o.weightDecay, 0);
  const biasCorrection = pick(o.biasCorrection, true);
  const safeguardWarmup = pick(o.safeguardWarmup, false);
  const checks: Record<string, readonly [unknown, OptionRule<unknown>]> = {
    learningRate: [learningRate, numberOrFunction(nonNegative)],
    b1: [b1, decayRate],
    b2: [b2, decayRate],
    eps: [eps, positive],
    d0: [d0, positive],
    dCoef: [dCoef, positive],
    weightDecay: [weightDecay, nonNegative],
    biasCorrection: [biasCorrection, boolean],
    safeguardWarmup: [safeguardWarmup, boolean],
  };
  if (o.b3 !== undefined) checks.b3 = [o.b3, decayRate];
  assertOptions(OWNER, checks);
  const growthRate = checkGrowthRate(OWNER, pick(o.growthRate, Number.POSITIVE_INFINITY));
  const b3 = pick(o.b3, Math.sqrt(b2));

  return withSpec(
    {
      init: (params) =>
        tidy(() => ({
          count: 0,
          d: tf.scalar(d0),
          dMax: tf.scalar(d0),
          numerator: tf.scalar(0),
          mu: treeZerosLike(params),
          nu: treeZerosLike(params),
          s: treeZerosLike(params),
          x0: treeMap((x) => tf.clone(x), params),
        })),
      update: (updates, state, params) => {
        requireParams(OWNER, params, 'its estimate uses x0 − x and its weight decay uses x');
        assertSameStructure(updates, params, ['updates', 'params']);
        const lr = evaluateSchedule(learningRate, state.count, 'prodigy: learningRate');
        return tidy(() => {
          const t = state.count + 1;
          const bc = biasCorrection ? Math.sqrt(1 - b2 ** t) / (1 - b1 ** t) : 1;
          const d = state.d;
          const dlr = tf.mul(d, lr * bc);
          const sCoef = tf.div(safeguardWarmup ? d : dlr, d0);
          const dots: tf.Scalar[] = [];
          const absSums: tf.Scalar[] = [];
          // Leaves in canonical order, so the sums below are the same for any key order.
          const [mu, nu, s] = treeMapN(
            3,
            (g, m, v, sk, x0, x) => {
              const dg = tf.mul(g, d);
              const mNew = tf.add(tf.mul(m, b1), tf.mul(dg, 1 - b1));
              const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(dg), 1 - b2));
              const sNew = tf.add(tf.mul(sk, b3), tf.mul(dg, sCoef));
              // An empty leaf adds nothing (and tf.sum of one is not 0 on wasm).
              if (g.size > 0) {
                dots.push(tf.sum(tf.mul(g, tf.sub(x0, x))));
                absSums.push(tf.sum(tf.abs(sNew)));
              }
              return [mNew, vNew, sNew];
            },
            updates,
            state.mu,
            state.nu,
            state.s,
            state.x0,
            params,
          ) as [Tree, Tree, Tree];
          const dot = total(dots);
          const denominator = total(absSums);
          const numerator = tf.add(
            tf.mul(state.numerator, b3),
            tf.mul(tf.mul(tf.div(d, d0), dlr), dot),
          ) as tf.Scalar;
          const estimate = tf.mul(tf.div(numerator, denominator), dCoef);
          const informative = tf.greater(denominator, 0);
          const dMaxNew = tf.maximum(state.dMax, estimate);
          let dNew: tf.Tensor;
          if (growthRate === Number.POSITIVE_INFINITY) {
            dNew = tf.maximum(d, estimate);
          } else {
            // PyTorch's rule: the first rise from d0 is uncapped, later ones at most ×growthRate.
            const start = tf.where(tf.equal(d, d0), tf.maximum(d, estimate), d);
            dNew = tf.minimum(dMaxNew, tf.mul(start, growthRate));
          }
          const dKept = tf.where(informative, dNew, d) as tf.Scalar;
          const dMaxKept = tf.where(informative, dMaxNew, state.dMax) as tf.Scalar;
          const dEps = tf.mul(dKept, eps);
          const decay = weightDecay === 0 ? undefined : tf.mul(dlr, weightDecay);
          const u = treeMap(
            (m, v, x) => {
              const step = tf.div(tf.mul(m, dlr), tf.add(tf.sqrt(v), dEps));
              return tf.neg(decay === undefined ? step : tf.add(step, tf.mul(x, decay)));
            },
            mu,
            nu,
            params,
          );
          const next: ProdigyState = {
            count: t,
            d: dKept,
            dMax: dMaxKept,
            numerator,
            mu,
            nu,
            s,
            x0: state.x0,
          };
          return [u, next] as const;
        });
      },
    },
    'prodigy',
    [learningRate, options],
  );
}

/** Sum of per-leaf scalars (0 for none) with one `addN`. */
function total(parts: tf.Scalar[]): tf.Scalar {
  if (parts.length === 0) return tf.scalar(0);
  return (parts.length === 1 ? parts[0] : tf.addN(parts)) as tf.Scalar;
}

const PRODIGY_KEYS = ['count', 'd', 'dMax', 'numerator', 'mu', 'nu', 's', 'x0'];

function hasExactKeys(value: unknown, keys: readonly string[]): value is Record<string, unknown> {
  if (!isPlainRecord(value)) return false;
  const own = Object.keys(value);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(value, k));
}

/** Depth-first search of arrays and plain records for the first value that `match` accepts. */

function isProdigyState(value: unknown): value is ProdigyState {
  return (
    hasExactKeys(value, PRODIGY_KEYS) &&
    typeof value.count === 'number' &&
    isTensor(value.d) &&
    value.d.size === 1
  );
}

/**
 * The current `d` (the estimated step size) of the first {@link prodigy}
 * state found in any optimizer state, depth first: a bare `ProdigyState`, a
 * chain's tuple, `injectHyperparams`' `inner`, `TransformOptimizer.getState()`.
 * `undefined` when there is none. Reads one number back from the tensor:
 * use it between steps (for logging and plots), not inside one.
 *
 * @category Learning-rate-free
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { prodigy, readProdigyD } from '@tfopt/contrib';
 * const state = prodigy().init({ w: tf.zeros([3]) });
 * readProdigyD(state); // 1e-6 as float32: 9.999999974752427e-7
 * ```
 */
export function readProdigyD(state: unknown): number | undefined {
  const found = findInState(state, isProdigyState)[0];
  return found === undefined ? undefined : (found.d.dataSync()[0] as number);
}
