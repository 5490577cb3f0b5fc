import { evaluateSchedule, InvalidOptionError, specOf } from '@tfopt/core';
import { describe, expect, it } from 'vitest';
import { cosineDecaySchedule, warmupCosineDecaySchedule } from './index.js';

describe('cosineDecaySchedule', () => {
  it('decays from initValue to 0 along half a cosine', () => {
    const lr = cosineDecaySchedule({ initValue: 2, decaySteps: 4 });
    expect(lr(0)).toBe(2); // cos(0) = 1: factor 1
    // t = 1: (1 + cos(pi/4)) / 2 = (1 + 0.70710678) / 2 = 0.85355339 -> 1.70710678
    expect(lr(1)).toBeCloseTo(1.70710678, 7);
    // t = 2, half-way: (1 + cos(pi/2)) / 2 = 0.5 -> 1
    expect(lr(2)).toBeCloseTo(1, 12);
    // t = 3: (1 - 0.70710678) / 2 = 0.14644661 -> 0.29289322
    expect(lr(3)).toBeCloseTo(0.29289322, 7);
    expect(lr(4)).toBe(0);
  });

  it('holds the final value past decaySteps', () => {
    const lr = cosineDecaySchedule({ initValue: 1, decaySteps: 10, alpha: 0.1 });
    expect(lr(10)).toBeCloseTo(0.1, 12);
    expect(lr(15)).toBeCloseTo(0.1, 12);
    expect(lr(1e7)).toBeCloseTo(0.1, 12);
  });

  it('with alpha, reaches init * (1 + alpha) / 2 half-way', () => {
    // 1 * ((1 - 0.1) * 0.5 + 0.1) = 0.55 = (1 + 0.1) / 2
    const lr = cosineDecaySchedule({ initValue: 1, decaySteps: 10, alpha: 0.1 });
    expect(lr(0)).toBeCloseTo(1, 12);
    expect(lr(5)).toBeCloseTo(0.55, 12);
  });

  it('raises the cosine factor to the exponent', () => {
    // Half-way the factor is 0.5; squared 0.25; with alpha 0.2: 0.8 * 0.25 + 0.2 = 0.4.
    const lr = cosineDecaySchedule({ initValue: 3, decaySteps: 10, alpha: 0.2, exponent: 2 });
    expect(lr(5)).toBeCloseTo(3 * 0.4, 12);
  });

  it('works with evaluateSchedule and records its options', () => {
    const options = { initValue: 0.1, decaySteps: 100, alpha: 0 };
    const lr = cosineDecaySchedule(options);
    expect(evaluateSchedule(lr, 50)).toBeCloseTo(0.05, 12);
    expect(specOf(lr)).toEqual({ name: 'cosineDecaySchedule', args: [options] });
  });

  it('rejects bad options, naming them', () => {
    const base = { initValue: 1, decaySteps: 10 };
    expect(() => cosineDecaySchedule({ ...base, decaySteps: 0 })).toThrow(
      'cosineDecaySchedule: option "decaySteps" must be an integer >= 1, got 0',
    );
    expect(() => cosineDecaySchedule({ ...base, alpha: 1.5 })).toThrow(
      'option "alpha" must be a number in [0, 1], got 1.5',
    );
    expect(() => cosineDecaySchedule({ ...base, alpha: -0.1 })).toThrow('"alpha"');
    expect(() => cosineDecaySchedule({ ...base, exponent: 0 })).toThrow('"exponent"');
    expect(() => cosineDecaySchedule({ ...base, initValue: Number.NaN })).toThrow(
      InvalidOptionError,
    );
    expect(() => cosineDecaySchedule({ ...base, decay_steps: 3 } as never)).toThrow(
      '"decay_steps"',
    );
  });
});

/**
 * An independent reference written the way Optax composes it: a linear warmup
 * joined at W to a cosine decay of `peak` with alpha = end / peak.
 */
