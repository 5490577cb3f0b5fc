import * as tf from '@tensorflow/tfjs-core';
import { stepVariables, type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { novograd, scaleByNovograd } from './index.js';

type Leaves = { a: tf.Tensor; b: tf.Tensor };
const leaf = (t: Tree, key: keyof Leaves) => values((t as Leaves)[key]);

describeEachBackend('scaleByNovograd', () => {
  it('matches the first two steps derived by hand', () => {
    // b1 = 0.9, b2 = 0.25, eps = 1e-8, no weight decay; one leaf, g1 = [1, −2], g2 = [3, 0.5].
    // Step 1: n = ‖g1‖² = 5 (no average yet); u1 = mu = g1 / (sqrt 5 + eps) ≈ [0.4472136, −0.8944272].
    // Step 2: n = 0.25·5 + 0.75·‖g2‖² = 1.25 + 0.75·9.25 = 8.1875;
    //   u2 = mu = 0.9·u1 + g2 / sqrt(8.1875) ≈ [0.4024922 + 1.0484450, −0.8049845 + 0.1747408].
    const tx = scaleByNovograd();
    const p = { w: tf.zeros([2]) };
    const g1 = { w: tf.tensor([1, -2]) };
    const g2 = { w: tf.tensor([3, 0.5]) };
    const s0 = tx.init(p);
    const [u1, s1] = tx.update(g1, s0, p);
    const [u2, s2] = tx.update(g2, s1, p);
    const r5 = Math.sqrt(5) + 1e-8;
    const m1 = [1 / r5, -2 / r5];
    expectArrayClose(values((u1 as { w: tf.Tensor }).w), m1);
    expectArrayClose(values((s1.nu as { w: tf.Tensor }).w), [5]);
    expect((s1.nu as { w: tf.Tensor }).w.shape).toEqual([]);
    const r2 = Math.sqrt(8.1875) + 1e-8;
    expectArrayClose(values((s2.nu as { w: tf.Tensor }).w), [8.1875]);
    expectArrayClose(values((u2 as { w: tf.Tensor }).w), [
      0.9 * m1[0]! + 3 / r2,
      0.9 * m1[1]! + 0.5 / r2,
    ]);
    // The update is the new momentum itself.
    expect((u2 as { w: tf.Tensor }).w).toBe((s2.mu as { w: tf.Tensor }).w);
    treeDispose([p, g1, g2, s0, u1, s1, u2, s2]);
  });

  it('normalises each leaf by its own norm, paired by key, and gives an empty leaf norm 0', () => {
    // a: g = [3, 4] → ‖g‖² = 25, u = g / 5 = [0.6, 0.8]; b: g = [[−2]] → 4, u = [−1]; e: empty.
    const tx = scaleByNovograd({ eps: 0 });
    const p = { e: tf.zeros([0]), b: tf.zeros([1, 1]), a: tf.zeros([2]) };
    const g = { a: tf.tensor([3, 4]), e: tf.zeros([0]), b: tf.tensor([[-2]]) };
    const s0 = tx.init(p);
    const [u, s1] = tx.update(g, s0, p);
    expectArrayClose(leaf(u, 'a'), [0.6, 0.8]);
    expectArrayClose(leaf(u, 'b'), [-1]);
    expect(values((u as { e: tf.Tensor }).e)).toEqual([]);
    expectArrayClose(leaf(s1.nu, 'a'), [25]);
    expectArrayClose(leaf(s1.nu, 'b'), [4]);
    expect(values((s1.nu as { e: tf.Tensor }).e)).toEqual([0]);
    treeDispose([p, g, s0, u, s1]);
  });

  it('adds the weight decay inside the momentum, and needs the params for it', () => {
    // weightDecay 0.5, θ = [0.5, −1], g = [3, 4]: u1 = g / 5 + 0.5·θ = [0.85, 0.3].
    const tx = scaleByNovograd({ weightDecay: 0.5, eps: 0 });
    const p = { w: tf.tensor([0.5, -1]) };
    const g = { w: tf.tensor([3, 4]) };
    const s0 = tx.init(p);
    const [u, s1] = tx.update(g, s0, p);
    expectArrayClose(values((u as { w: tf.Tensor }).w), [0.85, 0.3]);
    expect(() => tx.update(g, s0)).toThrow(/scaleByNovograd: a weightDecay needs the parameters/);
    treeDispose([p, g, s0, u, s1]);
  });

  it('rejects updates whose leaves do not match its state', () => {
    const tx = scaleByNovograd();
    const s0 = tx.init({ a: tf.zeros([2]) });
    const g = { b: tf.zeros([2]) };
    expect(() => tx.update(g, s0)).toThrow(/updates\.b does not match the state's nu tree/);
    treeDispose([s0, g]);
  });
});

describeEachBackend('novograd', () => {
  it('matches the first two steps derived by hand', () => {
    // lr = 0.1, Optax's alias eps 1e-6, weightDecay 0.5 (inside the momentum), θ0 = [0.5, −1]:
    //   mu1 = g1 / (sqrt 5 + 1e-6) + 0.5·θ0,                      θ1 = θ0 − 0.1·mu1;
    //   mu2 = 0.9·mu1 + g2 / (sqrt 8.1875 + 1e-6) + 0.5·θ1,       θ2 = θ1 − 0.1·mu2.
    const r5 = Math.sqrt(5) + 1e-6;
    const mu1 = [1 / r5 + 0.25, -2 / r5 - 0.5];
    const theta1 = [0.5 - 0.1 * mu1[0]!, -1 - 0.1 * mu1[1]!];
    const r2 = Math.sqrt(8.1875) + 1e-6;
    const mu2 = [
      0.9 * mu1[0]! + 3 / r2 + 0.5 * theta1[0]!,
      0.9 * mu1[1]! + 0.5 / r2 + 0.5 * theta1[1]!,
    ];
    const theta = { w: tf.variable(tf.tensor([0.5, -1])) };
    const g1 = { w: tf.tensor([1, -2]) };
    const g2 = { w: tf.tensor([3, 0.5]) };
    const tx = novograd(0.1, { weightDecay: 0.5 });
    let state = tx.init(theta);
    state = stepVariables(tx, theta, g1, state);
    expectArrayClose(values(theta.w), theta1);
    state = stepVariables(tx, theta, g2, state);
    expectArrayClose(values(theta.w), [theta1[0]! - 0.1 * mu2[0]!, theta1[1]! - 0.1 * mu2[1]!]);
    treeDispose([theta, g1, g2, state]);
  });

  it('follows a float64 reference over 120 steps on two leaves', () => {
    // NovoGrad in plain doubles, one norm per leaf:
    //   n ← ‖g‖² (t = 1) or b2·n + (1 − b2)·‖g‖²;  mu ← a (t = 1) or b1·mu + a,
    //   a = g / (sqrt(n + epsRoot) + eps) + wd·θ;  θ ← θ − lr·mu.
    const [lr, b1, b2, eps, epsRoot, wd] = [0.01, 0.8, 0.5, 1e-6, 1e-8, 0.05];
    const sizes = { a: 3, b: 2 } as const;
    const grad = (k: number, key: 'a' | 'b') =>
      Array.from(
        { length: sizes[key] },
        (_, i) => Math.sin(0.7 * k + i + (key === 'b' ? 5 : 0)) * (i + 1),
      );
    const ref = { a: [0.5, -1, 2], b: [1.5, -0.3] };
    const mu = { a: [0, 0, 0], b: [0, 0] };
    const n = { a: 0, b: 0 };
    const theta = { b: tf.variable(tf.tensor(ref.b)), a: tf.variable(tf.tensor(ref.a)) };
    const tx = novograd(lr, { b1, b2, eps, epsRoot, weightDecay: wd });
    let state = tx.init(theta);
    for (let k = 1; k <= 120; k++) {
      for (const key of ['a', 'b'] as const) {
        const g = grad(k, key);
        const norm = g.reduce((s, x) => s + x * x, 0);
        n[key] = k === 1 ? norm : b2 * n[key] + (1 - b2) * norm;
        const root = Math.sqrt(n[key] + epsRoot) + eps;
        mu[key] = g.map((gi, i) => {
          const a = gi / root + wd * ref[key][i]!;
          return k === 1 ? a : b1 * mu[key][i]! + a;
        });
        ref[key] = ref[key].map((x, i) => x - lr * mu[key][i]!);
      }
      const g = { a: tf.tensor(grad(k, 'a')), b: tf.tensor(grad(k, 'b')) };
      state = stepVariables(tx, theta, g, state);
      treeDispose(g);
      expectArrayClose(values(theta.a), ref.a, { rtol: 1e-4, atol: 1e-5 }, `step ${k} a`);
      expectArrayClose(values(theta.b), ref.b, { rtol: 1e-4, atol: 1e-5 }, `step ${k} b`);
    }
    treeDispose([theta, state]);
  });
});
