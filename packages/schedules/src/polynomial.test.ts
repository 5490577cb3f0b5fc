import { InvalidOptionError, specOf, TfoptError } from '@tfopt/core';
import { describe, expect, it } from 'vitest';
import {
  constantSchedule,
  linearSchedule,
  polynomialSchedule,
  warmupConstantSchedule,
} from './index.js';

describe('constantSchedule', () => {
  it('returns the value at every count', () => {
    const lr = constantSchedule(0.01);
    for (const t of [0, 1, 7, 1e6]) expect(lr(t)).toBe(0.01);
  });

  it('records its argument as a spec', () => {
    expect(specOf(constantSchedule(-2))).toEqual({ name: 'constantSchedule', args: [-2] });
  });

  it('rejects a value that is not a finite number', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '0.1', undefined]) {
      expect(() => constantSchedule(bad as number)).toThrow(InvalidOptionError);
    }
    expect(() => constantSchedule(Number.NaN)).toThrow(
      'constantSchedule: option "value" must be a finite number, got NaN',
    );
  });

  it('rejects a negative or non-finite count', () => {
    const lr = constantSchedule(1);
    expect(() => lr(-1)).toThrow(TfoptError);
    expect(() => lr(-1)).toThrow('constantSchedule: count must be a finite number >= 0, got -1');
    expect(() => lr(Number.NaN)).toThrow('got NaN');
  });
});

describe('linearSchedule', () => {
  // I = 2, E = 0, T = 4, B = 2: value(t) = 2 - 2 * clip((t - 2) / 4, 0, 1).
  const lr = linearSchedule({ initValue: 2, endValue: 0, transitionSteps: 4, transitionBegin: 2 });

  it('holds initValue until transitionBegin', () => {
    expect(lr(0)).toBe(2);
    expect(lr(1)).toBe(2);
    expect(lr(2)).toBe(2);
  });

  it('moves in a straight line during the transition', () => {
    expect(lr(3)).toBeCloseTo(1.5, 12); // 2 - 2 * 1/4
    expect(lr(4)).toBeCloseTo(1.0, 12); // 2 - 2 * 2/4
    expect(lr(5)).toBeCloseTo(0.5, 12); // 2 - 2 * 3/4
    expect(lr(4.5)).toBeCloseTo(0.75, 12); // fractional counts interpolate too
  });

  it('holds endValue from transitionBegin + transitionSteps on', () => {
    expect(lr(6)).toBe(0);
    expect(lr(7)).toBe(0);
    expect(lr(1e9)).toBe(0);
  });

  it('can increase (a warmup)', () => {
    const up = linearSchedule({ initValue: 0, endValue: 1e-3, transitionSteps: 100 });
    expect(up(0)).toBe(0);
    expect(up(50)).toBeCloseTo(5e-4, 15); // 1e-3 * 50/100
    expect(up(100)).toBeCloseTo(1e-3, 15);
  });

  it('with transitionSteps 0 holds initValue for ever', () => {
    const flat = linearSchedule({ initValue: 3, endValue: 1, transitionSteps: 0 });
    for (const t of [0, 1, 100]) expect(flat(t)).toBe(3);
  });

  it('records its options as a spec', () => {
    const options = { initValue: 1, endValue: 0, transitionSteps: 10 };
    const s = linearSchedule(options);
    expect(specOf(s)).toEqual({ name: 'linearSchedule', args: [options] });
    expect(specOf(s)?.args[0]).not.toBe(options); // a copy: later edits to options do not leak in
  });

  it('rejects bad options, naming them', () => {
    const base = { initValue: 1, endValue: 0, transitionSteps: 10 };
    expect(() => linearSchedule({ ...base, transitionSteps: -1 })).toThrow(
      'linearSchedule: option "transitionSteps" must be an integer >= 0, got -1',
    );
    expect(() => linearSchedule({ ...base, transitionSteps: 2.5 })).toThrow('"transitionSteps"');
    expect(() => linearSchedule({ ...base, transitionBegin: -3 })).toThrow('"transitionBegin"');
    expect(() => linearSchedule({ ...base, endValue: Number.NaN })).toThrow('"endValue"');
    expect(() => linearSchedule({ ...base, initValue: Number.POSITIVE_INFINITY })).toThrow(
      '"initValue" must be a finite number, got Infinity',
    );
    expect(() => linearSchedule({ ...base, initValue: '1' as unknown as number })).toThrow(
      'got "1"',
    );
  });

  it('rejects a misspelled or foreign option and a missing options object', () => {
    const typo = { initValue: 1, endValue: 0, transitionSteps: 10, transitionbegin: 5 };
    expect(() => linearSchedule(typo as never)).toThrow(
      'linearSchedule: option "transitionbegin" must be absent',
    );
    expect(() =>
      linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 1, power: 2 } as never),
    ).toThrow('"power"');
    expect(() => linearSchedule(undefined as never)).toThrow(
      'linearSchedule: option "options" must be an object',
    );
  });
});

