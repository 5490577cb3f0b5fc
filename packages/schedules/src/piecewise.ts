import { type HasSpec, InvalidOptionError, type Schedule, withFunctionSpec } from '@tfopt/core';
import { assertOptions, finite, nonNegative } from '@tfopt/core/options';
import { checkCount, checkOptionKeys } from './common.js';

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
  if (
    typeof boundariesAndScales !== 'object' ||
    boundariesAndScales === null ||
    Array.isArray(boundariesAndScales)
  ) {
    throw new InvalidOptionError(
      owner,
      'boundariesAndScales',
      boundariesAndScales,
      'an object mapping boundary counts to scales, e.g. { 100: 0.1 }',
    );
  }
  const pieces: { boundary: number; scale: number }[] = [];
  for (const [key, scale] of Object.entries(boundariesAndScales)) {
    // Object keys are strings; accept only the canonical spelling of an integer count.
    if (!/^(0|[1-9][0-9]*)$/.test(key)) {
      throw new InvalidOptionError(
        owner,
        `boundariesAndScales[${JSON.stringify(key)}]`,
        key,
        'keyed by an integer update count >= 0',
      );
    }
    assertOptions(owner, { [`boundariesAndScales[${key}]`]: [scale, nonNegative] });
    pieces.push({ boundary: Number(key), scale });
  }
  pieces.sort((a, b) => a.boundary - b.boundary);
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
