import * as tf from '@tensorflow/tfjs';
import { chain, type GradientTransformation, stateless } from '@tfopt/core';
import { egAdam, egSgdm, readEgScale } from '@tfopt/eg';
import { describeEachBackend, expectArrayClose } from '@tfopt/testing';
import { quietWasmLeakCheck } from '@tfopt/testing/layers';
import { adam, sgd } from '@tfopt/transforms';
import { describe, expect, it } from 'vitest';
import { TransformOptimizer } from './index.js';

/** Deterministic numbers in [-1, 1), the same on every backend. */
function numbers(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

/** y = x·w + 0.5·sin(3·x0): a regression a small MLP can fit. */
function regressionData(n = 64): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  const x = numbers(n * 4, 1);
  const w = [0.8, -1.2, 0.5, 2];
  const y = Array.from({ length: n }, (_, i) => {
    const row = x.slice(4 * i, 4 * i + 4);
    return row.reduce((s, v, j) => s + v * w[j]!, 0) + 0.5 * Math.sin(3 * row[0]!);
  });
  return { xs: tf.tensor2d(x, [n, 4]), ys: tf.tensor2d(y, [n, 1]) };
}

/** 6x6 images; class 1 when the left half is brighter than the right. */
function imageData(n = 32): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  const px = numbers(n * 36, 7);
  const labels = Array.from({ length: n }, (_, i) => {
    let left = 0;
    for (let r = 0; r < 6; r++)
      for (let c = 0; c < 6; c++) left += (c < 3 ? 1 : -1) * px[i * 36 + r * 6 + c]!;
    return left > 0 ? 1 : 0;
  });
  return {
    xs: tf.tensor4d(px, [n, 6, 6, 1]),
    ys: tf.oneHot(tf.tensor1d(labels, 'int32'), 2) as tf.Tensor2D,
  };
}

const init = (seed: number) => tf.initializers.glorotUniform({ seed });

function denseModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({
        units: 8,
        inputShape: [4],
        activation: 'tanh',
        kernelInitializer: init(11),
      }),
      tf.layers.dense({ units: 1, kernelInitializer: init(12) }),
    ],
  });
}

function convModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        filters: 4,
        kernelSize: 3,
        inputShape: [6, 6, 1],
        activation: 'relu',
        kernelInitializer: init(21),
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: init(22) }),
    ],
  });
}

/** Layer by layer: a model lists frozen weights after trainable ones, so its flat order changes. */
function expectModelsClose(
  a: tf.LayersModel,
  b: tf.LayersModel,
  tol = { rtol: 1e-4, atol: 1e-5 },
): void {
  expect(a.layers.length).toBe(b.layers.length);
  a.layers.forEach((layer, li) => {
    const wb = b.layers[li]!.getWeights();
    layer.getWeights().forEach((w, i) => {
      expectArrayClose(w.dataSync(), wb[i]!.dataSync(), tol, `layer ${li} weight ${i}`);
    });
  });
}

const OPTIMIZERS: [string, () => GradientTransformation<any>][] = [
  ['adam', () => adam(0.02)],
  ['egAdam', () => egAdam(0.02, { scale: { scaleLearningRate: 0.05 } })],
  ['egSgdm', () => egSgdm(0.05, { momentum: 0.9 })],
];

