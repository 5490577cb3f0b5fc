import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  type Tree,
  tidy,
  treeMap,
  treeMapN,
  withSpec,
} from '@tfopt/core';
import {
  boolean,
  inRange,
  nonNegative,
  nonNegativeInteger,
  positiveInteger,
} from '@tfopt/core/options';
import { type OptionRules, readOptions } from './options.js';
import { statLeaves } from './statLeaves.js';

/** Options of {@link scaleByFactoredRms}. @category Transforms */
export interface ScaleByFactoredRmsOptions {
  /** Factor the second moment of leaves of rank 2 and more. Default `true`. */
  readonly factored?: boolean;
  /**
   * Exponent `c` of the decay schedule `β_t = 1 − t^(−c)`, `>= 0`. Default `0.8`.
   */
  readonly decayRate?: number;
  /**
   * Steps to subtract from the count before the schedule, for fine-tuning
   * from a state whose count goes on from pre-training. Default `0`.
   */
  readonly stepOffset?: number;
  /**
   * Factor a leaf only when its second-largest dimension is at least this
   * size (an integer `>= 1`). Default `128`.
   */
  readonly minDimSizeToFactor?: number;
  /** Added to the squared gradient, `>= 0`. Default `1e-30`. */
  readonly eps?: number;
  /**
   * Upper bound on the decay `β_t`, in `[0, 1]` (Zhai et al., 2021, cap it
   * at 0.999 so that the second moment keeps adapting). Default `1`, no cap,
   * as in Optax.
   */
  readonly beta2Cap?: number;
}

/** @internal */
export const FACTORED_RULES: OptionRules<ScaleByFactoredRmsOptions> = {
  factored: boolean,
  decayRate: nonNegative,
  stepOffset: nonNegativeInteger,
  minDimSizeToFactor: positiveInteger,
  eps: nonNegative,
  beta2Cap: inRange(0, 1),
};
/** @internal */
export const FACTORED_DEFAULTS = {
  factored: true,
  decayRate: 0.8,
  stepOffset: 0,
  minDimSizeToFactor: 128,
  eps: 1e-30,
  beta2Cap: 1,
} as const;

/**
 * State of {@link scaleByFactoredRms}. Each tree has the parameters'
 * structure; a leaf not used for a parameter (`v` of a factored one, `vRow`
 * and `vCol` of the others) is a placeholder of shape `[1]`.
 *
 * @category Transforms
 */
export interface ScaleByFactoredRmsState {
  /** Updates done so far. */
  readonly count: number;
  /** Factored leaves: the average of `g² + eps` over the largest axis. */
  readonly vRow: Tree;
  /** Factored leaves: the average of `g² + eps` over the second-largest axis. */
  readonly vCol: Tree;
  /** Other leaves: the average of `g² + eps` itself. */
  readonly v: Tree;
}

/**
 * @internal
 * The axes `[d1, d0]` a leaf's second moment is factored over: `d0` the
 * largest, `d1` the second largest (ties keep the lower axis first, as
 * NumPy's argsort); `null` for a leaf kept whole.
 */
export function factoredDims(
  shape: readonly number[],
  factored: boolean,
  minDimSizeToFactor: number,
): readonly [number, number] | null {
  if (!factored || shape.length < 2) return null;
  const sorted = shape
    .map((_, i) => i)
    .sort((a, b) => (shape[a] as number) - (shape[b] as number) || a - b);
  const d1 = sorted[sorted.length - 2] as number;
  const d0 = sorted[sorted.length - 1] as number;
  return (shape[d1] as number) < minDimSizeToFactor ? null : [d1, d0];
}

/** A shape without one axis. */
const without = (shape: readonly number[], axis: number) => shape.filter((_, i) => i !== axis);

