import * as tf from '@tensorflow/tfjs-core';
import {
  type EmptyState,
  type GradientTransformation,
  InvalidOptionError,
  TfoptError,
  tidy,
  treeFlatten,
  treeMap,
  withSpec,
} from '@tfopt/core';
import { assertOptions, nonNegative } from '@tfopt/core/options';
import { type OptionRules, readOptions } from './options.js';
import { requireParams } from './requireParams.js';

const EMPTY: EmptyState = Object.freeze({}) as EmptyState;

/** The L2 norm of a leaf as a scalar; 0 for an empty leaf (wasm's empty reductions are unreliable). */
function leafNorm(x: tf.Tensor): tf.Tensor {
  return x.size === 0 ? tf.scalar(0) : tf.sqrt(tf.sum(tf.square(x)));
}

/** Options of {@link scaleByTrustRatio}. @category Transforms */
export interface ScaleByTrustRatioOptions {
  /** Lower bound on both norms, `>= 0`. Default `0`. */
  readonly minNorm?: number;
  /** Multiplier of the ratio, `>= 0`. Default `1`. */
  readonly trustCoefficient?: number;
  /** Added to the update norm in the denominator, `>= 0`. Default `0`. */
  readonly eps?: number;
}

/** @internal */
export const TRUST_RATIO_RULES: OptionRules<ScaleByTrustRatioOptions> = {
  minNorm: nonNegative,
  trustCoefficient: nonNegative,
  eps: nonNegative,
};

/**
 * Rescale each leaf of the updates by its trust ratio, the ratio of the
 * parameter leaf's norm to the update leaf's (the layer-wise scaling of LARS,
 * You et al., 2017, and LAMB, You et al., 2020):
 *
 * ```
 * ‖θ‖ ← max(‖θ‖, minNorm)     ‖u‖ ← max(‖u‖, minNorm)        per leaf, L2 norms
 * u   ← u · trustCoefficient · ‖θ‖ / (‖u‖ + eps)             (u unchanged if either norm is 0)
 * ```
 *
 * The step of each leaf is then `lr · trustCoefficient · ‖θ‖` whatever the
 * size of its gradient. A leaf whose parameters or update are zero (an
 * initial bias) keeps its update. Needs the parameters.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scaleByAdam, scaleByLearningRate, scaleByTrustRatio } from '@tfopt/transforms';
 * const lambLike = chain(scaleByAdam(), scaleByTrustRatio(), scaleByLearningRate(1e-3));
 * ```
 */
export function scaleByTrustRatio(
  options?: ScaleByTrustRatioOptions,
): GradientTransformation<EmptyState> {
  const { minNorm, trustCoefficient, eps } = readOptions(
    'scaleByTrustRatio',
    options,
    TRUST_RATIO_RULES,
    { minNorm: 0, trustCoefficient: 1, eps: 0 },
  );
  return withSpec(
    {
      init: () => EMPTY,
      update: (updates, _state, params) => {
        requireParams('scaleByTrustRatio', params, 'the ratio is the norm of each over the update');
        return tidy(() => {
          const floor = tf.scalar(minNorm);
          const coefficient = tf.scalar(trustCoefficient);
          const epsilon = tf.scalar(eps);
          const zero = tf.scalar(0);
          const one = tf.scalar(1);
          const scaled = treeMap(
            (u, p) => {
              if (u.size === 0) return u;
              const pNorm = tf.maximum(leafNorm(p), floor);
              const uNorm = tf.maximum(leafNorm(u), floor);
              const ratio = tf.div(tf.mul(coefficient, pNorm), tf.add(uNorm, epsilon));
              const degenerate = tf.logicalOr(tf.equal(pNorm, zero), tf.equal(uNorm, zero));
              return tf.mul(u, tf.where(degenerate, one, ratio));
            },
            updates,
            params,
          );
          return [scaled, EMPTY] as const;
        });
      },
    },
    'scaleByTrustRatio',
    [options],
  );
}

/** Options of {@link adaptiveGradClip}. @category Transforms */
export interface AdaptiveGradClipOptions {
  /** Lower bound on the parameters' unit norms, `>= 0`, so zero-initialised units still move. Default `1e-3`. */
  readonly eps?: number;
  /**
   * Axis or axes that make up a unit (summed over for its norm). Default:
   * from the rank, see {@link adaptiveGradClip}.
   */
  readonly axis?: number | readonly number[];
}

