// tfjs-core registers no gradients by itself; the soak trains with tf.variableGrads.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, stepVariables, treeDispose } from '@tfopt/core';
import { describeEachBackend } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { egAdam, egSgdm } from './aliases.js';

// Soak: long training runs of the EG optimizers on a small MLP, checking that
// tf.memory() stays exactly flat (no tensor or byte leaked per step) and that
// the loss goes down and stays finite. `TFOPT_SOAK_STEPS` sets the steps per
// run (`npm run soak` at the repository root runs 20,000); the default keeps
// the file fast enough for every `npm test`.

/** Steps per run when TFOPT_SOAK_STEPS is not set. */
const DEFAULT_STEPS = 2000;
/** Memory is measured (and the loss read) every this many steps. */
const CHECK_EVERY = 500;
/** Steps before the baseline measurement (first-step allocations settle). */
const WARMUP = 10;

function soakSteps(): number {
  const raw = process.env.TFOPT_SOAK_STEPS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_STEPS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < CHECK_EVERY) {
    throw new Error(`TFOPT_SOAK_STEPS must be an integer >= ${CHECK_EVERY}, got "${raw}"`);
  }
  return n;
}

const STEPS = soakSteps();
/** Per-test timeout: the shared 120 s, or 20 ms a step for long runs. */
const TIMEOUT = Math.max(120_000, STEPS * 20);

/** Deterministic numbers in [-1, 1), the same on every backend. */
function numbers(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

const N = 64;
const IN = 8;
const HIDDEN = 16;
const OUT = 4;

/** 64 fixed inputs and the targets of a fixed smooth teacher, y = sin(x·A). */
function makeData(): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  const x = numbers(N * IN, 1);
  const a = numbers(IN * OUT, 2);
  const y: number[] = [];
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < OUT; j++) {
      let dot = 0;
      for (let k = 0; k < IN; k++) dot += x[i * IN + k]! * a[k * OUT + j]!;
      y.push(Math.sin(dot));
    }
  }
  return { xs: tf.tensor2d(x, [N, IN]), ys: tf.tensor2d(y, [N, OUT]) };
}

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
        tf.mul(tf.tensor2d(numbers(fanIn * fanOut, seed), [fanIn, fanOut]), Math.sqrt(3 / fanIn)),
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

interface Checkpoint {
  readonly step: number;
  readonly numTensors: number;
  readonly numBytes: number;
  readonly loss: number;
}

interface SoakResult {
  /** The loss before the first update. */
  readonly initialLoss: number;
  /** After the warm-up, then every CHECK_EVERY steps and after the last step. */
  readonly checkpoints: readonly Checkpoint[];
  /** Live tensors before the run created anything, and after it freed everything. */
  readonly tensorsBefore: number;
  readonly tensorsAfter: number;
  readonly seconds: number;
}

/** Train the MLP with `tx` through stepVariables for `steps` steps, measuring memory. */
function soak(tx: GradientTransformation<unknown>, steps: number): SoakResult {
  const tensorsBefore = tf.memory().numTensors;
  const t0 = performance.now();
  const { xs, ys } = makeData();
  const mlp = makeMlp();
  let state = tx.init(mlp);
  let initialLoss = Number.NaN;
  const checkpoints: Checkpoint[] = [];
  for (let i = 1; i <= steps; i++) {
    const { value, grads } = tf.variableGrads(() => mse(mlp, xs, ys));
    const g = {
      w1: grads[mlp.w1.name]!,
      b1: grads[mlp.b1.name]!,
      w2: grads[mlp.w2.name]!,
      b2: grads[mlp.b2.name]!,
    };
    state = stepVariables(tx, mlp, g, state);
    const check = i === WARMUP || i % CHECK_EVERY === 0 || i === steps;
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
        const r = soak(build(), STEPS);
        const base = r.checkpoints[0]!;
        const last = r.checkpoints[r.checkpoints.length - 1]!;
        const lowest = r.checkpoints.reduce((m, c) => (c.loss < m.loss ? c : m));
        console.log(
          `[soak] ${name} [${backend}]: ${last.step} steps in ${r.seconds.toFixed(1)} s; ` +
            `numTensors ${base.numTensors} (step ${base.step}) -> ${last.numTensors}, ` +
            `numBytes ${base.numBytes} -> ${last.numBytes}; ` +
            `loss ${r.initialLoss.toPrecision(6)} -> ${last.loss.toPrecision(6)} ` +
            `(lowest ${lowest.loss.toPrecision(6)} at step ${lowest.step})`,
        );
        expect(last.step).toBe(STEPS);
        // Exactly flat: every checkpoint holds the baseline's tensors and bytes.
        const at = (key: 'numTensors' | 'numBytes') =>
          r.checkpoints.map((c) => `step ${c.step}: ${c[key]}`);
        const flat = (key: 'numTensors' | 'numBytes') =>
          r.checkpoints.map((c) => `step ${c.step}: ${base[key]}`);
        expect(at('numTensors')).toEqual(flat('numTensors'));
        expect(at('numBytes')).toEqual(flat('numBytes'));
        // Everything the run made is freed again.
        expect(r.tensorsAfter).toBe(r.tensorsBefore);
        // The loss stays finite throughout and ends well below where it started.
        expect(Number.isFinite(r.initialLoss)).toBe(true);
        for (const c of r.checkpoints) {
          expect(Number.isFinite(c.loss), `loss at step ${c.step} is ${c.loss}`).toBe(true);
        }
        expect(last.loss).toBeLessThan(0.25 * r.initialLoss);
      },
      TIMEOUT,
    );
  }
});
