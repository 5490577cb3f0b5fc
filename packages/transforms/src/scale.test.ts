import * as tf from '@tensorflow/tfjs-core';
import { stepVariables, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { scale, scaleByLearningRate, scaleBySchedule } from './index.js';

const leaf = (tree: unknown, key: string) => values((tree as Record<string, tf.Tensor>)[key]!);

describeEachBackend('scale', () => {
  it('multiplies every leaf by the factor', () => {
    const tx = scale(-2);
    const g = { a: tf.tensor([1, -2]), b: tf.tensor([[3]]) };
    const [u, s] = tx.update(g, tx.init(g));
    expectArrayClose(leaf(u, 'a'), [-2, 4]);
    expectArrayClose(leaf(u, 'b'), [-6]);
    expect(s).toEqual({});
    expect(tx.spec).toEqual({ name: 'scale', args: [-2] });
    treeDispose([g, u]);
  });
});

describeEachBackend('scaleBySchedule', () => {
  it('uses schedule(count), starting at count 0', () => {
    // schedule(c) = 0.5^c: factors 1, 0.5, 0.25 on a constant g = 4 give 4, 2, 1.
    const tx = scaleBySchedule((c) => 0.5 ** c);
    const g = tf.tensor([4]);
    let state = tx.init(g);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [u, next] = tx.update(g, state);
      seen.push(values(u as tf.Tensor)[0]!);
      // A factor of 1 hands back the input itself (outputs may alias inputs).
      if (u !== g) tf.dispose(u as tf.Tensor);
      state = next;
    }
    expectArrayClose(seen, [4, 2, 1]);
    expect(state).toEqual({ count: 3 });
    g.dispose();
  });
});

describeEachBackend('scaleByLearningRate', () => {
  it('multiplies by −lr, or +lr with flipSign: false', () => {
    const g = tf.tensor([1, -2]);
    const [down] = scaleByLearningRate(0.1).update(g, { count: 0 });
    const [up] = scaleByLearningRate(0.1, { flipSign: false }).update(g, { count: 0 });
    expectArrayClose(values(down as tf.Tensor), [-0.1, 0.2]);
    expectArrayClose(values(up as tf.Tensor), [0.1, -0.2]);
    tf.dispose([g, down as tf.Tensor, up as tf.Tensor]);
  });

  it('follows a schedule of the step count on variables', () => {
    // lr(c) = 0.1 / (c + 1): θ = 1 − 0.1·2 = 0.8, then 0.8 − 0.05·2 = 0.7 with a constant grad 2.
    const tx = scaleByLearningRate((c) => 0.1 / (c + 1));
    const theta = { x: tf.variable(tf.tensor([1])) };
    const grads = { x: tf.tensor([2]) };
    let state = tx.init(theta);
    state = stepVariables(tx, theta, grads, state);
    expectArrayClose(values(theta.x), [0.8]);
    state = stepVariables(tx, theta, grads, state);
    expectArrayClose(values(theta.x), [0.7]);
    expect(state.count).toBe(2);
    treeDispose([theta, grads]);
  });

  it('reports a schedule that returns a non-number when it is called', () => {
    const tx = scaleByLearningRate(() => Number.NaN);
    const g = tf.tensor([1]);
    expect(() => tx.update(g, tx.init(g))).toThrow(
      /scaleByLearningRate: schedule returned NaN at count 0/,
    );
    g.dispose();
  });
});
