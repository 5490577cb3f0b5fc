import * as tf from '@tensorflow/tfjs';
import type { GradientTransformation } from '@tfopt/core';
import { egAdam, egSgdm } from '@tfopt/eg';
import { describeEachBackend } from '@tfopt/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TransformOptimizer } from './index.js';

// Soak: long training runs of a tiny tf.sequential model through
// TransformOptimizer (trainOnBatch and model.fit), checking that tf.memory()
// stays exactly flat and that the loss goes down and stays finite. The
// stepVariables soak of the same optimizers is packages/eg/src/soak.test.ts.
// `TFOPT_SOAK_STEPS` sets the steps per run (`npm run soak` at the repository
// root runs 20,000); the default keeps the file fast enough for `npm test`.

/** Steps per run when TFOPT_SOAK_STEPS is not set. */
const DEFAULT_STEPS = 2000;
/** Memory is measured (and the loss read) every this many steps. */
const CHECK_EVERY = 500;
/** Steps before the baseline measurement (first-step allocations settle). */
const WARMUP = 16;
/** Batches per epoch in the model.fit run (64 samples, batches of 16; divides CHECK_EVERY). */
const BATCHES = 4;

function soakSteps(): number {
  const raw = process.env.TFOPT_SOAK_STEPS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_STEPS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < CHECK_EVERY || n % CHECK_EVERY !== 0) {
    throw new Error(`TFOPT_SOAK_STEPS must be a multiple of ${CHECK_EVERY}, got "${raw}"`);
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

/** 64 fixed inputs in 8 dimensions and the targets of a fixed teacher, y = sin(x·A) in 4. */
function makeData(): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  const [n, din, dout] = [64, 8, 4];
  const x = numbers(n * din, 1);
  const a = numbers(din * dout, 2);
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dout; j++) {
      let dot = 0;
      for (let k = 0; k < din; k++) dot += x[i * din + k]! * a[k * dout + j]!;
      y.push(Math.sin(dot));
    }
  }
  return { xs: tf.tensor2d(x, [n, din]), ys: tf.tensor2d(y, [n, dout]) };
}

/** An 8-16-4 MLP with seeded initializers. */
function makeModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({
        units: 16,
        inputShape: [8],
        activation: 'tanh',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 11 }),
      }),
      tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 12 }) }),
    ],
  });
}

/** As in fit.test.ts: tfjs's test-mode leak check misfires on wasm's fused matMul in training. */
function quietWasmLeakCheck(backend: string): void {
  beforeAll(() => {
    if (backend === 'wasm') tf.env().set('IS_TEST', false);
  });
  afterAll(() => {
    tf.env().set('IS_TEST', true);
  });
}

interface Checkpoint {
  readonly step: number;
  readonly numTensors: number;
  readonly numBytes: number;
  readonly loss: number;
}

interface SoakResult {
  /** The loss of the first step (of the first epoch, for fit). */
  readonly initialLoss: number;
  /** After the warm-up, then every CHECK_EVERY steps (the last after the last step). */
  readonly checkpoints: readonly Checkpoint[];
  /** Live tensors before the run created anything, and after it freed everything. */
  readonly tensorsBefore: number;
  readonly tensorsAfter: number;
  readonly seconds: number;
}

type Driver = (
  model: tf.Sequential,
  xs: tf.Tensor2D,
  ys: tf.Tensor2D,
  record: (step: number, loss: number) => void,
) => Promise<void>;

/** One step per call of model.trainOnBatch on the whole data set. */
const byTrainOnBatch: Driver = async (model, xs, ys, record) => {
  for (let i = 1; i <= STEPS; i++) {
    const loss = (await model.trainOnBatch(xs, ys)) as number;
    record(i, loss);
  }
};

/** model.fit over STEPS / BATCHES epochs of BATCHES batches, measured at epoch ends. */
const byFit: Driver = async (model, xs, ys, record) => {
  await model.fit(xs, ys, {
    epochs: STEPS / BATCHES,
    batchSize: xs.shape[0] / BATCHES,
    shuffle: false,
    verbose: 0,
    callbacks: {
      onEpochEnd: async (epoch, logs) => record((epoch + 1) * BATCHES, logs?.loss as number),
    },
  });
};

async function soak(tx: GradientTransformation<unknown>, drive: Driver): Promise<SoakResult> {
  const tensorsBefore = tf.memory().numTensors;
  const t0 = performance.now();
  const { xs, ys } = makeData();
  const model = makeModel();
  const optimizer = new TransformOptimizer(tx);
  model.compile({ optimizer, loss: 'meanSquaredError' });
  let initialLoss = Number.NaN;
  const checkpoints: Checkpoint[] = [];
  await drive(model, xs, ys, (step, loss) => {
    if (Number.isNaN(initialLoss)) initialLoss = loss;
    if (step === WARMUP || step % CHECK_EVERY === 0) {
      const { numTensors, numBytes } = tf.memory();
      checkpoints.push({ step, numTensors, numBytes, loss });
    }
  });
  expect(optimizer.iterations).toBe(STEPS);
  optimizer.dispose();
  model.dispose();
  tf.dispose([xs, ys]);
  return {
    initialLoss,
    checkpoints,
    tensorsBefore,
    tensorsAfter: tf.memory().numTensors,
    seconds: (performance.now() - t0) / 1000,
  };
}

const RUNS: [string, () => GradientTransformation<any>, string, Driver][] = [
  ['egAdam', () => egAdam(1e-2), 'trainOnBatch', byTrainOnBatch],
  ['egSgdm', () => egSgdm(0.05), 'model.fit', byFit],
];

describeEachBackend('soak: TransformOptimizer on an 8-16-4 tf.sequential model', (backend) => {
  quietWasmLeakCheck(backend);
  for (const [name, build, via, drive] of RUNS) {
    it(
      `${name} through ${via}: ${STEPS} steps with flat memory and a falling, finite loss`,
      async () => {
        const r = await soak(build(), drive);
        const base = r.checkpoints[0]!;
        const last = r.checkpoints[r.checkpoints.length - 1]!;
        const lowest = r.checkpoints.reduce((m, c) => (c.loss < m.loss ? c : m));
        console.log(
          `[soak] ${name} via ${via} [${backend}]: ${last.step} steps in ${r.seconds.toFixed(1)} s; ` +
            `numTensors ${base.numTensors} (step ${base.step}) -> ${last.numTensors}, ` +
            `numBytes ${base.numBytes} -> ${last.numBytes}; ` +
            `loss ${r.initialLoss.toPrecision(6)} -> ${last.loss.toPrecision(6)} ` +
            `(lowest ${lowest.loss.toPrecision(6)} at step ${lowest.step})`,
        );
        expect(base.step).toBe(WARMUP);
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
