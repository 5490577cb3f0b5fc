import * as tf from '@tensorflow/tfjs-core';
import {
  findInState,
  type GradientTransformation,
  InvalidOptionError,
  isPlainRecord,
  isTensor,
  isTransform,
  TfoptError,
  type Tree,
  tidy,
  treeGlobalNorm,
  treeMap,
  treeVdot,
  withSpec,
} from '@tfopt/core';
import {
  assertKnownOptions,
  assertOptions,
  nonNegative,
  positive,
  positiveInteger,
} from '@tfopt/core/options';
import { requireParams } from './common.js';

/** Options of {@link mechanize}. @category Learning-rate-free */
export interface MechanizeOptions {
  /**
   * Mechanic's own weight decay (`λ` in the paper), `>= 0`. Default `1e-2`.
   * It is not the base optimizer's weight decay: it is added to the gradient
   * only where Mechanic measures the inner product that drives its scale,
   * never to what the base optimizer sees.
   */
  readonly weightDecay?: number;
  /** Stabilises the divisions, `>= 0`. Default `1e-8`. */
  readonly eps?: number;
  /**
   * Initial scale per beta and the "wealth" floor, `> 0`. Default `1e-6`, as
   * in optax. The authors' PyTorch package defaults to `1e-8` (and starts
   * the scale at 0 rather than at `sInit`); pass `sInit: 1e-8` to start from
   * its value.
   */
  readonly sInit?: number;
  /** How many betas, `beta_i = 1 − 0.1^i` for `i = 1..numBetas`, integer `>= 1`. Default `6`. */
  readonly numBetas?: number;
}

/**
 * State of {@link mechanize}.
 *
 * @category Learning-rate-free
 */
export interface MechanicState<B = unknown> {
  /** The base optimizer's state. */
  readonly baseState: B;
  /** Updates done so far. */
  readonly count: number;
  /** Per-beta reward, shape `[numBetas]`. */
  readonly r: tf.Tensor1D;
  /** Per-beta running maximum of `|h|`, shape `[numBetas]`. */
  readonly m: tf.Tensor1D;
  /** Per-beta discounted sum of `h²`, shape `[numBetas]`. */
  readonly v: tf.Tensor1D;
  /** Per-beta scale; the scale applied is their sum. Shape `[numBetas]`. */
  readonly s: tf.Tensor1D;
  /** The reference point: the parameters at the first update (own copy). */
  readonly x0: Tree;
}

const OWNER = 'mechanize';
const KNOWN = ['weightDecay', 'eps', 'sInit', 'numBetas'] as const;

/**
 * Mechanic (Cutkosky, Defazio & Mehta, 2023, "Mechanic: A Learning Rate
 * Tuner", arXiv 2306.00144): learn a global scale `s` for the updates of any
 * base optimizer. Mechanic keeps the sum `Δ` of the base updates and sets the
 * parameters to `x0 + s·Δ`; `s` is the sum of `numBetas` scales, each a
 * coin-betting "wealth" over the inner products of the gradient with the
 * displacement `(x − x0) / s`. As `optax.contrib.mechanize`, with its
 * defaults and its update order. With `t` the step, `u` the base update
 * (already negated, so that adding it descends) and `s = Σ s_i` of the
 * previous step:
 *
 * ```
 * x0     = x at the first update (later: kept)
 * g̃      = g + λ·s·|g| / (|x| + eps) · x        (|·| global L2 norms)
 * Δprev  = (x0 − x) / (s + eps)
 * h      = ⟨g̃, Δprev⟩
 * m_i    ← max(β_i m_i, |h| + eps)
 * v_i    ← β_i² v_i + h²
 * r_i    ← β_i r_i + clip(h, −m_i_old, m_i_old)·s_i_old
 * s_i    ← (sInit/n · m_i + max(r_i, 0)) / (sqrt(v_i) + eps)
 * x_new  = x0 − (Σ s_i)·(Δprev − u)             update = x_new − x
 * ```
 *
 * The learning rate of the base optimizer still matters as the unit of the
 * steps (Mechanic learns a multiple of it); optax suggests 1 or a schedule
 * peaking at 1. Mechanic's weight decay `λ` is separate from any weight
 * decay of the base optimizer (which still applies inside the base updates).
 * `update` needs the params.
 *
 * Differences:
 * - from optax: none in the algorithm. The step count is a JS number and the
 *   per-beta vectors are float32 tensors (optax: the params' dtype).
 * - from the authors' PyTorch package (`mechanic_pytorch.mechanize`): there
 *   `s_init` defaults to `1e-8`, the scale starts at 0 (here and in optax at
 *   `sInit` per beta, so the first step already moves by `numBetas·sInit`
 *   times the base update), `m` starts at `1e-6` without the `+ eps`, the
 *   reward is clamped at 0 in the state, and `h` is not clipped before it
 *   enters the reward (that clipping was added later in optax). The reference
 *   point there is the parameters when the optimizer is built; here, as in
 *   optax, it is the parameters at the first update. Set `sInit` to the
 *   PyTorch value when comparing against it. Beware that with float32
 *   params a tiny `sInit` can stall: the first steps, `numBetas·sInit` times
 *   the base update, fall below the params' float32 resolution, `x − x0`
 *   stays 0 and so does `h` (seen in this package's tests with `sInit: 1e-8`,
 *   `adam(0.01)` and params of size ~1).
 *
 * @param base - Any transform (its updates are the steps Mechanic rescales).
 * @param options - See {@link MechanizeOptions}.
 * @category Learning-rate-free
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { mechanize, readMechanicScale } from '@tfopt/contrib';
 * import { adam } from '@tfopt/transforms';
 * const w = { x: tf.variable(tf.tensor([3, -1])) };
 * const tx = mechanize(adam(1e-3));
 * let state = tx.init(w);
 * for (let i = 0; i < 100; i++) {
 *   const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 *   state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 *   tf.dispose([value, grads]);
 * }
 * console.log(readMechanicScale(state)); // the learned multiple of adam's step
 * ```
 */
