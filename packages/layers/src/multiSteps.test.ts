// Gradient accumulation inside model.fit: multiSteps(adam, { everyK: 4 })
// with batches of 16 is Adam on batches of 64 (the mean of the four
// gradients is the gradient of the mean loss over the 64 samples), the
// variables move only every fourth batch, and a checkpoint taken in the
// middle of an accumulation resumes exactly.
import * as tf from '@tensorflow/tfjs';
import { describeEachBackend, expectArrayClose } from '@tfopt/testing';
import {
  quietWasmLeakCheck,
  regressionModel,
  saveWithOptimizer as save,
  modelWeights as weights,
} from '@tfopt/testing/layers';
import type { MultiStepsState } from '@tfopt/transforms';
import { adam, multiSteps } from '@tfopt/transforms';
import { expect, it } from 'vitest';
import { TransformOptimizer } from './index.js';

/** 64 samples of 3 inputs: four batches of 16 per epoch. */
function data(): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  const x = Array.from({ length: 64 * 3 }, (_, i) => Math.sin(1.3 * i + 0.7));
  const y = Array.from(
    { length: 64 },
    (_, i) => x[3 * i]! - 0.5 * x[3 * i + 1]! + (x[3 * i + 2] as number) ** 2,
  );
  return { xs: tf.tensor2d(x, [64, 3]), ys: tf.tensor2d(y, [64, 1]) };
}

function expectWeightsClose(actual: number[][], expected: number[][], rtol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((w, i) => {
    expectArrayClose(w, expected[i]!, { rtol, atol: 1e-6 }, `weight ${i}`);
  });
}

/** The 16-sample batch `b` (0 to 3) of an epoch. */
function batch(xs: tf.Tensor2D, ys: tf.Tensor2D, b: number): [tf.Tensor, tf.Tensor] {
  return [xs.slice([16 * b, 0], [16, 3]), ys.slice([16 * b, 0], [16, 1])];
}

describeEachBackend('multiSteps inside model.fit', (backend) => {
  quietWasmLeakCheck(backend);

  it('multiSteps(adam, everyK 4) on batches of 16 equals adam on batches of 64', async () => {
    const { xs, ys } = data();
    const fit = { epochs: 5, shuffle: false, verbose: 0 } as const;
    const a = regressionModel();
    a.compile({
      optimizer: new TransformOptimizer(multiSteps(adam(0.02), { everyK: 4 })),
      loss: 'meanSquaredError',
    });
    await a.fit(xs, ys, { ...fit, batchSize: 16 });
    const b = regressionModel();
    b.compile({ optimizer: new TransformOptimizer(adam(0.02)), loss: 'meanSquaredError' });
    await b.fit(xs, ys, { ...fit, batchSize: 64 });
    expect(a.optimizer.iterations).toBe(20);
    expect(b.optimizer.iterations).toBe(5);
    const state = (a.optimizer as TransformOptimizer).getState() as MultiStepsState<unknown>;
    expect([state.miniStep, state.gradientStep]).toEqual([0, 5]);
    // Float32 sums over 16 and over 64 samples round differently; the steps agree closely.
    expectWeightsClose(weights(a), weights(b), 1e-4);
    for (const m of [a, b]) {
      m.optimizer.dispose();
      m.dispose();
    }
    tf.dispose([xs, ys]);
  });

  it('moves the variables only on every fourth batch', async () => {
    const { xs, ys } = data();
    const m = regressionModel();
    m.compile({
      optimizer: new TransformOptimizer(multiSteps(adam(0.02), { everyK: 4 })),
      loss: 'meanSquaredError',
    });
    const start = weights(m);
    const moved: boolean[] = [];
    for (let b = 0; b < 4; b++) {
      const [x, y] = batch(xs, ys, b);
      await m.trainOnBatch(x, y);
      tf.dispose([x, y]);
      moved.push(JSON.stringify(weights(m)) !== JSON.stringify(start));
    }
    expect(moved).toEqual([false, false, false, true]);
    m.optimizer.dispose();
    m.dispose();
    tf.dispose([xs, ys]);
  });

  it('save in the middle of an accumulation, load, resume: equals uninterrupted training', async () => {
    const { xs, ys } = data();
    const tx = () => multiSteps(adam(0.02), { everyK: 4 });
    const a = regressionModel();
    const optimizer = new TransformOptimizer(tx());
    a.compile({ optimizer, loss: 'meanSquaredError' });
    // Six batches: one inner step, then two batches accumulated.
    await a.fit(xs, ys, { epochs: 1, batchSize: 16, shuffle: false, verbose: 0 });
    for (const b of [0, 1]) {
      const [x, y] = batch(xs, ys, b);
      await a.trainOnBatch(x, y);
      tf.dispose([x, y]);
    }
    const saved = optimizer.getState() as MultiStepsState<unknown>;
    expect([saved.miniStep, saved.gradientStep]).toEqual([2, 1]);
    const artifacts = await save(a);
    const rest = { epochs: 2, batchSize: 16, shuffle: false, verbose: 0 } as const;
    await a.fit(xs, ys, rest);

    const b = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const loaded = b.optimizer as TransformOptimizer;
    expect(loaded.iterations).toBe(6);
    const restored = loaded.getState() as MultiStepsState<unknown>;
    expect([restored.miniStep, restored.gradientStep]).toEqual([2, 1]);
    await b.fit(xs, ys, rest);
    expectWeightsClose(weights(b), weights(a));
    const end = loaded.getState() as MultiStepsState<unknown>;
    // 6 + 8 batches: three inner steps, two batches accumulated, in both.
    expect([end.miniStep, end.gradientStep]).toEqual([2, 3]);
    expect(optimizer.getState()).toMatchObject({ miniStep: 2, gradientStep: 3 });
    for (const m of [a, b]) {
      m.optimizer.dispose();
      m.dispose();
    }
    tf.dispose([xs, ys]);
  });
});
