import { describe, expect, it } from 'vitest';
import { identity, specOf, withFunctionSpec, withSpec } from './index.js';

describe('specs', () => {
  it('withSpec returns a copy carrying the spec, leaving the original alone', () => {
    const base = identity();
    const named = withSpec(base, 'myIdentity', [1, { a: 2 }]);
    expect(named.spec).toEqual({ name: 'myIdentity', args: [1, { a: 2 }] });
    expect(named).not.toBe(base);
    expect(base.spec).toEqual({ name: 'identity', args: [] });
    expect(named.init).toBe(base.init);
  });

  it('drops trailing undefined arguments only', () => {
    const tx = withSpec(identity(), 'f', [1, undefined, 2, undefined, undefined]);
    expect(tx.spec?.args).toEqual([1, undefined, 2]);
    expect(withSpec(identity(), 'g', [undefined]).spec?.args).toEqual([]);
  });

  it('withFunctionSpec keeps the function callable', () => {
    const f = withFunctionSpec((count: number) => count * 2, 'double', [2, undefined]);
    expect(f(3)).toBe(6);
    expect(specOf(f)).toEqual({ name: 'double', args: [2] });
  });

  it('specOf reads a spec from transforms and functions, and nothing from the rest', () => {
    expect(specOf(identity())).toEqual({ name: 'identity', args: [] });
    for (const v of [undefined, null, 3, 'spec', {}, () => 1, { init: () => ({}) }]) {
      expect(specOf(v)).toBeUndefined();
    }
  });
});
