import { type HasSpec, InvalidOptionError, type Schedule, withFunctionSpec } from '@tfopt/core';
import {
  assertOptions,
  finite,
  fraction,
  nonNegativeInteger,
  positive,
  positiveInteger,
} from '@tfopt/core/options';
import { checkCount, checkOptionKeys } from './common.js';

/**
 * Options of {@link cosineDecaySchedule}.
 *
 * @category Schedules
 */
export interface CosineDecayScheduleOptions {
  /** Value on the first update. */
  readonly initValue: number;
  /** Length of the decay in updates (`>= 1`); later counts hold the final value. */
  readonly decaySteps: number;
  /** Final value as a fraction of `initValue`, in `[0, 1]`. Default `0`. */
  readonly alpha?: number;
  /** Power applied to the cosine factor; `> 0`. Default `1`. */
  readonly exponent?: number;
}

/**
 * Cosine decay from `initValue` (I) to `alpha * initValue` over `decaySteps`
 * (T) updates (Loshchilov & Hutter, SGDR, 2017), with exponent p:
 *
 * ```text
 * c(t)     = (1 + cos(pi * min(t, T) / T)) / 2
 * value(t) = I * ((1 - alpha) * c(t)^p + alpha)
 * ```
 *
 * So `value(0) = I`, `value(T / 2) = I * (1 + alpha) / 2` when `p = 1`, and
 * every count from `T` on gives `alpha * I`.
 *
 * @category Schedules
 * @example
 * ```ts
 * import { cosineDecaySchedule } from '@tfopt/schedules';
 * const lr = cosineDecaySchedule({ initValue: 0.1, decaySteps: 1000 });
 * lr(0); // 0.1
 * lr(500); // 0.05
 * lr(2000); // 0
 * ```
 */
export function cosineDecaySchedule(options: CosineDecayScheduleOptions): Schedule & HasSpec {
  const owner = 'cosineDecaySchedule';
  checkOptionKeys(owner, options, ['initValue', 'decaySteps', 'alpha', 'exponent']);
  const { initValue, decaySteps, alpha = 0, exponent = 1 } = options;
  assertOptions(owner, {
    initValue: [initValue, finite],
    decaySteps: [decaySteps, positiveInteger],
    alpha: [alpha, fraction],
    exponent: [exponent, positive],
  });
  return withFunctionSpec(
    (count: number) => {
      checkCount(owner, count);
      const c = cosineFactor(count, decaySteps);
      return initValue * ((1 - alpha) * c ** exponent + alpha);
    },
    owner,
    [{ ...options }],
  );
}

/**
 * Options of {@link warmupCosineDecaySchedule}.
 *
 * @category Schedules
 */
export interface WarmupCosineDecayScheduleOptions {
  /** Value on the first update. */
  readonly initValue: number;
  /** Value reached at the end of the warmup, where the decay starts. */
  readonly peakValue: number;
  /** Length of the linear warmup in updates; `0` starts the decay at once. */
  readonly warmupSteps: number;
  /** Total length of the schedule in updates, warmup included; `> warmupSteps`. */
  readonly decaySteps: number;
  /** Value at the end of the decay and afterwards. Default `0`. */
  readonly endValue?: number;
  /** Power applied to the cosine factor; `> 0`. Default `1`. */
  readonly exponent?: number;
}

/**
 * Linear warmup from `initValue` to `peakValue` over `warmupSteps` (W)
 * updates, then cosine decay to `endValue` (E). `decaySteps` (D) counts the
 * whole schedule, warmup included, so the cosine part lasts `D - W` updates:
 *
 * ```text
 * value(t) = initValue + (peakValue - initValue) * t / W        t < W
 * c(t)     = (1 + cos(pi * min(t - W, D - W) / (D - W))) / 2
 * value(t) = E + (peakValue - E) * c(t)^p                       t >= W
 * ```
 *
 * Every count from `D` on gives `endValue`. The decay interpolates between
 * `peakValue` and `endValue` directly, so `peakValue: 0` is allowed and
 * decays (upwards) to `endValue`.
 *
 * @category Schedules
 * @example
 * ```ts
 * import { warmupCosineDecaySchedule } from '@tfopt/schedules';
 * const lr = warmupCosineDecaySchedule({
 *   initValue: 0, peakValue: 1e-3, warmupSteps: 100, decaySteps: 1100, endValue: 1e-5,
 * });
 * lr(50); // 5e-4, half-way up
 * lr(100); // 1e-3, the peak
 * lr(600); // (1e-3 + 1e-5) / 2, half-way down
 * ```
 */
export function warmupCosineDecaySchedule(
  options: WarmupCosineDecayScheduleOptions,
): Schedule & HasSpec {
  const owner = 'warmupCosineDecaySchedule';
  checkOptionKeys(owner, options, [
    'initValue',
    'peakValue',
    'warmupSteps',
    'decaySteps',
    'endValue',
    'exponent',
  ]);
  const { initValue, peakValue, warmupSteps, decaySteps, endValue = 0, exponent = 1 } = options;
  assertOptions(owner, {
    initValue: [initValue, finite],
    peakValue: [peakValue, finite],
    warmupSteps: [warmupSteps, nonNegativeInteger],
    decaySteps: [decaySteps, positiveInteger],
    endValue: [endValue, finite],
    exponent: [exponent, positive],
  });
  if (decaySteps <= warmupSteps) {
    throw new InvalidOptionError(
      owner,
      'decaySteps',
      decaySteps,
      `an integer > warmupSteps (${warmupSteps}), since it includes the warmup`,
    );
  }
  const cosineSteps = decaySteps - warmupSteps;
  return withFunctionSpec(
    (count: number) => {
      checkCount(owner, count);
      if (count < warmupSteps) return initValue + ((peakValue - initValue) * count) / warmupSteps;
      const c = cosineFactor(count - warmupSteps, cosineSteps);
      return endValue + (peakValue - endValue) * c ** exponent;
    },
    owner,
    [{ ...options }],
  );
}

/** `(1 + cos(pi * t / T)) / 2` with `t` held at `T` past the end. */
function cosineFactor(count: number, steps: number): number {
  if (count >= steps) return 0;
  return 0.5 * (1 + Math.cos((Math.PI * count) / steps));
}
