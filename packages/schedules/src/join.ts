import { type HasSpec, InvalidOptionError, type Schedule, withFunctionSpec } from '@tfopt/core';
import { assertOptions, nonNegativeInteger } from '@tfopt/core/options';
import { checkCount } from './common.js';

/**
 * Run `schedules` one after another. `boundaries[i]` is the count at which
 * `schedules[i + 1]` takes over; it then sees the count relative to its own
 * start:
 *
 * ```text
 * value(t) = schedules[0](t)                   t < b_0
 *          = schedules[i + 1](t - b_i)         b_i <= t < b_{i+1}
 * ```
 *
 * There must be one boundary fewer than schedules, as non-decreasing integers
 * `>= 0`. A schedule whose interval is empty (equal boundaries) never runs.
 *
 * @category Schedules
 * @example
 * ```ts
 * import { constantSchedule, joinSchedules, linearSchedule } from '@tfopt/schedules';
 * const warmup = linearSchedule({ initValue: 0, endValue: 0.1, transitionSteps: 10 });
 * const lr = joinSchedules([warmup, constantSchedule(0.1)], [10]);
 * lr(5); // 0.05
 * lr(10); // 0.1
 * ```
 */
export function joinSchedules(
  schedules: readonly Schedule[],
  boundaries: readonly number[],
): Schedule & HasSpec {
  const owner = 'joinSchedules';
  if (!Array.isArray(schedules) || schedules.length === 0) {
    throw new InvalidOptionError(owner, 'schedules', schedules, 'a non-empty array of schedules');
  }
  schedules.forEach((s, i) => {
    if (typeof s !== 'function') {
      throw new InvalidOptionError(
        owner,
        `schedules[${i}]`,
        s,
        'a schedule (a function of the count)',
      );
    }
  });
  if (!Array.isArray(boundaries) || boundaries.length !== schedules.length - 1) {
    throw new InvalidOptionError(
      owner,
      'boundaries',
      boundaries,
      `an array of ${schedules.length - 1} boundaries, one fewer than the ${schedules.length} schedules${
        Array.isArray(boundaries) ? ` (it has ${boundaries.length})` : ''
      }`,
    );
  }
  boundaries.forEach((b, i) => {
    assertOptions(owner, { [`boundaries[${i}]`]: [b, nonNegativeInteger] });
    const previous = boundaries[i - 1];
    if (previous !== undefined && b < previous) {
      throw new InvalidOptionError(
        owner,
        `boundaries[${i}]`,
        b,
        `an integer >= boundaries[${i - 1}] (${previous}); boundaries must not decrease`,
      );
    }
  });
  const parts = [...schedules];
  const starts = [...boundaries];
  return withFunctionSpec(
    (count: number) => {
      checkCount(owner, count);
      // The last boundary reached picks the schedule.
      let i = starts.length - 1;
      while (i >= 0 && count < (starts[i] as number)) i--;
      if (i < 0) return (parts[0] as Schedule)(count);
      return (parts[i + 1] as Schedule)(count - (starts[i] as number));
    },
    owner,
    [parts, starts],
  );
}
