// dadaptAdamw: options, the first two steps derived by hand, an independent
// float64 reference followed for 150 steps, and readDAdaptD.
import * as tf from '@tensorflow/tfjs-core';
import {
  chain,
  disposeReplaced,
  InvalidOptionError,
  injectHyperparams,
  step,
  TfoptError,
  type Tree,
  treeDispose,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { scaleByAdam } from '@tfopt/transforms';
import { describe, expect, it } from 'vitest';
import {
  type DAdaptAdamWOptions,
  type DAdaptAdamWState,
  dadaptAdamw,
  readDAdaptD,
} from './dadapt.js';
import { prodigy } from './prodigy.js';

describe('dadaptAdamw options', () => {
  it('rejects unknown keys and bad values at construction, naming the option', () => {
    const bad: [unknown, unknown, string][] = [
      [1, { beta1: 0.9 }, 'beta1'],
      [1, { b3: 0.9 }, 'b3'],
      [1, { dCoef: 2 }, 'dCoef'],
      [-1, undefined, 'learningRate'],
      [Number.POSITIVE_INFINITY, undefined, 'learningRate'],
      [1, { b1: 1 }, 'b1'],
      [1, { b2: 1.5 }, 'b2'],
      [1, { eps: 0 }, 'eps'],
      [1, { d0: -1e-6 }, 'd0'],
      [1, { weightDecay: -1 }, 'weightDecay'],
      [1, { biasCorrection: 0 }, 'biasCorrection'],
      [1, { growthRate: 0.99 }, 'growthRate'],
      [1, { growthRate: '2' }, 'growthRate'],
      [1, [0.9, 0.999], 'options'],
    ];
    for (const [lr, options, name] of bad) {
      const build = () => dadaptAdamw(lr as number, options as DAdaptAdamWOptions);
      expect(build, name).toThrow(InvalidOptionError);
      expect(build, name).toThrow(new RegExp(`^dadaptAdamw: option "${name}"`));
    }
  });

  it('accepts the defaults, a schedule, and growthRate Infinity', () => {
    expect(dadaptAdamw().spec).toEqual({ name: 'dadaptAdamw', args: [1] });
    const schedule = (count: number) => 1 / (count + 1);
    expect(dadaptAdamw(schedule, { growthRate: Number.POSITIVE_INFINITY }).spec?.args[0]).toBe(
      schedule,
    );
  });
});

describeEachBackend('dadaptAdamw', () => {
  it('throws a clear error when update gets no params, and leaks nothing', () => {
    const params = { w: tf.tensor1d([1, 2]) };
    const g = { w: tf.tensor1d([1, 1]) };
    const tx = dadaptAdamw();
    const state = tx.init(params);
    const before = tf.memory().numTensors;
    expect(() => tx.update(g, state)).toThrow(TfoptError);
    expect(() => tx.update(g, state)).toThrow(/dadaptAdamw: update needs the current params/);
    expect(tf.memory().numTensors).toBe(before);
    treeDispose([params, g, state]);
  });

  // By hand, defaults except weightDecay 0.5: b1 = 0.9, b2 = 0.999,
  // β = sqrt(0.999) = 0.9994998749, 1 − β = 5.00125063e-4, eps = 1e-8,
  // d0 = 1e-6, lr 1. x0 = [1, 2]; step 2 is taken at x1 = [0.5, 3] given
  // directly (the update is a function of g, the state and x).
  //
  // Step 1 (t = 1), g1 = [2, −1], d = 1e-6:
  //   bc = sqrt(0.001) / 0.1 = 0.316227766, dlr = 3.16227766e-7
  //   numerator term: s = 0, so <g, s / (sqrt(v) + eps)> = 0 and numerator = 0
  //   m = 0.1 · dlr · g = [6.32455532e-8, −3.16227766e-8]
  //   v = 0.001 · g² = [0.004, 0.001]
  //   s = (1 − β) · dlr · g = 5.00125063e-4 · 3.16227766e-7 · [2, −1]
  //     = [3.16306863e-10, −1.58153431e-10],  Σ|s| = 4.74460294e-10
  //   estimate 0 / ((1 − β) · Σ|s|) = 0, so d stays 1e-6
  //   sqrt(v) = [0.0632455532, 0.0316227766]
  //   u = −m / (sqrt(v) + eps) − 0.5 · dlr · x0
  //     = −[1e-6, −1e-6]·(1 − 1.6e-7, 1 − 3.2e-7) − 1.58113883e-7 · [1, 2]
  //     = [−1.15811372e-6, 6.83771918e-7]
  // Step 2 (t = 2), g2 = [1.5, −0.5], at x1 = [0.5, 3], d = 1e-6:
  //   bc = sqrt(0.001999) / 0.19 = 0.235316725, dlr = 2.35316725e-7
  //   s / (sqrt(v) + eps) from step 1's s and v:
  //     [3.16306863e-10 / 0.0632455632, −1.58153431e-10 / 0.0316227866]
  //     = [5.00124983e-9, −5.00124904e-9]
  //   <g2, ·> = 1.5 · 5.00124983e-9 + 0.5 · 5.00124904e-9 = 1.00024993e-8
  //   numerator = β · 0 + (1 − β) · dlr · 1.00024993e-8
  //             = 5.00125063e-4 · 2.35316725e-7 · 1.00024993e-8 = 1.17717205e-18
  //   m = 0.9 · m1 + 0.1 · dlr · g2 = [5.69209979e-8 + 3.52975088e-8, −2.84604989e-8 − 1.17658363e-8]
  //     = [9.22185067e-8, −4.02263352e-8]
  //   v = 0.999 · [0.004, 0.001] + 0.001 · [2.25, 0.25] = [0.006246, 0.001249]
  //   s = β · s1 + (1 − β) · dlr · g2 = [4.92680357e-10, −2.16918231e-10],  Σ|s| = 7.09598588e-10
  //   d = max(1e-6, 1.17717205e-18 / (5.00125063e-4 · 7.09598588e-10)) = 3.31702376e-6
  //   sqrt(v) = [0.0790316392, 0.0353411941]
  //   u = −m / (sqrt(v) + eps) − 0.5 · dlr · x1
  //     = [−1.16685228e-6 − 5.88291813e-8, 1.13822113e-6 − 3.52975088e-7]
  //     = [−1.22568458e-6, 7.85252549e-7]
  // The new d acts from step 3 on (m already holds dlr), unlike prodigy.
  it('matches the first two steps derived by hand', () => {
    const tx = dadaptAdamw(1, { weightDecay: 0.5 });
    const x0 = { w: tf.tensor1d([1, 2]) };
    const x1 = { w: tf.tensor1d([0.5, 3]) };
    const g1 = { w: tf.tensor1d([2, -1]) };
    const g2 = { w: tf.tensor1d([1.5, -0.5]) };
    const s0 = tx.init(x0);
    const tol = { rtol: 2e-6, atol: 0 };
    const leaf = (t: Tree) => values((t as { w: tf.Tensor }).w);
    const [u1, s1] = tx.update(g1, s0, x0);
    expectArrayClose(leaf(u1), [-1.15811372e-6, 6.83771918e-7], tol, 'u1');
    expectArrayClose(leaf(s1.mu), [6.32455532e-8, -3.16227766e-8], tol, 'm1');
    expectArrayClose(leaf(s1.nu), [0.004, 0.001], tol, 'v1');
    expectArrayClose(leaf(s1.s), [3.16306863e-10, -1.58153431e-10], tol, 's1');
    expect(values(s1.numerator)).toEqual([0]);
    expect(readDAdaptD(s1)).toBe(Math.fround(1e-6));
    expect(s1.count).toBe(1);
    const [u2, s2] = tx.update(g2, s1, x1);
    expectArrayClose(leaf(u2), [-1.22568458e-6, 7.85252549e-7], tol, 'u2');
    expectArrayClose(values(s2.numerator), [1.17717205e-18], tol, 'numerator');
    expectArrayClose(leaf(s2.mu), [9.22185067e-8, -4.02263352e-8], tol, 'm2');
    expectArrayClose(leaf(s2.s), [4.92680357e-10, -2.16918231e-10], tol, 's2');
    expectArrayClose([readDAdaptD(s2)!], [3.31702376e-6], tol, 'd');
    expect(s2.count).toBe(2);
    treeDispose([x0, x1, g1, g2, s0, u1, s1, u2, s2]);
  });

  // Regression: tf.sum of an empty tensor is not 0 on wasm (it reads uninitialised
  // memory, ~3.6e-41, different every call), so empty leaves are left out of the sums.
  it('an empty leaf changes nothing: same d and params as without it', () => {
    const tx = dadaptAdamw(1, { d0: 1e-2 });
    const run = (withEmpty: boolean) => {
      let params: Record<string, tf.Tensor> = { w: tf.tensor1d([1, -2]) };
      if (withEmpty) params.e = tf.zeros([0]);
      let state = tx.init(params);
      for (let t = 0; t < 5; t++) {
        // Two all-zero gradients first: then the true sums are exactly 0.
        const g: Record<string, tf.Tensor> = { w: tf.tensor1d(t < 2 ? [0, 0] : [0.5 + t, -1]) };
        if (withEmpty) g.e = tf.zeros([0]);
        const next = step(tx, params, g, state);
        treeDispose([g, params]);
        params = next.params as Record<string, tf.Tensor>;
        state = next.state;
      }
      const out = { d: readDAdaptD(state), w: values(params.w!) };
      treeDispose([params, state]);
      return out;
    };
    // Only empty leaves: every sum is 0, so d must stay d0 exactly.
    const only = { e: tf.zeros([0]), f: [tf.zeros([2, 0])] };
    let state = tx.init(only);
    for (let t = 0; t < 3; t++) {
      const next = step(tx, only, only, state);
      treeDispose(next.params);
      state = next.state;
    }
    expect(readDAdaptD(state)).toBe(Math.fround(1e-2));
    treeDispose([only, state]);
    const plain = run(false);
    expect(plain.d).toBeGreaterThan(Math.fround(1e-2));
    expect(run(true)).toEqual(plain);
  });

  it('keeps d (no NaN) when every gradient so far is zero or the tree is empty', () => {
    const params = { w: tf.tensor1d([1, -1]) };
    const zero = { w: tf.zeros([2]) };
    const tx = dadaptAdamw();
    const state = tx.init(params);
    const [u, s1] = tx.update(zero, state, params);
    expect(values((u as { w: tf.Tensor }).w).map(Math.abs)).toEqual([0, 0]);
    expect(readDAdaptD(s1)).toBe(Math.fround(1e-6));
    const empty = tx.init({});
    const [ue, se] = tx.update({}, empty, {});
    expect(readDAdaptD(se)).toBe(Math.fround(1e-6));
    treeDispose([params, zero, state, u, s1, empty, ue, se]);
  });

  it('readDAdaptD finds d inside a chain and injectHyperparams, and undefined elsewhere', () => {
    const params = { w: tf.tensor1d([1, 2]) };
    const s1 = chain(scaleByAdam(), dadaptAdamw()).init(params);
    expect(readDAdaptD(s1)).toBe(Math.fround(1e-6));
    const injected = injectHyperparams(({ learningRate }) => dadaptAdamw(learningRate), {
      learningRate: 0.5,
    });
    const s2 = injected.init(params);
    expect(readDAdaptD(s2)).toBe(Math.fround(1e-6));
    // A prodigy state is not a D-Adaptation state.
    const s3 = prodigy().init(params);
    expect(readDAdaptD(s3)).toBeUndefined();
    expect(readDAdaptD(undefined)).toBeUndefined();
    treeDispose([params, s1, s2, s3] as Tree[]);
  });
});

// ---------------------------------------------------------------------------
// An independent float64 reference, written from the update rule in plain
// JS (Float64Array per leaf, no tfjs), with PyTorch's growth_rate rule.

interface RefConfig {
  readonly title: string;
  readonly lr: number | ((count: number) => number);
  readonly options: DAdaptAdamWOptions;
}

interface Ref {
  count: number;
  d: number;
  num: number;
  m: Float64Array[];
  v: Float64Array[];
  s: Float64Array[];
}

function refInit(x: Float64Array[], d0: number): Ref {
  const zeros = () => x.map((leaf) => new Float64Array(leaf.length));
  return { count: 0, d: d0, num: 0, m: zeros(), v: zeros(), s: zeros() };
}

/** One step of the published rule at parameters `x`; mutates `r` and returns the update. */
function refUpdate(x: Float64Array[], g: Float64Array[], r: Ref, c: RefConfig): Float64Array[] {
  const o = c.options;
  const b1 = o.b1 ?? 0.9;
  const b2 = o.b2 ?? 0.999;
  const beta = Math.sqrt(b2);
  const eps = o.eps ?? 1e-8;
  const wd = o.weightDecay ?? 0;
  const growth = o.growthRate ?? Number.POSITIVE_INFINITY;
  const lr = typeof c.lr === 'number' ? c.lr : c.lr(r.count);
  const t = r.count + 1;
  const bc = (o.biasCorrection ?? true) ? Math.sqrt(1 - b2 ** t) / (1 - b1 ** t) : 1;
  const d = r.d;
  const dlr = d * lr * bc;
  let dot = 0;
  let l1 = 0;
  x.forEach((xl, k) => {
    const gl = g[k]!;
    for (let i = 0; i < xl.length; i++) {
      dot += (gl[i]! * r.s[k]![i]!) / (Math.sqrt(r.v[k]![i]!) + eps);
      r.m[k]![i] = b1 * r.m[k]![i]! + (1 - b1) * dlr * gl[i]!;
      r.v[k]![i] = b2 * r.v[k]![i]! + (1 - b2) * gl[i]! * gl[i]!;
      r.s[k]![i] = beta * r.s[k]![i]! + (1 - beta) * dlr * gl[i]!;
      l1 += Math.abs(r.s[k]![i]!);
    }
  });
  r.num = beta * r.num + (1 - beta) * dlr * dot;
  if (l1 > 0) r.d = Math.max(d, Math.min(r.num / ((1 - beta) * l1), d * growth));
  r.count = t;
  return x.map((xl, k) =>
    xl.map((xi, i) => -r.m[k]![i]! / (Math.sqrt(r.v[k]![i]!) + eps) - wd * dlr * xi),
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
    title: 'weight decay, no bias correction, b1 0.8, linearly decaying lr',
    lr: (count) => 1 - count / 200,
    options: { weightDecay: 0.05, biasCorrection: false, b1: 0.8 },
  },
  {
    title: 'growthRate 1.05, d0 1e-4, b2 0.99, eps 1e-6, warm-up lr',
    lr: (count) => Math.min(1, (count + 1) / 20),
    options: { growthRate: 1.05, d0: 1e-4, b2: 0.99, eps: 1e-6 },
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
// start values (so that both sides start from the same point):
// 1. In lock step: at every step the reference computes its update at the
//    float32 parameters the tfjs run holds (its own state stays float64);
//    updates within 1e-5 of the step's largest update coordinate, d within
//    2e-5 relative. Worst seen (cpu and wasm): 6.0e-6 and 5.8e-6.
// 2. Free running: the reference follows its own trajectory, its parameters
//    rounded to float32 after each step as a float32 tensor stores them;
//    params (O(1)) within 2e-5 absolute, d within 2e-5 relative. Worst seen:
//    |Δx| 9.4e-6 (cpu) and 1.05e-5 (wasm), relative Δd 5.8e-6.
describeEachBackend('dadaptAdamw reproduces an independent float64 reference', (backend) => {
  for (const c of REF_CONFIGS) {
    it(`in lock step over ${STEPS} steps (${c.title})`, () => {
      const before = tf.memory().numTensors;
      const tx = dadaptAdamw(c.lr, c.options);
      let params = toTf(starts);
      expect(Object.keys(params)).toEqual(['w', 'b', 'a']);
      let state: DAdaptAdamWState = tx.init(params);
      const ref = refInit(starts, c.options.d0 ?? 1e-6);
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
        const d = readDAdaptD(next)!;
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
        disposeReplaced(state, next);
        params = moved;
        state = next;
      }
      expect(ref.d).toBeGreaterThan(100 * (c.options.d0 ?? D0)); // the run exercises the adaptation
      console.info(
        `dadaptAdamw lock step [${backend}] ${c.title}: final d ${ref.d.toPrecision(4)}, worst |Δu|/max|u| ${worstU.toExponential(2)}, worst relative Δd ${worstD.toExponential(2)}`,
      );
      treeDispose([params, state]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it(`free running over ${STEPS} steps (${c.title})`, () => {
      const before = tf.memory().numTensors;
      const tx = dadaptAdamw(c.lr, c.options);
      let params = toTf(starts);
      let state: DAdaptAdamWState = tx.init(params);
      let x = starts.map((leaf) => Float64Array.from(leaf));
      const ref = refInit(x, c.options.d0 ?? 1e-6);
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
        const d = readDAdaptD(state)!;
        expectArrayClose([d], [ref.d], { rtol: 2e-5, atol: 0 }, `step ${t} d`);
        worstD = Math.max(worstD, Math.abs(d - ref.d) / ref.d);
      }
      expect(ref.d).toBeGreaterThan(100 * (c.options.d0 ?? D0));
      console.info(
        `dadaptAdamw free running [${backend}] ${c.title}: final d ${ref.d.toPrecision(4)}, worst |Δx| ${worstX.toExponential(2)}, worst relative Δd ${worstD.toExponential(2)}`,
      );
      treeDispose([params, state]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
