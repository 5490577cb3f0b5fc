import { InvalidOptionError, specOf } from '@tfopt/core';
import { describe, expect, it } from 'vitest';
import { warmupExponentialDecaySchedule } from './index.js';

/** A float64 reference written from Optax's definition: a linear warmup joined to exponential decay. */
function reference(o: {
  initValue: number;
  peakValue: number;
  warmupSteps: number;
  transitionSteps: number;
  decayRate: number;
  transitionBegin?: number;
  staircase?: boolean;
  endValue?: number;
}): (t: number) => number {
  const begin = o.transitionBegin ?? 0;
  return (t) => {
    if (t < o.warmupSteps) return o.initValue + ((o.peakValue - o.initValue) * t) / o.warmupSteps;
    const s = t - o.warmupSteps - begin;
    let p = s / o.transitionSteps;
    if (o.staircase) p = Math.floor(p);
    let v = s <= 0 ? o.peakValue : o.peakValue * o.decayRate ** p;
    if (o.endValue !== undefined)
      v = o.decayRate < 1 ? Math.max(v, o.endValue) : Math.min(v, o.endValue);
    return v;
  };
}

describe('warmupExponentialDecaySchedule', () => {
  // W = 4, from 0 to 1, then halving every 2 updates.
  const lr = warmupExponentialDecaySchedule({
    initValue: 0,
    peakValue: 1,
    warmupSteps: 4,
    transitionSteps: 2,
    decayRate: 0.5,
  });

  it('warms up linearly, then decays exponentially from the peak, hand-derived', () => {
    expect(lr(0)).toBe(0);
    expect(lr(2)).toBeCloseTo(0.5, 12); // half-way up
    expect(lr(4)).toBeCloseTo(1, 12); // the peak
    expect(lr(5)).toBeCloseTo(Math.SQRT1_2, 12); // 0.5^(1/2)
    expect(lr(6)).toBeCloseTo(0.5, 12);
    expect(lr(8)).toBeCloseTo(0.25, 12);
    expect(lr(24)).toBeCloseTo(2 ** -10, 15);
  });

  it('holds the peak for transitionBegin, steps with staircase and stops at endValue', () => {
    // transitionBegin 3: the peak holds through t = 7; staircase: halves at t = 9, 11, ...;
    // endValue 0.2 floors 0.125 (t = 13) at 0.2.
    const s = warmupExponentialDecaySchedule({
      initValue: 0.1,
      peakValue: 1,
      warmupSteps: 4,
      transitionSteps: 2,
      decayRate: 0.5,
      transitionBegin: 3,
      staircase: true,
      endValue: 0.2,
    });
    expect(s(1)).toBeCloseTo(0.325, 12); // 0.1 + 0.9 / 4
    expect(s(7)).toBeCloseTo(1, 12);
    expect(s(8)).toBeCloseTo(1, 12); // floor(1 / 2) = 0
    expect(s(9)).toBeCloseTo(0.5, 12);
    expect(s(11)).toBeCloseTo(0.25, 12);
    expect(s(13)).toBeCloseTo(0.2, 12);
    expect(s(100)).toBeCloseTo(0.2, 12);
  });

  it('starts at the peak without warmup, and grows to a ceiling when decayRate > 1', () => {
    const s = warmupExponentialDecaySchedule({
      initValue: 5,
      peakValue: 1,
      warmupSteps: 0,
      transitionSteps: 1,
      decayRate: 2,
      endValue: 6,
    });
    expect(s(0)).toBe(1);
    expect(s(2)).toBeCloseTo(4, 12);
    expect(s(3)).toBeCloseTo(6, 12); // 8 capped at 6
  });

  it('matches the float64 reference over the whole horizon', () => {
    const cases = [
      { initValue: 0.01, peakValue: 0.3, warmupSteps: 7, transitionSteps: 5, decayRate: 0.8 },
      {
        initValue: 0,
        peakValue: 2,
        warmupSteps: 3,
        transitionSteps: 4,
        decayRate: 0.3,
        transitionBegin: 6,
        staircase: true,
        endValue: 0.05,
      },
    ];
    for (const options of cases) {
      const ours = warmupExponentialDecaySchedule(options);
      const ref = reference(options);
      for (let t = 0; t <= 80; t++) expect(ours(t), `t = ${t}`).toBeCloseTo(ref(t), 12);
      expect(specOf(ours)).toEqual({ name: 'warmupExponentialDecaySchedule', args: [options] });
    }
  });

  it('rejects bad options, naming them', () => {
    const base = { initValue: 0, peakValue: 1, warmupSteps: 4, transitionSteps: 2, decayRate: 0.5 };
    const bad = (o: unknown, message: string | RegExp) => {
      expect(() => warmupExponentialDecaySchedule(o as never)).toThrow(InvalidOptionError);
      expect(() => warmupExponentialDecaySchedule(o as never)).toThrow(message);
    };
    bad(
      { ...base, decayRate: 0 },
      'warmupExponentialDecaySchedule: option "decayRate" must be a finite number > 0, got 0',
    );
    bad({ ...base, warmupSteps: -1 }, 'option "warmupSteps" must be an integer >= 0, got -1');
    bad({ ...base, transitionBegin: 1.5 }, '"transitionBegin"');
    bad({ ...base, staircase: 1 }, 'option "staircase" must be true or false, got 1');
    bad({ ...base, endValue: Number.POSITIVE_INFINITY }, '"endValue"');
    bad(
      { ...base, peakValue: undefined },
      'option "peakValue" must be a finite number, got undefined',
    );
    bad({ ...base, decay_rate: 0.5 }, 'option "decay_rate" must be absent');
    expect(() => lr(Number.NaN)).toThrow(
      /warmupExponentialDecaySchedule: count must be a finite number/,
    );
  });
});
