import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  type Tree,
  tidy,
  treeMap,
  treeMapN,
  treeZerosLike,
  withSpec,
} from '@tfopt/core';
import { decayRate, fraction, nonNegative } from '@tfopt/core/options';
import { momentWeights, updateMoment } from './moments.js';
import { type OptionRules, readOptions } from './options.js';
import { statLeaves } from './statLeaves.js';

/** Options of {@link scaleBySm3}. @category Transforms */
export interface ScaleBySm3Options {
  /** Decay of the momentum on the scaled updates, in `[0, 1)`. Default `0.9`. */
  readonly b1?: number;
  /**
   * Decay of the squared-gradient accumulators, in `[0, 1]`; `1` (the
   * default) sums them, as in the paper.
   */
  readonly b2?: number;
  /** Added to the accumulator inside the square root, `>= 0`. Default `1e-8`. */
  readonly eps?: number;
}

/** @internal */
export const SM3_RULES: OptionRules<ScaleBySm3Options> = {
  b1: decayRate,
  b2: fraction,
  eps: nonNegative,
};
/** @internal */
export const SM3_DEFAULTS = { b1: 0.9, b2: 1, eps: 1e-8 } as const;

/**
 * State of {@link scaleBySm3}.
 *
 * @category Transforms
 */
export interface ScaleBySm3State {
  /**
   * The accumulators. A leaf of rank 0 or 1 keeps one per entry (its own
   * shape); a leaf of shape `[n1, …, nk]` keeps one per index of each axis,
   * concatenated in axis order into a vector of length `n1 + … + nk`.
   */
  readonly mu: Tree;
  /** The momentum of the scaled updates (also the update returned). */
  readonly nu: Tree;
}

/** A vector of one axis's accumulators reshaped to broadcast along that axis. */
const alongAxis = (v: tf.Tensor, shape: readonly number[], axis: number) =>
  tf.reshape(
    v,
    shape.map((d, i) => (i === axis ? d : 1)),
  );

/**
 * Rescale the updates by SM3's accumulators (Anil et al., 2019), an
 * Adagrad whose second moment of a leaf of shape `[n1, …, nk]` takes
 * `n1 + … + nk` numbers: one accumulator per index of each axis (the cover
 * of the leaf by its rows, columns, …), each the largest of the entries it
 * covers.
 *
 * ```
 * c = 1 if b2 = 1, else 1 − b2
 * ν(i) ← c·g(i)² + b2·min_axes μ_axis(i_axis)       (rank < 2: c·g² + b2·μ)
 * μ_axis(j) ← max over entries i with i_axis = j of ν(i)
 * u ← g / sqrt(ν + eps)   where ν > 0, else 0
 * nu ← b1·nu + (1 − b1)·u;   the update is nu
 * ```
 *
 * With the default `b2 = 1` this is SM3-II of the paper, with momentum as in
 * its experiments; for vectors and scalars it is Adagrad with momentum.
 * Optax's `scale_by_sm3`, except that a scalar leaf works here (Optax has no
 * accumulator for it) and that the per-axis accumulators of a leaf are one
 * vector here where Optax keeps a list.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scaleBySm3, scaleByLearningRate } from '@tfopt/transforms';
 * const tx = chain(scaleBySm3({ b1: 0.5 }), scaleByLearningRate(0.1));
 * ```
 */
export function scaleBySm3(options?: ScaleBySm3Options): GradientTransformation<ScaleBySm3State> {
  const { b1, b2, eps } = readOptions('scaleBySm3', options, SM3_RULES, SM3_DEFAULTS);
  return withSpec(
    {
      init: (params) =>
        tidy(() => ({
          mu: treeMap(
            (p) => (p.rank < 2 ? tf.zerosLike(p) : tf.zeros([p.shape.reduce((a, b) => a + b, 0)])),
            params,
          ),
          nu: treeZerosLike(params),
        })),
      update: (updates, state) =>
        tidy(() => {
          const fresh = tf.scalar(b2 === 1 ? 1 : 1 - b2);
          const kept = tf.scalar(b2);
          const epsilon = tf.scalar(eps);
          const zero = tf.scalar(0);
          const w1 = momentWeights(b1);
          const accumulators = statLeaves('scaleBySm3', updates, state.mu, 'state.mu');
          let i = 0;
          const [nu, mu] = treeMapN(
            2,
            (g, n) => {
              const m = accumulators[i++] as tf.Tensor;
              const shape = g.shape;
              let accum: tf.Tensor;
              let nextMu: tf.Tensor;
              if (g.rank < 2) {
                accum = tf.add(tf.mul(tf.square(g), fresh), tf.mul(m, kept));
                nextMu = accum;
              } else if (g.size === 0) {
                // No entry to cover: the accumulators keep their values (and
                // wasm's reductions over zero elements are unreliable).
                accum = g;
                nextMu = tf.clone(m);
              } else {
                const perAxis = tf.split(m, [...shape]);
                const covering = perAxis
                  .map((v, axis) => alongAxis(v, shape, axis))
                  .reduce((a, b) => tf.minimum(a, b));
                accum = tf.add(tf.mul(tf.square(g), fresh), tf.mul(covering, kept));
                const others = (axis: number) => shape.map((_, i) => i).filter((i) => i !== axis);
                nextMu = tf.concat(shape.map((_, axis) => tf.max(accum, others(axis))));
              }
              const inverse = tf.where(
                tf.greater(accum, zero),
                tf.rsqrt(tf.add(accum, epsilon)),
                tf.zerosLike(accum),
              );
              const next = updateMoment(tf.mul(g, inverse), n, w1);
              return [next, nextMu];
            },
            updates,
            state.nu,
          ) as [Tree, Tree];
          return [nu, { mu, nu }] as const;
        }),
    },
    'scaleBySm3',
    [options],
  );
}
