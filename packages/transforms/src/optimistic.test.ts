import * as tf from '@tensorflow/tfjs-core';
import { collectTensors, InvalidOptionError, specOf, type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { type ScaleByOptimisticGradientState, scaleByOptimisticGradient } from './index.js';

const w = (t: Tree) => values((t as { w: tf.Tensor }).w);

describeEachBackend('scaleByOptimisticGradient', () => {
  it('matches the first two steps derived by hand', () => {
    // alpha = 1, beta = 0.5; g1 = [1, −2], g2 = [3, 0.5].
    // Step 1: no previous update, so g_prev = g1: u = 1.5·g1 − 0.5·g1 = g1 = [1, −2].
    // Step 2: u = 1.5·g2 − 0.5·g1 = [4.5 − 0.5, 0.75 + 1] = [4, 1.75].
    const tx = scaleByOptimisticGradient({ alpha: 1, beta: 0.5 });
    const params = { w: tf.zeros([2]) };
    const g1 = { w: tf.tensor([1, -2]) };
    const g2 = { w: tf.tensor([3, 0.5]) };
    const s0 = tx.init(params);
    expect(s0.isInitialStep).toBe(true);
    expect(w(s0.previousGradient)).toEqual([0, 0]);
    const [u1, s1] = tx.update(g1, s0, params);
    expectArrayClose(w(u1), [1, -2]);
    expect(s1.isInitialStep).toBe(false);
    expect(w(s1.previousGradient)).toEqual([1, -2]);
    const [u2, s2] = tx.update(g2, s1, params);
    expectArrayClose(w(u2), [4, 1.75]);
    expect(w(s2.previousGradient)).toEqual([3, 0.5]);
    // The input state is unchanged.
    expect(s0.isInitialStep).toBe(true);
    expect(w(s1.previousGradient)).toEqual([1, -2]);
    treeDispose([params, g1, g2, s0, u1, s1, u2, s2]);
  });

  it('keeps its own copy of the updates', () => {
    const tx = scaleByOptimisticGradient();
    const g = { w: tf.tensor([1, 2]) };
    const [u, s1] = tx.update(g, tx.init(g));
    expect(collectTensors(s1)).not.toContain(g.w);
    treeDispose(g);
    expect(w(s1.previousGradient)).toEqual([1, 2]);
    treeDispose([u, s1]);
  });

  it('follows a float64 reference over 120 steps', () => {
    // u_k = (alpha + beta)·g_k − beta·g_(k−1), g_0 = g_1.
    const alpha = 0.7;
    const beta = 1.3;
    const n = 3;
    const grad = (k: number) =>
      Array.from({ length: n }, (_, i) => Math.cos(0.4 * k + i) * (i + 1));
    const tx = scaleByOptimisticGradient({ alpha, beta });
    let state: ScaleByOptimisticGradientState = tx.init({ w: tf.zeros([n]) });
    let previous = grad(1);
    for (let k = 1; k <= 120; k++) {
      const g = grad(k);
      const expected = g.map((gi, i) => (alpha + beta) * gi - beta * previous[i]!);
      previous = g;
      const gt = { w: tf.tensor(g) };
      const [u, next] = tx.update(gt, state);
      expectArrayClose(w(u), expected, { rtol: 1e-5, atol: 1e-6 }, `step ${k}`);
      treeDispose([gt, u, state]);
      state = next;
    }
    treeDispose(state);
  });

  it('records its options and rejects bad ones, naming them', () => {
    expect(specOf(scaleByOptimisticGradient({ beta: 2 }))).toEqual({
      name: 'scaleByOptimisticGradient',
      args: [{ beta: 2 }],
    });
    expect(() => scaleByOptimisticGradient({ alpha: Number.NaN })).toThrow(
      /scaleByOptimisticGradient: option "alpha" must be a finite number, got NaN/,
    );
    expect(() => scaleByOptimisticGradient({ beta: '1' as never })).toThrow(InvalidOptionError);
    expect(() => scaleByOptimisticGradient({ optimism: 1 } as never)).toThrow(
      /option "optimism" must be absent/,
    );
  });
});
