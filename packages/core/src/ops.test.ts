import * as tf from '@tensorflow/tfjs-core';
import { describeEachBackend, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { clipByValue, treeGlobalNorm, treeVdot } from './index.js';

describeEachBackend('clipByValue', () => {
  it('clips to bounds taken as float32', () => {
    const x = tf.tensor1d([0.5, 2, 1, -3]);
    const y = clipByValue(x, 0.75, 1.5);
    expect(values(y)).toEqual([0.75, 1.5, 1, 0.75]);
    tf.dispose([x, y]);
  });

  it('fills with the bound when both bounds are the same float32', () => {
    const x = tf.tensor1d([0.5, 2, 1]);
    // exp(+-1e-8) and 1 + 2^-52 all round to 1 in float32; the clip must then give exactly 1.
    for (const [lo, hi] of [
      [Math.exp(-1e-8), Math.exp(1e-8)],
      [1, 1 + 2 ** -52],
    ] as const) {
      const y = clipByValue(x, lo, hi);
      expect(values(y)).toEqual([1, 1, 1]);
      y.dispose();
    }
    // +-1e-46 round to -0 and +0: everything is 0.
    const z = clipByValue(x, -1e-46, 1e-46);
    expect(values(z)).toEqual([0, 0, 0]);
    tf.dispose([x, z]);
  });
});

describeEachBackend('sums over trees with empty leaves', () => {
  it('count an empty leaf as 0, bit for bit, on every call', () => {
    const tree = { e: tf.zeros([0]), w: tf.tensor1d([3, 4]), f: tf.zeros([2, 0, 3]) };
    for (let i = 0; i < 20; i++) {
      const n = treeGlobalNorm(tree);
      const d = treeVdot(tree, tree);
      const z = treeGlobalNorm({ e: tree.e });
      // |(3, 4)| = 5 and <w, w> = 25; the empty leaves add exactly nothing.
      expect([values(n)[0], values(d)[0], values(z)[0]]).toEqual([5, 25, 0]);
      tf.dispose([n, d, z]);
    }
    tf.dispose(tree);
  });
});
