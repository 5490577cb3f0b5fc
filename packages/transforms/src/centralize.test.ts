import * as tf from '@tensorflow/tfjs-core';
import { chain, specOf, step, type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { centralize, scaleByLearningRate } from './index.js';

const leaf = (t: Tree, key: string) => (t as Record<string, tf.Tensor>)[key] as tf.Tensor;

describeEachBackend('centralize', () => {
  it('subtracts the mean over every axis but the first, hand-derived', () => {
    // [[1, 2, 3], [4, 5, 6]]: row means 2 and 5 → [[−1, 0, 1], [−1, 0, 1]].
    // Rank 3, shape [2, 2, 2]: slice 0 = [1, 2, 3, 4] (mean 2.5) → [−1.5, −0.5, 0.5, 1.5];
    //   slice 1 = [0, 0, 0, 8] (mean 2) → [−2, −2, −2, 6].
    // Rank 1 and scalars are returned unchanged; so is an empty matrix.
    const tx = centralize();
    const g = {
      m: tf.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      r3: tf.tensor([1, 2, 3, 4, 0, 0, 0, 8], [2, 2, 2]),
      v: tf.tensor([1, 5]),
      s: tf.scalar(3),
      e: tf.zeros([2, 0]),
    };
    const [u, state] = tx.update(g, tx.init(g));
    expectArrayClose(values(leaf(u, 'm')), [-1, 0, 1, -1, 0, 1]);
    expectArrayClose(values(leaf(u, 'r3')), [-1.5, -0.5, 0.5, 1.5, -2, -2, -2, 6]);
    expect(values(leaf(u, 'v'))).toEqual([1, 5]);
    expect(values(leaf(u, 's'))).toEqual([3]);
    expect(leaf(u, 'e').shape).toEqual([2, 0]);
    expect(state).toEqual({});
    expect(specOf(tx)).toEqual({ name: 'centralize', args: [] });
    treeDispose([g, u]);
  });

  it('follows a float64 reference over 100 steps of centralised SGD', () => {
    // chain(centralize(), scaleByLearningRate(0.05)) on a [3, 4] matrix with the
    // gradient G_k[i][j] = sin(0.3k + i) + cos(0.5k·j) + i·j/4; each row of the step is
    // the row minus its mean, so every row sum of θ stays what it was.
    const rows = 3;
    const cols = 4;
    const lr = 0.05;
    const theta = Array.from({ length: rows * cols }, (_, n) => 0.1 * n - 0.5);
    const rowSums = Array.from({ length: rows }, (_, i) =>
      theta.slice(i * cols, (i + 1) * cols).reduce((a, b) => a + b, 0),
    );
    const tx = chain(centralize(), scaleByLearningRate(lr));
    let params: Tree = { w: tf.tensor(theta, [rows, cols]) };
    let state: ReturnType<typeof tx.init> = tx.init(params);
    for (let k = 1; k <= 100; k++) {
      const grad = Array.from({ length: rows * cols }, (_, n) => {
        const i = Math.floor(n / cols);
        const j = n % cols;
        return Math.sin(0.3 * k + i) + Math.cos(0.5 * k * j) + (i * j) / 4;
      });
      for (let i = 0; i < rows; i++) {
        const row = grad.slice(i * cols, (i + 1) * cols);
        const mean = row.reduce((a, b) => a + b, 0) / cols;
        for (let j = 0; j < cols; j++) theta[i * cols + j]! -= lr * (row[j]! - mean);
      }
      const g = { w: tf.tensor(grad, [rows, cols]) };
      const next: { params: Tree; state: typeof state } = step(tx, params, g, state);
      treeDispose([g, params]);
      params = next.params;
      state = next.state;
      expectArrayClose(values(leaf(params, 'w')), theta, { rtol: 1e-4, atol: 1e-5 }, `step ${k}`);
    }
    const out = values(leaf(params, 'w'));
    for (let i = 0; i < rows; i++) {
      const sum = out.slice(i * cols, (i + 1) * cols).reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(rowSums[i]!, 4);
    }
    treeDispose([params, state]);
  });
});
