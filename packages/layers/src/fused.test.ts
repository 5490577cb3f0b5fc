import * as tf from '@tensorflow/tfjs';
import { chain, type GradientTransformation, InvalidOptionError, stateless } from '@tfopt/core';
import { egAdam, egSgdm } from '@tfopt/eg';
import { describeEachBackend, expectArrayClose } from '@tfopt/testing';
import {
  modelWeights,
  quietWasmLeakCheck,
  REGRESSION_FIT,
  regressionData,
  regressionModel,
} from '@tfopt/testing/layers';
import { adam } from '@tfopt/transforms';
import { describe, expect, it } from 'vitest';
import { TransformOptimizer } from './index.js';

/** Train a fresh regression model with `optimizer`; its weights after REGRESSION_FIT. */
async function train(optimizer: TransformOptimizer): Promise<number[][]> {
  const { xs, ys } = regressionData();
  const model = regressionModel();
  model.compile({ optimizer, loss: 'meanSquaredError' });
  await model.fit(xs, ys, REGRESSION_FIT);
  const out = modelWeights(model);
  model.dispose();
  tf.dispose([xs, ys]);
  return out;
}

describeEachBackend('TransformOptimizer on the fused path', (backend) => {
  quietWasmLeakCheck(backend);

  const rows: [string, () => GradientTransformation<any>][] = [
    ['adam', () => adam(0.02)],
    ['egAdam', () => egAdam(0.02)],
    ['egSgdm', () => egSgdm(0.05, { scale: { perTensor: true } })],
  ];
  for (const [name, build] of rows) {
    it(`${name}: model.fit fuses by default and matches fused: false`, async () => {
      const fused = new TransformOptimizer(build(), { fused: true });
      const plain = new TransformOptimizer(build(), { fused: false });
      const byDefault = new TransformOptimizer(build());
      const [a, b, c] = [await train(fused), await train(plain), await train(byDefault)];
      a.forEach((w, i) => {
        expectArrayClose(w, b[i]!, { rtol: 1e-4, atol: 1e-5 }, `weight ${i}`);
        expect(c[i], `weight ${i} by default`).toEqual(w);
      });
      for (const o of [fused, plain, byDefault]) o.dispose();
    });
  }

  it('with fused: true, a step that cannot fuse throws, saying why, and changes nothing', () => {
    const v = tf.variable(tf.tensor1d([1, 2]), true, 'fusedTest/v');
    const optimizer = new TransformOptimizer(
      chain(
        adam(0.1),
        stateless((u) => u),
      ),
      {
        fused: true,
      },
    );
    const count = tf.memory().numTensors;
    const g = tf.tensor1d([1, 1]);
    expect(() => optimizer.applyGradients({ 'fusedTest/v': g })).toThrow(
      'stepVariables: cannot fuse this step (fused: true): a link has no spec (built by stateless() or by hand)',
    );
    expect(Array.from(v.dataSync())).toEqual([1, 2]);
    expect(optimizer.getState()).toBeUndefined();
    g.dispose();
    expect(tf.memory().numTensors).toBe(count);
    optimizer.dispose();
    v.dispose();
  });

  it('moves its state between the paths through getWeights and setWeights', async () => {
    const v = tf.variable(tf.tensor1d([1, -2, 3]), true, 'fusedTest/w');
    const g = () => tf.tensor1d([0.5, -1, 0.25]);
    const fused = new TransformOptimizer(egAdam(0.05), { fused: true });
    const reference = new TransformOptimizer(egAdam(0.05), { fused: true });
    const w2 = tf.variable(tf.tensor1d([1, -2, 3]), true, 'fusedTest/w2');
    for (let k = 0; k < 5; k++) {
      const [a, b] = [g(), g()];
      fused.applyGradients({ 'fusedTest/w': a });
      reference.applyGradients({ 'fusedTest/w2': b });
      tf.dispose([a, b]);
    }
    // The fused state, loaded into an optimizer forced onto the composable path.
    const plain = new TransformOptimizer(egAdam(0.05), { fused: false });
    await plain.setWeights(await fused.getWeights());
    for (let k = 0; k < 5; k++) {
      const [a, b] = [g(), g()];
      plain.applyGradients({ 'fusedTest/w': a });
      reference.applyGradients({ 'fusedTest/w2': b });
      tf.dispose([a, b]);
    }
    expectArrayClose(Array.from(v.dataSync()), Array.from(w2.dataSync()), {
      rtol: 1e-5,
      atol: 1e-6,
    });
    for (const o of [fused, plain, reference]) o.dispose();
    tf.dispose([v, w2]);
  });
});

describe('TransformOptimizer fused option', () => {
  it('must be a boolean, and is named when it is not', () => {
    expect(() => new TransformOptimizer(adam(0.1), { fused: 'yes' as never })).toThrow(
      new InvalidOptionError('TransformOptimizer', 'fused', 'yes', 'true, false or absent'),
    );
  });

  it('is saved in the config only when it was given, and revived', () => {
    expect(new TransformOptimizer(adam(0.1)).getConfig()).not.toHaveProperty('fused');
    const config = new TransformOptimizer(adam(0.1), { fused: false }).getConfig();
    expect(config.fused).toBe(false);
    const revived = TransformOptimizer.fromConfig(TransformOptimizer, config);
    expect(revived.getConfig()).toEqual(config);
  });
});
