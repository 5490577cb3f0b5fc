import * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, stepVariables, type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, type Tolerance, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import {
  adabelief,
  adamax,
  adamaxw,
  amsgrad,
  nadam,
  nadamw,
  radam,
  scaleByAdam,
  scaleByAdamax,
  scaleByAmsgrad,
  scaleByBelief,
  scaleByRadam,
  scaleByYogi,
  yogi,
} from './index.js';

// The Adam family: for every transform the first two updates derived by hand
// on g1 = [1, −2], g2 = [3, 0.5], and a float64 reference of the published
// rule written out in plain JS numbers; for every alias the first two steps
// of θ from θ0 = [0.5, −1] with lr = 0.1, and a float64 reference of θ.

const w = (t: Tree) => values((t as { w: tf.Tensor }).w);
const G1 = [1, -2];
const G2 = [3, 0.5];

/** The updates (and chosen state fields) of raw `update` calls on `grads`, in order. */
function run(
  tx: GradientTransformation<any>,
  grads: readonly number[][],
  fields: readonly string[] = [],
): { u: number[][]; state: Record<string, number[]>[] } {
  const owned: unknown[] = [];
  let state = tx.init({ w: tf.zeros([grads[0]!.length]) });
  owned.push(state);
  const u: number[][] = [];
  const read: Record<string, number[]>[] = [];
  for (const g of grads) {
    const gt = { w: tf.tensor(g) };
    const [out, next] = tx.update(gt, state);
    owned.push(gt, out, next);
    u.push(w(out));
    read.push(Object.fromEntries(fields.map((f) => [f, w(next[f])])));
    state = next;
  }
  treeDispose(owned);
  return { u, state: read };
}

/** θ after one and after two steps of `tx` from θ0 = [0.5, −1] on g1, then g2. */
function twoSteps(tx: GradientTransformation<any>): [number[], number[]] {
  const theta = { w: tf.variable(tf.tensor([0.5, -1])) };
  const g1 = { w: tf.tensor(G1) };
  const g2 = { w: tf.tensor(G2) };
  let state = tx.init(theta);
  state = stepVariables(tx, theta, g1, state);
  const first = values(theta.w);
  state = stepVariables(tx, theta, g2, state);
  const second = values(theta.w);
  treeDispose([theta, g1, g2, state]);
  return [first, second];
}

/** θ ← θ − lr·(u + wd·θ) for one step, on plain numbers. */
const descend = (theta: readonly number[], u: readonly number[], lr: number, wd = 0) =>
  theta.map((x, i) => x - lr * (u[i]! + wd * x));

function expectTwoSteps(
  tx: GradientTransformation<any>,
  u1: number[],
  u2: number[],
  { lr = 0.1, wd = 0 } = {},
): void {
  const theta1 = descend([0.5, -1], u1, lr, wd);
  const theta2 = descend(theta1, u2, lr, wd);
  const [a, b] = twoSteps(tx);
  expectArrayClose(a, theta1, { rtol: 1e-5, atol: 1e-6 }, 'θ1');
  expectArrayClose(b, theta2, { rtol: 1e-5, atol: 1e-6 }, 'θ2');
}

/** A deterministic gradient sequence of three coordinates with changing signs and sizes. */
const grad = (k: number) => Array.from({ length: 3 }, (_, i) => Math.sin(0.7 * k + i) * (i + 1));

/** A float64 rule: the update at step `t` (1-based) for gradient `g`, keeping its own state. */
type Reference = (g: readonly number[], t: number) => number[];

const STEPS = 120;

/** The transform's updates follow `reference` for {@link STEPS} steps. */
function expectReference(
  tx: GradientTransformation<any>,
  reference: Reference,
  tol: Tolerance = { rtol: 1e-4, atol: 1e-6 },
): void {
  let state = tx.init({ w: tf.zeros([3]) });
  for (let t = 1; t <= STEPS; t++) {
    const g = grad(t);
    const expected = reference(g, t);
    const gt = { w: tf.tensor(g) };
    const [u, next] = tx.update(gt, state);
    expectArrayClose(w(u), expected, tol, `step ${t}`);
    treeDispose([gt, u, state]);
    state = next;
  }
  treeDispose(state);
}

