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
import { assertOptions, boolean, inRange, nonNegative } from '@tfopt/core/options';
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
import { assertKnownRenamedOptions, assertUpperBound } from './options.js';

const EG_GLOBAL_SCALE_KEYS = ['scaleLearningRate', 'normalize', 'min', 'max', 'perTensor'] as const;
// Former option names, rejected with a message naming the new one.
const EG_GLOBAL_SCALE_RENAMED = { learningRate: 'scaleLearningRate' } as const;

/**
 * Options of {@link egGlobalScale}.
 *
 * @category Transforms
 */
export interface EgGlobalScaleOptions {
  /**
   * Rate `eta_s` of the multiplicative scale update (the reference's
   * `scale_learning_rate`; formerly `learningRate`). Default `0.001`.
   */
  readonly scaleLearningRate?: number;
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
   * One scale per parameter tensor (`true`, as in the reference optimizer),
   * kept at that tensor's path, or one scale for the whole tree (`false`,
   * default).
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
   * The current scale, starting at 1: a scalar tensor, or with `perTensor` a
   * tree of scalar tensors shaped like the parameters (each parameter
   * tensor's scale at its path, e.g. `{ w: s_w, b: s_b }`). Keyed like the
   * parameters, a per-tensor scale follows each variable by name when
   * `TransformOptimizer` re-keys the state. Read it between steps with
   * {@link readEgScale} or {@link readEgScaleByPath}.
   */
  readonly scale: Tree;
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
 * s <- clip(s * exp(scaleLearningRate * a), min, max)
 * a  = <g, v> / (|g| |v|)      (normalize: true; 0 when a norm is 0)
 * a  = <g, v>                  (normalize: false)
 * ```
 *
 * and the incoming updates are multiplied by the new `s`. With `perTensor`
 * there is one `s` per parameter tensor, each with its own `a` over that
 * tensor alone. Agreement of the
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
 * `scaleLearningRate = eta_ref * lr` to match a reference rate `eta_ref`. The
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
 * const tx = chain(scaleByAdam(), egGlobalScale({ scaleLearningRate: 0.001 }), scaleByLearningRate(1e-3));
 * ```
 */
export function egGlobalScale(
  options?: EgGlobalScaleOptions,
): GradientTransformation<EgGlobalScaleState> {
  assertKnownRenamedOptions(
    'egGlobalScale',
    options,
    EG_GLOBAL_SCALE_KEYS,
    EG_GLOBAL_SCALE_RENAMED,
  );
  const {
    scaleLearningRate = 0.001,
    normalize = true,
    min = 0.1,
    max = 10,
    perTensor = false,
  } = options ?? {};
  assertOptions('egGlobalScale', {
    scaleLearningRate: [scaleLearningRate, nonNegative],
    normalize: [normalize, boolean],
    min: [min, inRange(0, 1, { lowerOpen: true })],
    perTensor: [perTensor, boolean],
  });
  assertUpperBound('egGlobalScale', 'max', max);
  const tx: GradientTransformation<EgGlobalScaleState> = {
    init: (params) =>
      tidy(() => ({
        scale: initMultipliers(params, 1, perTensor),
        previous: treeZerosLike(params),
      })),
    update: (updates, state, _params, context) => {
      const raw = context?.grads ?? updates;
      checkStructures('egGlobalScale', updates, raw, state.previous, 'state.previous');
      checkMultipliers('egGlobalScale', state.scale, state.previous, 'state.scale', perTensor);
      return tidy(() => {
        const a = alignment(treeLeaves(raw), treeLeaves(state.previous), normalize, perTensor);
        // Per tensor, the scalars are updated together as one [n] vector.
        const current = stackMultipliers(state.scale, perTensor);
        const grown = tf.mul(current, tf.exp(tf.mul(a, scaleLearningRate)));
        // An infinite factor is a valid push to a bound; only NaN is discarded.
        const moved = clipByValue(keepPrevious(grown, current, false), min, max);
        const scale = unstackMultipliers(moved, state.scale, perTensor);
        const next: EgGlobalScaleState = { scale, previous: rememberUpdates(updates) };
        return [applyScale(updates, scale, perTensor), next] as const;
      });
    },
  };
  return withSpec(tx, 'egGlobalScale', [options]);
}
