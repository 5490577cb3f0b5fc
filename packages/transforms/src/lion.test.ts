import * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, stepVariables, type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { lion, scaleByLion } from './index.js';

const w = (t: Tree) => values((t as { w: tf.Tensor }).w);

/** The updates and momenta of raw `update` calls on `grads`, in order. */
function run(tx: GradientTransformation<any>, grads: readonly number[][]) {
  const owned: unknown[] = [];
  let state = tx.init({ w: tf.zeros([grads[0]!.length]) });
  owned.push(state);
  const u: number[][] = [];
  const mu: number[][] = [];
  for (const g of grads) {
    const gt = { w: tf.tensor(g) };
    const [out, next] = tx.update(gt, state);
    owned.push(gt, out, next);
    u.push(w(out));
    mu.push(w(next.mu));
    state = next;
  }
  treeDispose(owned);
  return { u, mu };
}

describeEachBackend('scaleByLion', () => {
  it('matches the first three steps derived by hand', () => {
    // b1 = 0.9, b2 = 0.99; g1 = [1, −2], g2 = [3, 0.5], g3 = [−0.1, −0.1].
    // Step 1: c = 0.1·g1 = [0.1, −0.2], u1 = sign(c) = [1, −1]; mu = 0.01·g1 = [0.01, −0.02].
    // Step 2: c = 0.9·mu + 0.1·g2 = [0.309, 0.032], u2 = [1, 1];
    //   mu = 0.99·mu + 0.01·g2 = [0.0399, −0.0148].
    // Step 3: c = 0.9·mu + 0.1·g3 = [0.02591, −0.02332], u3 = [1, −1]: the momentum
    //   outweighs the negative first coordinate of g3.
    const { u, mu } = run(scaleByLion(), [
      [1, -2],
      [3, 0.5],
      [-0.1, -0.1],
    ]);
    expect(u).toEqual([
      [1, -1],
      [1, 1],
      [1, -1],
    ]);
    expectArrayClose(mu[0]!, [0.01, -0.02]);
    expectArrayClose(mu[1]!, [0.0399, -0.0148]);
  });

  it('smooths the sign in the smooth and refined modes', () => {
    // smooth, smoothBeta = 2: u1 = tanh(2·0.1·g1) = [tanh 0.2, −tanh 0.4].
    expectArrayClose(run(scaleByLion({ mode: 'smooth', smoothBeta: 2 }), [[1, -2]]).u[0]!, [
      Math.tanh(0.2),
      -Math.tanh(0.4),
    ]);
    // refined: c = 0.1·g = [0.1, −0.2, 2, −3]: kept where |c| < 1, its sign elsewhere.
    expectArrayClose(
      run(scaleByLion({ mode: 'refined' }), [[1, -2, 20, -30]]).u[0]!,
      [0.1, -0.2, 1, -1],
    );
  });

  it('follows a float64 reference over 120 steps (the lion alias, with weight decay)', () => {
    // θ ← θ − lr·(sign(b1·m + (1 − b1)·g) + wd·θ), m ← b2·m + (1 − b2)·g, in plain doubles.
    const lr = 0.01;
    const wd = 0.1;
    const b1 = 0.8;
    const b2 = 0.95;
    const grad = (k: number) =>
      Array.from({ length: 3 }, (_, i) => Math.sin(0.7 * k + i) * (i + 1));
    const m = [0, 0, 0];
    let ref = [0.5, -1, 2];
    let smallest = Number.POSITIVE_INFINITY;
    const theta = { w: tf.variable(tf.tensor(ref)) };
    const tx = lion(lr, { b1, b2, weightDecay: wd });
    let state = tx.init(theta);
    for (let k = 1; k <= 120; k++) {
      const g = grad(k);
      const u = g.map((gi, i) => {
        const c = b1 * m[i]! + (1 - b1) * gi;
        smallest = Math.min(smallest, Math.abs(c));
        m[i] = b2 * m[i]! + (1 - b2) * gi;
        return Math.sign(c);
      });
      ref = ref.map((x, i) => x - lr * (u[i]! + wd * x));
      const gt = { w: tf.tensor(g) };
      state = stepVariables(tx, theta, gt, state);
      treeDispose(gt);
      expectArrayClose(values(theta.w), ref, { rtol: 1e-4, atol: 1e-5 }, `step ${k}`);
    }
    // No direction came close enough to 0 for float32 rounding to flip its sign.
    expect(smallest).toBeGreaterThan(1e-4);
    treeDispose([theta, state]);
  });
});

describeEachBackend('lion', () => {
  it('matches the first two steps derived by hand', () => {
    // lr = 0.1 and Optax's default weightDecay 1e-3; u1 = [1, −1], u2 = [1, 1] (see above):
    //   θ1 = θ0 − 0.1·(u1 + 1e-3·θ0) = [0.39995, −0.8999];
    //   θ2 = θ1 − 0.1·(u2 + 1e-3·θ1) = [0.29991, −0.99981].
    const theta = { w: tf.variable(tf.tensor([0.5, -1])) };
    const g1 = { w: tf.tensor([1, -2]) };
    const g2 = { w: tf.tensor([3, 0.5]) };
    const tx = lion(0.1);
    let state = tx.init(theta);
    state = stepVariables(tx, theta, g1, state);
    expectArrayClose(values(theta.w), [0.39995, -0.8999]);
    state = stepVariables(tx, theta, g2, state);
    expectArrayClose(values(theta.w), [
      0.39995 - 0.1 * (1 + 0.00039995),
      -0.8999 - 0.1 * (1 - 0.0008999),
    ]);
    treeDispose([theta, g1, g2, state]);
  });
});
