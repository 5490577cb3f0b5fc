import { type HasSpec, InvalidOptionError, type Schedule, withFunctionSpec } from '@tfopt/core';
import {
  assertOptions,
  finite,
  fraction,
  oneOf,
  positive,
  positiveInteger,
} from '@tfopt/core/options';
import { checkCount, checkOptionKeys, readBoundariesAndScales } from './common.js';

/** How {@link piecewiseInterpolateSchedule} moves between two values. @category Schedules */
export type InterpolateType = 'linear' | 'cosine';

/**
 * Options of {@link piecewiseInterpolateSchedule}.
 *
 * @category Schedules
 */
export interface PiecewiseInterpolateScheduleOptions {
  /** `'linear'` or `'cosine'` (half a cosine: flat at both ends of each piece). */
  readonly interpolateType: InterpolateType;
  /** Value on the first update. */
  readonly initValue: number;
  /**
   * `{ boundary: scale }`: the value reached at update count `boundary` is
   * the one before it times `scale` (`>= 0`). Boundaries are integers `>= 0`.
   * Default `{}` (a constant schedule).
   */
  readonly boundariesAndScales?: Readonly<Record<number, number>>;
}

/**
 * Piecewise interpolation between accumulated scales, as Optax's
 * `piecewise_interpolate_schedule`. With boundaries `b_1 < ... < b_n`,
 * `b_0 = 0`, and the values they lead to `v_0 = initValue`,
 * `v_i = v_(i−1) · s_i`:
 *
 * ```text
 * p(t)     = (t − b_i) / max(b_(i+1) − b_i, 1)             b_i <= t < b_(i+1)
 * value(t) = v_i + (v_(i+1) − v_i) · p(t)                   'linear'
 *          = v_(i+1) + (v_i − v_(i+1)) · (1 + cos(pi·p(t))) / 2   'cosine'
 * value(t) = v_n                                            t >= b_n
 * ```
 *
 * So the value moves towards the next boundary's value during the whole
 * piece before it and reaches it exactly at the boundary: the interpolation
 * is between the accumulated values `v_i`, not between the scales. A
 * boundary at `0` scales the value from the first update on.
 *
 * @category Schedules
 * @example
 * ```ts
 * import { piecewiseInterpolateSchedule } from '@tfopt/schedules';
 * const lr = piecewiseInterpolateSchedule({
 *   interpolateType: 'linear',
 *   initValue: 1,
 *   boundariesAndScales: { 4: 0.1, 8: 0.01 },
 * });
 * lr(2); // 0.55, half-way from 1 to 0.1
 * lr(4); // 0.1
 * lr(6); // 0.0505, half-way from 0.1 to 0.001
 * lr(10); // 0.001
 * ```
 */
export function piecewiseInterpolateSchedule(
  options: PiecewiseInterpolateScheduleOptions,
): Schedule & HasSpec {
  const owner = 'piecewiseInterpolateSchedule';
  checkOptionKeys(owner, options, ['interpolateType', 'initValue', 'boundariesAndScales']);
  const { interpolateType, initValue, boundariesAndScales = {} } = options;
  assertOptions(owner, {
    interpolateType: [interpolateType, oneOf('linear', 'cosine')],
    initValue: [initValue, finite],
  });
  const pieces = readBoundariesAndScales(owner, boundariesAndScales);
  const fn = interpolated(owner, interpolateType, initValue, pieces);
  // The spec keeps its own copy of the boundaries, safe from later changes to the caller's object.
  const spec =
    options.boundariesAndScales === undefined
      ? { ...options }
      : { ...options, boundariesAndScales: { ...options.boundariesAndScales } };
  return withFunctionSpec(fn, owner, [spec]);
}

/** The schedule itself, for boundaries already read and sorted. */
function interpolated(
  owner: string,
  type: InterpolateType,
  initValue: number,
  pieces: readonly { boundary: number; scale: number }[],
): Schedule {
  const bounds = [0, ...pieces.map((p) => p.boundary)];
  const values = [initValue];
  for (const { scale } of pieces) values.push((values.at(-1) as number) * scale);
  const last = values.at(-1) as number;
  const end = bounds.at(-1) as number;
  return (count: number) => {
    checkCount(owner, count);
    if (count >= end) return last;
    // The piece [b_i, b_(i+1)) holding the count; empty pieces (a boundary at 0) never hold it.
    let i = 0;
    while (count >= (bounds[i + 1] as number)) i++;
    const from = values[i] as number;
    const to = values[i + 1] as number;
    const start = bounds[i] as number;
    const p = (count - start) / Math.max((bounds[i + 1] as number) - start, 1);
    return type === 'linear'
      ? from + (to - from) * p
      : to + ((from - to) / 2) * (1 + Math.cos(Math.PI * p));
  };
}

/**
 * Options of {@link cosineOnecycleSchedule}, and (with `pctFinal`) of
 * {@link linearOnecycleSchedule}.
 *
 * @category Schedules
 */
export interface CosineOnecycleScheduleOptions {
  /** Length of the cycle in updates, `>= 1`; later counts hold the final value. */
  readonly transitionSteps: number;
  /** The highest value, reached after `pctStart · transitionSteps` updates. */
  readonly peakValue: number;
  /** Fraction of the cycle spent rising to the peak, in `[0, 1]`. Default `0.3`. */
  readonly pctStart?: number;
  /** The first value is `peakValue / divFactor`; `> 0`. Default `25`. */
  readonly divFactor?: number;
  /** The last value is the first divided by `finalDivFactor`; `> 0`. Default `1e4`. */
  readonly finalDivFactor?: number;
}

/**
 * Options of {@link linearOnecycleSchedule}.
 *
 * @category Schedules
 */
