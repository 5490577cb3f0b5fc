import * as tf from '@tensorflow/tfjs-core';

/**
 * `tf.clipByValue` with its bounds taken as float32, the precision the
 * tensor has. Bounds that are distinct numbers but the same float32 (say
 * `exp(-1e-8)` and `exp(1e-8)`, both 1) give a tensor filled with that value;
 * tfjs-backend-wasm's clamp returns garbage for them instead (it only
 * handles bounds that are equal as doubles). A NaN element becomes the bound
 * in that case. Every bounded quantity in tfopt (EG scale and gains,
 * `clip`) is clipped through this.
 *
 * @category Tensor helpers
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { clipByValue } from '@tfopt/core';
 * clipByValue(tf.tensor([0.5, 2]), 1, 1 + 1e-12).print(); // [1, 1]
 * ```
 */
export function clipByValue(x: tf.Tensor, min: number, max: number): tf.Tensor {
  const lo = Math.fround(min);
  const hi = Math.fround(max);
  return lo === hi ? tf.fill(x.shape, hi, x.dtype) : tf.clipByValue(x, lo, hi);
}
