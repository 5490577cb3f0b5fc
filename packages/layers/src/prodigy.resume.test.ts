// prodigy and dadaptAdamw from @tfopt/contrib through TransformOptimizer:
// N steps, model.save, tf.loadLayersModel, M more steps equals N + M steps of
// uninterrupted training, with the estimate d (and x0 for prodigy) carried
// over, and readProdigyD / readDAdaptD finding d in getState().
import * as tf from '@tensorflow/tfjs';
import { dadaptAdamw, prodigy, readDAdaptD, readProdigyD } from '@tfopt/contrib';
import type { GradientTransformation } from '@tfopt/core';
import { linearSchedule } from '@tfopt/schedules';
import { describeEachBackend } from '@tfopt/testing';
import {
  quietWasmLeakCheck,
  REGRESSION_FIT,
  regressionData,
  regressionModel,
  saveWithOptimizer as save,
  modelWeights as weights,
} from '@tfopt/testing/layers';
import { expect, it } from 'vitest';
import { TransformOptimizer, transformToJson } from './index.js';

type Reader = (state: unknown) => number | undefined;

const CASES: [string, () => GradientTransformation<any>, Reader][] = [
  ['prodigy, defaults', () => prodigy(), readProdigyD],
  [
    'prodigy with a linear schedule, weight decay, no bias correction, growthRate 1.5',
    () =>
      prodigy(linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 20 }), {
        weightDecay: 1e-3,
        biasCorrection: false,
        growthRate: 1.5,
      }),
    readProdigyD,
  ],
  ['dadaptAdamw, defaults', () => dadaptAdamw(), readDAdaptD],
  [
    'dadaptAdamw with weight decay and growthRate 2',
    () => dadaptAdamw(0.8, { weightDecay: 1e-3, growthRate: 2 }),
    readDAdaptD,
  ],
];

describeEachBackend('prodigy and dadaptAdamw: save, load and resume', (backend) => {
  quietWasmLeakCheck(backend);

  for (const [title, build, readD] of CASES) {
    it(`${title}: N steps, save, load, M steps equals N + M steps`, async () => {
      const { xs, ys } = regressionData();
      const a = regressionModel();
      const optimizer = new TransformOptimizer(build());
      a.compile({ optimizer, loss: 'meanSquaredError' });
      expect(readD(optimizer.getState())).toBeUndefined(); // no state before the first step
      await a.fit(xs, ys, REGRESSION_FIT);
      const dAtSave = readD(optimizer.getState())!;
      // The estimate has moved off d0 = 1e-6 by the time of saving, or the test proves little.
      expect(dAtSave).toBeGreaterThan(2e-6);
      const artifacts = await save(a);
      await a.fit(xs, ys, REGRESSION_FIT);

      const b = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      const loaded = b.optimizer as TransformOptimizer;
      expect(loaded).toBeInstanceOf(TransformOptimizer);
      expect(transformToJson(loaded.transform)).toEqual(transformToJson(optimizer.transform));
      expect(loaded.iterations).toBe(6);
      // Before its first step the loaded optimizer holds the saved state; d comes back exactly.
      expect(readD(loaded.getState())).toBe(dAtSave);
      await b.fit(xs, ys, REGRESSION_FIT);
      expect(loaded.iterations).toBe(12);
      // Same backend, same operations: resumed training equals uninterrupted training bit for bit.
      expect(weights(b)).toEqual(weights(a));
      expect(readD(loaded.getState())).toBe(readD(optimizer.getState()));

      for (const m of [a, b]) {
        m.optimizer.dispose();
        m.dispose();
      }
      tf.dispose([xs, ys]);
    });
  }
});
