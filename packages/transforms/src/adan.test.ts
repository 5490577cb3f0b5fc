import * as tf from '@tensorflow/tfjs-core';
import { stepVariables, type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { adan, scaleByAdan } from './index.js';

const w = (t: Tree) => values((t as { w: tf.Tensor }).w);

// Step 2 of Adan with the defaults b1 = 0.98, b2 = 0.92, b3 = 0.99 on g1 = [1, −2], g2 = [3, 0.5]:
//   d = g2 − g1 = [2, 2.5]
//   m = 0.98·[0.02, −0.04] + 0.02·g2 = [0.0796, −0.0292]
//   v = 0.92·0 + 0.08·d = [0.16, 0.2]
//   n = 0.99·[0.01, 0.04] + 0.01·(g2 + 0.08·d)² = 0.99·[0.01, 0.04] + 0.01·[3.16², 0.7²]
//     = [0.109756, 0.0445]
//   corrections 1 − 0.98² = 0.0396, 1 − 0.92² = 0.1536, 1 − 0.99² = 0.0199
//   u2 = (m / 0.0396 + 0.08·v / 0.1536) / (sqrt(n / 0.0199) + eps) ≈ [0.8913982, −0.4234404]
const step2 = (eps: number, epsRoot: number) =>
  [
    [0.0796, 0.16, 0.109756],
    [-0.0292, 0.2, 0.0445],
  ].map(
    ([m, v, n]) => (m! / 0.0396 + (0.08 * v!) / 0.1536) / (Math.sqrt(n! / 0.0199 + epsRoot) + eps),
  );

describeEachBackend('scaleByAdan', () => {
  it('matches the first two steps derived by hand', () => {
    // Step 1: no previous gradient, d = 0: m = 0.02·g1 = [0.02, −0.04], v = 0, n = 0.01·g1²;
    //   m̂ = g1, v̂ = 0, n̂ = g1²: u1 = g1 / (|g1| + 1e-8) ≈ [1, −1]. Step 2: see above.
    const tx = scaleByAdan();
    const g1 = { w: tf.tensor([1, -2]) };
    const g2 = { w: tf.tensor([3, 0.5]) };
    const s0 = tx.init(g1);
    const [u1, s1] = tx.update(g1, s0);
    expectArrayClose(w(u1), [1 / (1 + 1e-8), -2 / (2 + 1e-8)]);
    expectArrayClose(w(s1.m), [0.02, -0.04]);
    expectArrayClose(w(s1.v), [0, 0]);
    expectArrayClose(w(s1.n), [0.01, 0.04]);
    const [u2, s2] = tx.update(g2, s1);
    expectArrayClose(w(s2.m), [0.0796, -0.0292]);
    expectArrayClose(w(s2.v), [0.16, 0.2]);
    expectArrayClose(w(s2.n), [0.109756, 0.0445]);
    expectArrayClose(w(u2), step2(1e-8, 0));
    // The state keeps a copy of g2 for the next difference, not the caller's tensor.
    expect(w(s2.prevUpdates)).toEqual(w(g2));
    expect((s2.prevUpdates as { w: tf.Tensor }).w).not.toBe(g2.w);
    treeDispose([g1, g2, s0, u1, s1, u2, s2]);
  });

  it('follows a float64 reference over 120 steps (the adan alias, with weight decay)', () => {
    // Adan in plain doubles:
    //   d = g − gPrev (0 at t = 1); m ← b1·m + (1 − b1)·g; v ← b2·v + (1 − b2)·d;
    //   n ← b3·n + (1 − b3)·(g + (1 − b2)·d)²;
    //   θ ← θ − lr·((m̂ + (1 − b2)·v̂) / (sqrt(n̂ + epsRoot) + eps) + wd·θ).
    const [lr, b1, b2, b3, eps, epsRoot, wd] = [0.01, 0.9, 0.8, 0.95, 1e-6, 1e-8, 0.1];
    const grad = (k: number) =>
      Array.from({ length: 3 }, (_, i) => Math.sin(0.7 * k + i) * (i + 1));
    const m = [0, 0, 0];
    const v = [0, 0, 0];
    const n = [0, 0, 0];
    let prev = [0, 0, 0];
    let ref = [0.5, -1, 2];
    const theta = { w: tf.variable(tf.tensor(ref)) };
    const tx = adan(lr, { b1, b2, b3, eps, epsRoot, weightDecay: wd });
    let state = tx.init(theta);
    for (let t = 1; t <= 120; t++) {
      const g = grad(t);
      const u = g.map((gi, i) => {
        const d = t === 1 ? 0 : gi - prev[i]!;
        m[i] = b1 * m[i]! + (1 - b1) * gi;
        v[i] = b2 * v[i]! + (1 - b2) * d;
        n[i] = b3 * n[i]! + (1 - b3) * (gi + (1 - b2) * d) ** 2;
        const num = m[i]! / (1 - b1 ** t) + ((1 - b2) * v[i]!) / (1 - b2 ** t);
        return num / (Math.sqrt(n[i]! / (1 - b3 ** t) + epsRoot) + eps);
      });
      prev = g;
      ref = ref.map((x, i) => x - lr * (u[i]! + wd * x));
      const gt = { w: tf.tensor(g) };
      state = stepVariables(tx, theta, gt, state);
      treeDispose(gt);
      expectArrayClose(values(theta.w), ref, { rtol: 1e-4, atol: 1e-5 }, `step ${t}`);
    }
    treeDispose([theta, state]);
  });
});

describeEachBackend('adan', () => {
  it('matches the first two steps derived by hand', () => {
    // lr = 0.1, Optax's alias epsRoot = 1e-8, weightDecay 0.5, θ0 = [0.5, −1]:
    //   u1 = g1 / (sqrt(g1² + 1e-8) + 1e-8),  θ1 = θ0 − 0.1·(u1 + 0.5·θ0) ≈ [0.375, −0.85];
    //   u2 as above with epsRoot 1e-8,       θ2 = θ1 − 0.1·(u2 + 0.5·θ1).
    const u1 = [1 / (Math.sqrt(1 + 1e-8) + 1e-8), -2 / (Math.sqrt(4 + 1e-8) + 1e-8)];
    const theta1 = [0.5 - 0.1 * (u1[0]! + 0.25), -1 - 0.1 * (u1[1]! - 0.5)];
    const u2 = step2(1e-8, 1e-8);
    const theta2 = theta1.map((x, i) => x - 0.1 * (u2[i]! + 0.5 * x));
    const theta = { w: tf.variable(tf.tensor([0.5, -1])) };
    const g1 = { w: tf.tensor([1, -2]) };
    const g2 = { w: tf.tensor([3, 0.5]) };
    const tx = adan(0.1, { weightDecay: 0.5 });
    let state = tx.init(theta);
    state = stepVariables(tx, theta, g1, state);
    expectArrayClose(values(theta.w), theta1);
    state = stepVariables(tx, theta, g2, state);
    expectArrayClose(values(theta.w), theta2);
    treeDispose([theta, g1, g2, state]);
  });
});
