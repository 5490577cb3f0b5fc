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
import { assertOptions, boolean, finite, nonNegative } from '@tfopt/core/options';
import {
  alignment,
  applyScale,
  checkMultipliers,
  checkStructures,
  initMultipliers,
  keepPrevious,
  rememberUpdates,
  stackMultipliers,
  unstackMultipliers,
} from './alignment.js';
import { assertKnownRenamedOptions } from './options.js';

const HYPERGRADIENT_SCALE_KEYS = [
  'scaleLearningRate',
  'normalize',
  'initial',
  'min',
  'max',
  'perTensor',
] as const;
// Former option names, rejected with a message naming the new one.
const HYPERGRADIENT_SCALE_RENAMED = { learningRate: 'scaleLearningRate' } as const;

/**
 * Options of {@link hypergradientScale}.
 *
 * @category Transforms
 */
export interface HypergradientScaleOptions {
  /**
   * Rate `beta` of the additive update (hypergradient descent's `beta`;
   * formerly `learningRate`). Default `0.001`, like {@link egGlobalScale}'s
   * `scaleLearningRate`.
   */
  readonly scaleLearningRate?: number;
  /** Cosine (`true`, default) or plain inner product (`false`), as in {@link egGlobalScale}. */
  readonly normalize?: boolean;
  /** Starting value of the multiplier. Default `1`. */
  readonly initial?: number;
  /** Lower bound of the multiplier. Default: none (it may turn negative). */
  readonly min?: number;
  /** Upper bound of the multiplier. Default: none. */
  readonly max?: number;
  /**
   * One multiplier per parameter tensor, kept at that tensor's path, instead
   * of one for the tree. Default `false`.
   */
  readonly perTensor?: boolean;
}

/**
 * State of {@link hypergradientScale}.
 *
 * @category State
 */
export interface HypergradientScaleState {
  /**
   * The current multiplier: a scalar tensor, or with `perTensor` a tree of
   * scalar tensors shaped like the parameters (each tensor's multiplier at its
   * path), like the scale of {@link egGlobalScale}. Read it with
   * {@link readHypergradientScale} or {@link readHypergradientScaleByPath}.
   */
  readonly alpha: Tree;
  /** The updates this transform received last step (before scaling); zeros at first. */
  readonly previous: Tree;
}

/**
 * The additive baseline to {@link egGlobalScale}: hypergradient descent
 * (Baydin et al. 2018, "Online learning rate adaptation with hypergradient
 * descent") on the same signal.
 *
 * ```
 * alpha <- clip(alpha + scaleLearningRate * a, min, max)
 * out    = alpha * updates
 * ```
 *
 * with `a` the alignment of {@link egGlobalScale} (cosine or inner product of
 * the raw gradient and the previous updates). Near `alpha = 1` the two agree
 * to first order, so the same `scaleLearningRate` compares them like for like.
 * Unlike the EG update, the additive one is not kept positive: without
 * bounds, sustained disagreement drives `alpha` to zero and below, where the
 * step points uphill. Pass `min` (e.g. `0`) and `max` to bound it. A step
 * whose multiplier would not be finite (float32 overflow) leaves it unchanged.
 *
 * With plain SGD and `normalize: false`, Baydin et al.'s rate `beta` on the
 * learning rate itself corresponds to `scaleLearningRate = beta / lr` here.
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
  assertKnownRenamedOptions(owner, options, HYPERGRADIENT_SCALE_KEYS, HYPERGRADIENT_SCALE_RENAMED);
  const {
    scaleLearningRate = 0.001,
    normalize = true,
    initial = 1,
    min,
    max,
    perTensor = false,
  } = options ?? {};
  assertOptions(owner, {
    scaleLearningRate: [scaleLearningRate, nonNegative],
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
        alpha: initMultipliers(params, initial, perTensor),
        previous: treeZerosLike(params),
      })),
    update: (updates, state, _params, context) => {
      const raw = context?.grads ?? updates;
      checkStructures(owner, updates, raw, state.previous, 'state.previous');
      checkMultipliers(owner, state.alpha, state.previous, 'state.alpha', perTensor);
      return tidy(() => {
        const a = alignment(treeLeaves(raw), treeLeaves(state.previous), normalize, perTensor);
        // Per tensor, the scalars are updated together as one [n] vector.
        const current = stackMultipliers(state.alpha, perTensor);
        const moved = tf.add(current, tf.mul(a, scaleLearningRate));
        const finite = keepPrevious(moved, current, true);
        const alpha = unstackMultipliers(
          bounded ? clipByValue(finite, lo, hi) : finite,
          state.alpha,
          perTensor,
        );
        const next: HypergradientScaleState = { alpha, previous: rememberUpdates(updates) };
        return [applyScale(updates, alpha, perTensor), next] as const;
      });
    },
  };
  return withSpec(tx, owner, [options]);
}
