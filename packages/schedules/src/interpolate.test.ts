import { evaluateSchedule, InvalidOptionError, specOf } from '@tfopt/core';
import { describe, expect, it } from 'vitest';
import {
  cosineOnecycleSchedule,
  linearOnecycleSchedule,
  piecewiseInterpolateSchedule,
} from './index.js';

/**
 * An independent float64 reference written the way Optax computes it: every
 * piece's interpolation evaluated at once, selected by an indicator and summed,
 * plus the last value past the last boundary.
 */
function referenceInterpolate(
  type: 'linear' | 'cosine',
  init: number,
  boundariesAndScales: Record<number, number>,
): (t: number) => number {
  const entries = Object.entries(boundariesAndScales)
    .map(([b, s]) => [Number(b), s] as const)
    .sort((a, b) => a[0] - b[0]);
  const bounds = [0, ...entries.map(([b]) => b)];
  const values = [init];
  for (const [, s] of entries) values.push(values[values.length - 1]! * s);
  const interpolate = (start: number, end: number, pct: number) =>
    type === 'linear'
      ? (end - start) * pct + start
      : end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  return (t) => {
    let out = 0;
    for (let i = 0; i + 1 < bounds.length; i++) {
      const size = Math.max(bounds[i + 1]! - bounds[i]!, 1);
      const inside = bounds[i]! <= t && t < bounds[i + 1]! ? 1 : 0;
      out += inside * interpolate(values[i]!, values[i + 1]!, (t - bounds[i]!) / size);
    }
    return out + (bounds[bounds.length - 1]! <= t ? values[values.length - 1]! : 0);
  };
}

describe('piecewiseInterpolateSchedule', () => {
  it("reproduces Optax's docstring example (linear)", () => {
    // init 1, { 4: 0.1, 8: 0.01 }: the values are 1, 0.1, 0.001 (accumulated scales).
    // t = 2: half-way from 1 to 0.1 = 0.55; t = 6: half-way from 0.1 to 0.001 = 0.0505.
    const lr = piecewiseInterpolateSchedule({
      interpolateType: 'linear',
      initValue: 1,
      boundariesAndScales: { 4: 0.1, 8: 0.01 },
    });
    const expected = [1, 0.55, 0.1, 0.0505, 0.001, 0.001];
    [0, 2, 4, 6, 8, 10].forEach((t, i) => {
      expect(lr(t)).toBeCloseTo(expected[i]!, 12);
    });
    // t = 1: 1 + (0.1 − 1) · 1/4 = 0.775.
    expect(lr(1)).toBeCloseTo(0.775, 12);
  });

  it('interpolates along half a cosine', () => {
    // Same values. Half-way the cosine gives the mean: t = 2 → 0.55, t = 6 → 0.0505.
    // A quarter in, t = 1: 0.1 + (1 − 0.1)/2 · (1 + cos(pi/4)) = 0.1 + 0.45 · 1.7071068 = 0.8681981.
    const lr = piecewiseInterpolateSchedule({
      interpolateType: 'cosine',
      initValue: 1,
      boundariesAndScales: { 4: 0.1, 8: 0.01 },
    });
    expect(lr(0)).toBe(1);
    expect(lr(1)).toBeCloseTo(0.8681981, 7);
    expect(lr(2)).toBeCloseTo(0.55, 12);
    expect(lr(4)).toBeCloseTo(0.1, 12);
    expect(lr(6)).toBeCloseTo(0.0505, 12);
    expect(lr(8)).toBeCloseTo(0.001, 12);
    expect(lr(1e6)).toBeCloseTo(0.001, 12);
  });

  it('is constant without boundaries, and scales from the start at a boundary 0', () => {
    const flat = piecewiseInterpolateSchedule({ interpolateType: 'linear', initValue: 0.3 });
    expect(flat(0)).toBe(0.3);
    expect(flat(50)).toBe(0.3);
    // { 0: 2, 10: 0.5 }: the empty piece [0, 0) is skipped; from 0.6 at t = 0 down to 0.3 at 10.
    const lr = piecewiseInterpolateSchedule({
      interpolateType: 'linear',
      initValue: 0.3,
      boundariesAndScales: { 0: 2, 10: 0.5 },
    });
    expect(lr(0)).toBeCloseTo(0.6, 12);
    expect(lr(5)).toBeCloseTo(0.45, 12);
    expect(lr(10)).toBeCloseTo(0.3, 12);
  });

  it('matches the float64 reference at every count, boundaries in any key order', () => {
    const scales = { 50: 3, 7: 0.5, 20: 0, 33: 1.5, 31: 4 };
    for (const type of ['linear', 'cosine'] as const) {
      const ours = piecewiseInterpolateSchedule({
        interpolateType: type,
        initValue: 0.2,
        boundariesAndScales: scales,
      });
      const ref = referenceInterpolate(type, 0.2, scales);
      for (let t = 0; t <= 60; t++) expect(ours(t), `${type} t = ${t}`).toBeCloseTo(ref(t), 12);
      for (const t of [6.5, 31.25]) expect(ours(t), `${type} t = ${t}`).toBeCloseTo(ref(t), 12);
    }
  });

  it('records its options and rejects bad ones, naming them', () => {
    const options = {
      interpolateType: 'cosine' as const,
      initValue: 1,
      boundariesAndScales: { 10: 0.1 },
    };
    const lr = piecewiseInterpolateSchedule(options);
    expect(specOf(lr)).toEqual({ name: 'piecewiseInterpolateSchedule', args: [options] });
    expect(evaluateSchedule(lr, 5)).toBeCloseTo(0.55, 12);
    const bad = (o: unknown, message: RegExp) => {
      expect(() => piecewiseInterpolateSchedule(o as never)).toThrow(InvalidOptionError);
      expect(() => piecewiseInterpolateSchedule(o as never)).toThrow(message);
    };
    bad(
      { ...options, interpolateType: 'cubic' },
      /piecewiseInterpolateSchedule: option "interpolateType" must be one of "linear", "cosine", got "cubic"/,
    );
    bad(
      { ...options, boundariesAndScales: { 10: -1 } },
      /option "boundariesAndScales\[10\]" must be a finite number >= 0, got -1/,
    );
    bad(
      { ...options, boundariesAndScales: { '-5': 2 } },
      /option "boundariesAndScales\["-5"\]" must be keyed by an integer update count >= 0/,
    );
    bad({ ...options, initValue: Number.NaN }, /option "initValue" must be a finite number/);
    bad({ ...options, interpolate_type: 'linear' }, /option "interpolate_type" must be absent/);
    expect(() => lr(-1)).toThrow(
      /piecewiseInterpolateSchedule: count must be a finite number >= 0/,
    );
  });
});