/** The alias's params follow θ ← θ − lr·(reference(g) + wd·θ) in float64 for {@link STEPS} steps. */
function expectAliasReference(
  tx: GradientTransformation<any>,
  reference: Reference,
  lr: number,
  wd = 0,
): void {
  let ref = [0.5, -1, 2];
  const theta = { w: tf.variable(tf.tensor(ref)) };
  let state = tx.init(theta);
  for (let t = 1; t <= STEPS; t++) {
    const g = grad(t);
    ref = descend(ref, reference(g, t), lr, wd);
    const gt = { w: tf.tensor(g) };
    state = stepVariables(tx, theta, gt, state);
    treeDispose(gt);
    expectArrayClose(values(theta.w), ref, { rtol: 1e-4, atol: 1e-5 }, `step ${t}`);
  }
  treeDispose([theta, state]);
}

const zeros = (n = 3) => new Array<number>(n).fill(0);

/** m̂ of Adam, or with Nesterov's look-ahead (Dozat, 2016, in Optax's form). */
const firstMoment = (m: number, g: number, b1: number, t: number, nesterov: boolean) =>
  nesterov ? (b1 * m) / (1 - b1 ** (t + 1)) + ((1 - b1) * g) / (1 - b1 ** t) : m / (1 - b1 ** t);

function adamReference(b1: number, b2: number, eps: number, epsRoot: number, nesterov: boolean) {
  const m = zeros();
  const v = zeros();
  return (g: readonly number[], t: number) =>
    g.map((gi, i) => {
      m[i] = b1 * m[i]! + (1 - b1) * gi;
      v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
      const vHat = v[i]! / (1 - b2 ** t);
      return firstMoment(m[i]!, gi, b1, t, nesterov) / (Math.sqrt(vHat + epsRoot) + eps);
    });
}

function beliefReference(b1: number, b2: number, eps: number, epsRoot: number, nesterov = false) {
  const m = zeros();
  const s = zeros();
  return (g: readonly number[], t: number) =>
    g.map((gi, i) => {
      m[i] = b1 * m[i]! + (1 - b1) * gi;
      s[i] = b2 * s[i]! + (1 - b2) * (gi - m[i]!) ** 2 + epsRoot;
      const sHat = s[i]! / (1 - b2 ** t);
      return firstMoment(m[i]!, gi, b1, t, nesterov) / (Math.sqrt(sHat) + eps);
    });
}

function radamReference(b1: number, b2: number, eps: number, threshold: number, nesterov = false) {
  const m = zeros();
  const v = zeros();
  const roInf = 2 / (1 - b2) - 1;
  return (g: readonly number[], t: number) => {
    const ro = roInf - (2 * t * b2 ** t) / (1 - b2 ** t);
    const r = Math.sqrt(((ro - 4) * (ro - 2) * roInf) / ((roInf - 4) * (roInf - 2) * ro));
    return g.map((gi, i) => {
      m[i] = b1 * m[i]! + (1 - b1) * gi;
      v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
      const mHat = firstMoment(m[i]!, gi, b1, t, nesterov);
      const vHat = v[i]! / (1 - b2 ** t);
      return ro >= threshold ? (r * mHat) / (Math.sqrt(vHat) + eps) : mHat;
    });
  };
}

function amsgradReference(b1: number, b2: number, eps: number, corrected: boolean) {
  const m = zeros();
  const v = zeros();
  const vMax = zeros();
  return (g: readonly number[], t: number) =>
    g.map((gi, i) => {
      m[i] = b1 * m[i]! + (1 - b1) * gi;
      v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
      vMax[i] = Math.max(vMax[i]!, corrected ? v[i]! / (1 - b2 ** t) : v[i]!);
      const mHat = corrected ? m[i]! / (1 - b1 ** t) : m[i]!;
      return mHat / (Math.sqrt(vMax[i]!) + eps);
    });
}

