import * as tf from '@tensorflow/tfjs-core';
import {
  chain,
  type GradientTransformation,
  InvalidOptionError,
  injectLearningRate,
  step,
  type Tree,
  treeDispose,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { clipByGlobalNorm, sgd } from '@tfopt/transforms';
import { expect, it } from 'vitest';
import {
  type ScheduleFreeState,
  scheduleFree,
  scheduleFreeAdamw,
  scheduleFreeEvalParams,
  scheduleFreeSgd,
} from './scheduleFree.js';

// ---------------------------------------------------------------------------
// The noisy quadratic of the reference runs: a tree { w: [2, 3], b: [2] }
// inserted in the order w, b (the canonical order is b, w).
// loss = 0.5 Σ c_i (y_i − t_i)², gradient at the training params y, plus a
// deterministic "noise" 0.05 sin(0.37 k + 1.1 i + 0.5 leaf) at step k.

type Leaf = 'w' | 'b';
type Vec = Record<Leaf, number[]>;
const C = { w: [1, 1.2, 0.5, 1.5, 0.9, 0.8], b: [1.3, 0.3] };
const T = { w: [1, -2, 0.5, 3, -1, 0.25], b: [-0.5, 2] };
const START: Vec = { w: [0.1, 0.2, -0.3, 0.4, 0.5, -0.6], b: [0.05, -0.05] };

function gradient(y: Record<Leaf, ArrayLike<number>>, k: number): Vec {
  const g = (leaf: Leaf, offset: number) =>
    Array.from(y[leaf], (yi, i) => {
      const c = C[leaf][i] as number;
      const t = T[leaf][i] as number;
      return c * (yi - t) + 0.05 * Math.sin(0.37 * k + 1.1 * i + 0.5 * offset);
    });
  return { w: g('w', 0), b: g('b', 1) };
}

const map = (f: (leaf: Leaf, i: number) => number): Vec => ({
  w: START.w.map((_, i) => f('w', i)),
  b: START.b.map((_, i) => f('b', i)),
});
const flat = (v: Vec): number[] => [...v.b, ...v.w];
const read = (tree: unknown): Vec => {
  const t = tree as { w: tf.Tensor; b: tf.Tensor };
  return { w: values(t.w), b: values(t.b) };
};

// ---------------------------------------------------------------------------
// Reference (float64, plain arrays), written from the published rule of
// optax.contrib.schedule_free and of the bases schedule_free_sgd and
// schedule_free_adamw build. A base returns the (already negated) update u
// for gradient g at params y; its own learning-rate schedule is evaluated at
// its own count, from 0 (optax's scale_by_learning_rate).

type Schedule = (count: number) => number;
type RefBase = (g: Vec, y: Vec) => Vec;

/** optax.sgd(lr) after optional add_decayed_weights(wd), optionally with heavy-ball momentum. */
function refSgd(lr: Schedule, weightDecay = 0, momentum = 0): RefBase {
  let count = 0;
  let trace = map(() => 0);
  return (g, y) => {
    const rate = lr(count);
    count += 1;
    trace = map(
      (l, i) =>
        momentum * (trace[l][i] as number) +
        (g[l][i] as number) +
        weightDecay * (y[l][i] as number),
    );
    return map((l, i) => -rate * (trace[l][i] as number));
  };
}

/** scale_by_rms(b2, eps, eps_in_sqrt=False, bias_correction=True), add_decayed_weights(wd), −lr. */
function refAdamwNoMomentum(lr: Schedule, b2 = 0.999, eps = 1e-8, weightDecay = 0): RefBase {
  let count = 0;
  let nu = map(() => 0);
  return (g, y) => {
    const rate = lr(count);
    count += 1;
    nu = map((l, i) => b2 * (nu[l][i] as number) + (1 - b2) * (g[l][i] as number) ** 2);
    const correction = 1 - b2 ** count;
    return map((l, i) => {
      const scaled = (g[l][i] as number) / (Math.sqrt((nu[l][i] as number) / correction) + eps);
      return -rate * (scaled + weightDecay * (y[l][i] as number));
    });
  };
}

class RefScheduleFree {
  stepCount = 1; // optax: ones([]), the schedule sees 1 on the first update
  weightSum = 0;
  maxLr = 0;
  z: Vec;
  y: Vec;
  constructor(
    readonly base: RefBase,
    readonly lr: Schedule,
    readonly b1 = 0.9,
    readonly power = 2,
  ) {
    this.z = map((l, i) => START[l][i] as number);
    this.y = map((l, i) => START[l][i] as number);
  }

  /** x = (y − (1 − b1) z) / b1 */
  x(): Vec {
    return map(
      (l, i) => ((this.y[l][i] as number) - (1 - this.b1) * (this.z[l][i] as number)) / this.b1,
    );
  }

  step(g: Vec): void {
    const lr = this.lr(this.stepCount);
    this.maxLr = Math.max(this.maxLr, lr);
    const weight = this.maxLr ** this.power;
    this.weightSum += weight;
    let c = weight / this.weightSum;
    if (Number.isNaN(c)) c = 0; // 0/0 → 0 (nan_to_num)
    this.stepCount += 1;
    const u = this.base(g, this.y);
    const zNew = map((l, i) => (this.z[l][i] as number) + (u[l][i] as number));
    const xPrev = this.x();
    const x = map((l, i) => (1 - c) * (xPrev[l][i] as number) + c * (zNew[l][i] as number));
    this.y = map((l, i) => this.b1 * (x[l][i] as number) + (1 - this.b1) * (zNew[l][i] as number));
    this.z = zNew;
  }
}

const constant =
  (v: number): Schedule =>
  () =>
    v;
/** optax.warmup_constant_schedule(0, peak, steps). */
const warmupRef =
  (peak: number, steps: number): Schedule =>
  (c) =>
    (peak * Math.min(Math.max(c, 0), steps)) / steps;
/** A ramp up to 0.1 at count 50, then a decay: the max learning rate and its weights matter. */
const rampThenDecay: Schedule = (c) => (c < 50 ? 0.002 * c : 0.1 * Math.exp(-(c - 50) / 50));

const STEPS = 150;

const start = () => ({ w: tf.tensor2d(START.w, [2, 3]), b: tf.tensor1d(START.b) });

describeEachBackend('scheduleFree', () => {
  it('validates its options at construction, naming the option', () => {
    const bad: [() => unknown, string][] = [
      [() => scheduleFreeSgd(1, { beta1: 0.9 } as never), 'beta1'],
      [() => scheduleFreeSgd(1, { b1: 0 }), 'b1'],
      [() => scheduleFreeSgd(1, { b1: 1.5 }), 'b1'],
      [() => scheduleFreeSgd(1, { b1: Number.NaN }), 'b1'],
      [() => scheduleFreeSgd(1, { weightLrPower: -1 }), 'weightLrPower'],
      [() => scheduleFreeSgd(1, { warmupSteps: 0 }), 'warmupSteps'],
      [() => scheduleFreeSgd(1, { warmupSteps: 2.5 }), 'warmupSteps'],
      [() => scheduleFreeSgd(() => 1, { warmupSteps: 3 }), 'warmupSteps'],
      [() => scheduleFreeSgd(1, { weightDecay: -0.1 }), 'weightDecay'],
      [() => scheduleFreeSgd(-1), 'learningRate'],
      [() => scheduleFreeSgd(Number.NaN), 'learningRate'],
      [() => scheduleFreeSgd(1, 3 as never), 'options'],
      [() => scheduleFreeAdamw(1e-3, { eps: -1 }), 'eps'],
      [() => scheduleFreeAdamw(1e-3, { b2: 1 }), 'b2'],
      [() => scheduleFreeAdamw(1e-3, { weightDecay: -1 }), 'weightDecay'],
      [() => scheduleFreeAdamw(1e-3, { momentum: 0.9 } as never), 'momentum'],
      [() => scheduleFreeAdamw(1e-3, { warmupSteps: -2 }), 'warmupSteps'],
      [() => scheduleFreeAdamw(-1e-3), 'learningRate'],
      [() => scheduleFree({} as never, 1), 'base'],
      [() => scheduleFree(sgd(1), -1), 'learningRate'],
      [() => scheduleFree(sgd(1), 1, { b1: 2 }), 'b1'],
      [() => scheduleFree(sgd(1), 1, { warmupSteps: 3 } as never), 'warmupSteps'],
    ];
    for (const [build, option] of bad) {
      expect(build, option).toThrow(InvalidOptionError);
      expect(build, option).toThrow(new RegExp(`option "${option}"`));
    }
    // b1 = 1 is allowed (the interval is (0, 1]); x is then y.
    expect(() => scheduleFreeSgd(1, { b1: 1 })).not.toThrow();
    expect(scheduleFreeSgd(0.5, { warmupSteps: 3 }).spec).toEqual({
      name: 'scheduleFreeSgd',
      args: [0.5, { warmupSteps: 3 }],
    });
    expect(scheduleFreeAdamw().spec?.name).toBe('scheduleFreeAdamw');
    expect(scheduleFreeAdamw().spec?.args[0]).toBe(0.0025);
  });

  it('scheduleFreeSgd matches two steps derived by hand (and the eval params)', () => {
    // scheduleFreeSgd(0.5): b1 0.9, weightLrPower 2. y0 = z0 = [1, 2].
    // Step 1, g = [2, −1]: lr(1) = 0.5, maxLr 0.5, weight 0.5² = 0.25, weightSum 0.25, c = 1.
    //   u = −0.5·g = [−1, 0.5]; z1 = [0, 2.5]
    //   x_prev = (y0 − 0.1·z0)/0.9 = (0.9·[1, 2])/0.9 = [1, 2]
    //   x1 = 0·x_prev + 1·z1 = [0, 2.5];  y1 = 0.9·x1 + 0.1·z1 = [0, 2.5]; update [−1, 0.5]
    //   eval x = (y1 − 0.1·z1)/0.9 = [0, 2.5]
    // Step 2, g = [1, 1]: weight 0.25, weightSum 0.5, c = 0.5. u = [−0.5, −0.5]; z2 = [−0.5, 2]
    //   x_prev = (y1 − 0.1·z1)/0.9 = [0, 2.5]
    //   x2 = 0.5·[0, 2.5] + 0.5·[−0.5, 2] = [−0.25, 2.25]
    //   y2 = 0.9·[−0.25, 2.25] + 0.1·[−0.5, 2] = [−0.275, 2.225]; update [−0.275, −0.275]
    //   eval x = (y2 − 0.1·z2)/0.9 = [−0.225, 2.025]/0.9 = [−0.25, 2.25] = x2
    const before = tf.memory().numTensors;
    const tx = scheduleFreeSgd(0.5);
    let params: Tree = { w: tf.tensor1d([1, 2]) };
    let state = tx.init(params);
    expect([state.stepCount, state.weightSum, state.maxLr, state.b1]).toEqual([1, 0, 0, 0.9]);
    const tol = { rtol: 1e-6, atol: 1e-7 };
    const expected = [
      { g: [2, -1], u: [-1, 0.5], y: [0, 2.5], z: [0, 2.5], x: [0, 2.5], sum: 0.25 },
      {
        g: [1, 1],
        u: [-0.275, -0.275],
        y: [-0.275, 2.225],
        z: [-0.5, 2],
        x: [-0.25, 2.25],
        sum: 0.5,
      },
    ];
    for (const [k, e] of expected.entries()) {
      const g = { w: tf.tensor1d(e.g) };
      const [u, next] = tx.update(g, state, params);
      expectArrayClose(values((u as { w: tf.Tensor }).w), e.u, tol, `update ${k + 1}`);
      const y: tf.Tensor = tf.add((params as { w: tf.Tensor }).w, (u as { w: tf.Tensor }).w);
      treeDispose([g, u, params, state]);
      params = { w: y };
      state = next;
      expectArrayClose(values(y), e.y, tol, `y ${k + 1}`);
      expectArrayClose(values((state.z as { w: tf.Tensor }).w), e.z, tol, `z ${k + 1}`);
      expect(state.weightSum).toBeCloseTo(e.sum, 12);
      expect(state.maxLr).toBe(0.5);
      expect(state.stepCount).toBe(k + 2);
      const x = scheduleFreeEvalParams(state, params) as { w: tf.Tensor };
      expectArrayClose(values(x.w), e.x, tol, `eval x ${k + 1}`);
      tf.dispose(x);
    }
    treeDispose([params, state]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('scheduleFreeSgd with warmup: the base step lags the weight by one count, as in optax', () => {
    // scheduleFreeSgd(0.5, { warmupSteps: 2 }): lr(c) = 0.5·min(c, 2)/2.
    // The weight uses lr(stepCount) with stepCount from 1; sgd's own scaleByLearningRate uses
    // lr(count) with count from 0. y0 = z0 = [1, 2].
    // Step 1, g = [2, −1]: weight lr(1) = 0.25 → maxLr 0.25, weight 0.0625, sum 0.0625, c = 1.
    //   base lr(0) = 0: u = 0, z1 = z0 = [1, 2], x1 = z1, y1 = 0.9·z1 + 0.1·z1 = [1, 2]; update 0.
    // Step 2, g = [1, 1]: lr(2) = 0.5 → maxLr 0.5, weight 0.25, sum 0.3125, c = 0.25/0.3125 = 0.8.
    //   base lr(1) = 0.25: u = [−0.25, −0.25]; z2 = [0.75, 1.75]
    //   x_prev = (y1 − 0.1·z1)/0.9 = [1, 2]
    //   x2 = 0.2·[1, 2] + 0.8·[0.75, 1.75] = [0.8, 1.8]
    //   y2 = 0.9·[0.8, 1.8] + 0.1·[0.75, 1.75] = [0.795, 1.795]; update [−0.205, −0.205]
    const tx = scheduleFreeSgd(0.5, { warmupSteps: 2 });
    const p0 = { w: tf.tensor1d([1, 2]) };
    const s0 = tx.init(p0);
    const g1 = { w: tf.tensor1d([2, -1]) };
    const { params: p1, state: s1 } = step(tx, p0, g1, s0);
    expectArrayClose(values((p1 as { w: tf.Tensor }).w), [1, 2], { rtol: 0, atol: 0 }, 'y1');
    expect(s1.maxLr).toBe(0.25);
    expect(s1.weightSum).toBeCloseTo(0.0625, 12);
    const g2 = { w: tf.tensor1d([1, 1]) };
    const { params: p2, state: s2 } = step(tx, p1, g2, s1);
    const tol = { rtol: 1e-6, atol: 1e-7 };
    expectArrayClose(values((p2 as { w: tf.Tensor }).w), [0.795, 1.795], tol, 'y2');
    expectArrayClose(values((s2.z as { w: tf.Tensor }).w), [0.75, 1.75], tol, 'z2');
    expect(s2.maxLr).toBe(0.5);
    expect(s2.weightSum).toBeCloseTo(0.3125, 12);
    const x = scheduleFreeEvalParams(s2, p2) as { w: tf.Tensor };
    expectArrayClose(values(x.w), [0.8, 1.8], tol, 'x2');
    treeDispose([p0, s0, g1, p1, s1, g2, p2, s2, x]);
  });

  it('scheduleFreeAdamw matches two steps derived by hand (and the eval params)', () => {
    // scheduleFreeAdamw(0.1, { weightDecay: 0.1 }): b1 0.9, b2 0.999, eps 1e-8, power 2.
    // y0 = z0 = [1, 2]. The weight is lr² = 0.01 every step.
    // Step 1, g = [2, −1]: nu = 0.001·g² = [0.004, 0.001]; 1 − 0.999 = 0.001, so
    //   sqrt(nu/0.001) = |g| and g/(|g| + 1e-8) = [0.999999995, −0.99999999].
    //   + 0.1·y0 = [1.1, −0.8] (to float32 precision); u = −0.1·that = [−0.11, 0.08]
    //   c = 0.01/0.01 = 1: z1 = y1 = x1 = [0.89, 2.08].
    // Step 2, g = [1, 1] at y1: nu = 0.999·[0.004, 0.001] + 0.001·[1, 1] = [0.004996, 0.001999]
    //   1 − 0.999² = 0.001999: sqrt(nu/0.001999) = [sqrt(2.4992496), 1] = [1.5809015, 1]
    //   g/(·) = [0.6325505, 1]; + 0.1·y1 = + [0.089, 0.208] → [0.7215505, 1.208]
    //   u = [−0.07215505, −0.1208]; z2 = [0.81784495, 1.9592]
    //   c = 0.01/0.02 = 0.5; x_prev = (y1 − 0.1·z1)/0.9 = z1 = [0.89, 2.08]
    //   x2 = 0.5·[0.89, 2.08] + 0.5·[0.81784495, 1.9592] = [0.85392248, 2.0196]
    //   y2 = 0.9·x2 + 0.1·z2 = [0.76853023 + 0.08178450, 1.81764 + 0.19592] = [0.85031472, 2.01356]
    //   update y2 − y1 = [−0.03968528, −0.06644]
    const before = tf.memory().numTensors;
    const tx = scheduleFreeAdamw(0.1, { weightDecay: 0.1 });
    let params: Tree = { w: tf.tensor1d([1, 2]) };
    let state = tx.init(params);
    const tol = { rtol: 2e-6, atol: 1e-7 };
    const expected = [
      {
        g: [2, -1],
        u: [-0.11, 0.08],
        y: [0.89, 2.08],
        z: [0.89, 2.08],
        x: [0.89, 2.08],
        nu: [0.004, 0.001],
      },
      {
        g: [1, 1],
        u: [-0.03968528, -0.06644],
        y: [0.85031472, 2.01356],
        z: [0.81784495, 1.9592],
        x: [0.85392248, 2.0196],
        nu: [0.004996, 0.001999],
      },
    ];
    for (const [k, e] of expected.entries()) {
      const g = { w: tf.tensor1d(e.g) };
      const [u, next] = tx.update(g, state, params);
      expectArrayClose(values((u as { w: tf.Tensor }).w), e.u, tol, `update ${k + 1}`);
      const y: tf.Tensor = tf.add((params as { w: tf.Tensor }).w, (u as { w: tf.Tensor }).w);
      treeDispose([g, u, params, state]);
      params = { w: y };
      state = next;
      expectArrayClose(values(y), e.y, tol, `y ${k + 1}`);
      expectArrayClose(values((state.z as { w: tf.Tensor }).w), e.z, tol, `z ${k + 1}`);
      const rms = state.baseState[0];
      expect(rms.count).toBe(k + 1);
      expectArrayClose(values((rms.nu as { w: tf.Tensor }).w), e.nu, tol, `nu ${k + 1}`);
      expect(state.weightSum).toBeCloseTo(0.01 * (k + 1), 12);
      const x = scheduleFreeEvalParams(state, params) as { w: tf.Tensor };
      expectArrayClose(values(x.w), e.x, tol, `eval x ${k + 1}`);
      tf.dispose(x);
    }
    treeDispose([params, state]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a zero learning rate gives a zero step, not NaN (0/0 weight is 0, as in optax)', () => {
    const tx = scheduleFreeSgd(0);
    const p = { w: tf.tensor1d([1, -2]) };
    const s = tx.init(p);
    const g = { w: tf.tensor1d([3, 4]) };
    const [u, next] = tx.update(g, s, p);
    expect(values((u as { w: tf.Tensor }).w)).toEqual([0, 0]);
    expect(next.weightSum).toBe(0);
    treeDispose([p, s, g, u, next]);
  });

  it('needs the params and says so', () => {
    const tx = scheduleFreeSgd(0.1);
    const p = { w: tf.tensor1d([1]) };
    const s = tx.init(p);
    expect(() => tx.update(p, s)).toThrow(
      /^scheduleFree: update needs the current params \(they are the iterate y\)/,
    );
    treeDispose([p, s]);
  });

  const cases: {
    name: string;
    tx: () => GradientTransformation<ScheduleFreeState<any>>;
    ref: () => RefScheduleFree;
  }[] = [
    {
      name: 'scheduleFreeSgd(0.2)',
      tx: () => scheduleFreeSgd(0.2),
      ref: () => new RefScheduleFree(refSgd(constant(0.2)), constant(0.2)),
    },
    {
      name: 'scheduleFreeSgd(0.3, { warmupSteps: 20, b1: 0.8, weightDecay: 0.01, weightLrPower: 1 })',
      tx: () =>
        scheduleFreeSgd(0.3, { warmupSteps: 20, b1: 0.8, weightDecay: 0.01, weightLrPower: 1 }),
      ref: () => new RefScheduleFree(refSgd(warmupRef(0.3, 20), 0.01), warmupRef(0.3, 20), 0.8, 1),
    },
    {
      name: 'scheduleFreeAdamw(0.05, { warmupSteps: 10, weightDecay: 0.01 })',
      tx: () => scheduleFreeAdamw(0.05, { warmupSteps: 10, weightDecay: 0.01 }),
      ref: () =>
        new RefScheduleFree(
          refAdamwNoMomentum(warmupRef(0.05, 10), 0.999, 1e-8, 0.01),
          warmupRef(0.05, 10),
        ),
    },
    {
      name: 'scheduleFreeAdamw(0.03, { b1: 0.95, b2: 0.99, eps: 1e-6, weightLrPower: 3 })',
      tx: () => scheduleFreeAdamw(0.03, { b1: 0.95, b2: 0.99, eps: 1e-6, weightLrPower: 3 }),
      ref: () =>
        new RefScheduleFree(
          refAdamwNoMomentum(constant(0.03), 0.99, 1e-6),
          constant(0.03),
          0.95,
          3,
        ),
    },
    {
      name: 'scheduleFree(sgd(schedule), schedule) with a ramp then a decay (max lr holds)',
      tx: () => scheduleFree(sgd(rampThenDecay), rampThenDecay),
      ref: () => new RefScheduleFree(refSgd(rampThenDecay), rampThenDecay),
    },
  ];

  for (const c of cases) {
    it(`${c.name} follows an independent float64 reference for ${STEPS} steps`, () => {
      // The reference runs its own float64 trajectory from the same start (the transform's
      // gradient is computed at its own float32 y). Schedule-Free is an average of contracting
      // SGD/RMS steps, so rounding does not grow: params, z and the eval params are compared at
      // every step within rtol 1e-5, atol 5e-6 (float32 tolerance over 150 steps, values of order
      // 1 to 3; the worst error seen is 2.4e-6, on the ramp-then-decay case, cpu and wasm alike);
      // the scalar state (float64 in both) within 1e-9 relative.
      const before = tf.memory().numTensors;
      const tx = c.tx();
      const ref = c.ref();
      let params = start();
      let state = tx.init(params);
      const tol = { rtol: 1e-5, atol: 5e-6 };
      let worst = 0;
      for (let k = 1; k <= STEPS; k++) {
        const gTf = gradient(read(params), k);
        ref.step(gradient(ref.y, k));
        const grads = { w: tf.tensor2d(gTf.w, [2, 3]), b: tf.tensor1d(gTf.b) };
        const next = step(tx, params, grads, state);
        treeDispose([grads, params]);
        params = next.params as typeof params;
        state = next.state;
        const got = flat(read(params));
        expectArrayClose(got, flat(ref.y), tol, `step ${k} y`);
        expectArrayClose(flat(read(state.z)), flat(ref.z), tol, `step ${k} z`);
        const x = scheduleFreeEvalParams(state, params);
        const gotX = flat(read(x));
        treeDispose(x);
        expectArrayClose(gotX, flat(ref.x()), tol, `step ${k} eval x`);
        expect(state.stepCount).toBe(ref.stepCount);
        expectArrayClose([state.weightSum, state.maxLr], [ref.weightSum, ref.maxLr], {
          rtol: 1e-9,
          atol: 0,
        });
        const want = [...flat(ref.y), ...flat(ref.x())];
        [...got, ...gotX].forEach((a, i) => {
          worst = Math.max(worst, Math.abs(a - (want[i] as number)));
        });
      }
      // The run got somewhere: the largest distance to the targets (2.6 at the start) halved.
      const far = (v: number[]) =>
        Math.max(...v.map((vi, i) => Math.abs(vi - (flat(T)[i] as number))));
      expect(far(flat(ref.x()))).toBeLessThan(0.5 * far(flat(START)));
      console.log(
        `${c.name}: worst |tf − reference| over y and x, ${STEPS} steps: ${worst.toExponential(2)}`,
      );
      treeDispose([params, state]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('scheduleFreeEvalParams finds the state inside chain and injectLearningRate, returns owned tensors', () => {
    // The same run as the reference case scheduleFreeSgd(0.2), reached through containers:
    // chain(clipByGlobalNorm(1e6), ·) (a clip that never binds) and injectLearningRate.
    const builds: [string, () => GradientTransformation<any>][] = [
      ['chain', () => chain(clipByGlobalNorm(1e6), scheduleFreeSgd(0.2))],
      ['injectLearningRate', () => injectLearningRate(scheduleFreeSgd, 0.2)],
    ];
    for (const [label, build] of builds) {
      const before = tf.memory().numTensors;
      const tx = build();
      const ref = new RefScheduleFree(refSgd(constant(0.2)), constant(0.2));
      let params = start();
      let state = tx.init(params);
      for (let k = 1; k <= 30; k++) {
        const gTf = gradient(read(params), k);
        ref.step(gradient(ref.y, k));
        const grads = { w: tf.tensor2d(gTf.w, [2, 3]), b: tf.tensor1d(gTf.b) };
        const next = step(tx, params, grads, state);
        treeDispose([grads, params]);
        params = next.params as typeof params;
        state = next.state;
      }
      const live = tf.memory().numTensors;
      const x = scheduleFreeEvalParams(state, params) as { w: tf.Tensor; b: tf.Tensor };
      // Two new tensors (one per leaf), neither the params' nor the state's.
      expect(tf.memory().numTensors, label).toBe(live + 2);
      expect(Object.keys(x).sort()).toEqual(['b', 'w']);
      expect(x.w.shape).toEqual([2, 3]);
      expectArrayClose(flat(read(x)), flat(ref.x()), { rtol: 1e-4, atol: 1e-5 }, `${label} x`);
      const held = [params.w, params.b];
      expect(held).not.toContain(x.w);
      expect(held).not.toContain(x.b);
      // Disposing what the caller owns leaves the params and the state intact.
      tf.dispose(x);
      expect(tf.memory().numTensors).toBe(live);
      expect(params.w.isDisposed).toBe(false);
      const again = scheduleFreeEvalParams(state, params);
      expectArrayClose(
        flat(read(again)),
        flat(ref.x()),
        { rtol: 1e-4, atol: 1e-5 },
        `${label} again`,
      );
      treeDispose(again);
      treeDispose([params, state]);
      expect(tf.memory().numTensors, label).toBe(before);
    }
  });

  it('scheduleFreeEvalParams wants exactly one schedule-free state', () => {
    const p = { w: tf.tensor1d([1, 2]) };
    const s = scheduleFreeSgd(0.1).init(p);
    expect(() => scheduleFreeEvalParams({ count: 1 }, p)).toThrow(/found 0/);
    const other = scheduleFreeSgd(0.1).init(p);
    expect(() => scheduleFreeEvalParams([s, other], p)).toThrow(/found 2/);
    treeDispose(other);
    const nested = scheduleFree(scheduleFreeSgd(0.1), 0.1);
    const ns = nested.init(p);
    expect(() => scheduleFreeEvalParams(ns, p)).toThrow(/found 2/);
    // Before the first step x = y (z = y): equal values, new tensors.
    const x = scheduleFreeEvalParams(s, p) as { w: tf.Tensor };
    expectArrayClose(values(x.w), [1, 2], { rtol: 1e-7, atol: 0 });
    expect(x.w).not.toBe(p.w);
    treeDispose([p, s, ns, x]);
  });

  it('a base with momentum is not rejected: it runs the documented rule on the momentum step (wrong use)', () => {
    // The doc comment says the base must be without momentum (optax: "it is important to switch
    // off Momentum"); scheduleFree does not detect or reject one. What it does is the plain rule
    // with u = the heavy-ball step −lr·(0.9·trace + g): checked against the reference.
    const before = tf.memory().numTensors;
    const tx = scheduleFree(sgd(0.05, { momentum: 0.9 }), 0.05);
    const ref = new RefScheduleFree(refSgd(constant(0.05), 0, 0.9), constant(0.05));
    let params = start();
    let state = tx.init(params);
    for (let k = 1; k <= 40; k++) {
      const gTf = gradient(read(params), k);
      ref.step(gradient(ref.y, k));
      const grads = { w: tf.tensor2d(gTf.w, [2, 3]), b: tf.tensor1d(gTf.b) };
      const next = step(tx, params, grads, state);
      treeDispose([grads, params]);
      params = next.params as typeof params;
      state = next.state;
      expectArrayClose(flat(read(params)), flat(ref.y), { rtol: 1e-4, atol: 1e-5 }, `step ${k} y`);
    }
    treeDispose([params, state]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