describeEachBackend('TransformOptimizer in model.fit', (backend) => {
  quietWasmLeakCheck(backend);
  for (const [name, build] of OPTIMIZERS) {
    it(`${name}: a dense model learns`, async () => {
      const { xs, ys } = regressionData();
      const model = denseModel();
      const optimizer = new TransformOptimizer(build());
      model.compile({ optimizer, loss: 'meanSquaredError' });
      const h = await model.fit(xs, ys, { epochs: 8, batchSize: 16, shuffle: false, verbose: 0 });
      const loss = h.history.loss as number[];
      expect(loss[loss.length - 1]!).toBeLessThan(0.5 * loss[0]!);
      optimizer.dispose();
      model.dispose();
      tf.dispose([xs, ys]);
    });

    // tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel, so conv training runs on cpu only.
    it.skipIf(backend === 'wasm')(`${name}: a conv model learns`, async () => {
      const { xs, ys } = imageData();
      const model = convModel();
      const optimizer = new TransformOptimizer(build());
      model.compile({ optimizer, loss: 'categoricalCrossentropy' });
      const h = await model.fit(xs, ys, { epochs: 8, batchSize: 8, shuffle: false, verbose: 0 });
      const loss = h.history.loss as number[];
      expect(loss[loss.length - 1]!).toBeLessThan(0.8 * loss[0]!);
      optimizer.dispose();
      model.dispose();
      tf.dispose([xs, ys]);
    });
  }

  it('adam matches tf.train.adam inside fit', async () => {
    const { xs, ys } = regressionData();
    const ours = denseModel();
    const theirs = denseModel();
    theirs.setWeights(ours.getWeights());
    ours.compile({
      optimizer: new TransformOptimizer(adam(0.01, { eps: 1e-7 })),
      loss: 'meanSquaredError',
    });
    theirs.compile({ optimizer: tf.train.adam(0.01, 0.9, 0.999, 1e-7), loss: 'meanSquaredError' });
    for (const model of [ours, theirs])
      await model.fit(xs, ys, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
    expectModelsClose(ours, theirs);
    for (const model of [ours, theirs]) {
      model.optimizer.dispose();
      model.dispose();
    }
    tf.dispose([xs, ys]);
  });

  it('keeps tf.memory flat across epochs, and dispose frees the state', async () => {
    const { xs, ys } = regressionData();
    const model = denseModel();
    const optimizer = new TransformOptimizer(egAdam(0.01));
    model.compile({ optimizer, loss: 'meanSquaredError' });
    const start = tf.memory().numTensors;
    const perEpoch: number[] = [];
    await model.fit(xs, ys, {
      epochs: 6,
      batchSize: 16,
      verbose: 0,
      callbacks: { onEpochEnd: async () => void perEpoch.push(tf.memory().numTensors) },
    });
    expect(new Set(perEpoch).size).toBe(1);
    expect(readEgScale(optimizer.getState())[0]).toBeGreaterThan(0);
    optimizer.dispose();
    expect(tf.memory().numTensors).toBe(start);
    model.dispose();
    tf.dispose([xs, ys]);
  });

  it('drives fitDataset and trainOnBatch', async () => {
    const { xs, ys } = regressionData(32);
    const model = denseModel();
    const optimizer = new TransformOptimizer(egAdam(0.02));
    model.compile({ optimizer, loss: 'meanSquaredError' });
    const ds = tf.data
      .zip({ xs: tf.data.array(xs.unstack()), ys: tf.data.array(ys.unstack()) })
      .batch(8);
    const h = await model.fitDataset(ds as tf.data.Dataset<any>, { epochs: 6, verbose: 0 });
    const loss = h.history.loss as number[];
    expect(loss[5]!).toBeLessThan(loss[0]!);
    expect(optimizer.iterations).toBe(24);
    const before = model.evaluate(xs, ys) as tf.Scalar;
    for (let i = 0; i < 5; i++) await model.trainOnBatch(xs, ys);
    const after = model.evaluate(xs, ys) as tf.Scalar;
    expect(after.dataSync()[0]!).toBeLessThan(before.dataSync()[0]!);
    expect(optimizer.iterations).toBe(29);
    optimizer.dispose();
    model.dispose();
    tf.dispose([xs, ys, before, after]);
  });

  describe('freezing a layer mid-training', () => {
    /** Per-layer tf.train optimizers: each keeps only its layer's state, so freezing cannot misalign it. */
    async function compare(
      transform: GradientTransformation<any>,
      reference: () => tf.Optimizer,
      phases: { frozen: boolean; steps: number }[],
      tol = { rtol: 1e-5, atol: 1e-6 },
    ) {
      const { xs, ys } = regressionData(16);
      const ours = denseModel();
      const theirs = denseModel();
      theirs.setWeights(ours.getWeights());
      const optimizer = new TransformOptimizer(transform);
      const refs = theirs.layers.map(() => reference());
      for (const { frozen, steps } of phases) {
        // Freeze the first layer: with state kept by position, the second layer would take its slot.
        ours.layers[0]!.trainable = !frozen;
        ours.compile({ optimizer, loss: 'meanSquaredError' });
        const firstBefore = ours.layers[0]!.getWeights().map((w) => w.dataSync().slice());
        for (let i = 0; i < steps; i++) {
          await ours.trainOnBatch(xs, ys);
          const vars = theirs.trainableWeights.map((w) => w.read() as tf.Variable);
          const { value, grads } = tf.variableGrads(
            () => tf.mean(tf.square(tf.sub(theirs.apply(xs) as tf.Tensor, ys))) as tf.Scalar,
            vars,
          );
          theirs.layers.forEach((layer, li) => {
            if (frozen && li === 0) return;
            const names = layer.trainableWeights.map((w) => (w.read() as tf.Variable).name);
            refs[li]!.applyGradients(Object.fromEntries(names.map((n) => [n, grads[n]!])));
          });
          tf.dispose([value, grads]);
        }
        expectModelsClose(ours, theirs, tol);
        if (frozen) {
          ours.layers[0]!.getWeights().forEach((w, i) => {
            expect(w.dataSync()).toEqual(firstBefore[i]);
          });
          expect(optimizer.inactiveVariables).toHaveLength(2);
        }
      }
      optimizer.dispose();
      for (const r of refs) r.dispose();
      ours.dispose();
      theirs.dispose();
      tf.dispose([xs, ys]);
    }

    it('momentum: the other layer continues, the frozen one resumes its momentum', async () => {
      await compare(sgd(0.05, { momentum: 0.9 }), () => tf.train.momentum(0.05, 0.9), [
        { frozen: false, steps: 3 },
        { frozen: true, steps: 3 },
        { frozen: false, steps: 2 },
      ]);
    });

    it('adam: the other layer keeps its moments and step count', async () => {
      await compare(
        adam(0.01, { eps: 1e-7 }),
        () => tf.train.adam(0.01, 0.9, 0.999, 1e-7),
        [
          { frozen: false, steps: 3 },
          { frozen: true, steps: 3 },
        ],
        { rtol: 1e-4, atol: 1e-5 },
      );
    });
  });

  it('a step that throws inside fit leaves weights and state as they were', async () => {
    let fail = false;
    const saboteur = stateless((u) => {
      if (fail) throw new Error('sabotaged step');
      return u;
    });
    const { xs, ys } = regressionData(16);
    const model = denseModel();
    const control = denseModel();
    control.setWeights(model.getWeights());
    const optimizer = new TransformOptimizer(chain(egAdam(0.02), saboteur));
    model.compile({ optimizer, loss: 'meanSquaredError' });
    // The saboteur has no fused form, so the chain runs composable: the control must too, bit for bit.
    control.compile({
      optimizer: new TransformOptimizer(egAdam(0.02), { fused: false }),
      loss: 'meanSquaredError',
    });
    const fit = (m: tf.LayersModel) =>
      m.fit(xs, ys, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 });
    await fit(model);
    await fit(control);
    const weights = model.getWeights().map((w) => w.dataSync().slice());
    const state = (await optimizer.getWeights()).map((w) => w.tensor.dataSync().slice());
    fail = true;
    await expect(fit(model)).rejects.toThrow(/sabotaged step/);
    fail = false;
    model.getWeights().forEach((w, i) => {
      expect(w.dataSync()).toEqual(weights[i]);
    });
    (await optimizer.getWeights()).forEach((w, i) => {
      expect(w.tensor.dataSync()).toEqual(state[i]);
    });
    await fit(model);
    await fit(control);
    expectModelsClose(model, control, { rtol: 0, atol: 0 });
    optimizer.dispose();
    control.optimizer.dispose();
    model.dispose();
    control.dispose();
    tf.dispose([xs, ys]);
  });
});
