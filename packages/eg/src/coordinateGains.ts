import * as tf from '@tensorflow/tfjs-core';
import {
  clipByValue,
  type GradientTransformation,
  type Tree,
  tidy,
  treeFull,
  treeMapN,
  treeZerosLike,
  withSpec,
} from '@tfopt/core';
import { assertOptions, decayRate, inRange, nonNegative, oneOf } from '@tfopt/core/options';
import { checkStructures } from './alignment.js';
import { assertKnownRenamedOptions, assertUpperBound } from './options.js';

const EG_COORDINATE_GAINS_KEYS = ['gainLearningRate', 'beta', 'signal', 'min', 'max'] as const;
// Former option names, rejected with a message naming the new one.
const EG_COORDINATE_GAINS_RENAMED = { learningRate: 'gainLearningRate' } as const;

// Large enough that 1 + K a leaves [e^-eta, e^eta] for every normal float32 a
// (at moderate eta), small enough to stay finite in float32.
const SATURATE = 1e38;

/**
 * The scalars of one update, built once and shared by every leaf (a number
 * passed to an op becomes a new tensor at each call): `beta`, and `saturate`
 * and `one` for the sign signal or `rate` for the product signal.
 */
interface Scalars {
  readonly beta: tf.Scalar;
  readonly saturate?: tf.Scalar;
  readonly one?: tf.Scalar;
  readonly rate?: tf.Scalar;
}

/**
 * The per-coordinate signal of {@link egCoordinateGains}:
 * `'sign'` uses `sign(g) * sign(gbar)`; `'product'` the bias-corrected
 * product `g * gbar / (1 - beta^max(t - 1, 1))`.
 *
 * @category Transforms
 */
export type EgGainSignal = 'sign' | 'product';

/**
 * Options of {@link egCoordinateGains}.
 *
 * @category Transforms
 */
export interface EgCoordinateGainsOptions {
  /**
   * Rate `eta_p` of the multiplicative gain update (the reference's
   * `gain_learning_rate`; formerly `learningRate`). Default `0.01`.
   */
  readonly gainLearningRate?: number;
  /** Decay of the gradient average `gbar`, in `[0, 1)`. Default `0.9`. */
  readonly beta?: number;
  /** How a coordinate's agreement is measured. Default `'sign'`. */
  readonly signal?: EgGainSignal;
  /** Lower bound of the gains, in `(0, 1]`. Default `0.01`. */
  readonly min?: number;
  /** Upper bound of the gains, `>= 1`. Default `100`. */
  readonly max?: number;
}

/**
 * State of {@link egCoordinateGains}.
 *
 * @category State
 */
export interface EgCoordinateGainsState {
  /** Number of updates done so far. */
  readonly count: number;
  /** The gains `p`, shaped like the parameters; start at 1. Summarise with {@link readEgGains}. */
  readonly gains: Tree;
  /**
   * The decaying sum `m <- beta * m + g` of the raw gradients, shaped like the
   * parameters; starts at 0. The EMA of the method is `gbar = (1 - beta) * m`
   * (keeping `m` saves a multiply per coordinate and step).
   */
  readonly gradTrace: Tree;
}

/**
 * Per-coordinate gains adapted by exponentiated-gradient updates (Amid et al.
 * 2022), a smooth form of Rprop.
 *
 * Keeps gains `p` (starting at 1) and an EMA `gbar` of the raw gradient. Each
 * step `t` (1-based), with `g` the raw gradient of the step (`context.grads`,
 * which `chain` provides, or the incoming updates when there is none):
 *
 * ```
 * p    <- clip(p * exp(gainLearningRate * r), min, max)    elementwise
 * r     = sign(g) * sign(gbar)                          (signal: 'sign')
 * r     = g * gbar / (1 - beta^max(t - 1, 1))           (signal: 'product')
 * out   = p * updates
 * gbar <- beta * gbar + (1 - beta) * g
 * ```
 *
 * The signal compares the current gradient with the EMA of the *previous*
 * ones: coordinates whose gradient keeps its sign get larger steps,
 * coordinates that oscillate get smaller ones. In float32 a coordinate whose
 * product `g * gbar` underflows (both below about 1e-19) gives no signal.
 *
 * Sign convention: the updates flowing in must point along the gradient, as
 * they do before `scaleByLearningRate` flips the sign; the gains are positive
 * so they never flip it themselves. Place this transform before
 * `scaleByLearningRate`. With momentum put it before the momentum buffer (as
 * in the reference optimizer); with Adam or AdaGrad put it after their
 * normalisation, which would otherwise divide the gains away.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { egCoordinateGains } from '@tfopt/eg';
 * import { scaleByLearningRate, trace } from '@tfopt/transforms';
 * const tx = chain(egCoordinateGains(), trace({ decay: 0.9 }), scaleByLearningRate(0.01));
 * ```
 */