function referenceWarmupCosine(
  init: number,
  peak: number,
  w: number,
  d: number,
  end: number,
  p: number,
): (t: number) => number {
  const alpha = end / peak;
  return (t) => {
    if (t < w) return init + (peak - init) * (t / w);
    const s = Math.min(t - w, d - w);
    const c = 0.5 * (1 + Math.cos((Math.PI * s) / (d - w)));
    return peak * ((1 - alpha) * c ** p + alpha);
  };
}

describe('warmupCosineDecaySchedule', () => {
  // W = 4, D = 14 (the cosine part lasts 10), peak 1, end 0.1.
  const lr = warmupCosineDecaySchedule({
    initValue: 0,
    peakValue: 1,
    warmupSteps: 4,
    decaySteps: 14,
    endValue: 0.1,
  });

  it('warms up linearly to the peak', () => {
    expect(lr(0)).toBe(0);
    expect(lr(1)).toBeCloseTo(0.25, 12);
    expect(lr(2)).toBeCloseTo(0.5, 12);
    expect(lr(3)).toBeCloseTo(0.75, 12);
    expect(lr(4)).toBeCloseTo(1, 12); // the cosine starts at factor 1
  });

  it('decays to endValue, counting decaySteps from the first update', () => {
    // t = 9 is half-way through the cosine: 0.1 + (1 - 0.1) * 0.5 = 0.55.
    expect(lr(9)).toBeCloseTo(0.55, 12);
    expect(lr(14)).toBeCloseTo(0.1, 12);
    expect(lr(100)).toBeCloseTo(0.1, 12);
  });

  it('matches an independent reference at every count', () => {
    const options = {
      initValue: 0.01,
      peakValue: 0.3,
      warmupSteps: 7,
      decaySteps: 30,
      endValue: 0.02,
      exponent: 1.5,
    };
    const ours = warmupCosineDecaySchedule(options);
    const ref = referenceWarmupCosine(0.01, 0.3, 7, 30, 0.02, 1.5);
    for (let t = 0; t <= 40; t++) expect(ours(t)).toBeCloseTo(ref(t), 12);
  });

  it('with no warmup starts at the peak', () => {
    const s = warmupCosineDecaySchedule({
      initValue: 0,
      peakValue: 2,
      warmupSteps: 0,
      decaySteps: 10,
    });
    expect(s(0)).toBe(2);
    expect(s(5)).toBeCloseTo(1, 12); // (2 + 0) / 2
    expect(s(10)).toBe(0);
  });

  it('with peakValue 0 still reaches endValue', () => {
    // Interpolates between peak and end directly: 0.1 + (0 - 0.1) * 0.5 = 0.05 half-way.
    const s = warmupCosineDecaySchedule({
      initValue: 0,
      peakValue: 0,
      warmupSteps: 0,
      decaySteps: 10,
      endValue: 0.1,
    });
    expect(s(0)).toBe(0);
    expect(s(5)).toBeCloseTo(0.05, 12);
    expect(s(10)).toBeCloseTo(0.1, 12);
  });

  it('records its options as a spec', () => {
    expect(specOf(lr)).toEqual({
      name: 'warmupCosineDecaySchedule',
      args: [{ initValue: 0, peakValue: 1, warmupSteps: 4, decaySteps: 14, endValue: 0.1 }],
    });
  });

  it('rejects decaySteps that do not exceed warmupSteps, and other bad options', () => {
    const base = { initValue: 0, peakValue: 1, warmupSteps: 4, decaySteps: 14 };
    expect(() => warmupCosineDecaySchedule({ ...base, decaySteps: 4 })).toThrow(
      'warmupCosineDecaySchedule: option "decaySteps" must be an integer > warmupSteps (4)',
    );
    expect(() => warmupCosineDecaySchedule({ ...base, warmupSteps: -1 })).toThrow('"warmupSteps"');
    expect(() => warmupCosineDecaySchedule({ ...base, endValue: Number.NaN })).toThrow(
      '"endValue"',
    );
    expect(() => warmupCosineDecaySchedule({ ...base, exponent: -1 })).toThrow('"exponent"');
    expect(() => warmupCosineDecaySchedule({ ...base, peakValue: undefined } as never)).toThrow(
      'option "peakValue" must be a finite number, got undefined',
    );
  });
});
