import { InvalidOptionError, type Schedule, specOf } from '@tfopt/core';
import { describe, expect, it } from 'vitest';
import {
  constantSchedule,
  cosineDecaySchedule,
  joinSchedules,
  linearSchedule,
  warmupCosineDecaySchedule,
} from './index.js';

describe('joinSchedules', () => {
  // 1 until 5, then 0 -> 1 over 10 updates (seen from its own start), then 3 from 15.
  const ramp = linearSchedule({ initValue: 0, endValue: 1, transitionSteps: 10 });
  const lr = joinSchedules([constantSchedule(1), ramp, constantSchedule(3)], [5, 15]);

  it('runs each schedule on the count relative to its boundary', () => {
    expect(lr(0)).toBe(1);
    expect(lr(4)).toBe(1);
    expect(lr(5)).toBe(0); // ramp(0)
    expect(lr(10)).toBeCloseTo(0.5, 12); // ramp(5)
    expect(lr(14)).toBeCloseTo(0.9, 12); // ramp(9)
    expect(lr(15)).toBe(3);
    expect(lr(1000)).toBe(3);
  });

  it('passes count - boundary to the active schedule', () => {
    const seen: number[] = [];
    const spy: Schedule = (t) => {
      seen.push(t);
      return 0;
    };
    const s = joinSchedules([constantSchedule(1), spy], [7]);
    s(7);
    s(9);
    s(3);
    expect(seen).toEqual([0, 2]);
  });

  it('skips a schedule whose interval is empty and allows a boundary at 0', () => {
    const s = joinSchedules(
      [constantSchedule(1), constantSchedule(2), constantSchedule(3)],
      [5, 5],
    );
    expect(s(4)).toBe(1);
    expect(s(5)).toBe(3);
    const z = joinSchedules([constantSchedule(1), constantSchedule(2)], [0]);
    expect(z(0)).toBe(2);
  });

  it('a single schedule needs no boundary', () => {
    expect(joinSchedules([constantSchedule(4)], [])(10)).toBe(4);
  });

  it('a warmup joined to a cosine decay equals warmupCosineDecaySchedule', () => {
    // alpha = end / peak = 0.05 / 0.5
    const joined = joinSchedules(
      [
        linearSchedule({ initValue: 0.1, endValue: 0.5, transitionSteps: 6 }),
        cosineDecaySchedule({ initValue: 0.5, decaySteps: 14, alpha: 0.1 }),
      ],
      [6],
    );
    const direct = warmupCosineDecaySchedule({
      initValue: 0.1,
      peakValue: 0.5,
      warmupSteps: 6,
      decaySteps: 20,
      endValue: 0.05,
    });
    for (let t = 0; t <= 25; t++) expect(joined(t)).toBeCloseTo(direct(t), 12);
  });

  it('records the schedules and boundaries, whose own specs survive', () => {
    const a = constantSchedule(1);
    const b = constantSchedule(2);
    const spec = specOf(joinSchedules([a, b], [3]));
    expect(spec?.name).toBe('joinSchedules');
    expect(spec?.args).toEqual([[a, b], [3]]);
    const first = (spec!.args[0] as unknown[])[0];
    expect(specOf(first)).toEqual({ name: 'constantSchedule', args: [1] });
  });

  it('rejects bad schedules and boundaries, naming them', () => {
    const c = constantSchedule(1);
    expect(() => joinSchedules([], [])).toThrow(
      'joinSchedules: option "schedules" must be a non-empty array of schedules, got an array',
    );
    expect(() => joinSchedules([c, 0.1 as never], [3])).toThrow(
      'option "schedules[1]" must be a schedule (a function of the count), got 0.1',
    );
    expect(() => joinSchedules([c, c], [])).toThrow(
      'option "boundaries" must be an array of 1 boundaries, one fewer than the 2 schedules (it has 0)',
    );
    expect(() => joinSchedules([c, c, c], [5, 3])).toThrow(
      'option "boundaries[1]" must be an integer >= boundaries[0] (5); boundaries must not decrease, got 3',
    );
    expect(() => joinSchedules([c, c], [-1])).toThrow(InvalidOptionError);
    expect(() => joinSchedules([c, c], [2.5])).toThrow('"boundaries[0]" must be an integer >= 0');
  });
});
