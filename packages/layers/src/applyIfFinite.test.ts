import * as tf from '@tensorflow/tfjs';
import { chain, type GradientTransformation, injectLearningRate } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import {
  quietWasmLeakCheck,
  REGRESSION_FIT,
  regressionData,
  regressionModel,
  saveWithOptimizer as save,
  modelWeights as weights,
} from '@tfopt/testing/layers';
import {
  type ApplyIfFiniteState,
  adam,
  applyIfFinite,
  clipByGlobalNorm,
  scale,
  sgd,
} from '@tfopt/transforms';
import { expect, it } from 'vitest';
import {
  getTransformFactory,
  registeredTransformFactories,
  TransformOptimizer,
  transformFromJson,
  transformToJson,
} from './index.js';

function counts(state: unknown): [number, number, boolean] {
  const s = state as ApplyIfFiniteState;
  return [s.notfiniteCount, s.totalNotfinite, s.lastFinite];
}

const data = regressionData;
const model = regressionModel;
const FIT = REGRESSION_FIT;

function expectWeightsClose(actual: number[][], expected: number[][]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((w, i) => {
    expectArrayClose(w, expected[i]!, { rtol: 1e-5, atol: 1e-6 }, `weight ${i}`);
  });
}

it('applyIfFinite is a registered factory', () => {
  expect(registeredTransformFactories()).toContain('applyIfFinite');
  expect(getTransformFactory('applyIfFinite')).toBe(applyIfFinite);
});

describeEachBackend('applyIfFinite in TransformOptimizer.minimize', () => {
  it('leaves the variable unchanged on a NaN step and exposes the counts in getState()', () => {
    // loss = sum(c · v), so the gradient is c. sgd(0.1, momentum 0.9) from v = [1, −2]:
    // step 1, c = [1, 2]:    t = [1, 2];                     v = [0.9, −2.2]
    // step 2, c = [NaN, 2]:  skipped;                        v stays [0.9, −2.2]
    // step 3, c = [1, 2]:    t = 0.9·[1, 2] + [1, 2] = [1.9, 3.8]; v = [0.71, −2.58]
    const opt = new TransformOptimizer(
      applyIfFinite(sgd(0.1, { momentum: 0.9 }), { maxConsecutiveErrors: 2 }),
      { checkFinite: true }, // the zeros of a skipped step are finite: no throw
    );
    const v = tf.variable(tf.tensor1d([1, -2]));
    const good = tf.tensor1d([1, 2]);
    const bad = tf.tensor1d([Number.NaN, 2]);
    const stepWith = (c: tf.Tensor) => opt.minimize(() => tf.sum(tf.mul(c, v)), false, [v]);

    stepWith(good);
    expectArrayClose(values(v), [0.9, -2.2]);
    expect(counts(opt.getState())).toEqual([0, 0, true]);
    const before = values(v);
    stepWith(bad);
    expect(values(v)).toEqual(before);
    expect(counts(opt.getState())).toEqual([1, 1, false]);
    stepWith(good);
    expectArrayClose(values(v), [0.71, -2.58]);
    expect(counts(opt.getState())).toEqual([0, 1, true]);
    expect(opt.iterations).toBe(3);

    opt.dispose();
    tf.dispose([v, good, bad]);
  });

  it('leaks no tensor over 1,000 steps, a third of them NaN', () => {
    const opt = new TransformOptimizer(
      chain(applyIfFinite(adam(0.01), { maxConsecutiveErrors: 1 }), scale(1)),
    );
    const v = tf.variable(tf.tensor1d([1, -2, 3]));
    const good = tf.tensor1d([0.5, -1, 2]);
    const bad = tf.tensor1d([0.5, Infinity, 2]);
    let before = 0;
    for (let i = 0; i < 1000; i++) {
      if (i === 9) before = tf.memory().numTensors;
      const c = i % 3 === 2 ? bad : good;
      opt.minimize(() => tf.sum(tf.mul(c, v)), false, [v]);
    }
    expect(tf.memory().numTensors).toBe(before);
    // Runs of one bad step, never let through: 333 of them (i = 2, 5, ..., 998).
    expect(counts(opt.getState()?.[0])).toEqual([0, 333, true]);
    expect(values(v).every(Number.isFinite)).toBe(true);
    opt.dispose();
    tf.dispose([v, good, bad]);
  });
});

