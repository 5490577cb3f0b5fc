import { type HasSpec, type Schedule, withFunctionSpec } from '@tfopt/core';
import { assertOptions, finite, nonNegativeInteger, positive } from '@tfopt/core/options';
import { checkCount, checkOptionKeys } from './common.js';

/**
 * A schedule that always returns `value`.
 *
 * @category Schedules
 * @example
 * ```ts
 * import { constantSchedule } from '@tfopt/schedules';
 * const lr = constantSchedule(0.01);
 * lr(0); // 0.01
 * lr(1e6); // 0.01
 * ```
 */
export function constantSchedule(value: number): Schedule & HasSpec {
  assertOptions('constantSchedule', { value: [value, finite] });
  return withFunctionSpec(
    (count: number) => {
      checkCount('constantSchedule', count);
      return value;
    },
    'constantSchedule',
    [value],
  );
}

/**
 * Options of {@link polynomialSchedule}.
 *
 * @category Schedules
 */
export interface PolynomialScheduleOptions {
  /** Value before and at the start of the transition. */
  readonly initValue: number;
  /** Value at the end of the transition and afterwards. */
  readonly endValue: number;
  /** Power of the polynomial; `1` is a straight line. Must be `> 0`. */
  readonly power: number;
  /** Length of the transition in updates; `0` holds `initValue` forever. */
  readonly transitionSteps: number;
  /** Updates to wait, holding `initValue`, before the transition starts. Default `0`. */
  readonly transitionBegin?: number;
}

/**
 * Polynomial transition from `initValue` (I) to `endValue` (E) over
 * `transitionSteps` (T) updates, starting after `transitionBegin` (B) updates,
 * with power P:
 *
 * ```text
 * value(t) = I                                   t <= B
 *          = (I - E) * (1 - (t - B) / T)^P + E   B <= t <= B + T
 *          = E                                   t >= B + T
 * ```
 *
 * `transitionSteps: 0` disables the transition: the value stays at `initValue`.
 *
 * @category Schedules
 * @example
 * ```ts
 * import { polynomialSchedule } from '@tfopt/schedules';
 * const lr = polynomialSchedule({ initValue: 1, endValue: 0, power: 2, transitionSteps: 10 });
 * lr(5); // (1 - 0) * (1 - 5/10)^2 + 0 = 0.25
 * ```
 */
export function polynomialSchedule(options: PolynomialScheduleOptions): Schedule & HasSpec {
  return buildPolynomial('polynomialSchedule', options, { ...options });
}

/**
 * Options of {@link linearSchedule}.
 *
 * @category Schedules
 */
export interface LinearScheduleOptions {
  /** Value before and at the start of the transition. */
  readonly initValue: number;
  /** Value at the end of the transition and afterwards. */
  readonly endValue: number;
  /** Length of the transition in updates; `0` holds `initValue` forever. */
  readonly transitionSteps: number;
  /** Updates to wait, holding `initValue`, before the transition starts. Default `0`. */
  readonly transitionBegin?: number;
}

/**
 * Straight-line transition from `initValue` (I) to `endValue` (E) over
 * `transitionSteps` (T) updates, starting after `transitionBegin` (B) updates:
 *
 * ```text
 * value(t) = I + (E - I) * clip((t - B) / T, 0, 1)
 * ```
 *
 * Counts past `B + T` hold `endValue`. `transitionSteps: 0` disables the
 * transition: the value stays at `initValue`.
 *
 * @category Schedules
 * @example
 * ```ts
 * import { linearSchedule } from '@tfopt/schedules';
 * const lr = linearSchedule({ initValue: 0, endValue: 1e-3, transitionSteps: 100 });
 * lr(50); // 5e-4
 * lr(500); // 1e-3
 * ```
 */
export function linearSchedule(options: LinearScheduleOptions): Schedule & HasSpec {
  checkOptionKeys('linearSchedule', options, LINEAR_KEYS);
  return buildPolynomial('linearSchedule', { ...options, power: 1 }, { ...options });
}

/**
 * Options of {@link warmupConstantSchedule}.
 *
 * @category Schedules
 */
export interface WarmupConstantScheduleOptions {
  /** Value on the first update. */
  readonly initValue: number;
  /** Value reached at the end of the warmup and held afterwards. */
  readonly peakValue: number;
  /** Length of the linear warmup in updates; `0` starts at `peakValue`. */
  readonly warmupSteps: number;
}

/**
 * Linear warmup from `initValue` to `peakValue` over `warmupSteps` updates,
 * then `peakValue` for ever:
 *
 * ```text
 * value(t) = initValue + (peakValue - initValue) * min(t / warmupSteps, 1)
 * ```
 *
 * `warmupSteps: 0` means no warmup, so the value is `peakValue` from the first
 * update (where `linearSchedule` with `transitionSteps: 0` would hold its
 * `initValue`).
 *
 * @category Schedules
 * @example
 * ```ts
 * import { warmupConstantSchedule } from '@tfopt/schedules';
 * const lr = warmupConstantSchedule({ initValue: 0, peakValue: 0.1, warmupSteps: 10 });
 * lr(5); // 0.05
 * lr(10); // 0.1
 * ```
 */
export function warmupConstantSchedule(options: WarmupConstantScheduleOptions): Schedule & HasSpec {
  const owner = 'warmupConstantSchedule';
  checkOptionKeys(owner, options, ['initValue', 'peakValue', 'warmupSteps']);
  const { initValue, peakValue, warmupSteps } = options;
  assertOptions(owner, {
    initValue: [initValue, finite],
    peakValue: [peakValue, finite],
    warmupSteps: [warmupSteps, nonNegativeInteger],
  });
  // With no warmup the value is the peak from the first update on.
  const fn =
    warmupSteps === 0
      ? (count: number) => {
          checkCount(owner, count);
          return peakValue;
        }
      : (count: number) => {
          checkCount(owner, count);
          return polynomialValue(initValue, peakValue, 1, warmupSteps, 0, count);
        };
  return withFunctionSpec(fn, owner, [{ ...options }]);
}

const LINEAR_KEYS = ['initValue', 'endValue', 'transitionSteps', 'transitionBegin'] as const;
const POLYNOMIAL_KEYS = [...LINEAR_KEYS, 'power'] as const;

function buildPolynomial(
  owner: string,
  options: PolynomialScheduleOptions,
  specArgs: object,
): Schedule & HasSpec {
  checkOptionKeys(owner, options, POLYNOMIAL_KEYS);
  const { initValue, endValue, power, transitionSteps, transitionBegin = 0 } = options;
  assertOptions(owner, {
    initValue: [initValue, finite],
    endValue: [endValue, finite],
    power: [power, positive],
    transitionSteps: [transitionSteps, nonNegativeInteger],
    transitionBegin: [transitionBegin, nonNegativeInteger],
  });
  return withFunctionSpec(
    (count: number) => {
      checkCount(owner, count);
      return polynomialValue(initValue, endValue, power, transitionSteps, transitionBegin, count);
    },
    owner,
    [specArgs],
  );
}

/** Shared by the polynomial family; `steps === 0` means no transition. */
function polynomialValue(
  init: number,
  end: number,
  power: number,
  steps: number,
  begin: number,
  count: number,
): number {
  if (steps === 0) return init;
  const done = Math.min(Math.max(count - begin, 0), steps);
  return (init - end) * (1 - done / steps) ** power + end;
}