export interface LinearOnecycleScheduleOptions extends CosineOnecycleScheduleOptions {
  /**
   * Fraction of the cycle after which the value is back at the first value,
   * in `[pctStart, 1]`. Default `0.85`.
   */
  readonly pctFinal?: number;
}

function readOnecycle(
  owner: string,
  options: CosineOnecycleScheduleOptions,
  keys: readonly string[],
): Required<CosineOnecycleScheduleOptions> {
  checkOptionKeys(owner, options, keys);
  const {
    transitionSteps,
    peakValue,
    pctStart = 0.3,
    divFactor = 25,
    finalDivFactor = 1e4,
  } = options;
  assertOptions(owner, {
    transitionSteps: [transitionSteps, positiveInteger],
    peakValue: [peakValue, finite],
    pctStart: [pctStart, fraction],
    divFactor: [divFactor, positive],
    finalDivFactor: [finalDivFactor, positive],
  });
  return { transitionSteps, peakValue, pctStart, divFactor, finalDivFactor };
}

/**
 * The one-cycle policy with three linear phases (Smith & Topin, 2017,
 * "Super-Convergence: Very Fast Training of Neural Networks Using Large
 * Learning Rates", arXiv:1708.07120), as Optax's `linear_onecycle_schedule`.
 * With `T = transitionSteps`, `I = peakValue / divFactor`:
 *
 * ```text
 * I  → peakValue                 over [0, ⌊pctStart·T⌋)
 * peakValue → I                  over [⌊pctStart·T⌋, ⌊pctFinal·T⌋)
 * I  → I / finalDivFactor        over [⌊pctFinal·T⌋, T), then held
 * ```
 *
 * It is {@link piecewiseInterpolateSchedule} (`'linear'`) from `I` with the
 * scales `{ ⌊pctStart·T⌋: divFactor, ⌊pctFinal·T⌋: 1 / divFactor, T: 1 / finalDivFactor }`;
 * where two of those boundaries coincide the later entry replaces the
 * earlier one, as in Optax's dictionary.
 *
 * @category Schedules
 * @example
 * ```ts
 * import { linearOnecycleSchedule } from '@tfopt/schedules';
 * const lr = linearOnecycleSchedule({ transitionSteps: 100, peakValue: 1 });
 * lr(0); // 0.04 (1 / 25)
 * lr(30); // 1
 * lr(85); // 0.04
 * lr(100); // 4e-6 (0.04 / 1e4)
 * ```
 */
export function linearOnecycleSchedule(options: LinearOnecycleScheduleOptions): Schedule & HasSpec {
  const owner = 'linearOnecycleSchedule';
  const {
    transitionSteps: t,
    peakValue,
    pctStart,
    divFactor,
    finalDivFactor,
  } = readOnecycle(owner, options, [
    'transitionSteps',
    'peakValue',
    'pctStart',
    'pctFinal',
    'divFactor',
    'finalDivFactor',
  ]);
  const { pctFinal = 0.85 } = options;
  assertOptions(owner, { pctFinal: [pctFinal, fraction] });
  if (pctFinal < pctStart) {
    throw new InvalidOptionError(
      owner,
      'pctFinal',
      pctFinal,
      `a number in [pctStart, 1] = [${pctStart}, 1], since the value comes down after its peak`,
    );
  }
  const scales: Record<number, number> = {};
  scales[Math.trunc(pctStart * t)] = divFactor;
  scales[Math.trunc(pctFinal * t)] = 1 / divFactor;
  scales[t] = 1 / finalDivFactor;
  const fn = interpolated(
    owner,
    'linear',
    peakValue / divFactor,
    readBoundariesAndScales(owner, scales),
  );
  return withFunctionSpec(fn, owner, [{ ...options }]);
}

/**
 * The one-cycle policy with cosine phases (Smith & Topin, 2017,
 * arXiv:1708.07120), as Optax's `cosine_onecycle_schedule`. With
 * `T = transitionSteps`, `I = peakValue / divFactor`:
 *
 * ```text
 * I → peakValue                  half a cosine over [0, ⌊pctStart·T⌋)
 * peakValue → I / finalDivFactor half a cosine over [⌊pctStart·T⌋, T), then held
 * ```
 *
 * It is {@link piecewiseInterpolateSchedule} (`'cosine'`) from `I` with the
 * scales `{ ⌊pctStart·T⌋: divFactor, T: 1 / (divFactor · finalDivFactor) }`
 * (with `pctStart = 1` the second entry replaces the first, as in Optax).
 *
 * @category Schedules
 * @example
 * ```ts
 * import { cosineOnecycleSchedule } from '@tfopt/schedules';
 * const lr = cosineOnecycleSchedule({ transitionSteps: 100, peakValue: 1 });
 * lr(0); // 0.04
 * lr(15); // 0.52, half-way up
 * lr(30); // 1
 * lr(65); // 0.500002, half-way down to 4e-6
 * ```
 */
export function cosineOnecycleSchedule(options: CosineOnecycleScheduleOptions): Schedule & HasSpec {
  const owner = 'cosineOnecycleSchedule';
  const {
    transitionSteps: t,
    peakValue,
    pctStart,
    divFactor,
    finalDivFactor,
  } = readOnecycle(owner, options, [
    'transitionSteps',
    'peakValue',
    'pctStart',
    'divFactor',
    'finalDivFactor',
  ]);
  const scales: Record<number, number> = {};
  scales[Math.trunc(pctStart * t)] = divFactor;
  scales[t] = 1 / (divFactor * finalDivFactor);
  const fn = interpolated(
    owner,
    'cosine',
    peakValue / divFactor,
    readBoundariesAndScales(owner, scales),
  );
  return withFunctionSpec(fn, owner, [{ ...options }]);
}
