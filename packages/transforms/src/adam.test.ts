import * as tf from '@tensorflow/tfjs-core';
import { type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { type ScaleByAdamState, scaleByAdam } from './index.js';

const w = (t: Tree) => values((t as { w: tf.Tensor }).w);

describeEachBackend('scaleByAdam', () => {
  it('matches the first two steps derived by hand', () => {
    // b1 = 0.9, b2 = 0.999, eps = 1e-8; g1 = [1, −2], g2 = [3, 0.5].
    // Step 1: mu = 0.1·g1 = [0.1, −0.2], nu = 0.001·g1² = [0.001, 0.004];
    //   mû = mu / 0.1 = [1, −2], nû = nu / 0.001 = [1, 4]; u = mû / (sqrt(nû) + eps) ≈ [1, −1].
    // Step 2: mu = 0.9·mu + 0.1·g2 = [0.39, −0.13]; nu = 0.999·nu + 0.001·g2² = [0.009999, 0.004246];
    //   1 − b1² = 0.19, 1 − b2² = 0.001999;
    //   u = (mu / 0.19) / (sqrt(nu / 0.001999) + eps).
    const tx = scaleByAdam();
    const params = { w: tf.zeros([2]) };
    const g1 = { w: tf.tensor([1, -2]) };
    const g2 = { w: tf.tensor([3, 0.5]) };
    const s0 = tx.init(params);
    const [u1, s1] = tx.update(g1, s0, params);
    expectArrayClose(w(u1), [1 / (1 + 1e-8), -2 / (2 + 1e-8)], { rtol: 1e-6 });
    expectArrayClose(w(s1.mu), [0.1, -0.2]);
    expectArrayClose(w(s1.nu), [0.001, 0.004]);
    expect(s1.count).toBe(1);
    const [u2, s2] = tx.update(g2, s1, params);
    const step2 = [
      0.39 / 0.19 / (Math.sqrt(0.009999 / 0.001999) + 1e-8),
      -0.13 / 0.19 / (Math.sqrt(0.004246 / 0.001999) + 1e-8),
    ];
    // ≈ [0.9177811, −0.4694682]
    expectArrayClose(w(u2), step2, { rtol: 1e-5 });
    expectArrayClose(w(s2.mu), [0.39, -0.13]);
    expectArrayClose(w(s2.nu), [0.009999, 0.004246]);
    expect(s2.count).toBe(2);
    treeDispose([params, g1, g2, s0, u1, s1, u2, s2]);
  });

  it('adds epsRoot inside the square root', () => {
    // Step 1 with epsRoot = 1, eps = 0: u = mû / sqrt(nû + 1) = [1 / sqrt(2), −2 / sqrt(5)].
    const tx = scaleByAdam({ eps: 0, epsRoot: 1 });
    const g = { w: tf.tensor([1, -2]) };
    const s0 = tx.init(g);
    const [u, s1] = tx.update(g, s0);
    expectArrayClose(w(u), [1 / Math.SQRT2, -2 / Math.sqrt(5)]);
    treeDispose([g, s0, u, s1]);
  });

  it('follows a float64 reference over 100 steps', () => {
    // Textbook Adam in plain JS doubles, on a deterministic gradient sequence.
    const b1 = 0.8;
    const b2 = 0.99;
    const eps = 1e-6;
    const epsRoot = 1e-4;
    const n = 3;
    const grad = (k: number) =>
      Array.from({ length: n }, (_, i) => Math.sin(0.7 * k + i) * (i + 1));
    const m = new Array<number>(n).fill(0);
    const v = new Array<number>(n).fill(0);
    const tx = scaleByAdam({ b1, b2, eps, epsRoot });
    let state: ScaleByAdamState = tx.init({ w: tf.zeros([n]) });
    for (let k = 1; k <= 100; k++) {
      const g = grad(k);
      const expected = g.map((gi, i) => {
        m[i] = b1 * m[i]! + (1 - b1) * gi;
        v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
        const mHat = m[i]! / (1 - b1 ** k);
        const vHat = v[i]! / (1 - b2 ** k);
        return mHat / (Math.sqrt(vHat + epsRoot) + eps);
      });
      const gt = { w: tf.tensor(g) };
      const [u, next] = tx.update(gt, state);
      expectArrayClose(w(u), expected, { rtol: 1e-4, atol: 1e-6 }, `step ${k}`);
      treeDispose([gt, u, state]);
      state = next;
    }
    treeDispose(state);
  });
});
