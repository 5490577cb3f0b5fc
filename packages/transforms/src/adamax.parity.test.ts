import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients by itself; tf.train and tf.variableGrads need them.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { type GradientTransformation, stepVariables, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { adamax } from './index.js';

// tf.train.adamax (tfjs-core's AdamaxOptimizer) against adamax, side by side.
//
// tfjs:  m ← b1·m + (1 − b1)·g;  u ← max(b2·u, |g|);
//        θ ← θ − lr / (1 + decay·i) / (1 − b1^t) · m / (u + epsilon)   (i = t − 1)
// Optax: m ← b1·m + (1 − b1)·g;  ν ← max(|g| + eps, b2·ν);
//        θ ← θ − lr_t · m / (1 − b1^t) / ν
//
// So the definitions differ only in epsilon: tfjs adds it after the maximum
// at every step, Optax adds it to |g| inside the maximum, where it is carried
// (decayed) in ν. With eps = epsilon = 0 they coincide. tfjs's `decay` is a
// learning-rate decay, which here is a schedule of the step count; its
// b1^t is a float32 tensor product (ours is computed in float64).

// loss(W, b) = mean((X·W + b − Y)²), X: [5, 3], W: [3, 2], b: [2].
const X = [
  [1, 2, -1],
  [0.5, -1, 2],
  [-1.5, 0.3, 0.7],
  [2, 1, 1],
  [-0.2, -0.8, 1.5],
];
const Y = [
  [1, -2],
  [0.5, 3],
  [-1, 0.2],
  [2.5, 1],
  [0, -1.3],
];
const W0 = [
  [0.1, -0.2],
  [0.3, 0.05],
  [-0.4, 0.2],
];
const B0 = [0.05, -0.1];

const loss = (W: tf.Tensor, b: tf.Tensor): tf.Scalar =>
  tf.tidy(() =>
    tf.mean(tf.square(tf.sub(tf.add(tf.matMul(tf.tensor2d(X), W), b), tf.tensor2d(Y)))),
  );

function sideBySide(ours: GradientTransformation<any>, theirs: tf.Optimizer, steps: number) {
  const mine = { W: tf.variable(tf.tensor2d(W0)), b: tf.variable(tf.tensor1d(B0)) };
  const ref = { W: tf.variable(tf.tensor2d(W0)), b: tf.variable(tf.tensor1d(B0)) };
  const startLoss = tf.tidy(() => loss(mine.W, mine.b).dataSync()[0]!);
  let state = ours.init(mine);
  let tensorsAfterFirstStep = 0;
  for (let i = 0; i < steps; i++) {
    // tf.train creates its slot variables on the first step; from then on the count is flat.
    if (i === 1) tensorsAfterFirstStep = tf.memory().numTensors;
    theirs.minimize(() => loss(ref.W, ref.b), false, [ref.W, ref.b]);
    const { value, grads } = tf.variableGrads(() => loss(mine.W, mine.b), [mine.W, mine.b]);
    state = stepVariables(ours, mine, { W: grads[mine.W.name]!, b: grads[mine.b.name]! }, state);
    tf.dispose([value, grads]);
    for (const key of ['W', 'b'] as const) {
      expectArrayClose(
        values(mine[key]),
        values(ref[key]),
        { rtol: 1e-4, atol: 1e-5 },
        `step ${i + 1} ${key}`,
      );
    }
  }
  expect(tf.memory().numTensors).toBe(tensorsAfterFirstStep);
  // A moving trajectory was compared, not a fixed point.
  expect(tf.tidy(() => loss(mine.W, mine.b).dataSync()[0]!)).toBeLessThan(0.9 * startLoss);
  theirs.dispose();
  treeDispose([state, mine, ref]);
}

describeEachBackend(
  'adamax: same trajectory as tf.train.adamax where the definitions coincide',
  () => {
    it('eps = epsilon = 0: 150 steps', () => {
      sideBySide(adamax(0.01, { eps: 0 }), tf.train.adamax(0.01, 0.9, 0.999, 0), 150);
    });

    it("tf.train's learning-rate decay is the schedule lr / (1 + decay·count): 150 steps", () => {
      const decay = 0.01;
      sideBySide(
        adamax((count) => 0.02 / (1 + decay * count), { b1: 0.8, b2: 0.99, eps: 0 }),
        tf.train.adamax(0.02, 0.8, 0.99, 0, decay),
        150,
      );
    });

    it('differs where epsilon is carried in the norm (derived by hand)', () => {
      // One scalar θ0 = 0, b1 = 0.5, b2 = 0.5, eps = epsilon = 0.5, lr = 1; gradients 4 then 1
      // (given directly, as the loss 4θ, then θ).
      // Step 1, both: m = 2, m̂ = 4, norm 4 + 0.5: θ1 = −4 / 4.5.
      // Step 2: m = 0.5·2 + 0.5·1 = 1.5, m̂ = 1.5 / 0.75 = 2;
      //   tfjs: u = max(0.5·4, 1) = 2, then + epsilon: θ2 = θ1 − 2 / 2.5 = θ1 − 0.8;
      //   here: ν = max(1 + 0.5, 0.5·4.5) = 2.25:     θ2 = θ1 − 2 / 2.25 ≈ θ1 − 0.8888889.
      const ours = adamax(1, { b1: 0.5, b2: 0.5, eps: 0.5 });
      const theirs = tf.train.adamax(1, 0.5, 0.5, 0.5);
      const mine = { x: tf.variable(tf.scalar(0)) };
      const ref = tf.variable(tf.scalar(0));
      let state = ours.init(mine);
      const theta1 = -4 / 4.5;
      for (const [k, gradient] of [4, 1].entries()) {
        theirs.minimize(() => tf.mul(ref, gradient) as tf.Scalar, false, [ref]);
        const g = { x: tf.scalar(gradient) };
        state = stepVariables(ours, mine, g, state);
        treeDispose(g);
        if (k === 0) {
          expectArrayClose(values(ref), [theta1]);
          expectArrayClose(values(mine.x), [theta1]);
        }
      }
      expectArrayClose(values(ref), [theta1 - 0.8]);
      expectArrayClose(values(mine.x), [theta1 - 2 / 2.25]);
      theirs.dispose();
      treeDispose([state, mine, ref]);
    });
  },
);