describe('linearOnecycleSchedule', () => {
  // T = 100, peak 1, Optax's defaults: I = 1/25 = 0.04; boundaries ⌊0.3·100⌋ = 30,
  // ⌊0.85·100⌋ = 85 and 100; values 0.04 → 1 → 0.04 → 0.04/1e4 = 4e-6.
  const lr = linearOnecycleSchedule({ transitionSteps: 100, peakValue: 1 });

  it('rises, falls and anneals linearly, hand-derived', () => {
    expect(lr(0)).toBeCloseTo(0.04, 12);
    expect(lr(15)).toBeCloseTo(0.52, 12); // half-way up: (0.04 + 1) / 2
    expect(lr(30)).toBeCloseTo(1, 12);
    expect(lr(57)).toBeCloseTo(1 + (0.04 - 1) * (27 / 55), 12); // 0.5287273
    expect(lr(85)).toBeCloseTo(0.04, 12);
    expect(lr(92)).toBeCloseTo(0.04 + (4e-6 - 0.04) * (7 / 15), 12); // 0.0213354
    expect(lr(100)).toBeCloseTo(4e-6, 15);
    expect(lr(1000)).toBeCloseTo(4e-6, 15);
  });

  it("matches Optax's construction over the whole horizon", () => {
    const options = {
      transitionSteps: 37,
      peakValue: 0.3,
      pctStart: 0.25,
      pctFinal: 0.7,
      divFactor: 10,
      finalDivFactor: 100,
    };
    // Boundaries ⌊0.25·37⌋ = 9, ⌊0.7·37⌋ = 25, 37; from 0.03.
    const ref = referenceInterpolate('linear', 0.03, { 9: 10, 25: 0.1, 37: 0.01 });
    const ours = linearOnecycleSchedule(options);
    for (let t = 0; t <= 45; t++) expect(ours(t), `t = ${t}`).toBeCloseTo(ref(t), 12);
    expect(specOf(ours)).toEqual({ name: 'linearOnecycleSchedule', args: [options] });
  });

  it('lets a later boundary replace an earlier one that coincides, as Optax’s dict does', () => {
    // pctFinal = 1: ⌊1·10⌋ = 10 = T, so { 3: 25, 10: 1/25 } becomes { 3: 25, 10: 1e-4 }:
    // from 0.04 up to 1 at t = 3, then straight down to 1e-4 at t = 10.
    const s = linearOnecycleSchedule({ transitionSteps: 10, peakValue: 1, pctFinal: 1 });
    expect(s(3)).toBeCloseTo(1, 12);
    expect(s(10)).toBeCloseTo(1e-4, 12);
    expect(s(7)).toBeCloseTo(referenceInterpolate('linear', 0.04, { 3: 25, 10: 1e-4 })(7), 12);
  });

  it('rejects bad options, naming them', () => {
    const base = { transitionSteps: 100, peakValue: 1 };
    expect(() => linearOnecycleSchedule({ ...base, transitionSteps: 0 })).toThrow(
      'linearOnecycleSchedule: option "transitionSteps" must be an integer >= 1, got 0',
    );
    expect(() => linearOnecycleSchedule({ ...base, pctStart: 1.2 })).toThrow(
      'option "pctStart" must be a number in [0, 1], got 1.2',
    );
    expect(() => linearOnecycleSchedule({ ...base, pctStart: 0.5, pctFinal: 0.4 })).toThrow(
      'option "pctFinal" must be a number in [pctStart, 1] = [0.5, 1]',
    );
    expect(() => linearOnecycleSchedule({ ...base, divFactor: 0 })).toThrow('"divFactor"');
    expect(() => linearOnecycleSchedule({ ...base, finalDivFactor: -1 })).toThrow(
      '"finalDivFactor"',
    );
    expect(() => linearOnecycleSchedule({ transitionSteps: 100 } as never)).toThrow(
      'option "peakValue" must be a finite number, got undefined',
    );
  });
});