function adamaxReference(b1: number, b2: number, eps: number) {
  const m = zeros();
  const u = zeros();
  return (g: readonly number[], t: number) =>
    g.map((gi, i) => {
      m[i] = b1 * m[i]! + (1 - b1) * gi;
      u[i] = Math.max(Math.abs(gi) + eps, b2 * u[i]!);
      return m[i]! / (1 - b1 ** t) / u[i]!;
    });
}

function yogiReference(b1: number, b2: number, eps: number, initial: number) {
  const m = zeros().fill(initial);
  const v = zeros().fill(initial);
  return (g: readonly number[], t: number) =>
    g.map((gi, i) => {
      const g2 = gi * gi;
      m[i] = b1 * m[i]! + (1 - b1) * gi;
      v[i] = v[i]! - (1 - b2) * Math.sign(v[i]! - g2) * g2;
      return m[i]! / (1 - b1 ** t) / (Math.sqrt(v[i]! / (1 - b2 ** t)) + eps);
    });
}

describeEachBackend('scaleByBelief', () => {
  it('matches the first two steps derived by hand', () => {
    // b1 = 0.9, b2 = 0.999, eps = epsRoot = 1e-16 (negligible next to these values).
    // Step 1: mu = 0.1·g1 = [0.1, −0.2]; g1 − mu = [0.9, −1.8]; s = 0.001·[0.81, 3.24];
    //   mû = g1, ŝ = s / 0.001 = [0.81, 3.24]; u = mû / sqrt(ŝ) = [1/0.9, −2/1.8] = ±1.1111111.
    // Step 2: mu = 0.9·mu + 0.1·g2 = [0.39, −0.13]; g2 − mu = [2.61, 0.63];
    //   s = 0.999·[0.00081, 0.00324] + 0.001·[6.8121, 0.3969] = [0.00762129, 0.00363366];
    //   u = (mu / 0.19) / sqrt(s / 0.001999) ≈ [1.0512431, −0.5074859].
    const { u, state } = run(scaleByBelief(), [G1, G2], ['mu', 'nu']);
    expectArrayClose(u[0]!, [1 / 0.9, -1 / 0.9]);
    expectArrayClose(state[0]!.nu!, [0.00081, 0.00324]);
    expectArrayClose(state[1]!.mu!, [0.39, -0.13]);
    expectArrayClose(state[1]!.nu!, [0.00762129, 0.00363366]);
    expectArrayClose(u[1]!, [
      0.39 / 0.19 / Math.sqrt(0.00762129 / 0.001999),
      -0.13 / 0.19 / Math.sqrt(0.00363366 / 0.001999),
    ]);
  });

  it('adds epsRoot to the second moment kept in the state, where it accumulates', () => {
    // Zero gradients, epsRoot = 1e-4: s1 = 1e-4, s2 = 0.999·1e-4 + 1e-4 = 1.999e-4; u = 0.
    const { u, state } = run(scaleByBelief({ epsRoot: 1e-4 }), [[0], [0]], ['nu']);
    expectArrayClose(state[0]!.nu!, [1e-4], { rtol: 1e-6, atol: 0 });
    expectArrayClose(state[1]!.nu!, [1.999e-4], { rtol: 1e-6, atol: 0 });
    expect(u).toEqual([[0], [0]]);
  });

  it("uses Nesterov's look-ahead with nesterov: true", () => {
    // Step 1: mû = 0.9·(0.1·g1) / (1 − 0.81) + 0.1·g1 / 0.1 = (1 + 0.09/0.19)·g1 ≈ 1.4736842·g1,
    //   ŝ = 0.81·g1², so u = ±1.4736842 / 0.9 ≈ ±1.6374269.
    const { u } = run(scaleByBelief({ nesterov: true }), [G1]);
    expectArrayClose(u[0]!, [(1 + 0.09 / 0.19) / 0.9, -(1 + 0.09 / 0.19) / 0.9]);
  });

  it('follows a float64 reference over 120 steps', () => {
    expectReference(
      scaleByBelief({ b1: 0.8, b2: 0.99, eps: 1e-6, epsRoot: 1e-8 }),
      beliefReference(0.8, 0.99, 1e-6, 1e-8),
    );
    expectReference(
      scaleByBelief({ nesterov: true, eps: 1e-6 }),
      beliefReference(0.9, 0.999, 1e-6, 1e-16, true),
    );
  });
});

