import { type HasSpec, type Schedule, withFunctionSpec } from '@tfopt/core';
import {
  assertOptions,
  boolean,
  finite,
  nonNegativeInteger,
  type OptionRule,
  positive,
} from '@tfopt/core/options';
import { checkCount, checkOptionKeys } from './common.js';

/**
 * Options of {@link exponentialDecaySchedule}.
 *
 * @category Schedules
 */
export interface ExponentialDecayScheduleOptions {
  /** Value before the decay starts. */
  readonly initValue: number;
  /** Updates over which the value is multiplied by `decayRate` once; `0` holds `initValue`. */
  readonly transitionSteps: number;
  /** Factor per `transitionSteps` updates, `> 0`; below 1 decays, above 1 grows. */
  readonly decayRate: number;
  /** Updates to wait, holding `initValue`, before the decay starts. Default `0`. */
  readonly transitionBegin?: number;
  /** Decay in whole steps of `transitionSteps` updates rather than smoothly. Default `false`. */
  readonly staircase?: boolean;
  /**
   * Bound on the value: a floor when `decayRate < 1`, a ceiling otherwise.
   * Default: unbounded.
   */
  readonly endValue?: number;
}

/**
 * Exponential decay of `initValue` (I) by `decayRate` (r) every
 * `transitionSteps` (T) updates, starting after `transitionBegin` (B):
 *
 * ```text
 * k(t)     = (t - B) / T        (floor((t - B) / T) with staircase)
 * value(t) = I                  t <= B
 *          = I * r^k(t)         t > B
 * ```
 *
 * With `endValue` every value is then clipped: `max(value, endValue)` when
 * `r < 1`, `min(value, endValue)` otherwise. `transitionSteps: 0` gives the
 * constant `initValue`, unclipped. A `decayRate` of 0 is rejected rather than
 * read as "constant".
 *
 * @category Schedules
 * @example
 * ```ts
 * import { exponentialDecaySchedule } from '@tfopt/schedules';
 * const lr = exponentialDecaySchedule({ initValue: 0.1, transitionSteps: 100, decayRate: 0.5 });
 * lr(100); // 0.05
 * lr(150); // 0.1 * 0.5^1.5
 * ```
 */
export function exponentialDecaySchedule(
  options: ExponentialDecayScheduleOptions,
): Schedule & HasSpec {
  const owner = 'exponentialDecaySchedule';
  checkOptionKeys(owner, options, [
    'initValue',
    'transitionSteps',
    'decayRate',
    'transitionBegin',
    'staircase',
    'endValue',
  ]);
  const {
    initValue,
    transitionSteps,
    decayRate,
    transitionBegin = 0,
    staircase = false,
    endValue,
  } = options;
  const checks: Record<string, readonly [unknown, OptionRule<unknown>]> = {
    initValue: [initValue, finite],
    transitionSteps: [transitionSteps, nonNegativeInteger],
    decayRate: [decayRate, positive],
    transitionBegin: [transitionBegin, nonNegativeInteger],
    staircase: [staircase, boolean],
  };
  if (endValue !== undefined) checks.endValue = [endValue, finite];
  assertOptions(owner, checks);

  const clip =
    endValue === undefined
      ? (v: number) => v
      : decayRate < 1
        ? (v: number) => Math.max(v, endValue)
        : (v: number) => Math.min(v, endValue);
  return withFunctionSpec(
    (count: number) => {
      checkCount(owner, count);
      if (transitionSteps === 0) return initValue;
      const elapsed = count - transitionBegin;
      if (elapsed <= 0) return clip(initValue);
      const k = staircase ? Math.floor(elapsed / transitionSteps) : elapsed / transitionSteps;
      return clip(initValue * decayRate ** k);
    },
    owner,
    [{ ...options }],
  );
}
