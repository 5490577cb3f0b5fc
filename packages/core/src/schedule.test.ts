import { describe, expect, it } from 'vitest';
import { evaluateSchedule, TfoptError } from './index.js';

describe('evaluateSchedule', () => {
  it('returns a number as is and calls a schedule with the count', () => {
    expect(evaluateSchedule(0.1, 7)).toBe(0.1);
    expect(evaluateSchedule((t) => 1 / (t + 1), 3)).toBe(0.25);
  });

  it('rejects a schedule that returns something other than a finite number', () => {
    expect(() => evaluateSchedule(() => Number.NaN, 4, 'learningRate')).toThrow(TfoptError);
    expect(() => evaluateSchedule(() => Number.NaN, 4, 'learningRate')).toThrow(
      'learningRate returned NaN at count 4; expected a finite number',
    );
    expect(() => evaluateSchedule(() => Number.POSITIVE_INFINITY, 0)).toThrow(
      'schedule returned Infinity',
    );
    expect(() => evaluateSchedule((() => '0.1') as never, 0)).toThrow(
      'schedule returned 0.1 at count 0',
    );
  });
});