describeEachBackend('scaleByRadam', () => {
  it('takes momentum steps while the second moment is too short (the first two steps)', () => {
    // b2 = 0.999: ρ∞ = 1999, ρ1 = 1999 − 2·0.999/0.001 = 1, ρ2 = 1999 − 4·0.998001/0.001999 ≈ 1.947,
    // both below 5, so u = m̂: u1 = g1 = [1, −2], u2 = [0.39, −0.13] / 0.19 ≈ [2.0526316, −0.6842105].
    const { u } = run(scaleByRadam(), [G1, G2]);
    expectArrayClose(u[0]!, [1, -2]);
    expectArrayClose(u[1]!, [0.39 / 0.19, -0.13 / 0.19]);
  });

  it('switches to the rectified step once ρ reaches the threshold', () => {
    // b2 = 0.9, eps = 0, a constant gradient g = [1, −2]: m̂ = g and v̂ = g² at every step.
    // ρ∞ = 19 and ρ_t = 19 − 2t·0.9^t / (1 − 0.9^t): ρ5 ≈ 4.5806 < 5 ≤ ρ6 ≈ 5.3896.
    // So u1..u5 = g, and u6 = r6·g/|g| with r6 = sqrt((ρ6 − 4)(ρ6 − 2)·19 / (15·17·ρ6)) ≈ 0.2551768.
    const g = [1, -2];
    const { u } = run(scaleByRadam({ b2: 0.9, eps: 0 }), [g, g, g, g, g, g]);
    for (let t = 0; t < 5; t++) expectArrayClose(u[t]!, g, {}, `step ${t + 1}`);
    const ro6 = 19 - (12 * 0.9 ** 6) / (1 - 0.9 ** 6);
    const r6 = Math.sqrt(((ro6 - 4) * (ro6 - 2) * 19) / (15 * 17 * ro6));
    expect(r6).toBeCloseTo(0.2551768, 6);
    expectArrayClose(u[5]!, [r6, -r6]);
  });

  it('follows a float64 reference over 120 steps', () => {
    expectReference(scaleByRadam({ b2: 0.95 }), radamReference(0.9, 0.95, 1e-8, 5));
    expectReference(
      scaleByRadam({ b1: 0.8, b2: 0.9, threshold: 6, nesterov: true }),
      radamReference(0.8, 0.9, 1e-8, 6, true),
    );
  });
});

describeEachBackend('scaleByAmsgrad', () => {
  it('matches the first two steps derived by hand', () => {
    // Step 1: as Adam: nû = g1² = [1, 4] = nuMax, u1 = g1 / (|g1| + 1e-8) ≈ [1, −1].
    // Step 2: nu = [0.009999, 0.004246], nû = nu / 0.001999 ≈ [5.002001, 2.124062];
    //   nuMax = max([1, 4], nû) = [5.002001, 4] (the second coordinate keeps its old maximum);
    //   u2 = ([0.39, −0.13] / 0.19) / (sqrt(nuMax) + 1e-8) ≈ [0.9177811, −0.3421053].
    const { u, state } = run(scaleByAmsgrad(), [G1, G2], ['nuMax']);
    expectArrayClose(u[0]!, [1 / (1 + 1e-8), -2 / (2 + 1e-8)]);
    expectArrayClose(state[1]!.nuMax!, [0.009999 / 0.001999, 4]);
    expectArrayClose(u[1]!, [0.39 / 0.19 / Math.sqrt(0.009999 / 0.001999), -0.13 / 0.19 / 2]);
  });

  it("without bias corrections is the paper's algorithm", () => {
    // Step 1: nuMax = 0.001·g1² = [0.001, 0.004]; u1 = 0.1·g1 / sqrt(nuMax) = ±3.1622777.
    const { u } = run(scaleByAmsgrad({ biasCorrectionMu: false, biasCorrectionNu: false }), [G1]);
    expectArrayClose(u[0]!, [0.1 / Math.sqrt(0.001), -0.2 / Math.sqrt(0.004)]);
  });

  it('follows a float64 reference over 120 steps', () => {
    expectReference(scaleByAmsgrad({ b2: 0.99 }), amsgradReference(0.9, 0.99, 1e-8, true));
    expectReference(
      scaleByAmsgrad({ b1: 0.8, biasCorrectionMu: false, biasCorrectionNu: false }),
      amsgradReference(0.8, 0.999, 1e-8, false),
    );
  });
});

