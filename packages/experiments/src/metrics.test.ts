import { describe, expect, it } from 'vitest';
import { median, recoverySteps, stats } from './metrics.js';

describe('recoverySteps', () => {
  // Shift at step 100 from a pre-shift accuracy of 0.9: target 0.81.
  const series = [
    { step: 90, accuracy: 0.95 }, // before the shift: ignored
    { step: 100, accuracy: 0.3 },
    { step: 110, accuracy: 0.6 },
    { step: 120, accuracy: 0.8 },
    { step: 130, accuracy: 0.82 },
    { step: 140, accuracy: 0.7 },
    { step: 150, accuracy: 0.9 },
  ];

  it('counts steps from the shift to the first evaluation at the target', () => {
    expect(recoverySteps(series, 100, 0.9)).toBe(30);
  });

  it('uses the requested fraction', () => {
    expect(recoverySteps(series, 100, 0.9, { fraction: 0.5 })).toBe(10);
    expect(recoverySteps(series, 100, 1.0, { fraction: 0.9 })).toBe(50);
  });

  it('is 0 when the shift does not hurt', () => {
    expect(recoverySteps(series, 100, 0.3)).toBe(0);
  });

  it('is null when the target is not met before the window ends', () => {
    expect(recoverySteps(series, 100, 0.9, { endStep: 125 })).toBeNull();
    expect(recoverySteps(series, 100, 1.2)).toBeNull();
  });
});

describe('stats', () => {
  it('gives the mean, sample std and range of the finite values', () => {
    const s = stats([1, 2, 3, 4, Number.NaN]);
    expect(s.n).toBe(4);
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect([s.min, s.max]).toEqual([1, 4]);
    expect(stats([7]).std).toBe(0);
    expect(stats([]).n).toBe(0);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});
