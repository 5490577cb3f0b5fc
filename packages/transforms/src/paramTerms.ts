import * as tf from '@tensorflow/tfjs-core';
import {
  type EmptyState,
  evaluateSchedule,
  type GradientTransformation,
  type ScalarOrSchedule,
  tidy,
  treeMap,
  withSpec,
} from '@tfopt/core';
import { assertOptions, finite, nonNegative, numberOrFunction } from '@tfopt/core/options';
import { readOptions } from './options.js';
import { requireParams } from './requireParams.js';
import type { ScaleByScheduleState } from './scale.js';

const EMPTY: EmptyState = Object.freeze({}) as EmptyState;

/** Options of {@link scaleByParamBlockRms}. @category Transforms */
export interface ScaleByParamBlockRmsOptions {
  /** Lower bound on the parameters' root mean square, `>= 0`. Default `1e-3`. */
  readonly minScale?: number;
}

/**
 * Multiply each leaf of the updates by the root mean square of the matching
 * parameter leaf, so that steps are relative to the parameters' scale
 * (Adafactor's relative step size, Shazeer & Stern, 2018, section 8):
 *
 * ```
 * u ← u · max(sqrt(mean(θ²)), minScale)        per leaf
 * ```
 *
 * Needs the parameters: pass them as `update`'s third argument (`step` and
 * `stepVariables` do).
 *
 * @category Transforms
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { scaleByParamBlockRms } from '@tfopt/transforms';
 * const tx = scaleByParamBlockRms();
 * const params = { w: tf.tensor([3, -4]) };
 * const [u] = tx.update({ w: tf.tensor([1, 1]) }, tx.init(params), params);
 * (u as { w: tf.Tensor }).w.print(); // rms(θ) = 3.54: [3.54, 3.54]
 * ```
 */
export function scaleByParamBlockRms(
  options?: ScaleByParamBlockRmsOptions,
): GradientTransformation<EmptyState> {
  const { minScale } = readOptions(
    'scaleByParamBlockRms',
    options,
    { minScale: nonNegative },
    { minScale: 1e-3 },
  );
  return withSpec(
    {
      init: () => EMPTY,
      update: (updates, _state, params) => {
        requireParams('scaleByParamBlockRms', params, 'it scales each update by their rms');
        return tidy(() => {
          const floor = tf.scalar(minScale);
          const scaled = treeMap(
            (u, p) =>
              p.size === 0 ? u : tf.mul(u, tf.maximum(tf.sqrt(tf.mean(tf.square(p))), floor)),
            updates,
            params,
          );
          return [scaled, EMPTY] as const;
        });
      },
    },
    'scaleByParamBlockRms',
    [options],
  );
}

/**
 * Add a multiple of the parameters to the updates, with a coefficient of
 * either sign that may follow a schedule of the step count:
 *
 * ```
 * u ← u + c(count)·θ,   then count ← count + 1
 * ```
 *
 * After the learning rate, a negative `c` shrinks the parameters towards
 * zero: Fromage's `θ ← θ / sqrt(1 + lr²)` (see {@link fromage}) is
 * `c = 1/sqrt(1 + lr²) − 1`. It is Optax's `add_decayed_weights` placed
 * after the learning rate; {@link addDecayedWeights} is the usual form before
 * it, with a non-negative decay and a mask. The state counts steps either
 * way, so a number can be swapped for a schedule without changing its shape.
 * Needs the parameters.
 *
 * @param scale - A finite number or a schedule of the step count.
 * @category Transforms
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { addScaledParams } from '@tfopt/transforms';
 * const tx = addScaledParams(-0.5);
 * const params = { w: tf.tensor([2, -4]) };
 * const [u] = tx.update({ w: tf.tensor([1, 1]) }, tx.init(params), params);
 * (u as { w: tf.Tensor }).w.print(); // [0, 3]
 * ```
 */
export function addScaledParams(
  scale: ScalarOrSchedule,
): GradientTransformation<ScaleByScheduleState> {
  assertOptions('addScaledParams', { scale: [scale, numberOrFunction(finite)] });
  return withSpec(
    {
      init: () => ({ count: 0 }),
      update: (updates, state, params) => {
        requireParams('addScaledParams', params, 'it adds a multiple of them to the updates');
        const c = evaluateSchedule(scale, state.count, 'addScaledParams: schedule');
        const next = { count: state.count + 1 };
        if (c === 0) return [updates, next];
        return tidy(() => {
          const k = tf.scalar(c);
          return [treeMap((u, p) => tf.add(u, tf.mul(p, k)), updates, params), next] as const;
        });
      },
    },
    'addScaledParams',
    [scale],
  );
}
