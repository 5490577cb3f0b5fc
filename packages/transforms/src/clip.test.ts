import * as tf from '@tensorflow/tfjs-core';
import { treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { clip, clipByGlobalNorm } from './index.js';

const run = (tx: ReturnType<typeof clip>, g: Record<string, tf.Tensor>) => {
  const [u] = tx.update(g, tx.init(g));
  const out = Object.fromEntries(
    Object.entries(u as Record<string, tf.Tensor>).map(([k, t]) => [k, values(t)]),
  );
  treeDispose([u, g]);
  return out;
};

describeEachBackend('clipByGlobalNorm', () => {
  it('rescales a 3-4-5 pair split across leaves to the bound', () => {
    // norm = sqrt(3² + 4²) = 5 > 1, so u ← u / 5: [0.6], [0.8]
    const out = run(clipByGlobalNorm(1), { a: tf.tensor([3]), b: tf.tensor([4]) });
    expectArrayClose(out.a!, [0.6]);
    expectArrayClose(out.b!, [0.8]);
  });

  it('rescales the global norm over every element of every leaf', () => {
    // norm = sqrt(1 + 4 + 4 + 16) = 5; bound 2.5 halves everything.
    const out = run(clipByGlobalNorm(2.5), { a: tf.tensor([1, -2]), b: tf.tensor([[2], [4]]) });
    expectArrayClose(out.a!, [0.5, -1]);
    expectArrayClose(out.b!, [1, 2]);
  });

  it('leaves updates within the bound and all-zero updates unchanged', () => {
    const within = run(clipByGlobalNorm(10), { a: tf.tensor([3]), b: tf.tensor([4]) });
    expectArrayClose(within.a!, [3]);
    expectArrayClose(within.b!, [4]);
    const zeros = run(clipByGlobalNorm(1), { a: tf.zeros([2]) });
    expect(zeros.a).toEqual([0, 0]);
  });
});

describeEachBackend('clip', () => {
  it('clips each element to [−maxDelta, maxDelta]', () => {
    const out = run(clip(0.5), { a: tf.tensor([-1, 0.2, 0.7]) });
    expectArrayClose(out.a!, [-0.5, 0.2, 0.5]);
  });
});