describeEachBackend('scaleByAdamax', () => {
  it('matches the first two steps derived by hand', () => {
    // Step 1: mu = [0.1, −0.2], nu = max(|g1| + 1e-8, 0) = [1, 2] (+1e-8): u1 = (mu / 0.1) / nu ≈ [1, −1].
    // Step 2: mu = [0.39, −0.13]; nu = max(|g2| + 1e-8, 0.999·nu) = max([3, 0.5], [0.999, 1.998])
    //   = [3, 1.998]; u2 = (mu / 0.19) / nu ≈ [0.6842105, −0.3424477].
    const { u, state } = run(scaleByAdamax(), [G1, G2], ['nu']);
    expectArrayClose(u[0]!, [1 / (1 + 1e-8), -2 / (2 + 1e-8)]);
    expectArrayClose(state[1]!.nu!, [3, 1.998]);
    expectArrayClose(u[1]!, [0.39 / 0.19 / 3, -0.13 / 0.19 / 1.998]);
  });

  it('follows a float64 reference over 120 steps', () => {
    expectReference(scaleByAdamax(), adamaxReference(0.9, 0.999, 1e-8));
    expectReference(
      scaleByAdamax({ b1: 0.5, b2: 0.9, eps: 1e-3 }),
      adamaxReference(0.5, 0.9, 1e-3),
    );
  });
});

describeEachBackend('scaleByYogi', () => {
  it('matches the first two steps derived by hand', () => {
    // Both moments start at 1e-6; b1 = 0.9, b2 = 0.999, eps = 1e-3.
    // Step 1: mu = 0.9e-6 + 0.1·g1 = [0.1000009, −0.1999991];
    //   nu = 1e-6 − 0.001·sign(1e-6 − g1²)·g1² = 1e-6 + 0.001·[1, 4] = [0.001001, 0.004001];
    //   u1 = (mu / 0.1) / (sqrt(nu / 0.001) + 1e-3) ≈ [0.9985114, −0.9993709].
    // Step 2: mu = 0.9·mu + 0.1·g2 = [0.39000081, −0.12999919];
    //   nu < g2² = [9, 0.25] in both coordinates, so nu = nu + 0.001·g2² = [0.010001, 0.004251];
    //   u2 = (mu / 0.19) / (sqrt(nu / 0.001999) + 1e-3) ≈ [0.9172812, −0.4688676].
    const { u, state } = run(scaleByYogi(), [G1, G2], ['mu', 'nu']);
    expectArrayClose(state[0]!.nu!, [0.001001, 0.004001]);
    expectArrayClose(u[0]!, [
      1.000009 / (Math.sqrt(1.001) + 1e-3),
      -1.999991 / (Math.sqrt(4.001) + 1e-3),
    ]);
    expectArrayClose(state[1]!.nu!, [0.010001, 0.004251]);
    expectArrayClose(u[1]!, [
      0.39000081 / 0.19 / (Math.sqrt(0.010001 / 0.001999) + 1e-3),
      -0.12999919 / 0.19 / (Math.sqrt(0.004251 / 0.001999) + 1e-3),
    ]);
  });

  it('moves the second moment down by a fixed step when it is above g²', () => {
    // initialAccumulatorValue = 1, g = 0.5: nu = 1 − 0.001·sign(1 − 0.25)·0.25 = 0.99975
    // (Adam's average would give 0.999·1 + 0.001·0.25 = 0.99925).
    const { state } = run(scaleByYogi({ initialAccumulatorValue: 1 }), [[0.5]], ['nu']);
    expectArrayClose(state[0]!.nu!, [0.99975]);
  });

  it('follows a float64 reference over 120 steps', () => {
    expectReference(scaleByYogi(), yogiReference(0.9, 0.999, 1e-3, 1e-6));
    expectReference(
      scaleByYogi({ b1: 0.5, b2: 0.99, eps: 1e-6, initialAccumulatorValue: 0.5 }),
      yogiReference(0.5, 0.99, 1e-6, 0.5),
    );
  });
});

