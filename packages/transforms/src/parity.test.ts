import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients by itself; tf.train and tf.variableGrads need them.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { type GradientTransformation, stepVariables, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { adagrad, adam, rmsprop, sgd } from './index.js';

// A small least-squares problem with two parameter tensors:
//   loss(W, b) = mean((X·W + b − Y)²),  X: [6, 3], W: [3, 2], b: [2], Y: [6, 2].
const X = [
  [1, 2, -1],
  [0.5, -1, 2],
  [-1.5, 0.3, 0.7],
  [2, 1, 1],
  [-0.2, -0.8, 1.5],
  [0.9, -1.7, -0.4],
];
const Y = [
  [1, -2],
  [0.5, 3],
  [-1, 0.2],
  [2.5, 1],
  [0, -1.3],
  [1.1, 0.6],
];
const W0 = [
  [0.1, -0.2],
  [0.3, 0.05],
  [-0.4, 0.2],
];
const B0 = [0.05, -0.1];

function loss(W: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.tidy(() =>
    tf.mean(tf.square(tf.sub(tf.add(tf.matMul(tf.tensor2d(X), W), b), tf.tensor2d(Y)))),
  );
}

function lossValue(p: { W: tf.Tensor; b: tf.Tensor }): number {
  return tf.tidy(() => loss(p.W, p.b).dataSync()[0]!);
}

interface ParityCase {
  name: string;
  ours: () => GradientTransformation<any>;
  theirs: () => tf.Optimizer;
  steps: number;
}

/**
 * Run both optimizers side by side from the same start and compare both
 * parameter tensors after every step.
 */
function runSideBySide({ ours, theirs, steps }: ParityCase): number {
  const mine = { W: tf.variable(tf.tensor2d(W0)), b: tf.variable(tf.tensor1d(B0)) };
  const ref = { W: tf.variable(tf.tensor2d(W0)), b: tf.variable(tf.tensor1d(B0)) };
  const tx = ours();
  const opt = theirs();
  let state = tx.init(mine);
  const startLoss = lossValue(mine);
  let tensorsAfterFirstStep = 0;
  let worst = 0;
  for (let i = 0; i < steps; i++) {
    // tf.train creates its slot variables on the first step; from then on the count is flat.
    if (i === 1) tensorsAfterFirstStep = tf.memory().numTensors;
    opt.minimize(() => loss(ref.W, ref.b), false, [ref.W, ref.b]);
    const { value, grads } = tf.variableGrads(() => loss(mine.W, mine.b), [mine.W, mine.b]);
    state = stepVariables(tx, mine, { W: grads[mine.W.name]!, b: grads[mine.b.name]! }, state);
    tf.dispose([value, grads]);
    for (const key of ['W', 'b'] as const) {
      const a = values(mine[key]);
      const e = values(ref[key]);
      expectArrayClose(a, e, { rtol: 1e-4, atol: 1e-5 }, `step ${i + 1} ${key}`);
      for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j]! - e[j]!));
    }
  }
  expect(tf.memory().numTensors).toBe(tensorsAfterFirstStep);
  // The runs compared a moving trajectory, not a fixed point.
  expect(lossValue(mine)).toBeLessThan(0.9 * startLoss);
  opt.dispose();
  treeDispose([state, mine, ref]);
  return worst;
}

const cases: ParityCase[] = [
  { name: 'sgd', ours: () => sgd(0.05), theirs: () => tf.train.sgd(0.05), steps: 150 },
  {
    name: 'sgd + momentum',
    ours: () => sgd(0.02, { momentum: 0.9 }),
    theirs: () => tf.train.momentum(0.02, 0.9),
    steps: 150,
  },
  {
    name: 'sgd + nesterov',
    ours: () => sgd(0.02, { momentum: 0.9, nesterov: true }),
    theirs: () => tf.train.momentum(0.02, 0.9, true),
    steps: 150,
  },
  {
    // tf.train.adam's default epsilon is the backend's 1e-7; pass ours explicitly.
    name: 'adam',
    ours: () => adam(0.01),
    theirs: () => tf.train.adam(0.01, 0.9, 0.999, 1e-8),
    steps: 150,
  },
  {
    // tf.train.rmsprop's default epsilon is the backend's 1e-7; both add it inside the sqrt.
    name: 'rmsprop',
    ours: () => rmsprop(0.001, { decay: 0.9, eps: 1e-7 }),
    theirs: () => tf.train.rmsprop(0.001, 0.9),
    steps: 150,
  },
  {
    name: 'rmsprop + momentum',
    ours: () => rmsprop(0.0005, { decay: 0.9, eps: 1e-7, momentum: 0.8 }),
    theirs: () => tf.train.rmsprop(0.0005, 0.9, 0.8),
    steps: 150,
  },
  {
    // tf.train's centered variant takes sqrt(ms − mg² − eps): it agrees only with eps = 0.
    name: 'rmsprop centered + momentum',
    ours: () => rmsprop(0.0005, { decay: 0.9, eps: 0, centered: true, momentum: 0.5 }),
    theirs: () => tf.train.rmsprop(0.0005, 0.9, 0.5, 0, true),
    steps: 150,
  },
  {
    // tf.train.adagrad always adds the backend's 1e-7 inside the sqrt: our default eps.
    name: 'adagrad',
    ours: () => adagrad(0.1, { initialAccumulatorValue: 0.1 }),
    theirs: () => tf.train.adagrad(0.1, 0.1),
    steps: 150,
  },
];

describeEachBackend('same trajectory as tf.train', () => {
  for (const c of cases) {
    it(`${c.name}: ${c.steps} steps`, () => {
      const worst = runSideBySide(c);
      console.log(`${tf.getBackend()} ${c.name}: max |Δθ| = ${worst.toExponential(2)}`);
    });
  }
});
