import { describe, expect, it, vi } from 'vitest';
import {
  chain,
  getTransformFactory,
  identity,
  injectHyperparams,
  nameOfTransformFactory,
  optimizerCatalog,
  packageOfTransformFactory,
  registeredTransformFactories,
  registerOptimizers,
  registerPackageFactories,
  registerTransformFactory,
  stepVariables,
  TfoptError,
  withSpec,
} from './index.js';

describe('factory registry', () => {
  it('registers the four core factories and none of the helpers', () => {
    for (const name of ['chain', 'identity', 'injectHyperparams', 'injectLearningRate']) {
      expect(packageOfTransformFactory(name)).toBe('@tfopt/core');
    }
    expect(getTransformFactory('chain')).toBe(chain);
    expect(nameOfTransformFactory(injectHyperparams)).toBe('injectHyperparams');
    expect(getTransformFactory('stepVariables')).toBeUndefined();
    expect(nameOfTransformFactory(stepVariables)).toBeUndefined();
  });

  it('registers nothing from the entry bundlers get, until its registration module runs', async () => {
    vi.resetModules();
    const bundled = await import('./exports.js');
    expect(bundled.registeredTransformFactories()).toEqual([]);
    await import('./register.js');
    expect(bundled.registeredTransformFactories()).toEqual([
      'chain',
      'identity',
      'injectHyperparams',
      'injectLearningRate',
    ]);
    expect(bundled.getTransformFactory('chain')).toBe(bundled.chain);
    expect(bundled.packageOfTransformFactory('injectLearningRate')).toBe('@tfopt/core');
  });

  it('registers the lower-case function exports of a package, skipping classes and constants', () => {
    class SomeError extends Error {}
    const fakeModule = {
      regTestAlpha: () => withSpec(identity(), 'regTestAlpha', []),
      RegTestClass: SomeError,
      REG_TEST_CONSTANT: 3,
      regTestObject: { a: 1 },
      identity, // a re-export of another package's factory changes nothing
    };
    registerPackageFactories('@example/pkg', fakeModule);
    expect(getTransformFactory('regTestAlpha')).toBe(fakeModule.regTestAlpha);
    expect(packageOfTransformFactory('regTestAlpha')).toBe('@example/pkg');
    expect(getTransformFactory('RegTestClass')).toBeUndefined();
    expect(getTransformFactory('REG_TEST_CONSTANT')).toBeUndefined();
    expect(getTransformFactory('regTestObject')).toBeUndefined();
    expect(packageOfTransformFactory('identity')).toBe('@tfopt/core');
    expect(registeredTransformFactories()).toContain('regTestAlpha');
  });

  it('refuses to rebind a name to another function unless asked', () => {
    const first = () => identity();
    const second = () => identity();
    registerTransformFactory('regTestRebind', first);
    registerTransformFactory('regTestRebind', first); // the same function again is fine
    expect(() => registerTransformFactory('regTestRebind', second)).toThrow(
      /"regTestRebind" is already bound to another function; pass \{ replace: true \}/,
    );
    registerTransformFactory('regTestRebind', second, { replace: true });
    expect(getTransformFactory('regTestRebind')).toBe(second);
    expect(nameOfTransformFactory(first)).toBeUndefined();
    expect(() => registerTransformFactory('', first)).toThrow(TfoptError);
    expect(() => registerTransformFactory('x', 3 as never)).toThrow(/must be a function/);
  });
});

describe('optimizer catalog', () => {
  it('lists registered entries sorted by name, replacing an entry of the same name', () => {
    const base = {
      package: '@example/pkg',
      reference: 'nobody, 2026',
      typicalLearningRate: 0.1,
      factory: () => identity(),
    };
    registerOptimizers([
      { ...base, name: 'zzCatalogTest', summary: 'last' },
      { ...base, name: 'aaCatalogTest', summary: 'first' },
    ]);
    registerOptimizers([{ ...base, name: 'zzCatalogTest', summary: 'replaced' }]);
    const names = optimizerCatalog().map((e) => e.name);
    expect(names).toEqual([...names].sort());
    expect(names.filter((n) => n.endsWith('CatalogTest'))).toEqual([
      'aaCatalogTest',
      'zzCatalogTest',
    ]);
    expect(optimizerCatalog().find((e) => e.name === 'zzCatalogTest')?.summary).toBe('replaced');
  });
});