/**
 * Rescale the updates by a factored estimate of their root mean square, the
 * core of Adafactor (Shazeer & Stern, 2018). With `t = count − stepOffset + 1`
 * and `β = min(1 − t^(−decayRate), beta2Cap)` (so `β = 0` at the first step):
 *
 * ```
 * leaf of rank >= 2 whose second-largest dimension is >= minDimSizeToFactor,
 * with d0 its largest axis and d1 the second largest:
 *   vRow ← β·vRow + (1 − β)·mean_d0(g² + eps)
 *   vCol ← β·vCol + (1 − β)·mean_d1(g² + eps)
 *   u    ← g / sqrt(vRow / mean_d1(vRow)) / sqrt(vCol)     (broadcast back over d0, d1)
 * any other leaf:
 *   v    ← β·v + (1 − β)·(g² + eps)
 *   u    ← g / sqrt(v)
 * ```
 *
 * A factored leaf of shape `[n, m]` keeps `n + m` numbers instead of `n·m`.
 * The schedule's decay is computed as a plain number once per update. This
 * follows Optax's `scale_by_factored_rms`, except that Optax throws without
 * the params (it reads only their shapes, which are the updates' here) and
 * that a count below `stepOffset` restarts the schedule at `t = 1` where
 * Optax would divide by zero. `beta2Cap` stands for Optax's `decay_rate_fn`.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { clipByBlockRms, scaleByFactoredRms, scaleByLearningRate } from '@tfopt/transforms';
 * const tx = chain(scaleByFactoredRms({ beta2Cap: 0.999 }), clipByBlockRms(1), scaleByLearningRate(1e-2));
 * ```
 */
export function scaleByFactoredRms(
  options?: ScaleByFactoredRmsOptions,
): GradientTransformation<ScaleByFactoredRmsState> {
  const { factored, decayRate, stepOffset, minDimSizeToFactor, eps, beta2Cap } = readOptions(
    'scaleByFactoredRms',
    options,
    FACTORED_RULES,
    FACTORED_DEFAULTS,
  );
  const dims = (shape: readonly number[]) => factoredDims(shape, factored, minDimSizeToFactor);
  return withSpec(
    {
      init: (params) =>
        tidy(() => {
          const placeholder = () => tf.zeros([1]);
          const stat = (pick: 'row' | 'col' | 'full') => (p: tf.Tensor) => {
            const d = dims(p.shape);
            if (pick === 'full') return d === null ? tf.zerosLike(p) : placeholder();
            if (d === null) return placeholder();
            return tf.zeros(without(p.shape, pick === 'row' ? d[1] : d[0]));
          };
          return {
            count: 0,
            vRow: treeMap(stat('row'), params),
            vCol: treeMap(stat('col'), params),
            v: treeMap(stat('full'), params),
          };
        }),
      update: (updates, state) =>
        tidy(() => {
          const t = Math.max(1, state.count - stepOffset + 1);
          const beta = Math.min(1 - t ** -decayRate, beta2Cap);
          const keep = tf.scalar(beta);
          const take = tf.scalar(1 - beta);
          const epsilon = tf.scalar(eps);
          const average = (old: tf.Tensor, fresh: tf.Tensor) =>
            tf.add(tf.mul(old, keep), tf.mul(fresh, take));
          const rows = statLeaves('scaleByFactoredRms', updates, state.vRow, 'state.vRow');
          const cols = statLeaves('scaleByFactoredRms', updates, state.vCol, 'state.vCol');
          const fulls = statLeaves('scaleByFactoredRms', updates, state.v, 'state.v');
          let i = 0;
          const [u, vRow, vCol, v] = treeMapN(
            4,
            (g) => {
              const vr = rows[i] as tf.Tensor;
              const vc = cols[i] as tf.Tensor;
              const vFull = fulls[i] as tf.Tensor;
              i += 1;
              const gSq = tf.add(tf.square(g), epsilon);
              const d = dims(g.shape);
              if (d === null) {
                const next = average(vFull, gSq);
                return [tf.mul(g, tf.rsqrt(next)), tf.clone(vr), tf.clone(vc), next];
              }
              // Carried-over leaves are cloned (no copy) so that every state owns its tensors.
              // An empty leaf (a zero third axis) has empty statistics too; wasm's
              // reductions over zero elements are unreliable, so skip them.
              if (g.size === 0) return [g, tf.clone(vr), tf.clone(vc), tf.clone(vFull)];
              const [d1, d0] = d;
              const nextRow = average(vr, tf.mean(gSq, d0));
              const nextCol = average(vc, tf.mean(gSq, d1));
              // vRow lacks axis d0, so d1 moves down by one when it came after d0.
              const rowMean = tf.mean(nextRow, d1 > d0 ? d1 - 1 : d1, true);
              const rowFactor = tf.rsqrt(tf.div(nextRow, rowMean));
              const colFactor = tf.rsqrt(nextCol);
              const scaled = tf.mul(
                tf.mul(g, tf.expandDims(rowFactor, d0)),
                tf.expandDims(colFactor, d1),
              );
              return [scaled, nextRow, nextCol, tf.clone(vFull)];
            },
            updates,
          ) as [Tree, Tree, Tree, Tree];
          return [u, { count: state.count + 1, vRow, vCol, v }] as const;
        }),
    },
    'scaleByFactoredRms',
    [options],
  );
}
