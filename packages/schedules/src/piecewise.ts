import { type HasSpec, type Schedule, withFunctionSpec } from '@tfopt/core';
import { assertOptions, finite } from '@tfopt/core/options';
import { checkCount, checkOptionKeys, readBoundariesAndScales } from './common.js';

/**
 * Options of {@link piecewiseConstantSchedule}.
 *
 * @category Schedules
 */
export interface PiecewiseConstantScheduleOptions {
  /** Value before the first boundary. */
  readonly initValue: number;
  /**
   * `{ boundary: scale }`: from update count `boundary` on, the value is
   * multiplied by `scale` (`>= 0`). Boundaries are integers `>= 0`.
   */
  readonly boundariesAndScales: Readonly<Record<number, number>>;
}

/**
 * A step function: `initValue` times the product of every scale whose
 * boundary the count has reached.
 *
 * ```text
 * value(t) = initValue * prod { s_i : b_i <= t }
 * ```
 *
 * @category Schedules
 * @example
 * ```ts
 * import { piecewiseConstantSchedule } from '@tfopt/schedules';
 * const lr = piecewiseConstantSchedule({ initValue: 0.1, boundariesAndScales: { 100: 0.1, 200: 0.5 } });
 * lr(99); // 0.1
 * lr(100); // 0.01
 * lr(250); // 0.005
 * ```
 */
export function piecewiseConstantSchedule(
  options: PiecewiseConstantScheduleOptions,
): Schedule & HasSpec {
  const owner = 'piecewiseConstantSchedule';
  checkOptionKeys(owner, options, ['initValue', 'boundariesAndScales']);
  const { initValue, boundariesAndScales } = options;
  assertOptions(owner, { initValue: [initValue, finite] });
  const pieces = readBoundariesAndScales(owner, boundariesAndScales);
  // Each step's value is precomputed, so a call only finds the last boundary reached.
  let v = initValue;
  const steps = pieces.map(({ boundary, scale }) => {
    v *= scale;
    return { boundary, value: v };
  });
  return withFunctionSpec(
    (count: number) => {
      checkCount(owner, count);
      let out = initValue;
      for (const { boundary, value } of steps) {
        if (boundary > count) break;
        out = value;
      }
      return out;
    },
    owner,
    [{ initValue, boundariesAndScales: { ...boundariesAndScales } }],
  );
}
