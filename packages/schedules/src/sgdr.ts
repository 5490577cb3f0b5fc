import { type HasSpec, InvalidOptionError, type Schedule, withFunctionSpec } from '@tfopt/core';
import { checkCount, checkOptionKeys } from './common.js';
import { type WarmupCosineDecayScheduleOptions, warmupCosineDecaySchedule } from './cosine.js';
import { joinSchedules } from './join.js';

/**
 * Options of {@link sgdrSchedule}.
 *
 * @category Schedules
 */
export interface SgdrScheduleOptions {
  /**
   * One {@link warmupCosineDecaySchedule} per cycle, run one after another;
   * each cycle lasts its `decaySteps` updates (its warmup included).
   */
  readonly cosineKwargs: readonly WarmupCosineDecayScheduleOptions[];
}

/**
 * SGD with warm restarts (Loshchilov & Hutter, 2017, "SGDR: Stochastic
 * Gradient Descent with Warm Restarts", arXiv:1608.03983), as Optax's
 * `sgdr_schedule`: warmup-cosine cycles joined end to end. Cycle `i` starts
 * at `D_0 + ... + D_(i−1)` (the `decaySteps` of the cycles before it) and sees
 * the count from its own start:
 *
 * ```text
 * value(t) = cycle_i(t − (D_0 + ... + D_(i−1)))     while t < D_0 + ... + D_i
 * ```
 *
 * After the last cycle its final value (`endValue`) holds. Each cycle is
 * validated as {@link warmupCosineDecaySchedule} validates its options; an
 * error names the cycle (`cosineKwargs[1].decaySteps`). The option keeps
 * Optax's argument name.
 *
 * @category Schedules
 * @example
 * ```ts
 * import { sgdrSchedule } from '@tfopt/schedules';
 * const cycle = { initValue: 0, peakValue: 0.1, warmupSteps: 10, decaySteps: 100 };
 * const lr = sgdrSchedule({ cosineKwargs: [cycle, cycle, { ...cycle, peakValue: 0.05 }] });
 * lr(10); // 0.1, the first peak
 * lr(100); // 0, the first restart
 * lr(110); // 0.1, the second peak
 * lr(210); // 0.05, the third peak
 * ```
 */
export function sgdrSchedule(options: SgdrScheduleOptions): Schedule & HasSpec {
  const owner = 'sgdrSchedule';
  checkOptionKeys(owner, options, ['cosineKwargs']);
  const { cosineKwargs } = options;
  if (!Array.isArray(cosineKwargs) || cosineKwargs.length === 0) {
    throw new InvalidOptionError(
      owner,
      'cosineKwargs',
      cosineKwargs,
      'a non-empty array of warmupCosineDecaySchedule options, one per cycle',
    );
  }
  const cycles = cosineKwargs.map((kwargs, i) => {
    try {
      return warmupCosineDecaySchedule(kwargs);
    } catch (e) {
      if (!(e instanceof InvalidOptionError)) throw e;
      const option =
        e.option === 'options' ? `cosineKwargs[${i}]` : `cosineKwargs[${i}].${e.option}`;
      throw new InvalidOptionError(owner, option, e.value, e.expected);
    }
  });
  const boundaries: number[] = [];
  let start = 0;
  for (const kwargs of cosineKwargs.slice(0, -1)) {
    start += kwargs.decaySteps;
    boundaries.push(start);
  }
  const joined = joinSchedules(cycles, boundaries);
  return withFunctionSpec(
    (count: number) => {
      checkCount(owner, count);
      return joined(count);
    },
    owner,
    [{ cosineKwargs: cosineKwargs.map((kwargs) => ({ ...kwargs })) }],
  );
}
