import * as tf from '@tensorflow/tfjs-core';
import {
  clipByValue,
  type GradientTransformation,
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
  inRange,
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
import { assertUpperBound } from './options.js';

const EG_GLOBAL_SCALE_KEYS = ['learningRate', 'normalize', 'min', 'max', 'perTensor'] as const;

/**
 * Options of {@link egGlobalScale}.
 *
 * @category Transforms
 */
export interface EgGlobalScaleOptions {
  /** Rate `eta_s` of the multiplicative scale update. Default `0.001`. */
  readonly learningRate?: number;
  /**
   * Use the cosine between the raw gradient and the previous updates (`true`,
   * default) or their plain inner product (`false`).
   */
  readonly normalize?: boolean;
  /** Lower bound of the scale, in `(0, 1]`. Default `0.1`. */
  readonly min?: number;
  /** Upper bound of the scale, `>= 1`. Default `10`. */
  readonly max?: number;
  /**
   * One scale per parameter tensor (`true`, as in the reference optimizer) or
   * one scale for the whole tree (`false`, default).
   */
  readonly perTensor?: boolean;
}

/**
 * State of {@link egGlobalScale}.
 *
 * @category State
 */
export interface EgGlobalScaleState {
  /**
   * The current scale: a scalar tensor, or with `perTensor` a vector with one
   * entry per parameter tensor in `treeFlatten` order. Starts at 1.
   * Read it between steps with {@link readEgScale}.
   */
  readonly scale: tf.Tensor;
  /** The updates this transform received last step (before scaling); zeros at first. */
  readonly previous: Tree;
}

/**
 * Step-size scale adapted by exponentiated-gradient updates (Amid et al. 2022).
 *
 * Keeps a positive scale `s` (starting at 1) and the updates `v` it received
 * last step. Each step, with `g` the raw gradient of the step
 * (`context.grads`, which `chain` provides, or the incoming updates when
 * there is none):
 *
 * ```
 * s <- clip(s * exp(learningRate * a), min, max)
 * a  = <g, v> / (|g| |v|)      (normalize: true; 0 when a norm is 0)
 * a  = <g, v>                  (normalize: false)
 * ```
 *
 * and the incoming updates are multiplied by the new `s`. Agreement of the
 * gradient with the previous direction grows the step; oscillation shrinks
 * it; the multiplicative form keeps `s` positive.
 *
 * Sign convention: the updates flowing in must point along the gradient, as
 * they do before `scaleByLearningRate` flips the sign. Place this transform
 * before `scaleByLearningRate` (and before any other sign flip); after it the
 * alignment has the wrong sign and the scale shrinks when it should grow.
 * {@link assertEgSignConvention} checks a chain for this.
 *
 * Learning rate applied at the end: `<g, v>` here is taken before the
 * learning rate `lr`, so with `normalize: false` the signal is `1/lr` times
 * the reference's (which keeps `lr` inside its momentum buffer). Use
 * `learningRate = eta_ref * lr` to match a reference rate `eta_ref`. The
 * cosine is unaffected.
 *
 * In float32, `|g|^2` overflows for coordinates beyond about 1e19 and
 * underflows below about 1e-19; such steps count as alignment 0 (the scale
 * stays where it is).
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { egGlobalScale } from '@tfopt/eg';
 * import { scaleByAdam, scaleByLearningRate } from '@tfopt/transforms';
 * const tx = chain(scaleByAdam(), egGlobalScale({ learningRate: 0.001 }), scaleByLearningRate(1e-3));
 * ```
 */
export function egGlobalScale(
  options?: EgGlobalScaleOptions,
): GradientTransformation<EgGlobalScaleState> {
  assertKnownOptions('egGlobalScale', options, EG_GLOBAL_SCALE_KEYS);
  const {
    learningRate = 0.001,
    normalize = true,
    min = 0.1,
    max = 10,
    perTensor = false,
  } = options ?? {};
  assertOptions('egGlobalScale', {
    learningRate: [learningRate, nonNegative],
    normalize: [normalize, boolean],
    min: [min, inRange(0, 1, { lowerOpen: true })],
    perTensor: [perTensor, boolean],
  });
  assertUpperBound('egGlobalScale', 'max', max);
  const tx: GradientTransformation<EgGlobalScaleState> = {
    init: (params) =>
      tidy(() => ({
        scale: perTensor ? tf.ones([leafCount(params)]) : tf.scalar(1),
        previous: treeZerosLike(params),
      })),
    update: (updates, state, _params, context) => {
      const raw = context?.grads ?? updates;
      checkStructures('egGlobalScale', updates, raw, state.previous, 'state.previous');
      return tidy(() => {
        const a = alignment(treeLeaves(raw), treeLeaves(state.previous), normalize, perTensor);
        const grown = tf.mul(state.scale, tf.exp(tf.mul(a, learningRate)));
        // An infinite factor is a valid push to a bound; only NaN is discarded.
        const scale = clipByValue(keepPrevious(grown, state.scale, false), min, max);
        const next: EgGlobalScaleState = { scale, previous: rememberUpdates(updates) };
        return [applyScale(updates, scale, perTensor), next] as const;
      });
    },
  };
  return withSpec(tx, 'egGlobalScale', [options]);
}