export function mechanize<B>(
  base: GradientTransformation<B>,
  options?: MechanizeOptions,
): GradientTransformation<MechanicState<B>> {
  if (!isTransform(base)) {
    throw new InvalidOptionError(OWNER, 'base', base, 'a gradient transformation');
  }
  assertKnownOptions(OWNER, options, KNOWN);
  const {
    weightDecay = 1e-2,
    eps = 1e-8,
    sInit = 1e-6,
    numBetas = 6,
  } = (options ?? {}) as MechanizeOptions;
  assertOptions(OWNER, {
    weightDecay: [weightDecay, nonNegative],
    eps: [eps, nonNegative],
    sInit: [sInit, positive],
    numBetas: [numBetas, positiveInteger],
  });
  const betas = Array.from({ length: numBetas }, (_, i) => 1 - 0.1 ** (i + 1));

  return withSpec(
    {
      init: (params) =>
        tidy(() => ({
          baseState: base.init(params),
          count: 0,
          r: tf.zeros([numBetas]) as tf.Tensor1D,
          m: tf.zeros([numBetas]) as tf.Tensor1D,
          v: tf.zeros([numBetas]) as tf.Tensor1D,
          s: tf.fill([numBetas], sInit) as tf.Tensor1D,
          x0: treeMap((p) => tf.clone(p), params),
        })),
      update: (updates, state, params, context) => {
        requireParams(OWNER, params, 'they define x0 and the scale');
        return tidy(() => {
          const [baseUpdates, baseState] = base.update(updates, state.baseState, params, context);
          // The reference point is the params of the first update (optax: "the weights actually used").
          const x0 = state.count === 0 ? treeMap((p) => tf.clone(p), params) : state.x0;
          const epsT = tf.scalar(eps);
          const sSum = tf.sum(state.s);
          const decay = tf.div(
            tf.mul(tf.mul(tf.scalar(weightDecay), sSum), treeGlobalNorm(updates)),
            tf.add(treeGlobalNorm(params), epsT),
          );
          const decayed = treeMap((g, p) => tf.add(g, tf.mul(decay, p)), updates, params);
          const denom = tf.add(sSum, epsT);
          const deltaPrev = treeMap((p, ref) => tf.div(tf.sub(ref, p), denom), params, x0);
          const h = treeVdot(decayed, deltaPrev);
          const b = tf.tensor1d(betas);
          const clipped = tf.minimum(tf.maximum(h, tf.neg(state.m)), state.m);
          const m = tf.maximum(tf.mul(b, state.m), tf.add(tf.abs(h), epsT)) as tf.Tensor1D;
          const v = tf.add(tf.mul(tf.square(b), state.v), tf.square(h)) as tf.Tensor1D;
          const r = tf.add(tf.mul(b, state.r), tf.mul(clipped, state.s)) as tf.Tensor1D;
          const wealth = tf.add(tf.mul(tf.scalar(sInit / numBetas), m), tf.relu(r));
          const s = tf.div(wealth, tf.add(tf.sqrt(v), epsT)) as tf.Tensor1D;
          const total = tf.sum(s);
          const out = treeMap(
            (ref, dp, u, p) => tf.sub(tf.sub(ref, tf.mul(total, tf.sub(dp, u))), p),
            x0,
            deltaPrev,
            baseUpdates,
            params,
          );
          const next: MechanicState<B> = { baseState, count: state.count + 1, r, m, v, s, x0 };
          return [out, next] as const;
        });
      },
    },
    OWNER,
    [base, options],
  );
}

const MECHANIC_KEYS = ['baseState', 'count', 'm', 'r', 's', 'v', 'x0'];

function isMechanicState(node: unknown): node is MechanicState {
  if (!isPlainRecord(node)) return false;
  const keys = Object.keys(node).sort();
  return (
    keys.length === MECHANIC_KEYS.length &&
    keys.every((k, i) => k === MECHANIC_KEYS[i]) &&
    typeof node.count === 'number' &&
    isTensor(node.s)
  );
}

/** Every Mechanic state in `value` (depth first, outermost first). */

/**
 * The scale Mechanic applies, `Σ s_i`, as a number (one read-back), from the
 * state of {@link mechanize} or of anything that holds it (a chain, the
 * state of `TransformOptimizer.getState()`). Throws when there is no Mechanic
 * state, or more than one, in `state`.
 *
 * @category Learning-rate-free
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { mechanize, readMechanicScale } from '@tfopt/contrib';
 * import { sgd } from '@tfopt/transforms';
 * const tx = mechanize(sgd(1));
 * const state = tx.init({ w: tf.zeros([2]) });
 * console.log(readMechanicScale(state)); // 6e-6 (6 betas of sInit 1e-6)
 * ```
 */
export function readMechanicScale(state: unknown): number {
  const found = findInState(state, isMechanicState);
  if (found.length !== 1) {
    throw new TfoptError(
      `readMechanicScale: expected one mechanize state in the given state, found ${found.length}`,
    );
  }
  const total = tf.sum((found[0] as MechanicState).s);
  try {
    return total.dataSync()[0] as number;
  } finally {
    total.dispose();
  }
}
