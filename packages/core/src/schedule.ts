import { TfoptError } from './errors.js';

/**
 * A schedule maps the number of updates done so far (0 on the first update)
 * to a value, usually a learning rate.
 *
 * @category Schedules
 */
export type Schedule = (count: number) => number;

/**
 * A fixed number or a {@link Schedule}.
 *
 * @category Schedules
 */
export type ScalarOrSchedule = number | Schedule;

/**
 * Evaluate a number-or-schedule at `count`, checking that a schedule returned
 * a finite number.
 *
 * @category Schedules
 */
export function evaluateSchedule(
  value: ScalarOrSchedule,
  count: number,
  what = 'schedule',
): number {
  if (typeof value === 'number') return value;
  const out = value(count);
  if (typeof out !== 'number' || !Number.isFinite(out)) {
    throw new TfoptError(
      `${what} returned ${String(out)} at count ${count}; expected a finite number`,
    );
  }
  return out;
}
