// Every optimizer of the catalog (optimizerCatalog, filled by each package on
// import), through the checks that must hold for all of them: registered
// under its own name, rebuilt from its saved spec, resumed after model.save /
// tf.loadLayersModel exactly as if never interrupted, unchanged under
// injectLearningRate, and listed in the committed docs/optimizers.md.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tfopt/contrib';
import {
  getTransformFactory,
  injectLearningRate,
  type OptimizerEntry,
  optimizerCatalog,
  stepVariables,
  treeDispose,
} from '@tfopt/core';
import '@tfopt/eg';
import { describeEachBackend } from '@tfopt/testing';
import {
  quietWasmLeakCheck,
  REGRESSION_FIT,
  regressionData,
  regressionModel,
  saveWithOptimizer as save,
  modelWeights as weights,
} from '@tfopt/testing/layers';
import { masked, partition, setToZero } from '@tfopt/transforms';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript module of the repository's scripts, without types.
import { renderOptimizerTable } from '../../../scripts/optimizer-table.mjs';
import { TransformOptimizer, transformFromJson, transformToJson } from './index.js';

const CATALOG: OptimizerEntry[] = optimizerCatalog();

describe('the optimizer catalog', () => {
  it('holds the aliases of every package, each registered under its own name', () => {
    const packages = new Set(CATALOG.map((e) => e.package));
    expect([...packages].sort()).toEqual(['@tfopt/contrib', '@tfopt/eg', '@tfopt/transforms']);
    for (const entry of CATALOG) {
      expect(getTransformFactory(entry.name), entry.name).toBe(entry.factory);
      const tx = entry.factory(entry.typicalLearningRate);
      expect(tx.spec?.name, entry.name).toBe(entry.name);
      expect(entry.summary.length, entry.name).toBeGreaterThan(10);
      expect(entry.reference, entry.name).toMatch(/\d{4}/);
    }
  });

  it('matches the committed table docs/optimizers.md (regenerate: node scripts/optimizer-table.mjs)', () => {
    const committed = readFileSync(new URL('../../../docs/optimizers.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderOptimizerTable(CATALOG));
  });
});

describeEachBackend('every optimizer of the catalog', (backend) => {
  quietWasmLeakCheck(backend);

  for (const entry of CATALOG) {
    const build = () => entry.factory(entry.typicalLearningRate);

    it(`${entry.name}: rebuilt from its JSON spec, injected, and resumed after save and load`, async () => {
      // The spec survives JSON text and rebuilds the same spec.
      const json = JSON.parse(JSON.stringify(transformToJson(build())));
      expect(transformToJson(transformFromJson(json))).toEqual(json);

      // Under injectLearningRate with the same rate, the same numbers.
      const params = { w: tf.variable(tf.tensor([0.5, -1.5, 2])) };
      const again = { w: tf.variable(tf.tensor([0.5, -1.5, 2])) };
      const plain = build();
      const injected = injectLearningRate(entry.factory, entry.typicalLearningRate);
      // partition and masked (below) have no fused form: their reference runs composable too.
      const composable = { w: tf.variable(tf.tensor([0.5, -1.5, 2])) };
      let s1 = plain.init(params);
      let s2 = injected.init(again);
      let s5 = plain.init(composable);
      for (let k = 0; k < 5; k++) {
        const g = { w: tf.tensor([Math.sin(k), Math.cos(2 * k) - 0.3, 0.1 * k - 0.2]) };
        s1 = stepVariables(plain, params, g, s1, { loss: 1 });
        s2 = stepVariables(injected, again, g, s2, { loss: 1 });
        s5 = stepVariables(plain, composable, g, s5, { loss: 1 }, { fused: false });
        treeDispose(g);
      }
      expect(Array.from(again.w.dataSync()), entry.name).toEqual(Array.from(params.w.dataSync()));

      // Inside partition and masked, the optimizer's leaves move exactly as with the
      // optimizer alone on that subtree; the others are zeroed (partition) or get the raw
      // gradient (masked). Keys in another order than the labels' and the mask's.
      const start = () => ({
        q: tf.variable(tf.tensor([1, -1])),
        p: tf.variable(tf.tensor([0.5, -1.5, 2])),
      });
      const inPartition = start();
      const inMask = start();
      const partitioned = partition(
        { frozen: setToZero(), main: build() },
        { p: 'main', q: 'frozen' },
      );
      const maskedTx = masked(build(), { q: false, p: true });
      let s3 = partitioned.init(inPartition);
      let s4 = maskedTx.init(inMask);
      const rawSum = [1, -1];
      for (let k = 0; k < 5; k++) {
        const gq = [0.3 * k, -0.2];
        rawSum[0]! += gq[0]!;
        rawSum[1]! += gq[1]!;
        const g = () => ({
          p: tf.tensor([Math.sin(k), Math.cos(2 * k) - 0.3, 0.1 * k - 0.2]),
          q: tf.tensor(gq),
        });
        const g3 = g();
        const g4 = g();
        s3 = stepVariables(partitioned, inPartition, g3, s3, { loss: 1 });
        s4 = stepVariables(maskedTx, inMask, g4, s4, { loss: 1 });
        treeDispose([g3, g4]);
      }
      const alone = Array.from(composable.w.dataSync());
      expect(Array.from(inPartition.p.dataSync()), `${entry.name} in partition`).toEqual(alone);
      expect(Array.from(inPartition.q.dataSync())).toEqual([1, -1]);
      expect(Array.from(inMask.p.dataSync()), `${entry.name} in masked`).toEqual(alone);
      const q = Array.from(inMask.q.dataSync());
      expect(q[0]).toBeCloseTo(rawSum[0]!, 5);
      expect(q[1]).toBeCloseTo(rawSum[1]!, 5);
      treeDispose([params, again, composable, s1, s2, s5, inPartition, inMask, s3, s4]);

      // N steps, save, load, M steps equals N + M steps.
      const { xs, ys } = regressionData();
      const a = regressionModel();
      const optimizer = new TransformOptimizer(build());
      a.compile({ optimizer, loss: 'meanSquaredError' });
      await a.fit(xs, ys, REGRESSION_FIT);
      const artifacts = await save(a);
      await a.fit(xs, ys, REGRESSION_FIT);
      const b = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      const loaded = b.optimizer as TransformOptimizer;
      expect(loaded).toBeInstanceOf(TransformOptimizer);
      expect(loaded.iterations).toBe(6);
      await b.fit(xs, ys, REGRESSION_FIT);
      expect(weights(b)).toEqual(weights(a));
      for (const m of [a, b]) {
        m.optimizer.dispose();
        m.dispose();
      }
      tf.dispose([xs, ys]);
    });
  }
});
