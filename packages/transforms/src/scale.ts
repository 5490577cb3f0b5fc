import * as tf from '@tensorflow/tfjs-core';
import {
  type EmptyState,
  evaluateSchedule,
  type GradientTransformation,
  type ScalarOrSchedule,
  type Schedule,
  type Tree,
  tidy,
  treeMap,
  withSpec,
} from '@tfopt/core';
import { assertOptions, boolean, finite, nonNegative, numberOrFunction } from '@tfopt/core/options';
import { assertFunction, readOptions } from './options.js';

const EMPTY: EmptyState = Object.freeze({}) as EmptyState;

/** Multiply every leaf by a number; `1` returns the updates untouched. */
function multiply(updates: Tree, factor: number): Tree {
  if (factor === 1) return updates;
  return tidy(() => {
    // One scalar for all leaves rather than one per leaf.
    const k = tf.scalar(factor);
    return treeMap((u) => tf.mul(u, k), updates);
  });
}

/**
 * Multiply the updates by a fixed number: `u ← factor · u`.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scale, trace } from '@tfopt/transforms';
 * const heavyBall = chain(trace({ decay: 0.9 }), scale(-0.01));
 * ```
 */
export function scale(factor: number): GradientTransformation<EmptyState> {
  assertOptions('scale', { factor: [factor, finite] });
  return withSpec(
    { init: () => EMPTY, update: (updates) => [multiply(updates, factor), EMPTY] },
    'scale',
    [factor],
  );
}

/**
 * State of {@link scaleBySchedule} and {@link scaleByLearningRate}: the number
 * of updates done so far, the argument of the next schedule call.
 *
 * @category Transforms
 */
export interface ScaleByScheduleState {
  /** Updates done so far (0 before the first). */
  readonly count: number;
}

/**
 * Multiply the updates by a schedule of the step count:
 * `u ← schedule(count) · u`, then `count ← count + 1`. The first update uses
 * `schedule(0)`.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { scaleBySchedule } from '@tfopt/transforms';
 * const halving = scaleBySchedule((count) => 0.5 ** count);
 * ```
 */
export function scaleBySchedule(schedule: Schedule): GradientTransformation<ScaleByScheduleState> {
  assertFunction('scaleBySchedule', 'schedule', schedule);
  return withSpec(scheduled(schedule, 1, 'scaleBySchedule'), 'scaleBySchedule', [schedule]);
}

function scheduled(
  value: ScalarOrSchedule,
  sign: 1 | -1,
  owner: string,
): GradientTransformation<ScaleByScheduleState> {
  return {
    init: () => ({ count: 0 }),
    update: (updates, state) => {
      const factor = sign * evaluateSchedule(value, state.count, `${owner}: schedule`);
      return [multiply(updates, factor), { count: state.count + 1 }];
    },
  };
}

/** Options of {@link scaleByLearningRate}. @category Transforms */
export interface ScaleByLearningRateOptions {
  /** Multiply by `-lr` (descent) rather than `lr`. Default `true`. */
  readonly flipSign?: boolean;
}

/**
 * Multiply the updates by the learning rate, negated by default so that
 * adding the result to the parameters descends: `u ← -lr(count) · u`.
 *
 * The learning rate is a number or a `Schedule` (from `@tfopt/core`) of the step count; the
 * state counts steps either way, so a number can later be swapped for a
 * schedule without changing the state's shape. One multiply per leaf.
 *
 * @param learningRate - A number `>= 0` or a schedule.
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scaleByAdam, scaleByLearningRate } from '@tfopt/transforms';
 * const tx = chain(scaleByAdam(), scaleByLearningRate((count) => 1e-3 / Math.sqrt(count + 1)));
 * ```
 */
export function scaleByLearningRate(
  learningRate: ScalarOrSchedule,
  options?: ScaleByLearningRateOptions,
): GradientTransformation<ScaleByScheduleState> {
  assertOptions('scaleByLearningRate', {
    learningRate: [learningRate, numberOrFunction(nonNegative)],
  });
  const { flipSign } = readOptions(
    'scaleByLearningRate',
    options,
    { flipSign: boolean },
    { flipSign: true },
  );
  return withSpec(
    scheduled(learningRate, flipSign ? -1 : 1, 'scaleByLearningRate'),
    'scaleByLearningRate',
    [learningRate, options],
  );
}
