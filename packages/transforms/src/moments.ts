import * as tf from '@tensorflow/tfjs-core';

/**
 * One step of an exponential moving average of `g`:
 * `decay * moment + (1 - decay) * g`. Works on one leaf so a transform can
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
export function updateMoment(g: tf.Tensor, moment: tf.Tensor, decay: number): tf.Tensor {
  return tf.add(tf.mul(moment, decay), tf.mul(g, 1 - decay));
}

/**
 * One step of an exponential moving average of `g²`:
 * `decay * moment + (1 - decay) * g²`.
 *
 * @category Moments
 */
export function updateMomentSquared(g: tf.Tensor, moment: tf.Tensor, decay: number): tf.Tensor {
  return tf.add(tf.mul(moment, decay), tf.mul(tf.square(g), 1 - decay));
}

/**
 * The bias correction `1 - decay^count` of an average started at zero, as a
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
