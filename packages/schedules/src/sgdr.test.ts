import { InvalidOptionError, specOf } from '@tfopt/core';
import { describe, expect, it } from 'vitest';
import { sgdrSchedule } from './index.js';

/** A float64 reference of one warmup-cosine cycle, written from its formula. */
function cycle(init: number, peak: number, w: number, d: number, end = 0) {
  return (t: number) => {
    if (t < w) return init + ((peak - init) * t) / w;
    const s = Math.min(t - w, d - w);
    return end + (peak - end) * 0.5 * (1 + Math.cos((Math.PI * s) / (d - w)));
  };
}

describe('sgdrSchedule', () => {
  // Cycle 1: 0 → 1 over 2 updates, cosine to 0 by 10 (8 updates). Cycle 2 from t = 10:
  // no warmup, 0.5 → 0.1 over 5 updates, held after t = 15.
  const lr = sgdrSchedule({
    cosineKwargs: [
      { initValue: 0, peakValue: 1, warmupSteps: 2, decaySteps: 10 },
      { initValue: 0, peakValue: 0.5, warmupSteps: 0, decaySteps: 5, endValue: 0.1 },
    ],
  });

  it('runs the cycles one after another, hand-derived at boundaries and midpoints', () => {
    expect(lr(0)).toBe(0);
    expect(lr(1)).toBeCloseTo(0.5, 12); // half-way up
    expect(lr(2)).toBeCloseTo(1, 12); // the first peak
    expect(lr(6)).toBeCloseTo(0.5, 12); // half-way down the first cosine (4 of 8)
    expect(lr(9)).toBeCloseTo(0.5 * (1 + Math.cos((Math.PI * 7) / 8)), 12); // 0.0380602
    expect(lr(10)).toBeCloseTo(0.5, 12); // the restart, at the second peak
    // Half-way down the second cosine, t = 12.5; at t = 12 (2 of 5):
    //   0.1 + 0.4 · (1 + cos(2pi/5)) / 2 = 0.1 + 0.4 · 0.6545085 = 0.3618034.
    expect(lr(12)).toBeCloseTo(0.3618034, 7);
    expect(lr(15)).toBeCloseTo(0.1, 12);
    expect(lr(1000)).toBeCloseTo(0.1, 12);
  });

  it('matches a float64 reference over the whole horizon', () => {
    const kwargs = [
      { initValue: 0.01, peakValue: 0.3, warmupSteps: 5, decaySteps: 20, endValue: 0.02 },
      { initValue: 0.02, peakValue: 0.2, warmupSteps: 3, decaySteps: 15, endValue: 0.01 },
      { initValue: 0, peakValue: 0.1, warmupSteps: 0, decaySteps: 12 },
    ];
    const ours = sgdrSchedule({ cosineKwargs: kwargs });
    const refs = kwargs.map((k) =>
      cycle(k.initValue, k.peakValue, k.warmupSteps, k.decaySteps, k.endValue),
    );
    const ref = (t: number) =>
      t < 20 ? refs[0]!(t) : t < 35 ? refs[1]!(t - 20) : refs[2]!(t - 35);
    for (let t = 0; t <= 60; t++) expect(ours(t), `t = ${t}`).toBeCloseTo(ref(t), 12);
  });

  it('with one cycle is that cycle', () => {
    const only = { initValue: 0, peakValue: 1, warmupSteps: 4, decaySteps: 14, endValue: 0.1 };
    const lr1 = sgdrSchedule({ cosineKwargs: [only] });
    const ref = cycle(0, 1, 4, 14, 0.1);
    for (let t = 0; t <= 20; t++) expect(lr1(t)).toBeCloseTo(ref(t), 12);
  });

  it('records its options and rejects bad ones, naming the cycle', () => {
    const kwargs = [{ initValue: 0, peakValue: 1, warmupSteps: 0, decaySteps: 10 }];
    expect(specOf(sgdrSchedule({ cosineKwargs: kwargs }))).toEqual({
      name: 'sgdrSchedule',
      args: [{ cosineKwargs: kwargs }],
    });
    const bad = (o: unknown, message: RegExp) => {
      expect(() => sgdrSchedule(o as never)).toThrow(InvalidOptionError);
      expect(() => sgdrSchedule(o as never)).toThrow(message);
    };
    bad({ cosineKwargs: [] }, /sgdrSchedule: option "cosineKwargs" must be a non-empty array/);
    bad({ cosineKwargs: 'x' }, /sgdrSchedule: option "cosineKwargs"/);
    bad(
      { cosineKwargs: [...kwargs, { ...kwargs[0], warmupSteps: 10 }] },
      /sgdrSchedule: option "cosineKwargs\[1\]\.decaySteps" must be an integer > warmupSteps \(10\)/,
    );
    bad(
      { cosineKwargs: [{ ...kwargs[0], peakValue: Number.NaN }] },
      /option "cosineKwargs\[0\]\.peakValue" must be a finite number, got NaN/,
    );
    bad(
      { cosineKwargs: [{ ...kwargs[0], decay_steps: 3 }] },
      /option "cosineKwargs\[0\]\.decay_steps" must be absent/,
    );
    bad({ cosineKwargs: [5] }, /option "cosineKwargs\[0\]" must be an object/);
    bad({ cycles: kwargs }, /option "cycles" must be absent/);
  });
});
