// cocob: options, ownership, the first two steps derived by hand, and an
// independent float64 reference of optax.contrib's update rule over 150 steps.
import * as tf from '@tensorflow/tfjs-core';
import {
  InvalidOptionError,
  type StepResult,
  step,
  TfoptError,
  type Tree,
  treeDispose,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { describe, expect, it } from 'vitest';
import { type CocobOptions, type CocobState, cocob } from './cocob.js';

describe('cocob options', () => {
  it('validate at construction, naming the option', () => {
    const bad: [() => unknown, RegExp][] = [
      [() => cocob(1, { beta: 1 } as CocobOptions), /^cocob: option "beta" must be absent/],
      [() => cocob(-1), /^cocob: option "learningRate" must be/],
      [() => cocob(1, { alpha: -1 }), /^cocob: option "alpha" must be a finite number >= 0/],
      [() => cocob(1, { eps: 0 }), /^cocob: option "eps" must be a finite number > 0/],
      [() => cocob(1, { weightDecay: Number.NaN }), /^cocob: option "weightDecay"/],
      [() => cocob(1, { mask: [2] as never }), /^cocob: option "mask" must be a tree of booleans/],
    ];
    for (const [build, message] of bad) {
      expect(build).toThrow(InvalidOptionError);
      expect(build).toThrow(message);
    }
  });

  it('records its spec under its export name', () => {
    expect(cocob().spec).toEqual({ name: 'cocob', args: [1] });
    expect(cocob(1, { alpha: 50 }).spec).toEqual({ name: 'cocob', args: [1, { alpha: 50 }] });
  });
});

// Hand problem: x0 = { w: [1, 2], b: [2] } (w inserted first), loss =
// (w0² + w1²)/2 + b0², so g = { w: w, b: 2b }. lr 1, alpha 100, eps 1e-8.
// Coordinates in the order w0, w1, b0.
// Step 1: g = [1, 2, 4]. L = max(1e-8, |g|) = [1, 2, 4]; G = [1, 2, 4];
//   R = max(0 − g·0, 0) = 0; θ = −g = [−1, −2, −4].
//   max(G + L, 100 L) = 100 L, so x1 = x0 + θ / (100 L²) · L = x0 − 0.01·sign(g)
//   = [0.99, 1.99, 1.99], the update −0.01 everywhere (the first bet is 1/alpha).
// Step 2: g = [0.99, 1.99, 3.98]. L = [1, 2, 4] (unchanged); G = [1.99, 3.99, 7.98];
//   R = max(0 − g·(x1 − x0), 0) = 0.01·g = [0.0099, 0.0199, 0.0398];
//   θ = [−1.99, −3.99, −7.98]; G + L = [2.99, 5.99, 11.98] < 100 L, so the
//   denominators are 100 L² = [100, 400, 1600]:
//   w0: 1 − 1.99/100 · 1.0099 = 1 − 0.02009701 = 0.97990299
//   w1: 2 − 3.99/400 · 2.0199 = 2 − 0.02014850 = 1.97985150
//   b0: 2 − 7.98/1600 · 4.0398 = 2 − 0.02014850 = 1.97985150
describeEachBackend('cocob by hand', () => {
  it('matches the hand-derived first two steps', () => {
    const tx = cocob();
    let params: Tree = { w: tf.tensor1d([1, 2]), b: tf.tensor1d([2]) };
    let state: CocobState = tx.init(params);
    const got: number[][] = [];
    for (let i = 0; i < 2; i++) {
      const { w, b } = params as { w: tf.Tensor; b: tf.Tensor };
      const grads = tf.tidy(() => ({ w: tf.clone(w), b: tf.mul(b, 2) }));
      const next: StepResult<any> = step(tx, params, grads, state);
      treeDispose([grads, params]);
      params = next.params;
      state = next.state;
      const p = params as { w: tf.Tensor; b: tf.Tensor };
      got.push([...values(p.w), ...values(p.b)]);
    }
    const tight = { rtol: 2e-6, atol: 1e-7 };
    expectArrayClose(got[0]!, [0.99, 1.99, 1.99], tight, 'x1');
    expectArrayClose(got[1]!, [0.97990299, 1.9798515, 1.9798515], tight, 'x2');
    const s = state as unknown as Record<string, { w: tf.Tensor; b: tf.Tensor }>;
    const leaf = (k: string) => [...values(s[k]!.w), ...values(s[k]!.b)];
    expectArrayClose(leaf('maxAbsGrad'), [1, 2, 4], tight, 'L');
    expectArrayClose(leaf('absGradSum'), [1.99, 3.99, 7.98], tight, 'G');
    expectArrayClose(leaf('reward'), [0.0099, 0.0199, 0.0398], tight, 'R');
    expectArrayClose(leaf('negGradSum'), [-1.99, -3.99, -7.98], tight, 'theta');
    expect(state.count).toBe(2);
    treeDispose([params, state]);
  });

  it('throws a clear error naming the transform when params are missing', () => {
    const tx = cocob();
    const p = { w: tf.tensor1d([1, 2]) };
    const s = tx.init(p);
    expect(() => tx.update(p, s)).toThrow(TfoptError);
    expect(() => tx.update(p, s)).toThrow(/^cocob: update needs the current params/);
    expect(() => tx.update({ v: p.w }, s, p)).toThrow(
      /^updates is missing key "w" that state\.x0 has \(in cocob\.update/,
    );
    treeDispose([p, s]);
  });

  it('keeps x0 as its own copy: the caller may dispose its params', () => {
    const tx = cocob();
    const p = { w: tf.tensor1d([1, 2]) };
    const s = tx.init(p);
    expect((s.x0 as { w: tf.Tensor }).w).not.toBe(p.w);
    treeDispose(p);
    expect(values((s.x0 as { w: tf.Tensor }).w)).toEqual([1, 2]);
    treeDispose(s);
  });

  // A positive factor c on every gradient scales θ, L, G and R by c (once
  // c·|g| >> eps), so θ/(L·max(G + L, αL))·(L + R) does not change: the
  // learning rate only matters through eps.
  it('is invariant to the learning rate once lr·|g| is far above eps', () => {
    const run = (lr: number) => {
      const tx = cocob(lr);
      let params: Tree = { w: tf.tensor1d([1, -2, 0.5]) };
      let state = tx.init(params);
      for (let i = 0; i < 30; i++) {
        const w = (params as { w: tf.Tensor }).w;
        const grads = tf.tidy(() => ({ w: tf.sub(w, tf.tensor1d([0.3, 0.1, -0.4])) }));
        const next: StepResult<any> = step(tx, params, grads, state);
        treeDispose([grads, params]);
        params = next.params;
        state = next.state;
      }
      const out = values((params as { w: tf.Tensor }).w);
      treeDispose([params, state]);
      return out;
    };
    const base = run(1);
    expectArrayClose(run(10), base, { rtol: 1e-5, atol: 1e-6 }, 'lr 10');
    expectArrayClose(run(0.1), base, { rtol: 1e-5, atol: 1e-6 }, 'lr 0.1');
    expect(Math.abs(base[0]! - 1)).toBeGreaterThan(0.05);
  });
});

// ---------------------------------------------------------------------------
// Independent float64 reference from optax.contrib's definition, per
// coordinate. The gradient, the update and the parameters are rounded to
// float32 as the tensors store them (Math.fround); the state is float64.

type Leaves = Record<string, number[]>;
const KEYS = ['w', 'b'] as const;
const X0: Leaves = { w: [0.5, -1.2, 2.0, 0.3, -0.7, 1.1], b: [-0.4, 0.9] };
const X0F: Leaves = { w: X0.w!.map(Math.fround), b: X0.b!.map(Math.fround) };
const CURV: Leaves = { w: [1, 0.5, 2, 1.5, 0.8, 3], b: [0.3, 1.2] };
const TARGET: Leaves = { w: [1.5, -0.5, 1.0, -1.0, 0.2, 0.6], b: [1.0, -0.3] };

/** g_i = c_i (x_i − t_i) + 0.3 sin(0.9 t + 1.7 i): a noisy quadratic. */
function noisyGrad(x: Leaves, t: number): Leaves {
  let i = 0;
  const out: Leaves = {};
  for (const k of KEYS) {
    out[k] = x[k]!.map((xi, j) => {
      const gi = CURV[k]![j]! * (xi - TARGET[k]![j]!) + 0.3 * Math.sin(0.9 * t + 1.7 * i);
      i++;
      return gi;
    });
  }
  return out;
}

function refCocob(o: { lr?: number; alpha?: number; eps?: number; weightDecay?: number }) {
  const lr = o.lr ?? 1;
  const alpha = o.alpha ?? 100;
  const eps = o.eps ?? 1e-8;
  const wd = o.weightDecay ?? 0;
  const st: Record<string, { L: number[]; G: number[]; R: number[]; theta: number[] }> = {};
  for (const k of KEYS) {
    const n = X0[k]!.length;
    st[k] = {
      L: Array(n).fill(eps),
      G: Array(n).fill(0),
      R: Array(n).fill(0),
      theta: Array(n).fill(0),
    };
  }
  return (x: Leaves, g0: Leaves): Leaves => {
    const out: Leaves = {};
    for (const k of KEYS) {
      const s = st[k]!;
      out[k] = x[k]!.map((xi, j) => {
        const g = lr * (Math.fround(g0[k]![j]!) + wd * xi);
        const x0 = X0F[k]![j]!;
        s.L[j] = Math.max(s.L[j]!, Math.abs(g));
        s.G[j] = s.G[j]! + Math.abs(g);
        s.R[j] = Math.max(s.R[j]! - g * (xi - x0), 0);
        s.theta[j] = s.theta[j]! - g;
        const L = s.L[j]!;
        const xNew = x0 + (s.theta[j]! / (L * Math.max(s.G[j]! + L, alpha * L))) * (L + s.R[j]!);
        return Math.fround(xi + Math.fround(xNew - xi));
      });
    }
    return out;
  };
}

const STEPS = 150;
// float32 tolerance: |a − e| <= 1e-5 + 1e-4 |e| (the params are ~1).
const TOL = { rtol: 1e-4, atol: 1e-5 };

describeEachBackend('cocob follows the float64 reference', (backend) => {
  const cases: [string, () => ReturnType<typeof cocob>, Parameters<typeof refCocob>[0]][] = [
    ['cocob()', () => cocob(), {}],
    ['cocob(1, { alpha: 20 })', () => cocob(1, { alpha: 20 }), { alpha: 20 }],
    [
      'cocob(0.5, { weightDecay: 1e-2, eps: 1e-6 })',
      () => cocob(0.5, { weightDecay: 1e-2, eps: 1e-6 }),
      { lr: 0.5, weightDecay: 1e-2, eps: 1e-6 },
    ],
  ];
  for (const [title, build, o] of cases) {
    it(`${title}: ${STEPS} steps on a noisy quadratic`, () => {
      const before = tf.memory().numTensors;
      const tx = build();
      let params: Tree = { w: tf.tensor2d(X0.w!, [2, 3]), b: tf.tensor1d(X0.b!) };
      let state = tx.init(params);
      const refStep = refCocob(o);
      let ref: Leaves = X0F;
      let worstAbs = 0;
      let worstRel = 0;
      let moved = 0;
      for (let t = 0; t < STEPS; t++) {
        ref = refStep(ref, noisyGrad(ref, t));
        const cur = params as { w: tf.Tensor; b: tf.Tensor };
        const gv = noisyGrad({ w: values(cur.w), b: values(cur.b) }, t);
        const grads = { w: tf.tensor2d(gv.w!, [2, 3]), b: tf.tensor1d(gv.b!) };
        const next: StepResult<any> = step(tx, params, grads, state);
        treeDispose([grads, params]);
        params = next.params;
        state = next.state;
        const now = params as { w: tf.Tensor; b: tf.Tensor };
        for (const k of KEYS) {
          const got = values(now[k]);
          expectArrayClose(got, ref[k]!, TOL, `step ${t + 1} ${k}`);
          got.forEach((a, j) => {
            const e = ref[k]![j]!;
            worstAbs = Math.max(worstAbs, Math.abs(a - e));
            if (Math.abs(e) >= 1e-2) worstRel = Math.max(worstRel, Math.abs(a - e) / Math.abs(e));
            moved = Math.max(moved, Math.abs(e - X0F[k]![j]!));
          });
        }
      }
      // The bets must go somewhere, or the comparison proves little.
      expect(moved).toBeGreaterThan(0.5);
      console.log(
        `[${backend}] ${title}: worst abs error ${worstAbs.toExponential(2)}, worst rel error ${worstRel.toExponential(2)}, largest move ${moved.toFixed(3)}`,
      );
      treeDispose([params, state]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
