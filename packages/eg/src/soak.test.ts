// tfjs-core registers no gradients by itself; the soak trains with tf.variableGrads.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, stepVariables, treeDispose } from '@tfopt/core';
import {
  describeEachBackend,
  expectSoakHeld,
  lcgNumbers,
  SOAK_CHECK_EVERY,
  type SoakCheckpoint,
  type SoakResult,
  soakData,
  soakSteps,
  soakTimeout,
} from '@tfopt/testing';
import { it } from 'vitest';
import { egAdam, egSgdm } from './aliases.js';

// Soak: long training runs of the EG optimizers on a small MLP, checking that
// tf.memory() stays exactly flat (no tensor or byte leaked per step) and that
// the loss goes down and stays finite. `TFOPT_SOAK_STEPS` sets the steps per
// run (`npm run soak` at the repository root runs 20,000); the default keeps
// the file fast enough for every `npm test`.

/** Steps before the baseline measurement (first-step allocations settle). */
const WARMUP = 10;
const STEPS = soakSteps();
const TIMEOUT = soakTimeout(STEPS);

const IN = 8;
const HIDDEN = 16;
const OUT = 4;

/** A type, not an interface, so that it is a `Tree`. */
type Mlp = {
  readonly w1: tf.Variable;
  readonly b1: tf.Variable;
  readonly w2: tf.Variable;
  readonly b2: tf.Variable;
};

/** An 8-16-4 MLP as plain variables, initialised from fixed numbers scaled by 1/sqrt(fan-in). */
function makeMlp(): Mlp {
  // tf.variable keeps its initial value alive; tidy frees it (and keeps the variable).
  const dense = (fanIn: number, fanOut: number, seed: number) =>
    tf.tidy(() =>
      tf.variable(
        tf.mul(
          tf.tensor2d(lcgNumbers(fanIn * fanOut, seed), [fanIn, fanOut]),
          Math.sqrt(3 / fanIn),
        ),
      ),
    );
  return {
    w1: dense(IN, HIDDEN, 3),
    b1: tf.tidy(() => tf.variable(tf.zeros([HIDDEN]))),
    w2: dense(HIDDEN, OUT, 4),
    b2: tf.tidy(() => tf.variable(tf.zeros([OUT]))),
  };
}

function mse(p: Mlp, xs: tf.Tensor2D, ys: tf.Tensor2D): tf.Scalar {
  const h = tf.tanh(tf.add(tf.matMul(xs, p.w1), p.b1));
  const out = tf.add(tf.matMul(h, p.w2), p.b2);
  return tf.mean(tf.square(tf.sub(out, ys)));
}

/** Train the MLP with `tx` through stepVariables for `steps` steps, measuring memory. */
function soak(tx: GradientTransformation<unknown>, steps: number): SoakResult {
  const tensorsBefore = tf.memory().numTensors;
  const t0 = performance.now();
  const { xs, ys } = soakData();
  const mlp = makeMlp();
  let state = tx.init(mlp);
  let initialLoss = Number.NaN;
  const checkpoints: SoakCheckpoint[] = [];
  for (let i = 1; i <= steps; i++) {
    const { value, grads } = tf.variableGrads(() => mse(mlp, xs, ys));
    const g = {
      w1: grads[mlp.w1.name]!,
      b1: grads[mlp.b1.name]!,
      w2: grads[mlp.w2.name]!,
      b2: grads[mlp.b2.name]!,
    };
    state = stepVariables(tx, mlp, g, state);
    const check = i === WARMUP || i % SOAK_CHECK_EVERY === 0 || i === steps;
    // The loss of the parameters before this step's update.
    const loss = i === 1 || check ? (value.dataSync()[0] as number) : Number.NaN;
    tf.dispose([value, grads]);
    if (i === 1) initialLoss = loss;
    if (check) {
      const { numTensors, numBytes } = tf.memory();
      checkpoints.push({ step: i, numTensors, numBytes, loss });
    }
  }
  treeDispose([state, mlp, xs, ys]);
  return {
    initialLoss,
    checkpoints,
    tensorsBefore,
    tensorsAfter: tf.memory().numTensors,
    seconds: (performance.now() - t0) / 1000,
  };
}

const OPTIMIZERS: [string, () => GradientTransformation<any>][] = [
  ['egAdam', () => egAdam(1e-2)],
  ['egAdam perTensor', () => egAdam(1e-2, { scale: { perTensor: true } })],
  ['egSgdm', () => egSgdm(0.05)],
  ['egSgdm perTensor', () => egSgdm(0.05, { scale: { perTensor: true } })],
];

describeEachBackend('soak: EG optimizers on an 8-16-4 MLP', (backend) => {
  for (const [name, build] of OPTIMIZERS) {
    it(
      `${name}: ${STEPS} steps with flat memory and a falling, finite loss`,
      () => {
        expectSoakHeld(`${name} [${backend}]`, soak(build(), STEPS), STEPS);
      },
      TIMEOUT,
    );
  }
});
