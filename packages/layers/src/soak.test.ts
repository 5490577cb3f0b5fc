import * as tf from '@tensorflow/tfjs';
import type { GradientTransformation } from '@tfopt/core';
import { egAdam, egSgdm } from '@tfopt/eg';
import {
  describeEachBackend,
  expectSoakHeld,
  SOAK_CHECK_EVERY,
  type SoakCheckpoint,
  type SoakResult,
  soakData,
  soakSteps,
  soakTimeout,
} from '@tfopt/testing';
import { quietWasmLeakCheck } from '@tfopt/testing/layers';
import { expect, it } from 'vitest';
import { TransformOptimizer } from './index.js';

// Soak: long training runs of a tiny tf.sequential model through
// TransformOptimizer (trainOnBatch and model.fit), checking that tf.memory()
// stays exactly flat and that the loss goes down and stays finite. The
// stepVariables soak of the same optimizers is packages/eg/src/soak.test.ts.
// `TFOPT_SOAK_STEPS` sets the steps per run (`npm run soak` at the repository
// root runs 20,000); the default keeps the file fast enough for `npm test`.

/** Steps before the baseline measurement (first-step allocations settle). */
const WARMUP = 16;
/** Batches per epoch in the model.fit run (64 samples, batches of 16; divides SOAK_CHECK_EVERY). */
const BATCHES = 4;

const STEPS = soakSteps();
const TIMEOUT = soakTimeout(STEPS);

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
  const { xs, ys } = soakData();
  const model = makeModel();
  const optimizer = new TransformOptimizer(tx);
  model.compile({ optimizer, loss: 'meanSquaredError' });
  let initialLoss = Number.NaN;
  const checkpoints: SoakCheckpoint[] = [];
  await drive(model, xs, ys, (step, loss) => {
    if (Number.isNaN(initialLoss)) initialLoss = loss;
    if (step === WARMUP || step % SOAK_CHECK_EVERY === 0) {
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
        expect(r.checkpoints[0]?.step).toBe(WARMUP);
        expectSoakHeld(`${name} via ${via} [${backend}]`, r, STEPS);
      },
      TIMEOUT,
    );
  }
});
