import * as tf from '@tensorflow/tfjs-core';

/**
 * The two weights of one moving-average step, `decay` and `1 − decay`, as
 * scalars. Build them once per update (inside its `tidy`) and share them
 * across leaves: a number passed to a tfjs op becomes a new tensor at every
 * call, which costs more than the op itself on small leaves.
 *
 * @category Moments
 */
export interface MomentWeights {
  /** Weight of the previous average. */
  readonly decay: tf.Scalar;
  /** Weight of the new value, `1 − decay`. */
  readonly complement: tf.Scalar;
}

/**
 * {@link MomentWeights} for `decay`. Creates two scalars; call it inside a
 * `tidy` so they are released with the update's intermediates.
 *
 * @category Moments
 */
export function momentWeights(decay: number): MomentWeights {
  return { decay: tf.scalar(decay), complement: tf.scalar(1 - decay) };
}

const weights = (w: number | MomentWeights): [number | tf.Scalar, number | tf.Scalar] =>
  typeof w === 'number' ? [w, 1 - w] : [w.decay, w.complement];

/**
 * One step of an exponential moving average of `g`:
 * `decay · moment + (1 − decay) · g`. Works on one leaf so a transform can
 * compute all its moments of a leaf in a single tree pass.
 *
 * @category Moments
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { updateMoment } from '@tfopt/transforms';
 * updateMoment(tf.tensor([1]), tf.tensor([0]), 0.9); // [0.1]
 * ```
 */
export function updateMoment(
  g: tf.Tensor,
  moment: tf.Tensor,
  decay: number | MomentWeights,
): tf.Tensor {
  const [keep, take] = weights(decay);
  return tf.add(tf.mul(moment, keep), tf.mul(g, take));
}

/**
 * One step of an exponential moving average of `g²`:
 * `decay · moment + (1 − decay) · g²`.
 *
 * @category Moments
 */
export function updateMomentSquared(
  g: tf.Tensor,
  moment: tf.Tensor,
  decay: number | MomentWeights,
): tf.Tensor {
  const [keep, take] = weights(decay);
  return tf.add(tf.mul(moment, keep), tf.mul(tf.square(g), take));
}

/**
 * The bias correction `1 − decay^count` of an average started at zero, as a
 * plain number (the count lives in the state as a number, so this costs no
 * tensor op).
 *
 * @category Moments
 * @example
 * ```ts
 * import { biasCorrection } from '@tfopt/transforms';
 * biasCorrection(0.9, 2); // 0.19
 * ```
 */
export function biasCorrection(decay: number, count: number): number {
  return 1 - decay ** count;
}
