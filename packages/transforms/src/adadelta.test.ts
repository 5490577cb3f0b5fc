import * as tf from '@tensorflow/tfjs-core';
import { type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import {
  type AdadeltaState,
  adadelta,
  type ScaleByAdadeltaState,
  scaleByAdadelta,
} from './index.js';

const w = (t: Tree) => values((t as { w: tf.Tensor }).w);

/** Float64 Adadelta as Zeiler and Optax define it (or, with `lagged`, as tf.train computes it). */
function adadeltaReference(n: number, rho: number, eps: number, lagged = false) {
  const eG = new Array<number>(n).fill(0);
  const eX = new Array<number>(n).fill(0);
  return (g: readonly number[]) =>
    g.map((gi, i) => {
      const before = eG[i] as number;
      eG[i] = rho * before + (1 - rho) * gi * gi;
      const denominator = lagged ? before : (eG[i] as number);
      const u = (Math.sqrt((eX[i] as number) + eps) / Math.sqrt(denominator + eps)) * gi;
      eX[i] = rho * (eX[i] as number) + (1 - rho) * u * u;
      return u;
    });
}

describeEachBackend('scaleByAdadelta', () => {
  it('matches the first two steps derived by hand', () => {
    // rho = 0.9, eps = 1e-6; g1 = [1, −2], g2 = [3, 0.5].
    // Step 1: E[g²] = 0.1·g1² = [0.1, 0.4]; u = sqrt(0 + 1e-6) / sqrt(E[g²] + 1e-6)·g1
    //   = [1e-3 / 0.3162293, −2e-3 / 0.6324563] = [0.0031622618, −0.0031622737];
    //   E[Δx²] = 0.1·u² = [9.9999000e-7, 9.9999750e-7].
    // Step 2: E[g²] = 0.9·[0.1, 0.4] + 0.1·[9, 0.25] = [0.99, 0.385];
    //   u = sqrt(E[Δx²] + 1e-6) / sqrt(E[g²] + 1e-6)·g2 = [0.0042640015, 0.0011396036].
    const tx = scaleByAdadelta();
    const params = { w: tf.zeros([2]) };
    const g1 = { w: tf.tensor([1, -2]) };
    const g2 = { w: tf.tensor([3, 0.5]) };
    const s0 = tx.init(params);
    const [u1, s1] = tx.update(g1, s0);
    expectArrayClose(w(u1), [0.0031622618, -0.0031622737], { rtol: 1e-5, atol: 0 });
    expectArrayClose(w(s1.eG), [0.1, 0.4]);
    expectArrayClose(w(s1.eX), [9.9999e-7, 9.999975e-7], { rtol: 1e-5, atol: 0 });
    const [u2, s2] = tx.update(g2, s1);
    expectArrayClose(w(u2), [0.0042640015, 0.0011396036], { rtol: 1e-5, atol: 0 });
    expectArrayClose(w(s2.eG), [0.99, 0.385]);
    treeDispose([params, g1, g2, s0, u1, s1, u2, s2]);
  });

  it('follows a float64 reference over 150 steps', () => {
    const rho = 0.95;
    const eps = 1e-4;
    const n = 4;
    const reference = adadeltaReference(n, rho, eps);
    const tx = scaleByAdadelta({ rho, eps });
    let state: ScaleByAdadeltaState = tx.init({ w: tf.zeros([n]) });
    for (let k = 1; k <= 150; k++) {
      const g = Array.from({ length: n }, (_, i) => Math.cos(0.21 * k + i) * (i + 0.5));
      const gt = { w: tf.tensor(g) };
      const [u, next] = tx.update(gt, state);
      expectArrayClose(w(u), reference(g), { rtol: 1e-4, atol: 1e-7 }, `step ${k}`);
      treeDispose([gt, u, state]);
      state = next;
    }
    treeDispose(state);
  });

  it('rejects bad options, naming them', () => {
    expect(() => scaleByAdadelta({ rho: 1 })).toThrow(
      'scaleByAdadelta: option "rho" must be a number in [0, 1), got 1',
    );
    expect(() => scaleByAdadelta({ eps: -1e-6 })).toThrow(/option "eps"/);
  });
});

describeEachBackend('adadelta against tf.train.adadelta', () => {
  // tf.train.adadelta (tfjs-core 4.x, adadelta_optimizer.js) divides by
  // sqrt(accumulatedGrad + epsilon) with the accumulator from before this step's
  // gradient is added; Zeiler (algorithm 1), Optax and PyTorch use the updated one.
  // Its defaults are lr 0.001, rho 0.95 and the backend's epsilon (1e-7).
  const lr = 0.5;
  const rho = 0.95;
  const eps = 1e-7;

  /** Run tf.train.adadelta from accumulators `eG0`, `eX0`; returns the params after each step. */
  async function tfTrain(start: number[], grads: number[][], eG0?: number[], eX0?: number[]) {
    const x = tf.variable(tf.tensor(start));
    const opt = tf.train.adadelta(lr, rho, eps);
    if (eG0 !== undefined && eX0 !== undefined) {
      await opt.setWeights([
        { name: 'iter', tensor: tf.scalar(0) },
        { name: `${x.name}/accum_grad`, tensor: tf.tensor(eG0) },
        { name: `${x.name}/accum_var`, tensor: tf.tensor(eX0) },
      ]);
    }
    const out: number[][] = [];
    for (const g of grads) {
      const gt = tf.tensor(g);
      opt.applyGradients({ [x.name]: gt } as Parameters<typeof opt.applyGradients>[0]);
      gt.dispose();
      out.push(values(x));
    }
    opt.dispose();
    x.dispose();
    return out;
  }

  it("documents the difference: tf.train uses last step's E[g²], so its first step is −lr·g", async () => {
    const grads = Array.from({ length: 100 }, (_, k) => [
      Math.sin(0.3 * k) + 0.2,
      Math.cos(0.5 * k),
    ]);
    const trajectory = await tfTrain([1, -1], grads);
    // tf.train's first step: sqrt(0 + eps) / sqrt(0 + eps) = 1, so x = [1, −1] − lr·g1 exactly.
    expectArrayClose(trajectory[0] as number[], [1 - lr * 0.2, -1 - lr * 1]);
    // Its whole trajectory is the float64 rule with the lagged accumulator.
    const lagged = adadeltaReference(2, rho, eps, true);
    const x = [1, -1];
    grads.forEach((g, k) => {
      lagged(g).forEach((u, i) => {
        x[i] = (x[i] as number) - lr * u;
      });
      expectArrayClose(
        trajectory[k] as number[],
        x,
        { rtol: 1e-4, atol: 1e-5 },
        `tf.train step ${k + 1}`,
      );
    });
    // Ours takes the updated average: step 1 is −lr·sqrt(eps) / sqrt((1 − rho)·g² + eps)·g, tiny.
    const tx = adadelta(lr, { rho, eps });
    const params = { w: tf.tensor([1, -1]) };
    const g1 = { w: tf.tensor(grads[0] as number[]) };
    const s0 = tx.init(params);
    const [u1, s1] = tx.update(g1, s0, params);
    const ours = (grads[0] as number[]).map(
      (g) => (-lr * Math.sqrt(eps) * g) / Math.sqrt((1 - rho) * g * g + eps),
    );
    expectArrayClose(w(u1), ours, { rtol: 1e-4, atol: 0 });
    expect(Math.abs(w(u1)[1] as number)).toBeLessThan(1e-2 * lr);
    treeDispose([params, g1, s0, u1, s1]);
  });

  it('agrees step for step where the definitions coincide: at the fixed point E[g²] = g²', async () => {
    // With E[g²] = g² already, adding g² again leaves it unchanged, so the lagged and
    // updated accumulators are equal; with a constant gradient this holds at every step,
    // and both then share E[Δx²] and the update. Start both from the same accumulators.
    const g = [0.8, -1.5, 0.05];
    const eG0 = g.map((x) => x * x);
    const eX0 = [1e-4, 2e-3, 0];
    const steps = 100;
    const trajectory = await tfTrain(
      [1, 2, 3],
      Array.from({ length: steps }, () => g),
      eG0,
      eX0,
    );
    const tx = adadelta(lr, { rho, eps });
    let params = { w: tf.tensor([1, 2, 3]) };
    const init = tx.init(params);
    let state: AdadeltaState = [
      init[0],
      { eG: { w: tf.tensor(eG0) }, eX: { w: tf.tensor(eX0) } },
      init[2],
    ];
    treeDispose(init[1]);
    const gt = { w: tf.tensor(g) };
    for (let k = 0; k < steps; k++) {
      const [u, next] = tx.update(gt, state, params);
      const moved = { w: tf.add(params.w, (u as { w: tf.Tensor }).w) };
      expectArrayClose(
        w(moved),
        trajectory[k] as number[],
        { rtol: 1e-5, atol: 1e-6 },
        `step ${k + 1}`,
      );
      treeDispose([params, u, state]);
      params = moved;
      state = next;
    }
    treeDispose([params, state, gt]);
  });
});
