// dog, dowg and cocob through TransformOptimizer: N steps, save with the
// model, load, M more steps equals N + M uninterrupted steps.
import * as tf from '@tensorflow/tfjs';
import { cocob, dog, dowg, readDogEta, readDowgEta } from '@tfopt/contrib';
import { type GradientTransformation, injectLearningRate } from '@tfopt/core';
import { describeEachBackend, expectArrayClose } from '@tfopt/testing';
import {
  quietWasmLeakCheck,
  REGRESSION_FIT,
  regressionData,
  regressionModel,
  saveWithOptimizer as save,
  modelWeights as weights,
} from '@tfopt/testing/layers';
import { expect, it } from 'vitest';
import { TransformOptimizer } from './index.js';

type Read = ((state: unknown) => number | undefined) | undefined;
const CASES: [string, () => GradientTransformation<any>, Read, number | undefined][] = [
  ['dog()', () => dog(), readDogEta, undefined],
  [
    'dog, layer-wise, initDistance',
    () => dog(1, { layerWise: true, initDistance: 0.05 }),
    undefined,
    undefined,
  ],
  [
    'dog with an injected learning rate changed before saving',
    () => injectLearningRate(dog, 1, { initEta: 0.01, weightDecay: 1e-3 }),
    readDogEta,
    0.7,
  ],
  ['dowg()', () => dowg(), readDowgEta, undefined],
  ['cocob(1, { alpha: 20 })', () => cocob(1, { alpha: 20 }), undefined, undefined],
];

describeEachBackend('dog, dowg and cocob: save, load and resume', (backend) => {
  quietWasmLeakCheck(backend);

  for (const [title, build, read, newRate] of CASES) {
    it(`${title}: N steps, save, load, M steps equals N + M steps`, async () => {
      const { xs, ys } = regressionData();
      const a = regressionModel();
      const start = weights(a);
      const optimizer = new TransformOptimizer(build());
      a.compile({ optimizer, loss: 'meanSquaredError' });
      if (newRate !== undefined) optimizer.learningRate = newRate;
      await a.fit(xs, ys, REGRESSION_FIT);
      const artifacts = await save(a);
      const etaAtSave = read?.(optimizer.getState());
      await a.fit(xs, ys, REGRESSION_FIT);

      const b = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      const loaded = b.optimizer as TransformOptimizer;
      expect(loaded).toBeInstanceOf(TransformOptimizer);
      expect(loaded.transform.spec?.name).toBe(optimizer.transform.spec?.name);
      expect(loaded.iterations).toBe(6);
      if (newRate !== undefined) expect(loaded.learningRate).toBeCloseTo(newRate, 7);
      if (read !== undefined) expect(read(loaded.getState())).toBe(etaAtSave);
      await b.fit(xs, ys, REGRESSION_FIT);
      const wa = weights(a);
      const wb = weights(b);
      expect(wb.length).toBe(wa.length);
      // Bit for bit: the state's tensors keep their bytes and its numbers are exact.
      wb.forEach((w, i) => {
        expectArrayClose(w, wa[i]!, { rtol: 0, atol: 0 }, `weight ${i}`);
      });
      if (read !== undefined) {
        expect(read(loaded.getState())).toBe(read(optimizer.getState()));
      }
      // Training moved the weights (dog() from r_eps = 1e-6 (1 + ||x0||) least: ~6e-5 in
      // 12 steps), so the comparison is not trivially equal.
      expect(Math.max(...wa[0]!.map((v, j) => Math.abs(v - start[0]![j]!)))).toBeGreaterThan(1e-5);
      expect(loaded.iterations).toBe(12);

      for (const m of [a, b]) {
        m.optimizer.dispose();
        m.dispose();
      }
      tf.dispose([xs, ys]);
    });
  }
});