describeEachBackend('scaleByAdam with nesterov: true', () => {
  it('matches the first two steps derived by hand', () => {
    // Step 1: mû = 0.9·(0.1·g1) / (1 − 0.9²) + 0.1·g1 / 0.1 = (1 + 0.09/0.19)·g1, v̂ = g1²:
    //   u1 = ±1.4736842 (with eps 1e-8 beside |g1|).
    // Step 2: mu = [0.39, −0.13], v̂ = [0.009999, 0.004246] / 0.001999;
    //   mû = 0.9·mu / (1 − 0.9³) + 0.1·g2 / 0.19 = 0.9·mu / 0.271 + [0.3, 0.05] / 0.19
    //      ≈ [2.8741503, −0.1685764]; u2 = mû / sqrt(v̂) ≈ [1.2851020, −0.1156680].
    const { u, state } = run(scaleByAdam({ nesterov: true }), [G1, G2], ['mu']);
    const k = 1 + 0.09 / 0.19;
    expectArrayClose(u[0]!, [k / (1 + 1e-8), (-2 * k) / (2 + 1e-8)]);
    expectArrayClose(state[1]!.mu!, [0.39, -0.13]);
    const mHat = [(0.9 * 0.39) / 0.271 + 0.3 / 0.19, (0.9 * -0.13) / 0.271 + 0.05 / 0.19];
    expectArrayClose(u[1]!, [
      mHat[0]! / Math.sqrt(0.009999 / 0.001999),
      mHat[1]! / Math.sqrt(0.004246 / 0.001999),
    ]);
  });

  it('follows a float64 reference over 120 steps, and keeps plain Adam unchanged', () => {
    expectReference(
      scaleByAdam({ nesterov: true, b1: 0.8, b2: 0.99, epsRoot: 1e-6 }),
      adamReference(0.8, 0.99, 1e-8, 1e-6, true),
    );
    expectReference(scaleByAdam({ b2: 0.99 }), adamReference(0.9, 0.99, 1e-8, 0, false));
  });
});

