import * as tf from '@tensorflow/tfjs-core';
import { type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { type ScaleByRpropState, scaleByRprop } from './index.js';

const w = (t: Tree) => values((t as { w: tf.Tensor }).w);

describeEachBackend('scaleByRprop', () => {
  it('matches five steps derived by hand (growth, a sign flip, a zero gradient, clipping)', () => {
    // lr 0.1, etaPlus 1.2, etaMinus 0.5, steps clipped to [0.08, 0.13].
    // Entry a, g = 1, 1, 1, −1, 1:
    //   1: prev = 0, s = 0: step 0.1, u = 0.1.      2: s > 0: step 0.12, u = 0.12.
    //   3: step min(0.144, 0.13) = 0.13, u = 0.13.  4: s < 0: step max(0.065, 0.08) = 0.08, u = 0.
    //   5: prev = 0, s = 0: step 0.08, u = 0.08.
    // Entry b, g = −2, 0, 3, 3, 3:
    //   1: step 0.1, u = −0.1.  2: g = 0, s = 0: step 0.1, u = 0.1·sign(0) = 0.
    //   3: prev = 0: step 0.1, u = 0.1.  4: step 0.12, u = 0.12.  5: step 0.13 (clipped), u = 0.13.
    const tx = scaleByRprop(0.1, { minStepSize: 0.08, maxStepSize: 0.13 });
    const grads = [
      [1, -2],
      [1, 0],
      [1, 3],
      [-1, 3],
      [1, 3],
    ];
    const expectedU = [
      [0.1, -0.1],
      [0.12, 0],
      [0.13, 0.1],
      [0, 0.12],
      [0.08, 0.13],
    ];
    const expectedSteps = [
      [0.1, 0.1],
      [0.12, 0.1],
      [0.13, 0.1],
      [0.08, 0.12],
      [0.08, 0.13],
    ];
    let state: ScaleByRpropState = tx.init({ w: tf.zeros([2]) });
    grads.forEach((g, k) => {
      const gt = { w: tf.tensor(g) };
      const [u, next] = tx.update(gt, state);
      expectArrayClose(w(u), expectedU[k] as number[], {}, `u, step ${k + 1}`);
      expectArrayClose(w(next.stepSizes), expectedSteps[k] as number[], {}, `steps, step ${k + 1}`);
      treeDispose([gt, state]);
      state = next;
    });
    treeDispose(state);
  });

  it('follows a float64 reference over 120 steps', () => {
    const [lr, etaMinus, etaPlus, minStep, maxStep] = [0.05, 0.4, 1.3, 1e-3, 0.5];
    const n = 5;
    const step = new Array<number>(n).fill(lr);
    const prev = new Array<number>(n).fill(0);
    const tx = scaleByRprop(lr, { etaMinus, etaPlus, minStepSize: minStep, maxStepSize: maxStep });
    let state: ScaleByRpropState = tx.init({ w: tf.zeros([n]) });
    for (let k = 1; k <= 120; k++) {
      // Slowly turning signs, with some exact zeros.
      const g = Array.from({ length: n }, (_, i) =>
        i === 4 && k % 7 === 0 ? 0 : Math.sin(0.15 * k * (i + 1) + i),
      );
      const expected = g.map((gi, i) => {
        const s = gi * (prev[i] as number);
        const clip = (x: number) => Math.min(Math.max(x, minStep), maxStep);
        if (s > 0) step[i] = clip((step[i] as number) * etaPlus);
        else if (s < 0) step[i] = clip((step[i] as number) * etaMinus);
        const u = s < 0 ? 0 : (step[i] as number) * Math.sign(gi);
        prev[i] = u;
        return u;
      });
      const gt = { w: tf.tensor(g) };
      const [u, next] = tx.update(gt, state);
      expectArrayClose(w(u), expected, { rtol: 1e-5, atol: 1e-7 }, `step ${k}`);
      treeDispose([gt, state]);
      state = next;
    }
    treeDispose(state);
  });

  it('rejects bad options, naming them', () => {
    expect(() => scaleByRprop(-1)).toThrow(
      'scaleByRprop: option "learningRate" must be a finite number >= 0, got -1',
    );
    expect(() => scaleByRprop(0.1, { etaPlus: 0.9 })).toThrow(
      /option "etaPlus" must be a finite number >= 1/,
    );
    expect(() => scaleByRprop(0.1, { etaMinus: 0 })).toThrow(
      /option "etaMinus" must be a number in \(0, 1\]/,
    );
    expect(() => scaleByRprop(0.1, { minStepSize: 1, maxStepSize: 0.5 })).toThrow(
      /option "maxStepSize" must be a number >= minStepSize \(1\)/,
    );
  });
});
