import * as tf from '@tensorflow/tfjs-core';
import { type Tree, treeFlatten } from '@tfopt/core';
import { expect } from 'vitest';

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/** Flat float values of a tensor. */
export function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

/** |a - b| <= atol + rtol * |b| elementwise, with a message naming the index. */
export function expectArrayClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-5, atol = 1e-6 }: Tolerance = {},
  label = '',
): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    const ok = Math.abs(a - e) <= atol + rtol * Math.abs(e) || (Number.isNaN(a) && Number.isNaN(e));
    if (!ok) {
      expect.fail(`${label}[${i}]: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

/** Two trees have the same structure and close values. */
export function expectTreeClose(actual: Tree, expected: Tree, tol: Tolerance = {}): void {
  const a = treeFlatten(actual);
  const e = treeFlatten(expected);
  expect(a.map((l) => l.path)).toEqual(e.map((l) => l.path));
  a.forEach((leaf, i) => {
    const other = e[i]!;
    expect(leaf.tensor.shape, `shape at ${leaf.path}`).toEqual(other.tensor.shape);
    expectArrayClose(values(leaf.tensor), values(other.tensor), tol, leaf.path || '(root)');
  });
}

/**
 * The "shape" of any state value: tensors become `Tensor[shape]`, numbers
 * `number`, and containers keep their keys. Two states with equal
 * signatures have the same structure.
 */
export function stateSignature(value: unknown): unknown {
  if (value instanceof tf.Tensor) return `Tensor[${value.shape.join(',')}]:${value.dtype}`;
  if (Array.isArray(value)) return value.map(stateSignature);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stateSignature(v)]));
  }
  return typeof value;
}