describeEachBackend('Adam-family aliases: the first two steps by hand', () => {
  // θ1 = θ0 − lr·(u1 + wd·θ0), θ2 = θ1 − lr·(u2 + wd·θ1) with lr = 0.1 and the
  // updates u1, u2 derived for the transforms above.
  it('adabelief', () => {
    const u2 = [
      0.39 / 0.19 / Math.sqrt(0.00762129 / 0.001999),
      -0.13 / 0.19 / Math.sqrt(0.00363366 / 0.001999),
    ];
    // θ1 = [0.5 − 0.1/0.9, −1 + 0.1/0.9] ≈ [0.3888889, −0.8888889]
    expectTwoSteps(adabelief(0.1), [1 / 0.9, -1 / 0.9], u2);
    // With weightDecay 0.5: θ1 = θ0 − 0.1·(u1 + 0.5·θ0) = [0.3638889, −0.8388889]
    expectTwoSteps(adabelief(0.1, { weightDecay: 0.5 }), [1 / 0.9, -1 / 0.9], u2, { wd: 0.5 });
  });

  it('radam', () => {
    // Momentum steps: θ1 = θ0 − 0.1·g1 = [0.4, −0.8]; θ2 = θ1 − 0.1·[0.39, −0.13]/0.19
    expectTwoSteps(radam(0.1), [1, -2], [0.39 / 0.19, -0.13 / 0.19]);
  });

  it('amsgrad', () => {
    expectTwoSteps(
      amsgrad(0.1),
      [1 / (1 + 1e-8), -2 / (2 + 1e-8)],
      [0.39 / 0.19 / Math.sqrt(0.009999 / 0.001999), -0.13 / 0.19 / 2],
    );
  });

  it('adamax and adamaxw', () => {
    // θ1 = θ0 − 0.1·[1, −1] = [0.4, −0.9]; θ2 = θ1 − 0.1·[0.39/0.57, −0.13/(0.19·1.998)]
    const u1 = [1 / (1 + 1e-8), -2 / (2 + 1e-8)];
    const u2 = [0.39 / 0.19 / 3, -0.13 / 0.19 / 1.998];
    expectTwoSteps(adamax(0.1), u1, u2);
    // adamaxw, weightDecay 0.5: θ1 = θ0 − 0.1·(u1 + 0.5·θ0) = [0.375, −0.85]
    expectTwoSteps(adamaxw(0.1, { weightDecay: 0.5 }), u1, u2, { wd: 0.5 });
  });

  it('yogi', () => {
    expectTwoSteps(
      yogi(0.1),
      [1.000009 / (Math.sqrt(1.001) + 1e-3), -1.999991 / (Math.sqrt(4.001) + 1e-3)],
      [
        0.39000081 / 0.19 / (Math.sqrt(0.010001 / 0.001999) + 1e-3),
        -0.12999919 / 0.19 / (Math.sqrt(0.004251 / 0.001999) + 1e-3),
      ],
    );
  });

  it('nadam and nadamw', () => {
    const k = 1 + 0.09 / 0.19;
    const u1 = [k / (1 + 1e-8), (-2 * k) / (2 + 1e-8)];
    const mHat = [(0.9 * 0.39) / 0.271 + 0.3 / 0.19, (0.9 * -0.13) / 0.271 + 0.05 / 0.19];
    const u2 = [
      mHat[0]! / Math.sqrt(0.009999 / 0.001999),
      mHat[1]! / Math.sqrt(0.004246 / 0.001999),
    ];
    // θ1 = θ0 − 0.1·1.4736842·[1, −1] ≈ [0.3526316, −0.8526316]
    expectTwoSteps(nadam(0.1), u1, u2);
    // nadamw's default weightDecay 1e-4: θ1 = θ0 − 0.1·(u1 + 1e-4·θ0)
    expectTwoSteps(nadamw(0.1), u1, u2, { wd: 1e-4 });
  });
});

describeEachBackend('Adam-family aliases: float64 references over 120 steps', () => {
  it('adabelief', () => {
    expectAliasReference(adabelief(0.01), beliefReference(0.9, 0.999, 1e-16, 1e-16), 0.01);
    expectAliasReference(
      adabelief(0.01, { weightDecay: 0.1, eps: 1e-8, epsRoot: 0 }),
      beliefReference(0.9, 0.999, 1e-8, 0),
      0.01,
      0.1,
    );
  });

  it('radam', () => {
    expectAliasReference(radam(0.01, { b2: 0.98 }), radamReference(0.9, 0.98, 1e-8, 5), 0.01);
  });

  it('amsgrad', () => {
    expectAliasReference(amsgrad(0.01), amsgradReference(0.9, 0.999, 1e-8, true), 0.01);
  });

  it('adamax and adamaxw', () => {
    expectAliasReference(adamax(0.01), adamaxReference(0.9, 0.999, 1e-8), 0.01);
    expectAliasReference(
      adamaxw(0.01, { weightDecay: 0.1 }),
      adamaxReference(0.9, 0.999, 1e-8),
      0.01,
      0.1,
    );
  });

  it('yogi', () => {
    expectAliasReference(yogi(0.01), yogiReference(0.9, 0.999, 1e-3, 1e-6), 0.01);
  });

  it('nadam and nadamw', () => {
    expectAliasReference(nadam(0.01), adamReference(0.9, 0.999, 1e-8, 0, true), 0.01);
    expectAliasReference(
      nadamw(0.01, { weightDecay: 0.1 }),
      adamReference(0.9, 0.999, 1e-8, 0, true),
      0.01,
      0.1,
    );
  });
});