export function egCoordinateGains(
  options?: EgCoordinateGainsOptions,
): GradientTransformation<EgCoordinateGainsState> {
  assertKnownRenamedOptions(
    'egCoordinateGains',
    options,
    EG_COORDINATE_GAINS_KEYS,
    EG_COORDINATE_GAINS_RENAMED,
  );
  const {
    gainLearningRate = 0.01,
    beta = 0.9,
    signal = 'sign',
    min = 0.01,
    max = 100,
  } = options ?? {};
  assertOptions('egCoordinateGains', {
    gainLearningRate: [gainLearningRate, nonNegative],
    beta: [beta, decayRate],
    signal: [signal, oneOf('sign', 'product')],
    min: [min, inRange(0, 1, { lowerOpen: true })],
  });
  assertUpperBound('egCoordinateGains', 'max', max);

  // The factor exp(gainLearningRate * r) of one leaf, with a = g * m (the sign of g * gbar),
  // given the update's scalars (built once per update and shared by every leaf).
  const up = Math.exp(gainLearningRate);
  const down = Math.exp(-gainLearningRate);
  const factor =
    signal === 'sign'
      ? // exp(eta * sign(a)) computed as 1 + K a clipped to [e^-eta, e^eta]: the
        // same wherever |a| > (e^eta - 1) / K (below float32's normal range for
        // eta < 3), and free of sign() and exp(), which each cost about ten
        // multiplies on the wasm backend.
        (g: tf.Tensor, m: tf.Tensor, k: Scalars) =>
          clipByValue(
            tf.add(tf.mul(tf.mul(g, m), k.saturate as tf.Scalar), k.one as tf.Scalar),
            down,
            up,
          )
      : // `k.rate` folds gainLearningRate, 1 - beta (gbar = (1 - beta) m) and the
        // bias correction into one number.
        (g: tf.Tensor, m: tf.Tensor, k: Scalars) =>
          tf.exp(tf.mul(tf.mul(g, m), k.rate as tf.Scalar));

  const tx: GradientTransformation<EgCoordinateGainsState> = {
    init: (params) =>
      tidy(() => ({ count: 0, gains: treeFull(params, 1), gradTrace: treeZerosLike(params) })),
    update: (updates, state, _params, context) => {
      const raw = context?.grads ?? updates;
      checkStructures('egCoordinateGains', updates, raw, state.gains, 'state.gains');
      const count = state.count + 1;
      const rate = (gainLearningRate * (1 - beta)) / (1 - beta ** Math.max(count - 1, 1));
      return tidy(() => {
        const k: Scalars =
          gainLearningRate === 0
            ? { beta: tf.scalar(beta) }
            : signal === 'sign'
              ? { beta: tf.scalar(beta), saturate: tf.scalar(SATURATE), one: tf.scalar(1) }
              : { beta: tf.scalar(beta), rate: tf.scalar(rate) };
        const [out, gains, gradTrace] = treeMapN(
          3,
          (u, g, p, m) => {
            // With a zero rate the gains stay at exactly their value; this also
            // avoids 0 * inf = NaN when g * m overflows.
            const pNext =
              gainLearningRate === 0 ? p : clipByValue(tf.mul(p, factor(g, m, k)), min, max);
            return [tf.mul(u, pNext), pNext, tf.add(tf.mul(m, k.beta), g)];
          },
          updates,
          raw,
          state.gains,
          state.gradTrace,
        ) as [Tree, Tree, Tree];
        return [out, { count, gains, gradTrace }] as const;
      });
    },
  };
  return withSpec(tx, 'egCoordinateGains', [options]);
}
