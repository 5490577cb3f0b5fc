// save → load → resume through TransformOptimizer for the combinators of
// @tfopt/transforms: per-group transforms (partition), a masked link,
// gradient accumulation saved mid-accumulation (multiSteps) and Lookahead
// saved mid-period with its slow parameters. The model is loaded in the same
// program, so its variables get new names (dense_Dense3/kernel for
// dense_Dense1/kernel): labels and masks are registered functions of the
// parameters, by name suffix, which is what survives that renaming.
import * as tf from '@tensorflow/tfjs';
import { chain, type GradientTransformation, type Tree } from '@tfopt/core';
import { describeEachBackend, expectArrayClose } from '@tfopt/testing';
import {
  quietWasmLeakCheck,
  REGRESSION_FIT,
  regressionData,
  regressionModel,
  saveWithOptimizer as save,
  modelWeights as weights,
} from '@tfopt/testing/layers';
import {
  adam,
  clipByGlobalNorm,
  type LookaheadState,
  lookahead,
  lookaheadEvalParams,
  type MultiStepsState,
  masked,
  multiSteps,
  partition,
  sgd,
} from '@tfopt/transforms';
import { expect, it } from 'vitest';
import { registerTransformFactory, TransformOptimizer } from './index.js';

/** 'kernel' or 'bias' for each variable, by the end of its name. */
function kernelOrBias(params: Tree): Record<string, string> {
  return Object.fromEntries(
    Object.keys(params).map((name) => [name, name.includes('kernel') ? 'kernel' : 'bias']),
  );
}
/** True for the kernels. */
function kernelsOnly(params: Tree): Record<string, boolean> {
  return Object.fromEntries(Object.keys(params).map((name) => [name, name.includes('kernel')]));
}
registerTransformFactory('tfoptTestKernelOrBias', kernelOrBias);
registerTransformFactory('tfoptTestKernelsOnly', kernelsOnly);

function sum(t: tf.Tensor): number {
  const total = tf.sum(t);
  const value = total.dataSync()[0] as number;
  total.dispose();
  return value;
}

function expectWeightsClose(actual: number[][], expected: number[][]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((w, i) => {
    expectArrayClose(w, expected[i]!, { rtol: 1e-5, atol: 1e-6 }, `weight ${i}`);
  });
}

/** The numbers of the state that do not depend on variable names. */
type Summary = Record<string, number>;

const CASES: {
  title: string;
  build: () => GradientTransformation<any>;
  summary: (state: unknown) => Summary;
}[] = [
  {
    title: 'partition({ kernel: adam, bias: sgd + momentum }, registered labels)',
    build: () =>
      partition({ kernel: adam(1e-2), bias: sgd(0.05, { momentum: 0.9 }) }, kernelOrBias),
    summary: (state) => {
      const s = state as { innerStates: { kernel: [{ count: number }]; bias: unknown } };
      return { adamCount: s.innerStates.kernel[0].count };
    },
  },
  {
    title: 'chain(masked(clipByGlobalNorm, registered mask), adam)',
    build: () => chain(masked(clipByGlobalNorm(0.1), kernelsOnly), adam(1e-2)),
    summary: (state) => ({ adamCount: (state as [unknown, [{ count: number }]])[1][0].count }),
  },
  {
    title: 'multiSteps(adam, everyK 4), saved mid-accumulation',
    build: () => multiSteps(adam(2e-2), { everyK: 4 }),
    summary: (state) => {
      const s = state as MultiStepsState<unknown>;
      return { miniStep: s.miniStep, gradientStep: s.gradientStep };
    },
  },
  {
    title: 'lookahead(adam, syncPeriod 4), saved mid-period',
    build: () => lookahead(adam(2e-2), { syncPeriod: 4, slowStepSize: 0.5 }),
    summary: (state) => {
      const slow = lookaheadEvalParams(state) as Record<string, tf.Tensor>;
      return {
        stepsSinceSync: (state as LookaheadState).stepsSinceSync,
        // The slow weights' sum: names change on load, values must not.
        slowSum: Object.values(slow).reduce((s, t) => s + sum(t), 0),
      };
    },
  },
];

describeEachBackend('combinators: save, load and resume', (backend) => {
  quietWasmLeakCheck(backend);

  for (const c of CASES) {
    it(`${c.title}: N steps, save, load, M steps equals N + M steps`, async () => {
      const { xs, ys } = regressionData();
      const a = regressionModel();
      const optimizer = new TransformOptimizer(c.build());
      a.compile({ optimizer, loss: 'meanSquaredError' });
      await a.fit(xs, ys, REGRESSION_FIT);
      const saved = c.summary(optimizer.getState());
      const artifacts = await save(a);
      await a.fit(xs, ys, REGRESSION_FIT);

      const b = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      const loaded = b.optimizer as TransformOptimizer;
      expect(loaded).toBeInstanceOf(TransformOptimizer);
      expect(loaded.iterations).toBe(6);
      expect(b.trainableWeights[0]!.name).not.toBe(a.trainableWeights[0]!.name);
      const restored = c.summary(loaded.getState());
      for (const key of Object.keys(saved)) {
        expectArrayClose([restored[key]!], [saved[key]!], { rtol: 1e-7, atol: 0 }, key);
      }
      await b.fit(xs, ys, REGRESSION_FIT);
      expectWeightsClose(weights(b), weights(a));
      const sa = c.summary(optimizer.getState());
      const sb = c.summary(loaded.getState());
      for (const key of Object.keys(sa)) {
        expectArrayClose([sb[key]!], [sa[key]!], { rtol: 1e-5, atol: 1e-7 }, key);
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

  it('the mid-accumulation and mid-period states are what the cases say', async () => {
    // 6 steps: multiSteps(everyK 4) has 2 mini-steps accumulated after 1 inner step;
    // lookahead(syncPeriod 4) is 2 steps into its second period.
    const { xs, ys } = regressionData();
    const results: Summary[] = [];
    for (const c of CASES.slice(2)) {
      const m = regressionModel();
      const optimizer = new TransformOptimizer(c.build());
      m.compile({ optimizer, loss: 'meanSquaredError' });
      await m.fit(xs, ys, REGRESSION_FIT);
      results.push(c.summary(optimizer.getState()));
      optimizer.dispose();
      m.dispose();
    }
    expect(results[0]).toEqual({ miniStep: 2, gradientStep: 1 });
    expect(results[1]!.stepsSinceSync).toBe(2);
    tf.dispose([xs, ys]);
  });
});