describe('polynomialSchedule', () => {
  it('follows (I - E) * (1 - t/T)^P + E', () => {
    // I = 1, E = 0, P = 2, T = 10.
    const lr = polynomialSchedule({ initValue: 1, endValue: 0, power: 2, transitionSteps: 10 });
    expect(lr(0)).toBe(1);
    expect(lr(2)).toBeCloseTo(0.64, 12); // (1 - 0.2)^2
    expect(lr(5)).toBeCloseTo(0.25, 12); // (1 - 0.5)^2
    expect(lr(10)).toBe(0);
    expect(lr(20)).toBe(0);
  });

  it('offsets by transitionBegin and shifts by endValue', () => {
    // I = 1.5, E = 0.5, P = 3, T = 4, B = 1: at t = 3, (1.5 - 0.5) * (1 - 2/4)^3 + 0.5 = 0.625.
    const lr = polynomialSchedule({
      initValue: 1.5,
      endValue: 0.5,
      power: 3,
      transitionSteps: 4,
      transitionBegin: 1,
    });
    expect(lr(1)).toBe(1.5);
    expect(lr(3)).toBeCloseTo(0.625, 12);
    expect(lr(5)).toBeCloseTo(0.5, 12);
  });

  it('with power 1 matches linearSchedule', () => {
    const poly = polynomialSchedule({
      initValue: 0.3,
      endValue: 0.1,
      power: 1,
      transitionSteps: 7,
    });
    const lin = linearSchedule({ initValue: 0.3, endValue: 0.1, transitionSteps: 7 });
    for (let t = 0; t < 10; t++) expect(poly(t)).toBeCloseTo(lin(t), 14);
  });

  it('rejects a power that is not > 0', () => {
    const base = { initValue: 1, endValue: 0, transitionSteps: 10 };
    expect(() => polynomialSchedule({ ...base, power: 0 })).toThrow(
      'polynomialSchedule: option "power" must be a finite number > 0, got 0',
    );
    expect(() => polynomialSchedule({ ...base, power: -1 })).toThrow('"power"');
  });
});

describe('warmupConstantSchedule', () => {
  it('warms up linearly, then holds the peak', () => {
    const lr = warmupConstantSchedule({ initValue: 0, peakValue: 0.1, warmupSteps: 10 });
    expect(lr(0)).toBe(0);
    expect(lr(5)).toBeCloseTo(0.05, 15); // 0.1 * 5/10
    expect(lr(10)).toBeCloseTo(0.1, 15);
    expect(lr(1000)).toBeCloseTo(0.1, 15);
    expect(specOf(lr)?.name).toBe('warmupConstantSchedule');
  });

  it('with warmupSteps 0 starts at the peak', () => {
    const lr = warmupConstantSchedule({ initValue: 0, peakValue: 0.1, warmupSteps: 0 });
    expect(lr(0)).toBe(0.1);
    expect(lr(3)).toBe(0.1);
  });

  it('rejects bad warmupSteps', () => {
    expect(() => warmupConstantSchedule({ initValue: 0, peakValue: 1, warmupSteps: -2 })).toThrow(
      'warmupConstantSchedule: option "warmupSteps" must be an integer >= 0, got -2',
    );
  });
});
