import {
  getTransformFactory,
  loadFusedSteps,
  optimizerCatalog,
  packageOfTransformFactory,
  whyNotFusable,
} from '@tfopt/core';
import { describe, expect, it } from 'vitest';
// The entry bundlers get, alone: this file imports neither index.ts nor register.ts up front.
import { adam, clipByGlobalNorm, scaleByAdam } from './exports.js';

describe('the entry bundlers get', () => {
  it('registers no factory until the registration module runs', async () => {
    expect(getTransformFactory('adam')).toBeUndefined();
    expect(optimizerCatalog()).toEqual([]);
    await import('./register.js');
    expect(getTransformFactory('adam')).toBe(adam);
    expect(getTransformFactory('clipByGlobalNorm')).toBe(clipByGlobalNorm);
    expect(packageOfTransformFactory('scaleByAdam')).toBe('@tfopt/transforms');
    const entry = optimizerCatalog().find((e) => e.name === 'adam');
    expect(entry?.package).toBe('@tfopt/transforms');
    expect(entry?.factory).toBe(adam);
  });

  it('fuses once the fused path is loaded', async () => {
    expect(whyNotFusable(scaleByAdam())).toMatch(/"scaleByAdam" has no fused form/);
    await loadFusedSteps();
    expect(whyNotFusable(scaleByAdam())).toBeUndefined();
    expect(whyNotFusable(adam(0.1))).toBeUndefined();
  });
});
