import { getTransformFactory, optimizerCatalog, packageOfTransformFactory } from '@tfopt/core';
import { describe, expect, it } from 'vitest';
// The entry bundlers get, alone: this file imports neither index.ts nor register.ts up front.
import { prodigy, readProdigyD } from './exports.js';

const contribCatalog = () => optimizerCatalog().filter((e) => e.package === '@tfopt/contrib');

describe('the entry bundlers get', () => {
  it('registers no factory until the registration module runs', async () => {
    expect(getTransformFactory('prodigy')).toBeUndefined();
    expect(contribCatalog()).toEqual([]);
    await import('./register.js');
    expect(getTransformFactory('prodigy')).toBe(prodigy);
    expect(packageOfTransformFactory('prodigy')).toBe('@tfopt/contrib');
    // Every lower-case function export is registered, readers included, as under Node.
    expect(getTransformFactory('readProdigyD')).toBe(readProdigyD);
    expect(contribCatalog().find((e) => e.name === 'prodigy')?.factory).toBe(prodigy);
  });
});
