import * as tf from '@tensorflow/tfjs-core';
import {
  clipByValue,
  type GradientTransformation,
  InvalidOptionError,
  type Tree,
  tidy,
  treeLeaves,
  treeZerosLike,
  withSpec,
} from '@tfopt/core';
import {
  assertKnownOptions,
  assertOptions,
  boolean,
  finite,
  nonNegative,
} from '@tfopt/core/options';
import {
  alignment,
  applyScale,
  checkStructures,
  keepPrevious,
  leafCount,
  rememberUpdates,
} from './alignment.js';

const HYPERGRADIENT_SCALE_KEYS = [
  'learningRate',
  'normalize',
  'initial',
  'min',
  'max',
  'perTensor',
] as const;

/**
 * Options of {@link hypergradientScale}.
 *
 * @category Transforms
 */
export interface HypergradientScaleOptions {
  /** Rate `beta` of the additive update. Default `0.001`, like {@link egGlobalScale}. */
  readonly learningRate?: number;
  /** Cosine (`true`, default) or plain inner product (`false`), as in {@link egGlobalScale}. */
  readonly normalize?: boolean;
  /** Starting value of the multiplier. Default `1`. */
  readonly initial?: number;
  /** Lower bound of the multiplier. Default: none (it may turn negative). */
  readonly min?: number;
  /** Upper bound of the multiplier. Default: none. */
  readonly max?: number;
  /** One multiplier per parameter tensor instead of one for the tree. Default `false`. */
  readonly perTensor?: boolean;
}

/**
 * State of {@link hypergradientScale}.
 *
 * @category State
 */
export interface HypergradientScaleState {
  /**
   * The current multiplier: a scalar tensor, or with `perTensor` a vector
   * with one entry per parameter tensor. Read it with {@link readHypergradientScale}.
   */
  readonly alpha: tf.Tensor;
  /** The updates this transform received last step (before scaling); zeros at first. */
  readonly previous: Tree;
}

/**
 * The additive baseline to {@link egGlobalScale}: hypergradient descent
 * (Baydin et al. 2018, "Online learning rate adaptation with hypergradient
 * descent") on the same signal.
 *
 * ```
 * alpha <- clip(alpha + learningRate * a, min, max)
 * out    = alpha * updates
 * ```
 *
 * with `a` the alignment of {@link egGlobalScale} (cosine or inner product of
 * the raw gradient and the previous updates). Near `alpha = 1` the two agree
 * to first order, so the same `learningRate` compares them like for like.
 * Unlike the EG update, the additive one is not kept positive: without
 * bounds, sustained disagreement drives `alpha` to zero and below, where the
 * step points uphill. Pass `min` (e.g. `0`) and `max` to bound it. A step
 * whose multiplier would not be finite (float32 overflow) leaves it unchanged.
 *
 * With plain SGD and `normalize: false`, Baydin et al.'s rate `beta` on the
 * learning rate itself corresponds to `learningRate = beta / lr` here.
 *
 * Sign convention: as for {@link egGlobalScale}, place it before
 * `scaleByLearningRate`.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { hypergradientScale } from '@tfopt/eg';
 * import { scaleByLearningRate, trace } from '@tfopt/transforms';
 * const tx = chain(trace({ decay: 0.9 }), hypergradientScale({ min: 0, max: 10 }), scaleByLearningRate(0.01));
 * ```
 */
export function hypergradientScale(
  options?: HypergradientScaleOptions,
): GradientTransformation<HypergradientScaleState> {
  const owner = 'hypergradientScale';
  assertKnownOptions(owner, options, HYPERGRADIENT_SCALE_KEYS);
  const {
    learningRate = 0.001,
    normalize = true,
    initial = 1,
    min,
    max,
    perTensor = false,
  } = options ?? {};
  assertOptions(owner, {
    learningRate: [learningRate, nonNegative],
    normalize: [normalize, boolean],
    initial: [initial, finite],
    // Bounds are optional: absent means unbounded on that side.
    ...(min === undefined ? {} : { min: [min, finite] as const }),
    ...(max === undefined ? {} : { max: [max, finite] as const }),
    perTensor: [perTensor, boolean],
  });
  const lo = min ?? Number.NEGATIVE_INFINITY;
  const hi = max ?? Number.POSITIVE_INFINITY;
  if (lo >= hi) throw new InvalidOptionError(owner, 'max', max, `a number > min (${min})`);
  if (initial < lo || initial > hi) {
    throw new InvalidOptionError(
      owner,
      'initial',
      initial,
      `a number in [min, max] = [${lo}, ${hi}]`,
    );
  }
  const bounded = min !== undefined || max !== undefined;

  const tx: GradientTransformation<HypergradientScaleState> = {
    init: (params) =>
      tidy(() => ({
        alpha: perTensor ? tf.fill([leafCount(params)], initial) : tf.scalar(initial),
        previous: treeZerosLike(params),
      })),
    update: (updates, state, _params, context) => {
      const raw = context?.grads ?? updates;
      checkStructures(owner, updates, raw, state.previous, 'state.previous');
      return tidy(() => {
        const a = alignment(treeLeaves(raw), treeLeaves(state.previous), normalize, perTensor);
        const moved = tf.add(state.alpha, tf.mul(a, learningRate));
        const finite = keepPrevious(moved, state.alpha, true);
        const alpha = bounded ? clipByValue(finite, lo, hi) : finite;
        const next: HypergradientScaleState = { alpha, previous: rememberUpdates(updates) };
        return [applyScale(updates, alpha, perTensor), next] as const;
      });
    },
  };
  return withSpec(tx, owner, [options]);
}
