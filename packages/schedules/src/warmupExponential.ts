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
import { exponentialDecaySchedule } from './exponential.js';

/**
 * Options of {@link warmupExponentialDecaySchedule}.
 *
 * @category Schedules
 */
export interface WarmupExponentialDecayScheduleOptions {
  /** Value on the first update. */
  readonly initValue: number;
  /** Value reached at the end of the warmup, where the decay starts. */
  readonly peakValue: number;
  /** Length of the linear warmup in updates; `0` starts the decay at once. */
  readonly warmupSteps: number;
  /** Updates over which the value is multiplied by `decayRate` once; `0` holds `peakValue`. */
  readonly transitionSteps: number;
  /** Factor per `transitionSteps` updates, `> 0`; below 1 decays, above 1 grows. */
  readonly decayRate: number;
  /** Updates after the warmup to hold `peakValue` before the decay starts. Default `0`. */
  readonly transitionBegin?: number;
  /** Decay in whole steps of `transitionSteps` updates rather than smoothly. Default `false`. */
  readonly staircase?: boolean;
  /** Bound on the decayed value: a floor when `decayRate < 1`, a ceiling otherwise. Default: none. */
  readonly endValue?: number;
}

/**
 * Linear warmup from `initValue` to `peakValue` over `warmupSteps` (W)
 * updates, then {@link exponentialDecaySchedule} from `peakValue`, counted
 * from the end of the warmup, as Optax's `warmup_exponential_decay_schedule`:
 *
 * ```text
 * value(t) = initValue + (peakValue − initValue) · t / W               t < W
 * k(t)     = (t − W − B) / T        (floor((t − W − B) / T) with staircase)
 * value(t) = peakValue                                                 W <= t <= W + B
 *          = peakValue · decayRate^k(t)                                t > W + B
 * ```
 *
 * with `B = transitionBegin`, `T = transitionSteps`, and the decayed value
 * clipped at `endValue` when given (see {@link exponentialDecaySchedule}).
 *
 * @category Schedules
 * @example
 * ```ts
 * import { warmupExponentialDecaySchedule } from '@tfopt/schedules';
 * const lr = warmupExponentialDecaySchedule({
 *   initValue: 0, peakValue: 1e-3, warmupSteps: 100, transitionSteps: 1000, decayRate: 0.5,
 * });
 * lr(50); // 5e-4, half-way up
 * lr(100); // 1e-3, the peak
 * lr(1100); // 5e-4, one halving later
 * ```
 */
export function warmupExponentialDecaySchedule(
  options: WarmupExponentialDecayScheduleOptions,
): Schedule & HasSpec {
  const owner = 'warmupExponentialDecaySchedule';
  checkOptionKeys(owner, options, [
    'initValue',
    'peakValue',
    'warmupSteps',
    'transitionSteps',
    'decayRate',
    'transitionBegin',
    'staircase',
    'endValue',
  ]);
  const {
    initValue,
    peakValue,
    warmupSteps,
    transitionSteps,
    decayRate,
    transitionBegin = 0,
    staircase = false,
    endValue,
  } = options;
  const checks: Record<string, readonly [unknown, OptionRule<unknown>]> = {
    initValue: [initValue, finite],
    peakValue: [peakValue, finite],
    warmupSteps: [warmupSteps, nonNegativeInteger],
    transitionSteps: [transitionSteps, nonNegativeInteger],
    decayRate: [decayRate, positive],
    transitionBegin: [transitionBegin, nonNegativeInteger],
    staircase: [staircase, boolean],
  };
  if (endValue !== undefined) checks.endValue = [endValue, finite];
  assertOptions(owner, checks);
  // Checked above under this schedule's name, so building the decay cannot throw.
  const decay = exponentialDecaySchedule({
    initValue: peakValue,
    transitionSteps,
    decayRate,
    transitionBegin,
    staircase,
    ...(endValue === undefined ? {} : { endValue }),
  });
  return withFunctionSpec(
    (count: number) => {
      checkCount(owner, count);
      if (count < warmupSteps) return initValue + ((peakValue - initValue) * count) / warmupSteps;
      return decay(count - warmupSteps);
    },
    owner,
    [{ ...options }],
  );
}