/** The axes a unit's norm sums over, by Optax's conventions; `null` for a leaf of unsupported rank. */
function unitAxes(shape: readonly number[], axis: number | readonly number[] | undefined) {
  if (axis !== undefined) return typeof axis === 'number' ? [axis] : [...axis];
  const rank = shape.length;
  // A vector with size-1 axes ([1, n], [n, 1]) counts as a vector.
  if (shape.filter((d) => d !== 1).length <= 1) return shape.map((_, i) => i);
  if (rank === 2 || rank === 3) return [0];
  if (rank === 4) return [0, 1, 2];
  if (rank === 5) return [0, 1, 2, 3];
  return null;
}

function checkAxis(owner: string, axis: unknown): void {
  if (axis === undefined) return;
  const list = typeof axis === 'number' ? [axis] : axis;
  if (!Array.isArray(list) || list.length === 0 || !list.every((a) => Number.isInteger(a))) {
    throw new InvalidOptionError(
      owner,
      'axis',
      axis,
      'an integer or a non-empty array of integers',
    );
  }
}

/**
 * Adaptive gradient clipping (Brock et al., 2021, the NFNets' AGC): clip each
 * unit of the updates to a norm of at most `clipping` times the norm of the
 * matching unit of the parameters.
 *
 * ```
 * ‖g‖_unit, ‖θ‖_unit          L2 norms over the unit's axes
 * max = clipping · max(‖θ‖_unit, eps)
 * g   ← g                              if ‖g‖_unit < max
 *       g · max / max(‖g‖_unit, 1e-6)  otherwise
 * ```
 *
 * Units follow Optax's conventions unless `axis` is given: the whole leaf
 * for scalars and vectors (also `[1, n]` and `[n, 1]`), axis 0 for rank 2
 * and 3 (the inputs of a dense kernel `[in, out]`, so one unit per output),
 * axes 0–2 for rank 4 (conv kernels `HWIO`) and 0–3 for rank 5. Other ranks
 * need `axis`. Needs the parameters.
 *
 * @param clipping - The largest ratio of a unit's update norm to its parameter norm, `>= 0`.
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { adaptiveGradClip, sgd } from '@tfopt/transforms';
 * const tx = chain(adaptiveGradClip(0.01), sgd(0.1, { momentum: 0.9 }));
 * ```
 */
export function adaptiveGradClip(
  clipping: number,
  options?: AdaptiveGradClipOptions,
): GradientTransformation<EmptyState> {
  const owner = 'adaptiveGradClip';
  assertOptions(owner, { clipping: [clipping, nonNegative] });
  const { eps, axis } = readOptions(
    owner,
    options,
    { eps: nonNegative, axis: null },
    { eps: 1e-3 },
  );
  checkAxis(owner, axis);
  return withSpec(
    {
      init: () => EMPTY,
      update: (updates, _state, params) => {
        requireParams(owner, params, 'each unit is clipped relative to their norm');
        for (const { path, tensor } of treeFlatten(updates)) {
          const axes = unitAxes(tensor.shape, axis);
          const rank = tensor.rank;
          if (axes === null) {
            throw new TfoptError(
              `${owner}: updates${path} has rank ${rank}; units are defined for ranks 0 to 5, pass "axis" for others`,
            );
          }
          const bad = axes.find((a) => a < -rank || a >= Math.max(rank, 1));
          if (bad !== undefined) {
            throw new TfoptError(
              `${owner}: axis ${bad} is out of range for updates${path} of rank ${rank}`,
            );
          }
        }
        return tidy(() => {
          const ratio = tf.scalar(clipping);
          const floor = tf.scalar(eps);
          const divFloor = tf.scalar(1e-6);
          const unitNorm = (x: tf.Tensor, axes: number[]) =>
            x.rank === 0 ? tf.abs(x) : tf.sqrt(tf.sum(tf.square(x), axes, true));
          const clipped = treeMap(
            (g, p) => {
              if (g.size === 0) return g;
              const axes = unitAxes(g.shape, axis) as number[];
              const gNorm = unitNorm(g, axes);
              const maxNorm = tf.mul(ratio, tf.maximum(unitNorm(p, axes), floor));
              const factor = tf.where(
                tf.less(gNorm, maxNorm),
                tf.onesLike(gNorm),
                tf.div(maxNorm, tf.maximum(gNorm, divFloor)),
              );
              return tf.mul(g, factor);
            },
            updates,
            params,
          );
          return [clipped, EMPTY] as const;
        });
      },
    },
    owner,
    [clipping, options],
  );
}
