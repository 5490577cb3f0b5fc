// prodigy: options, the first two steps derived by hand, an independent
// float64 reference followed for 150 steps, x0 ownership and readProdigyD.
import * as tf from '@tensorflow/tfjs-core';
import {
  chain,
  disposeReplaced,
  InvalidOptionError,
  injectHyperparams,
  step,
  stepVariables,
  TfoptError,
  type Tree,
  treeDispose,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { scaleByAdam } from '@tfopt/transforms';
import { describe, expect, it } from 'vitest';
import { type ProdigyOptions, type ProdigyState, prodigy, readProdigyD } from './prodigy.js';

describe('prodigy options', () => {
  it('rejects unknown keys and bad values at construction, naming the option', () => {
    const bad: [unknown, unknown, string][] = [
      [1, { beta1: 0.9 }, 'beta1'],
      [1, { betas: [0.9, 0.999] }, 'betas'],
      [-1, undefined, 'learningRate'],
      [Number.NaN, undefined, 'learningRate'],
      [1, { b1: 1 }, 'b1'],
      [1, { b2: -0.1 }, 'b2'],
      [1, { b3: 1.5 }, 'b3'],
      [1, { eps: 0 }, 'eps'],
      [1, { d0: 0 }, 'd0'],
      [1, { dCoef: -1 }, 'dCoef'],
      [1, { weightDecay: -1e-3 }, 'weightDecay'],
      [1, { biasCorrection: 'no' }, 'biasCorrection'],
      [1, { safeguardWarmup: 1 }, 'safeguardWarmup'],
      [1, { growthRate: 0.5 }, 'growthRate'],
      [1, { growthRate: Number.NaN }, 'growthRate'],
      [1, 'fast', 'options'],
    ];
    for (const [lr, options, name] of bad) {
      const build = () => prodigy(lr as number, options as ProdigyOptions);
      expect(build, name).toThrow(InvalidOptionError);
      expect(build, name).toThrow(new RegExp(`^prodigy: option "${name}"`));
    }
  });

  it('accepts the defaults, a schedule, and growthRate Infinity', () => {
    expect(prodigy().spec).toEqual({ name: 'prodigy', args: [1] });
    const schedule = (count: number) => 1 / (count + 1);
    expect(prodigy(schedule, { growthRate: Number.POSITIVE_INFINITY }).spec?.args[0]).toBe(
      schedule,
    );
    expect(prodigy(0.5, { growthRate: 1, b3: 0 }).spec).toEqual({
      name: 'prodigy',
      args: [0.5, { growthRate: 1, b3: 0 }],
    });
  });
});

describeEachBackend('prodigy', () => {
  it('throws a clear error when update gets no params, and leaks nothing', () => {
    const params = { w: tf.tensor1d([1, 2]) };
    const g = { w: tf.tensor1d([1, 1]) };
    const tx = prodigy();
    const state = tx.init(params);
    const before = tf.memory().numTensors;
    expect(() => tx.update(g, state)).toThrow(TfoptError);
    expect(() => tx.update(g, state)).toThrow(/prodigy: update needs the current params/);
    expect(tf.memory().numTensors).toBe(before);
    treeDispose([params, g, state]);
  });

  // By hand, defaults except weightDecay 0.5: b1 = 0.9, b2 = 0.999,
  // b3 = sqrt(0.999) = 0.9994998749, eps = 1e-8, d0 = 1e-6, dCoef 1, lr 1.
  // x0 = [1, 2]. The update is a function of (g, state, x), so step 2 is
  // taken at x1 = [0.5, 3] given directly (not x0 + u1): x0 − x1 = [0.5, −1]
  // is then exact in float32 and the estimate of d moves visibly.
  //
  // Step 1 (t = 1), g1 = [2, −1], d = 1e-6:
  //   bc = sqrt(1 − 0.999) / (1 − 0.9) = 0.0316227766 / 0.1 = 0.316227766
  //   dlr = 1e-6 · 0.316227766 = 3.16227766e-7
  //   d·g = [2e-6, −1e-6]
  //   m = 0.1 · d·g = [2e-7, −1e-7];  v = 0.001 · (d·g)² = [4e-15, 1e-15]
  //   s = (dlr / d0) · d·g = 0.316227766 · [2e-6, −1e-6] = [6.32455532e-7, −3.16227766e-7]
  //   numerator = (d/d0) · dlr · <g, x0 − x0> = 0, Σ|s| = 9.48683298e-7
  //   estimate 0 / 9.49e-7 = 0, so d stays 1e-6
  //   sqrt(v) = [6.32455532e-8, 3.16227766e-8]  (+ d·eps = 1e-14, negligible)
  //   u = −dlr·m/(sqrt(v) + d·eps) − 0.5·dlr·x0
  //     = −[1e-6, −1e-6]·(1 − 1.6e-7, 1 − 3.2e-7) − 1.58113883e-7·[1, 2]
  //     = [−1.15811372e-6, 6.83771918e-7]
  // Step 2 (t = 2), g2 = [1.5, −0.5], at x1 = [0.5, 3], d = 1e-6:
  //   bc = sqrt(1 − 0.999²) / (1 − 0.9²) = sqrt(0.001999) / 0.19 = 0.0447101778 / 0.19 = 0.235316725
  //   dlr = 2.35316725e-7
  //   m = 0.9·[2e-7, −1e-7] + 0.1·[1.5e-6, −5e-7] = [3.3e-7, −1.4e-7]
  //   v = 0.999·[4e-15, 1e-15] + 0.001·[2.25e-12, 2.5e-13] = [6.246e-15, 1.249e-15]
  //   s = 0.9994998749·[6.32455532e-7, −3.16227766e-7] + 0.235316725·[1.5e-6, −5e-7]
  //     = [6.32139219e-7 + 3.52975088e-7, −3.16069610e-7 − 1.17658363e-7]
  //     = [9.85114313e-7, −4.33727975e-7],  Σ|s| = 1.41884229e-6
  //   <g2, x0 − x1> = 1.5·0.5 + (−0.5)·(−1) = 1.25
  //   numerator = b3·0 + (1e-6/1e-6) · 2.35316725e-7 · 1.25 = 2.94145907e-7
  //   d = max(1e-6, 2.94145907e-7 / 1.41884229e-6) = 0.207314026
  //   sqrt(v) = [7.90316392e-8, 3.53411941e-8], new d·eps = 2.07314026e-9
  //   u0 = −2.35316725e-7 · 3.3e-7 / (7.90316392e-8 + 2.07314026e-9) − 0.5 · 2.35316725e-7 · 0.5
  //      = −9.57459e-7 − 5.88291813e-8 = −1.01628841e-6
  //   u1 = +2.35316725e-7 · 1.4e-7 / (3.53411941e-8 + 2.07314026e-9) − 0.5 · 2.35316725e-7 · 3
  //      = 8.80527e-7 − 3.52975088e-7 = 5.27552178e-7
  // (Had d·eps used the old d, u0 would be −1.04140e-6: the test tells them apart.)
  it('matches the first two steps derived by hand', () => {
    const tx = prodigy(1, { weightDecay: 0.5 });
    const x0 = { w: tf.tensor1d([1, 2]) };
    const x1 = { w: tf.tensor1d([0.5, 3]) };
    const g1 = { w: tf.tensor1d([2, -1]) };
    const g2 = { w: tf.tensor1d([1.5, -0.5]) };
    const s0 = tx.init(x0);
    const tol = { rtol: 2e-6, atol: 0 };
    const [u1, s1] = tx.update(g1, s0, x0);
    expectArrayClose(
      values((u1 as { w: tf.Tensor }).w),
      [-1.15811372e-6, 6.83771918e-7],
      tol,
      'u1',
    );
    expectArrayClose(values((s1.mu as { w: tf.Tensor }).w), [2e-7, -1e-7], tol, 'm1');
    expectArrayClose(values((s1.nu as { w: tf.Tensor }).w), [4e-15, 1e-15], tol, 'v1');
    expectArrayClose(
      values((s1.s as { w: tf.Tensor }).w),
      [6.32455532e-7, -3.16227766e-7],
      tol,
      's1',
    );
    expect(values(s1.numerator)).toEqual([0]);
    expect(readProdigyD(s1)).toBe(Math.fround(1e-6));
    expect(s1.count).toBe(1);
    const [u2, s2] = tx.update(g2, s1, x1);
    expectArrayClose(
      values((u2 as { w: tf.Tensor }).w),
      [-1.01628841e-6, 5.27552178e-7],
      tol,
      'u2',
    );
    expectArrayClose([readProdigyD(s2)!], [0.207314026], tol, 'd');
    expectArrayClose(values(s2.numerator), [2.94145907e-7], tol, 'numerator');
    expectArrayClose(values((s2.mu as { w: tf.Tensor }).w), [3.3e-7, -1.4e-7], tol, 'm');
    expectArrayClose(values((s2.nu as { w: tf.Tensor }).w), [6.246e-15, 1.249e-15], tol, 'v');
    expect(s2.count).toBe(2);
    treeDispose([x0, x1, g1, g2, s0, u1, s1, u2, s2]);
  });
});

// ---------------------------------------------------------------------------
// An independent float64 reference, written from the update rule in plain
// JS (Float64Array per leaf, no tfjs), with PyTorch's growth_rate rule.

interface RefConfig {
  readonly title: string;
  readonly lr: number | ((count: number) => number);
  readonly options: ProdigyOptions;
}

interface Ref {
  count: number;
  d: number;
  dMax: number;
  num: number;
  m: Float64Array[];
  v: Float64Array[];
  s: Float64Array[];
  x0: Float64Array[];
}

function refInit(x: Float64Array[]): Ref {
  const zeros = () => x.map((leaf) => new Float64Array(leaf.length));
  return {
    count: 0,
    d: 1e-6,
    dMax: 1e-6,
    num: 0,
    m: zeros(),
    v: zeros(),
    s: zeros(),
    x0: x.map((leaf) => Float64Array.from(leaf)),
  };
}

/** One step of the published rule at parameters `x`; mutates `r` and returns the update. */
function refUpdate(x: Float64Array[], g: Float64Array[], r: Ref, c: RefConfig): Float64Array[] {
  const o = c.options;
  const b1 = o.b1 ?? 0.9;
  const b2 = o.b2 ?? 0.999;
  const b3 = o.b3 ?? Math.sqrt(b2);
  const eps = o.eps ?? 1e-8;
  const d0 = o.d0 ?? 1e-6;
  const coef = o.dCoef ?? 1;
  const wd = o.weightDecay ?? 0;
  const growth = o.growthRate ?? Number.POSITIVE_INFINITY;
  if (r.count === 0) {
    r.d = d0;
    r.dMax = d0;
  }
  const lr = typeof c.lr === 'number' ? c.lr : c.lr(r.count);
  const t = r.count + 1;
  const bc = (o.biasCorrection ?? true) ? Math.sqrt(1 - b2 ** t) / (1 - b1 ** t) : 1;
  const d = r.d;
  const dlr = d * lr * bc;
  let dot = 0;
  let abs = 0;
  x.forEach((xl, k) => {
    const gl = g[k]!;
    for (let i = 0; i < xl.length; i++) {
      const dg = d * gl[i]!;
      dot += gl[i]! * (r.x0[k]![i]! - xl[i]!);
      r.m[k]![i] = b1 * r.m[k]![i]! + (1 - b1) * dg;
      r.v[k]![i] = b2 * r.v[k]![i]! + (1 - b2) * dg * dg;
      r.s[k]![i] = b3 * r.s[k]![i]! + ((o.safeguardWarmup ? d : dlr) / d0) * dg;
      abs += Math.abs(r.s[k]![i]!);
    }
  });
  r.num = b3 * r.num + (d / d0) * dlr * dot;
  if (abs > 0) {
    const dHat = (coef * r.num) / abs;
    if (growth === Number.POSITIVE_INFINITY) {
      r.d = Math.max(d, dHat);
      r.dMax = r.d;
    } else {
      const start = d === d0 ? Math.max(d, dHat) : d;
      r.dMax = Math.max(r.dMax, dHat);
      r.d = Math.min(r.dMax, start * growth);
    }
  }
  r.count = t;
  return x.map((xl, k) =>
    xl.map((xi, i) => -(dlr * r.m[k]![i]!) / (Math.sqrt(r.v[k]![i]!) + r.d * eps) - wd * dlr * xi),
  );
}

// A noisy quadratic over three leaves of different shapes, inserted in
// non-sorted order (w, b, a; canonical order is a, b, w):
// loss = 0.5 Σ c_i (x_i − t_i)², gradient c_i (x_i − t_i) + noise_i(step).
const LEAVES = [
  { name: 'w', shape: [2, 3] },
  { name: 'b', shape: [4] },
  { name: 'a', shape: [] as number[] },
] as const;
const sizeOf = (shape: readonly number[]) => shape.reduce((n, s) => n * s, 1);
const curv = LEAVES.map(({ shape }, k) =>
  Float64Array.from({ length: sizeOf(shape) }, (_, i) => 0.5 + ((3 * i + 2 * k) % 5) * 0.5),
);
const targets = LEAVES.map(({ shape }, k) =>
  Float64Array.from({ length: sizeOf(shape) }, (_, i) => 2 * Math.sin(1.1 * i + 2.3 * k + 0.4)),
);
const starts = LEAVES.map(({ shape }, k) =>
  Float64Array.from({ length: sizeOf(shape) }, (_, i) => Math.fround(Math.cos(0.9 * i + 1.7 * k))),
);
const noise = (t: number) =>
  LEAVES.map(({ shape }, k) =>
    Float64Array.from(
      { length: sizeOf(shape) },
      (_, i) => 0.3 * Math.sin(0.37 * t * (i + 1) + 1.9 * k),
    ),
  );

function refGrads(x: Float64Array[], t: number): Float64Array[] {
  const n = noise(t);
  return x.map((xl, k) => xl.map((xi, i) => curv[k]![i]! * (xi - targets[k]![i]!) + n[k]![i]!));
}

function tfGrads(params: Record<string, tf.Tensor>, t: number): Record<string, tf.Tensor> {
  const n = noise(t);
  const out: Record<string, tf.Tensor> = {};
  LEAVES.forEach(({ name, shape }, k) => {
    out[name] = tf.tidy(() =>
      tf.add(
        tf.mul(
          tf.tensor(Array.from(curv[k]!), shape as number[]),
          tf.sub(params[name]!, tf.tensor(Array.from(targets[k]!), shape as number[])),
        ),
        tf.tensor(Array.from(n[k]!), shape as number[]),
      ),
    );
  });
  return out;
}

const REF_CONFIGS: readonly RefConfig[] = [
  { title: 'defaults', lr: 1, options: {} },
  {
    title: 'weight decay, no bias correction, b3 0.99, linearly decaying lr',
    lr: (count) => 1 - count / 200,
    options: { weightDecay: 0.05, biasCorrection: false, b3: 0.99 },
  },
  {
    title: 'growthRate 1.05, safeguardWarmup, dCoef 0.5, eps 1e-6, warm-up lr',
    lr: (count) => Math.min(1, (count + 1) / 20),
    options: { growthRate: 1.05, safeguardWarmup: true, dCoef: 0.5, eps: 1e-6 },
  },
];

const STEPS = 150;
const D0 = 1e-6;

const toTf = (x: Float64Array[]): Record<string, tf.Tensor> =>
  Object.fromEntries(
    LEAVES.map(({ name, shape }, k) => [name, tf.tensor(Array.from(x[k]!), shape as number[])]),
  );
const fromTf = (tree: Tree): Float64Array[] =>
  LEAVES.map(({ name }) => Float64Array.from(values((tree as Record<string, tf.Tensor>)[name]!)));

// Two comparisons per configuration, both over 150 steps, both on float32
// start values (the estimate uses x0 − x, which in the first steps is a few
// ulps of x: a start that float32 cannot hold exactly would put a ~1e-3
// relative error into d that has nothing to do with the update rule):
// 1. In lock step: at every step the reference computes its update at the
//    float32 parameters the tfjs run holds (its own state stays float64);
//    updates within 1e-5 of the step's largest update coordinate, d within
//    2e-5 relative. Worst seen (cpu and wasm): 5.2e-6 and 4.8e-6.
// 2. Free running: the reference follows its own trajectory, its parameters
//    rounded to float32 after each step as a float32 tensor stores them;
//    params (O(1)) within 2e-5 absolute, d within 2e-5 relative. Worst seen:
//    |Δx| 4.5e-6 (cpu) and 3.6e-6 (wasm), relative Δd 4.8e-6.
describeEachBackend('prodigy reproduces an independent float64 reference', (backend) => {
  for (const c of REF_CONFIGS) {
    it(`in lock step over ${STEPS} steps (${c.title})`, () => {
      const before = tf.memory().numTensors;
      const tx = prodigy(c.lr, c.options);
      let params = toTf(starts);
      expect(Object.keys(params)).toEqual(['w', 'b', 'a']);
      let state: ProdigyState = tx.init(params);
      const ref = refInit(starts);
      let worstU = 0;
      let worstD = 0;
      for (let t = 1; t <= STEPS; t++) {
        const x = fromTf(params);
        const uRef = refUpdate(x, refGrads(x, t), ref, c);
        const grads = tfGrads(params, t);
        const [u, next] = tx.update(grads, state, params);
        const got = fromTf(u);
        // Relative to the largest update coordinate of the step.
        const scale = Math.max(...uRef.map((l) => Math.max(...l.map(Math.abs))));
        got.forEach((l, k) => {
          expectArrayClose(
            l,
            uRef[k]!,
            { rtol: 1e-5, atol: 1e-5 * scale },
            `step ${t} u.${LEAVES[k]!.name}`,
          );
          l.forEach((v, i) => {
            worstU = Math.max(worstU, Math.abs(v - uRef[k]![i]!) / scale);
          });
        });
        const d = readProdigyD(next)!;
        expectArrayClose([d], [ref.d], { rtol: 2e-5, atol: 0 }, `step ${t} d`);
        worstD = Math.max(worstD, Math.abs(d - ref.d) / ref.d);
        const moved = tf.tidy(() =>
          Object.fromEntries(
            Object.entries(params).map(([k, p]) => [
              k,
              tf.add(p, (u as Record<string, tf.Tensor>)[k]!),
            ]),
          ),
        );
        treeDispose([grads, params, u]);
        disposeReplaced(state, next); // next keeps state.x0
        params = moved;
        state = next;
      }
      expect(ref.d).toBeGreaterThan(100 * D0); // the run exercises the adaptation
      console.info(
        `prodigy lock step [${backend}] ${c.title}: final d ${ref.d.toPrecision(4)}, worst |Δu|/max|u| ${worstU.toExponential(2)}, worst relative Δd ${worstD.toExponential(2)}`,
      );
      treeDispose([params, state]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it(`free running over ${STEPS} steps (${c.title})`, () => {
      const before = tf.memory().numTensors;
      const tx = prodigy(c.lr, c.options);
      let params = toTf(starts);
      let state: ProdigyState = tx.init(params);
      let x = starts.map((leaf) => Float64Array.from(leaf));
      const ref = refInit(x);
      let worstX = 0;
      let worstD = 0;
      for (let t = 1; t <= STEPS; t++) {
        const u = refUpdate(x, refGrads(x, t), ref, c);
        x = x.map((l, k) => l.map((xi, i) => Math.fround(xi + u[k]![i]!)));
        const grads = tfGrads(params, t);
        const next = step(tx, params, grads, state);
        treeDispose([grads, params]);
        params = next.params as Record<string, tf.Tensor>;
        state = next.state;
        fromTf(params).forEach((l, k) => {
          expectArrayClose(l, x[k]!, { rtol: 0, atol: 2e-5 }, `step ${t} ${LEAVES[k]!.name}`);
          l.forEach((v, i) => {
            worstX = Math.max(worstX, Math.abs(v - x[k]![i]!));
          });
        });
        const d = readProdigyD(state)!;
        expectArrayClose([d], [ref.d], { rtol: 2e-5, atol: 0 }, `step ${t} d`);
        worstD = Math.max(worstD, Math.abs(d - ref.d) / ref.d);
      }
      expect(ref.d).toBeGreaterThan(100 * D0);
      console.info(
        `prodigy free running [${backend}] ${c.title}: final d ${ref.d.toPrecision(4)}, worst |Δx| ${worstX.toExponential(2)}, worst relative Δd ${worstD.toExponential(2)}`,
      );
      treeDispose([params, state]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describeEachBackend('prodigy state', () => {
  it('keeps its own copy of x0: the caller may dispose its params, and variables move on', () => {
    const init = { w: tf.tensor1d([1, 2]), b: tf.scalar(3) };
    const tx = prodigy();
    const state0 = tx.init(init);
    const x0 = state0.x0 as { w: tf.Tensor; b: tf.Tensor };
    expect(x0.w).not.toBe(init.w);
    expect(x0.b).not.toBe(init.b);
    treeDispose(init);
    expect(values(x0.w)).toEqual([1, 2]);
    treeDispose(state0);

    const vars = { w: tf.variable(tf.tensor1d([1, 2])), b: tf.variable(tf.scalar(3)) };
    let state = tx.init(vars);
    const g = { w: tf.tensor1d([0.5, -1]), b: tf.scalar(2) };
    for (let i = 0; i < 5; i++) state = stepVariables(tx, vars, g, state);
    expect(values(vars.w)).not.toEqual([1, 2]);
    const kept = state.x0 as { w: tf.Tensor; b: tf.Tensor };
    expect(values(kept.w)).toEqual([1, 2]);
    expect(values(kept.b)).toEqual([3]);
    treeDispose([vars, g, state]);
  });

  // Regression: tf.sum of an empty tensor is not 0 on wasm (it reads uninitialised
  // memory, ~3.6e-41, different every call), so empty leaves are left out of the sums.
  it('an empty leaf changes nothing: same d and params as without it', () => {
    const tx = prodigy(1, { d0: 1e-2 });
    const run = (withEmpty: boolean) => {
      let params: Record<string, tf.Tensor> = { w: tf.tensor1d([1, -2]) };
      if (withEmpty) params.e = tf.zeros([0]);
      let state = tx.init(params);
      for (let t = 0; t < 8; t++) {
        // Two all-zero gradients first: then the true sums are exactly 0.
        const g: Record<string, tf.Tensor> = { w: tf.tensor1d(t < 2 ? [0, 0] : [0.5 + t, -1]) };
        if (withEmpty) g.e = tf.zeros([0]);
        const next = step(tx, params, g, state);
        treeDispose([g, params]);
        params = next.params as Record<string, tf.Tensor>;
        state = next.state;
      }
      const out = { d: readProdigyD(state), w: values(params.w!) };
      treeDispose([params, state]);
      return out;
    };
    // The property table's counterexample (seed -218405699): variables [zeros([0])],
    // b1 0, b2 0.9, eps 1e-4, d0 1e-2, no bias correction, stepped 3 times.
    const cx = prodigy(1, { b1: 0, b2: 0.9, eps: 1e-4, d0: 1e-2, biasCorrection: false });
    for (let run = 0; run < 2; run++) {
      const vars = [tf.variable(tf.zeros([0]))];
      const grads = [tf.zeros([0])];
      let s = cx.init(vars);
      for (let t = 0; t < 3; t++) s = stepVariables(cx, vars, grads, s);
      expect(readProdigyD(s)).toBe(Math.fround(1e-2));
      treeDispose([vars, grads, s]);
    }
    // Only empty leaves: every sum is 0, so d must stay d0 exactly.
    const only = { e: tf.zeros([0]), f: [tf.zeros([2, 0])] };
    let state = tx.init(only);
    for (let t = 0; t < 3; t++) {
      const next = step(tx, only, only, state);
      treeDispose(next.params);
      state = next.state;
    }
    expect(readProdigyD(state)).toBe(Math.fround(1e-2));
    treeDispose([only, state]);
    const plain = run(false);
    expect(plain.d).toBeGreaterThan(Math.fround(1e-2));
    expect(run(true)).toEqual(plain);
  });

  it('keeps d (no NaN) when every gradient so far is zero or the tree is empty', () => {
    const params = { w: tf.tensor1d([1, -1]) };
    const zero = { w: tf.zeros([2]) };
    const tx = prodigy();
    let state = tx.init(params);
    const [u, s1] = tx.update(zero, state, params);
    expect(values((u as { w: tf.Tensor }).w).map(Math.abs)).toEqual([0, 0]);
    expect(readProdigyD(s1)).toBe(Math.fround(1e-6));
    treeDispose([u, state]);
    state = s1;
    // An empty tree has nothing to estimate from either.
    const empty = tx.init({});
    const [ue, se] = tx.update({}, empty, {});
    expect(readProdigyD(se)).toBe(Math.fround(1e-6));
    treeDispose([params, zero, state, empty, ue, se]);
  });

  it('readProdigyD finds d inside a chain and injectHyperparams, and undefined elsewhere', () => {
    const params = { w: tf.tensor1d([1, 2]) };
    const chained = chain(scaleByAdam(), prodigy());
    const s1 = chained.init(params);
    expect(readProdigyD(s1)).toBe(Math.fround(1e-6));
    const injected = injectHyperparams(({ learningRate }) => prodigy(learningRate), {
      learningRate: 0.5,
    });
    const s2 = injected.init(params);
    expect(readProdigyD(s2)).toBe(Math.fround(1e-6));
    const adamState = scaleByAdam().init(params);
    expect(readProdigyD(adamState)).toBeUndefined();
    expect(readProdigyD(undefined)).toBeUndefined();
    treeDispose([params, s1, s2, adamState] as Tree[]);
  });
});
