import { InvalidOptionError, specOf } from '@tfopt/core';
import { describe, expect, it } from 'vitest';
import { piecewiseConstantSchedule } from './index.js';

describe('piecewiseConstantSchedule', () => {
  it('multiplies in each scale from its boundary on', () => {
    const lr = piecewiseConstantSchedule({
      initValue: 1,
      boundariesAndScales: { 100: 0.1, 200: 0.01 },
    });
    expect(lr(0)).toBe(1);
    expect(lr(99)).toBe(1);
    expect(lr(100)).toBeCloseTo(0.1, 15); // 1 * 0.1
    expect(lr(199)).toBeCloseTo(0.1, 15);
    expect(lr(200)).toBeCloseTo(0.001, 15); // 1 * 0.1 * 0.01
    expect(lr(1e6)).toBeCloseTo(0.001, 15);
  });

  it('applies a boundary at 0 from the first update', () => {
    const lr = piecewiseConstantSchedule({ initValue: 0.4, boundariesAndScales: { 0: 0.5 } });
    expect(lr(0)).toBeCloseTo(0.2, 15);
  });

  it('is constant without boundaries', () => {
    const lr = piecewiseConstantSchedule({ initValue: 0.3, boundariesAndScales: {} });
    expect(lr(0)).toBe(0.3);
    expect(lr(1000)).toBe(0.3);
  });

  it('accepts a scale of 0 and scales above 1', () => {
    const lr = piecewiseConstantSchedule({ initValue: 1, boundariesAndScales: { 5: 4, 10: 0 } });
    expect(lr(5)).toBe(4);
    expect(lr(10)).toBe(0);
  });

  it('records a copy of its options as a spec', () => {
    const table: Record<number, number> = { 3: 0.5 };
    const lr = piecewiseConstantSchedule({ initValue: 1, boundariesAndScales: table });
    table[1] = 0; // later edits change neither the schedule nor its spec
    expect(lr(2)).toBe(1);
    expect(specOf(lr)).toEqual({
      name: 'piecewiseConstantSchedule',
      args: [{ initValue: 1, boundariesAndScales: { 3: 0.5 } }],
    });
  });

  it('rejects keys that are not integer counts and negative scales', () => {
    const build = (boundariesAndScales: unknown) => () =>
      piecewiseConstantSchedule({ initValue: 1, boundariesAndScales } as never);
    expect(build({ abc: 0.1 })).toThrow(
      'piecewiseConstantSchedule: option "boundariesAndScales["abc"]" must be keyed by an integer update count >= 0, got "abc"',
    );
    expect(build({ '-1': 0.1 })).toThrow(InvalidOptionError);
    expect(build({ 1.5: 0.1 })).toThrow('"boundariesAndScales["1.5"]"');
    expect(build({ 10: -0.5 })).toThrow(
      'option "boundariesAndScales[10]" must be a finite number >= 0, got -0.5',
    );
    expect(build({ 10: Number.NaN })).toThrow('"boundariesAndScales[10]"');
    expect(build([0.1])).toThrow('option "boundariesAndScales" must be an object');
    expect(build(undefined)).toThrow('option "boundariesAndScales" must be an object');
  });
});