describeEachBackend('applyIfFinite in model.fit', (backend) => {
  quietWasmLeakCheck(backend);

  it('keeps the weights through NaN batches and counts them', async () => {
    // Batch 2 of each epoch (index 1) has a NaN target: steps 2 and 5 of 6 are skipped.
    const { xs, ys } = data([1]);
    const m = model();
    const optimizer = new TransformOptimizer(
      applyIfFinite(adam(0.02), { maxConsecutiveErrors: 3 }),
    );
    m.compile({ optimizer, loss: 'meanSquaredError' });
    const trail: number[][][] = [weights(m)];
    const losses: number[] = [];
    await m.fit(xs, ys, {
      ...FIT,
      callbacks: {
        onBatchEnd: async (_batch, logs) => {
          trail.push(weights(m));
          losses.push(logs?.loss as number);
        },
      },
    });
    expect(trail.length).toBe(7);
    expect(losses.map(Number.isNaN)).toEqual([false, true, false, false, true, false]);
    for (const i of [1, 4]) {
      // Step i + 1 was skipped: the weights after it are those before it, exactly.
      expect(trail[i + 1]).toEqual(trail[i]);
    }
    for (const i of [0, 2, 3, 5]) expect(trail[i + 1]).not.toEqual(trail[i]);
    expect(trail[6]!.flat().every(Number.isFinite)).toBe(true);
    expect(counts(optimizer.getState())).toEqual([0, 2, true]);
    expect(optimizer.iterations).toBe(6);
    optimizer.dispose();
    m.dispose();
    tf.dispose([xs, ys]);
  });
});

const CASES: [string, () => GradientTransformation<any>, number | undefined][] = [
  ['applyIfFinite(adam)', () => applyIfFinite(adam(0.02), { maxConsecutiveErrors: 2 }), undefined],
  [
    'applyIfFinite around a chain with an injected learning rate changed before training',
    () =>
      applyIfFinite(chain(clipByGlobalNorm(5), injectLearningRate(adam, 0.02)), {
        maxConsecutiveErrors: 2,
      }),
    0.01,
  ],
];

describeEachBackend('applyIfFinite: save, load and resume', (backend) => {
  quietWasmLeakCheck(backend);

  for (const [title, build, newRate] of CASES) {
    it(`${title}: N steps, save, load, M steps equals N + M steps`, async () => {
      // Batches 1 and 3 (indices 0 and 2) have NaN targets; maxConsecutiveErrors 2.
      // Epoch 1: bad (run 1), good (0), bad (1): saved with run 1, total 2, lastFinite false.
      // Every later epoch: bad (run 2, still skipped), good (0), bad (1): total + 2.
      const { xs, ys } = data([0, 2]);
      const a = model();
      const optimizer = new TransformOptimizer(build());
      a.compile({ optimizer, loss: 'meanSquaredError' });
      if (newRate !== undefined) optimizer.learningRate = newRate;
      await a.fit(xs, ys, { ...FIT, epochs: 1 });
      expect(counts(optimizer.getState())).toEqual([1, 2, false]);
      const artifacts = await save(a);
      await a.fit(xs, ys, FIT);
      // Epoch 2: bad (run 2), good (0), bad (1); epoch 3: bad (2), good, bad.
      expect(counts(optimizer.getState())).toEqual([1, 6, false]);

      const b = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      const loaded = b.optimizer as TransformOptimizer;
      expect(loaded).toBeInstanceOf(TransformOptimizer);
      expect(transformToJson(loaded.transform)).toEqual(transformToJson(optimizer.transform));
      expect(loaded.iterations).toBe(3);
      expect(counts(loaded.getState())).toEqual([1, 2, false]);
      if (newRate !== undefined) expect(loaded.learningRate).toBeCloseTo(newRate, 7);
      await b.fit(xs, ys, FIT);
      expectWeightsClose(weights(b), weights(a));
      expect(weights(b).flat().every(Number.isFinite)).toBe(true);
      expect(counts(loaded.getState())).toEqual([1, 6, false]);
      expect(loaded.iterations).toBe(9);

      for (const m of [a, b]) {
        m.optimizer.dispose();
        m.dispose();
      }
      tf.dispose([xs, ys]);
    });
  }

  it('round-trips the spec of applyIfFinite inside and around chains', () => {
    const built = [
      applyIfFinite(adam(0.1), { maxConsecutiveErrors: 4 }),
      chain(
        clipByGlobalNorm(1),
        applyIfFinite(sgd(0.1, { momentum: 0.9 }), { maxConsecutiveErrors: 0 }),
      ),
      applyIfFinite(chain(clipByGlobalNorm(1), adam(0.01)), { maxConsecutiveErrors: 1 }),
    ];
    for (const tx of built) {
      const json = transformToJson(tx);
      const revived = transformFromJson(JSON.parse(JSON.stringify(json)));
      expect(transformToJson(revived)).toEqual(json);
    }
    // Each spec records the package that exports its factory.
    expect(transformToJson(built[0]!)).toEqual({
      name: 'applyIfFinite',
      args: [
        { $spec: { name: 'adam', args: [0.1], package: '@tfopt/transforms' } },
        { maxConsecutiveErrors: 4 },
      ],
      package: '@tfopt/transforms',
    });
  });
});
