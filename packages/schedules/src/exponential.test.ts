import { InvalidOptionError, specOf } from '@tfopt/core';
import { describe, expect, it } from 'vitest';
import { exponentialDecaySchedule } from './index.js';

describe('exponentialDecaySchedule', () => {
  // I = 0.1, T = 100, r = 0.5: value(t) = 0.1 * 0.5^(t / 100).
  const lr = exponentialDecaySchedule({ initValue: 0.1, transitionSteps: 100, decayRate: 0.5 });

  it('decays smoothly by decayRate every transitionSteps', () => {
    expect(lr(0)).toBe(0.1);
    expect(lr(100)).toBeCloseTo(0.05, 14);
    expect(lr(200)).toBeCloseTo(0.025, 14);
    // 0.5^1.5 = 0.35355339: 0.1 * 0.35355339 = 0.035355339
    expect(lr(150)).toBeCloseTo(0.035355339, 9);
    // 0.5^0.5 = 0.70710678
    expect(lr(50)).toBeCloseTo(0.070710678, 9);
  });

  it('with staircase, decays in whole steps', () => {
    const s = exponentialDecaySchedule({
      initValue: 0.1,
      transitionSteps: 100,
      decayRate: 0.5,
      staircase: true,
    });
    expect(s(99)).toBe(0.1); // floor(0.99) = 0
    expect(s(100)).toBeCloseTo(0.05, 14);
    expect(s(150)).toBeCloseTo(0.05, 14); // floor(1.5) = 1
    expect(s(199)).toBeCloseTo(0.05, 14);
    expect(s(200)).toBeCloseTo(0.025, 14);
  });

  it('holds initValue until transitionBegin', () => {
    const s = exponentialDecaySchedule({
      initValue: 0.1,
      transitionSteps: 100,
      decayRate: 0.5,
      transitionBegin: 10,
    });
    expect(s(0)).toBe(0.1);
    expect(s(10)).toBe(0.1);
    expect(s(110)).toBeCloseTo(0.05, 14);
  });

  it('uses endValue as a floor when decaying', () => {
    const s = exponentialDecaySchedule({
      initValue: 0.1,
      transitionSteps: 100,
      decayRate: 0.5,
      endValue: 0.03,
    });
    expect(s(100)).toBeCloseTo(0.05, 14);
    expect(s(200)).toBe(0.03); // max(0.025, 0.03)
    expect(s(1e6)).toBe(0.03);
  });

  it('uses endValue as a ceiling when growing', () => {
    // r = 2: 0.1 -> 0.2 at t = 10 -> min(0.4, 0.3) at t = 20.
    const s = exponentialDecaySchedule({
      initValue: 0.1,
      transitionSteps: 10,
      decayRate: 2,
      endValue: 0.3,
    });
    expect(s(10)).toBeCloseTo(0.2, 14);
    expect(s(20)).toBe(0.3);
  });

  it('clips the initial value too (an endValue above initValue wins from the start)', () => {
    const s = exponentialDecaySchedule({
      initValue: 0.1,
      transitionSteps: 10,
      decayRate: 0.5,
      endValue: 0.2,
    });
    expect(s(0)).toBe(0.2);
    expect(s(50)).toBe(0.2);
  });

  it('with transitionSteps 0 holds initValue, unclipped', () => {
    const s = exponentialDecaySchedule({
      initValue: 0.1,
      transitionSteps: 0,
      decayRate: 0.5,
      endValue: 0.5,
    });
    for (const t of [0, 1, 1000]) expect(s(t)).toBe(0.1);
  });

  it('records its options as a spec', () => {
    const options = { initValue: 1, transitionSteps: 5, decayRate: 0.9, staircase: true };
    expect(specOf(exponentialDecaySchedule(options))).toEqual({
      name: 'exponentialDecaySchedule',
      args: [options],
    });
  });

  it('rejects bad options, naming them', () => {
    const base = { initValue: 0.1, transitionSteps: 100, decayRate: 0.5 };
    expect(() => exponentialDecaySchedule({ ...base, decayRate: 0 })).toThrow(
      'exponentialDecaySchedule: option "decayRate" must be a finite number > 0, got 0',
    );
    expect(() => exponentialDecaySchedule({ ...base, decayRate: -0.5 })).toThrow('"decayRate"');
    expect(() => exponentialDecaySchedule({ ...base, transitionSteps: 2.5 })).toThrow(
      '"transitionSteps"',
    );
    expect(() => exponentialDecaySchedule({ ...base, transitionBegin: -1 })).toThrow(
      '"transitionBegin"',
    );
    expect(() => exponentialDecaySchedule({ ...base, staircase: 'yes' } as never)).toThrow(
      'option "staircase" must be true or false, got "yes"',
    );
    expect(() => exponentialDecaySchedule({ ...base, endValue: Number.NaN })).toThrow(
      InvalidOptionError,
    );
    expect(() => exponentialDecaySchedule({ ...base, endValue: Number.NaN })).toThrow('"endValue"');
  });
});
