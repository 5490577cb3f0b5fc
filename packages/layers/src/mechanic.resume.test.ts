// save → load → resume through TransformOptimizer for the learning-rate-free
// transforms of @tfopt/contrib whose state carries the method: Mechanic's
// per-beta scale and reference point, Schedule-Free's z and averaging weight,
// and reduceOnPlateau's counters (plain numbers) behind adam.
//
// The loss reaches the transform as context.loss in model.fit: tfjs-layers'
// fit calls optimizer.minimize(lossFunction, true, variables), and
// TransformOptimizer.minimize passes the loss on (packages/layers/src/optimizer.ts,
// `step(named, value)`). reduceOnPlateau throws without a loss, so the plateau
// cases below, trained with model.fit, would fail if it did not arrive; they
// also check that the best value it recorded is a real loss.
import * as tf from '@tensorflow/tfjs';
import {
  mechanize,
  type ReduceOnPlateauState,
  readMechanicScale,
  reduceOnPlateau,
  type ScheduleFreeState,
  scheduleFreeAdamw,
} from '@tfopt/contrib';
import { chain, type GradientTransformation } from '@tfopt/core';
import { describeEachBackend, expectArrayClose } from '@tfopt/testing';
import {
  quietWasmLeakCheck,
  REGRESSION_FIT,
  regressionData,
  regressionModel,
  saveWithOptimizer as save,
  modelWeights as weights,
} from '@tfopt/testing/layers';
import { adam } from '@tfopt/transforms';
import { expect, it } from 'vitest';
import { TransformOptimizer } from './index.js';

function expectWeightsClose(actual: number[][], expected: number[][]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((w, i) => {
    expectArrayClose(w, expected[i]!, { rtol: 1e-5, atol: 1e-6 }, `weight ${i}`);
  });
}

/** The numbers of the state that do not depend on variable names (those change on load). */
type Summary = Record<string, number>;

const plateauSummary = (state: unknown): Summary => {
  const s = (state as [unknown, ReduceOnPlateauState])[1];
  return {
    scale: s.scale,
    bestValue: s.bestValue,
    plateauCount: s.plateauCount,
    cooldownCount: s.cooldownCount,
    count: s.count,
    avgValue: s.avgValue,
  };
};

const CASES: {
  title: string;
  build: () => GradientTransformation<any>;
  summary: (state: unknown) => Summary;
  /** What must hold of the state at the save, so that the resume has something to carry. */
  moved: (saved: Summary) => void;
}[] = [
  {
    title: 'mechanize(adam(1e-2))',
    build: () => mechanize(adam(1e-2)),
    summary: (state) => ({ scale: readMechanicScale(state) }),
    // The scale starts at numBetas·sInit = 6e-6 and has moved.
    moved: (saved) => expect(Math.abs((saved.scale as number) - 6e-6)).toBeGreaterThan(1e-7),
  },
  {
    title: 'scheduleFreeAdamw()',
    build: () => scheduleFreeAdamw(),
    summary: (state) => {
      const s = state as ScheduleFreeState;
      return { stepCount: s.stepCount, weightSum: s.weightSum, maxLr: s.maxLr, b1: s.b1 };
    },
    moved: (saved) => {
      expect(saved.stepCount).toBe(7); // 1 + 6 updates
      expect(saved.weightSum).toBeCloseTo(6 * 0.0025 ** 2, 12);
    },
  },
  {
    title: 'chain(adam(1e-2), reduceOnPlateau())',
    build: () => chain(adam(1e-2), reduceOnPlateau()),
    summary: plateauSummary,
    moved: (saved) => {
      // The loss arrived through model.fit: the best value is a finite, positive loss.
      expect(Number.isFinite(saved.bestValue)).toBe(true);
      expect(saved.bestValue).toBeGreaterThan(0);
    },
  },
  {
    // The same with a short patience and rtol 0.5 (an improvement must halve the best loss) so
    // that the scale has dropped (and the cooldown and plateau counters are in use) at the save.
    title:
      'chain(adam(5e-2), reduceOnPlateau({ patience: 1, factor: 0.5, cooldown: 1, rtol: 0.5 }))',
    build: () =>
      chain(adam(5e-2), reduceOnPlateau({ patience: 1, factor: 0.5, cooldown: 1, rtol: 0.5 })),
    summary: plateauSummary,
    moved: (saved) => {
      expect(Number.isFinite(saved.bestValue)).toBe(true);
      expect(saved.scale).toBeLessThan(1);
    },
  },
];

describeEachBackend('learning-rate-free transforms: save, load and resume', (backend) => {
  quietWasmLeakCheck(backend);

  for (const c of CASES) {
    it(`${c.title}: N steps, save, load, M steps equals N + M steps`, async () => {
      const { xs, ys } = regressionData();
      const a = regressionModel();
      const optimizer = new TransformOptimizer(c.build());
      a.compile({ optimizer, loss: 'meanSquaredError' });
      await a.fit(xs, ys, REGRESSION_FIT);
      const saved = c.summary(optimizer.getState());
      c.moved(saved);
      const artifacts = await save(a);
      await a.fit(xs, ys, REGRESSION_FIT);

      const b = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      const loaded = b.optimizer as TransformOptimizer;
      expect(loaded).toBeInstanceOf(TransformOptimizer);
      expect(loaded.iterations).toBe(6);
      // The loaded state is the saved one, number for number.
      expect(c.summary(loaded.getState())).toEqual(saved);
      await b.fit(xs, ys, REGRESSION_FIT);
      expectWeightsClose(weights(b), weights(a));
      const sa = c.summary(optimizer.getState());
      const sb = c.summary(loaded.getState());
      for (const key of Object.keys(sa)) {
        expectArrayClose([sb[key] as number], [sa[key] as number], { rtol: 1e-5, atol: 0 }, key);
      }
      expect(loaded.iterations).toBe(12);
      expect(loaded.inactiveVariables).toEqual([]);

      for (const m of [a, b]) {
        m.optimizer.dispose();
        m.dispose();
      }
      tf.dispose([xs, ys]);
    });
  }

  it('reduceOnPlateau inside TransformOptimizer: minimize passes the loss, applyGradients does not', () => {
    // loss = sum(v²) at v = [1, −2]: 5. minimize hands it to the transform as context.loss.
    const init = tf.tensor1d([1, -2]);
    const v = tf.variable(init);
    init.dispose();
    const optimizer = new TransformOptimizer(chain(adam(1e-2), reduceOnPlateau()));
    optimizer.minimize(() => tf.sum(tf.square(v)) as tf.Scalar, false, [v]);
    expectArrayClose([plateauSummary(optimizer.getState()).bestValue as number], [5], {
      rtol: 1e-6,
      atol: 0,
    });
    const g = tf.tensor1d([1, 1]);
    expect(() => optimizer.applyGradients({ [v.name]: g })).toThrow(/context\.loss/);
    tf.dispose([g, v]);
    optimizer.dispose();
  });
});
