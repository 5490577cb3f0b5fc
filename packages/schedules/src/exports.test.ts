import { getTransformFactory, packageOfTransformFactory } from '@tfopt/core';
import { describe, expect, it } from 'vitest';
// The entry bundlers get, alone: this file imports neither index.ts nor register.ts up front.
import { cosineDecaySchedule, sgdrSchedule } from './exports.js';

describe('the entry bundlers get', () => {
  it('registers no schedule factory until the registration module runs', async () => {
    expect(getTransformFactory('cosineDecaySchedule')).toBeUndefined();
    await import('./register.js');
    expect(getTransformFactory('cosineDecaySchedule')).toBe(cosineDecaySchedule);
    expect(getTransformFactory('sgdrSchedule')).toBe(sgdrSchedule);
    expect(packageOfTransformFactory('sgdrSchedule')).toBe('@tfopt/schedules');
  });
});