describe('cosineOnecycleSchedule', () => {
  // T = 100, peak 1: I = 0.04, boundaries 30 and 100, values 0.04 → 1 → 1/(25·1e4) = 4e-6.
  const lr = cosineOnecycleSchedule({ transitionSteps: 100, peakValue: 1 });

  it('rises and anneals along half cosines, hand-derived', () => {
    expect(lr(0)).toBeCloseTo(0.04, 12);
    expect(lr(15)).toBeCloseTo(0.52, 12); // half-way up
    expect(lr(30)).toBeCloseTo(1, 12);
    expect(lr(65)).toBeCloseTo(0.500002, 12); // half-way down: (1 + 4e-6) / 2
    // A quarter of the way down, t = 47.5 → at t = 47 the fraction is 17/70:
    //   4e-6 + (1 − 4e-6)/2 · (1 + cos(pi · 17/70)).
    expect(lr(47)).toBeCloseTo(4e-6 + ((1 - 4e-6) / 2) * (1 + Math.cos((Math.PI * 17) / 70)), 12);
    expect(lr(100)).toBeCloseTo(4e-6, 15);
    expect(lr(5000)).toBeCloseTo(4e-6, 15);
  });

  it("matches Optax's construction over the whole horizon", () => {
    const options = {
      transitionSteps: 53,
      peakValue: 2,
      pctStart: 0.4,
      divFactor: 8,
      finalDivFactor: 50,
    };
    // ⌊0.4·53⌋ = 21; from 0.25, scales { 21: 8, 53: 1/400 }.
    const ref = referenceInterpolate('cosine', 0.25, { 21: 8, 53: 1 / 400 });
    const ours = cosineOnecycleSchedule(options);
    for (let t = 0; t <= 60; t++) expect(ours(t), `t = ${t}`).toBeCloseTo(ref(t), 12);
    expect(specOf(ours)).toEqual({ name: 'cosineOnecycleSchedule', args: [options] });
  });

  it('rejects bad options, naming them', () => {
    const base = { transitionSteps: 100, peakValue: 1 };
    expect(() => cosineOnecycleSchedule({ ...base, transitionSteps: 2.5 })).toThrow(
      'cosineOnecycleSchedule: option "transitionSteps" must be an integer >= 1, got 2.5',
    );
    expect(() => cosineOnecycleSchedule({ ...base, pctStart: -0.1 })).toThrow('"pctStart"');
    expect(() => cosineOnecycleSchedule({ ...base, divFactor: Number.NaN })).toThrow('"divFactor"');
    // pctFinal belongs to the linear schedule only.
    expect(() => cosineOnecycleSchedule({ ...base, pctFinal: 0.9 } as never)).toThrow(
      'option "pctFinal" must be absent',
    );
  });
});
