import {
  getTransformFactory,
  loadFusedSteps,
  optimizerCatalog,
  packageOfTransformFactory,
  whyNotFusable,
} from '@tfopt/core';
import { describe, expect, it } from 'vitest';
// The entry bundlers get, alone: this file imports neither index.ts nor register.ts up front.
import { egAdam, egSgdm } from './exports.js';

const egCatalog = () =>
  optimizerCatalog()
    .filter((entry) => entry.package === '@tfopt/eg')
    .map((entry) => entry.name);

describe('the entry bundlers get', () => {
  it('registers no factory until the registration module runs', async () => {
    expect(getTransformFactory('egAdam')).toBeUndefined();
    expect(egCatalog()).toEqual([]);
    await import('./register.js');
    expect(getTransformFactory('egAdam')).toBe(egAdam);
    expect(packageOfTransformFactory('egSgdm')).toBe('@tfopt/eg');
    expect(getTransformFactory('egSgdm')).toBe(egSgdm);
    expect(egCatalog()).toEqual(['egAdagrad', 'egAdam', 'egSgdm']);
  });

  it('fuses the EG links once the fused path is loaded', async () => {
    expect(whyNotFusable(egAdam(0.1))).toMatch(
      /"eg(CoordinateGains|GlobalScale)" has no fused form/,
    );
    await loadFusedSteps();
    expect(whyNotFusable(egAdam(0.1))).toBeUndefined();
  });
});
