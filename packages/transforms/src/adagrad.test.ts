import * as tf from '@tensorflow/tfjs-core';
import { type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { scaleByAdagrad } from './index.js';

const w = (t: Tree) => values((t as { w: tf.Tensor }).w);

describeEachBackend('scaleByAdagrad', () => {
  it('matches the first two steps derived by hand', () => {
    // initialAccumulatorValue 0.1, eps 1e-7; g1 = [1, −2], g2 = [3, 0.5].
    // Step 1: s = 0.1 + g1² = [1.1, 4.1]; u = g1 / sqrt(s + 1e-7) ≈ [0.9534625, −0.9877296].
    // Step 2: s = [1.1 + 9, 4.1 + 0.25] = [10.1, 4.35]; u = g2 / sqrt(s + 1e-7) ≈ [0.9439752, 0.2397316].
    const tx = scaleByAdagrad();
    const g1 = { w: tf.tensor([1, -2]) };
    const g2 = { w: tf.tensor([3, 0.5]) };
    const s0 = tx.init(g1);
    expectArrayClose(w(s0.sumOfSquares), [0.1, 0.1]);
    const [u1, s1] = tx.update(g1, s0);
    expectArrayClose(w(u1), [1 / Math.sqrt(1.1 + 1e-7), -2 / Math.sqrt(4.1 + 1e-7)]);
    const [u2, s2] = tx.update(g2, s1);
    expectArrayClose(w(u2), [3 / Math.sqrt(10.1 + 1e-7), 0.5 / Math.sqrt(4.35 + 1e-7)]);
    expectArrayClose(w(s2.sumOfSquares), [10.1, 4.35]);
    treeDispose([g1, g2, s0, u1, s1, u2, s2]);
  });

  it('gives 0, not NaN, where nothing has accumulated and eps is 0', () => {
    // s = [0, 4]; u = [0 (guarded), 2 / 2 = 1].
    const tx = scaleByAdagrad({ initialAccumulatorValue: 0, eps: 0 });
    const g = { w: tf.tensor([0, 2]) };
    const s0 = tx.init(g);
    const [u, s1] = tx.update(g, s0);
    expect(w(u)).toEqual([0, 1]);
    treeDispose([g, s0, u, s1]);
  });
});
