import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  InvalidOptionError,
  type StateOf,
  type StepResult,
  step,
  type Tree,
  treeDispose,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { adam, sgd } from '@tfopt/transforms';
import { expect, it } from 'vitest';
import { type MechanicState, mechanize, readMechanicScale } from './mechanic.js';

// ---------------------------------------------------------------------------
// The noisy quadratic shared by the reference runs: a tree { w: [2, 3], b: [2] }
// inserted in the order w, b (the canonical order is b, w).
// loss = 0.5 Σ c_i (x_i − t_i)², and the gradient gets a deterministic
// "noise" term 0.05 sin(0.37 k + 1.1 i + 0.5 leaf) at step k.

const C = { w: [1, 1.2, 0.5, 1.5, 0.9, 0.8], b: [1.3, 0.3] };
const T = { w: [1, -2, 0.5, 3, -1, 0.25], b: [-0.5, 2] };
const START = { w: [0.1, 0.2, -0.3, 0.4, 0.5, -0.6], b: [0.05, -0.05] };
const LEAVES = ['b', 'w'] as const; // canonical order, for the reference's sums

function gradient(x: Record<'w' | 'b', ArrayLike<number>>, k: number): Record<'w' | 'b', number[]> {
  const g = (leaf: 'w' | 'b', offset: number) =>
    Array.from(x[leaf], (xi, i) => {
      const c = C[leaf][i] as number;
      const t = T[leaf][i] as number;
      return c * (xi - t) + 0.05 * Math.sin(0.37 * k + 1.1 * i + 0.5 * offset);
    });
  return { w: g('w', 0), b: g('b', 1) };
}

// ---------------------------------------------------------------------------
// Reference (float64, plain arrays), written from the published update rule:
// optax.contrib.mechanize, and the base optimizers (sgd with heavy-ball
// momentum, adam) it wraps.

type Vec = Record<'w' | 'b', number[]>;
const zeros = (): Vec => ({ w: new Array(6).fill(0), b: [0, 0] });
const copy = (v: Vec): Vec => ({ w: v.w.slice(), b: v.b.slice() });

interface RefBase {
  /** The negated step of the base optimizer for gradient g. */
  step(g: Vec): Vec;
  /** Take over the values of a tfopt state of the same optimizer (for the forced run). */
  load(state: unknown): void;
}

/** A leaf pair { w, b } of a tfopt state as float64 arrays. */
const read = (tree: unknown): Vec => {
  const t = tree as { w: tf.Tensor; b: tf.Tensor };
  return { w: values(t.w), b: values(t.b) };
};

function refSgdMomentum(lr: number, momentum: number): RefBase {
  let t = zeros();
  return {
    load: (state) => {
      t = read((state as [{ trace: unknown }])[0].trace);
    },
    step: (g) => {
      const out = zeros();
      for (const leaf of LEAVES)
        g[leaf].forEach((gi, i) => {
          t[leaf][i] = momentum * (t[leaf][i] as number) + gi;
          out[leaf][i] = -lr * (t[leaf][i] as number);
        });
      return out;
    },
  };
}

function refAdam(lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): RefBase {
  let mu = zeros();
  let nu = zeros();
  let count = 0;
  return {
    load: (state) => {
      const s = (state as [{ count: number; mu: unknown; nu: unknown }])[0];
      mu = read(s.mu);
      nu = read(s.nu);
      count = s.count;
    },
    step: (g) => {
      count += 1;
      const out = zeros();
      for (const leaf of LEAVES)
        g[leaf].forEach((gi, i) => {
          mu[leaf][i] = b1 * (mu[leaf][i] as number) + (1 - b1) * gi;
          nu[leaf][i] = b2 * (nu[leaf][i] as number) + (1 - b2) * gi * gi;
          const mHat = (mu[leaf][i] as number) / (1 - b1 ** count);
          const vHat = (nu[leaf][i] as number) / (1 - b2 ** count);
          out[leaf][i] = (-lr * mHat) / (Math.sqrt(vHat) + eps);
        });
      return out;
    },
  };
}

class RefMechanic {
  count = 0;
  readonly betas: number[];
  r: number[];
  m: number[];
  v: number[];
  s: number[];
  x0: Vec | undefined;
  constructor(
    readonly base: RefBase,
    readonly wd = 1e-2,
    readonly eps = 1e-8,
    readonly sInit = 1e-6,
    readonly n = 6,
  ) {
    this.betas = Array.from({ length: n }, (_, i) => 1 - 0.1 ** (i + 1));
    this.r = new Array(n).fill(0);
    this.m = new Array(n).fill(0);
    this.v = new Array(n).fill(0);
    this.s = new Array(n).fill(sInit);
  }

  /** Take over the values of a tfopt mechanize state (for the forced run). */
  load(state: MechanicState): void {
    this.count = state.count;
    this.r = values(state.r);
    this.m = values(state.m);
    this.v = values(state.v);
    this.s = values(state.s);
    this.x0 = state.count === 0 ? undefined : read(state.x0);
    this.base.load(state.baseState);
  }

  /** One step from params x and gradient g; returns the new params. */
  step(x: Vec, g: Vec): Vec {
    const u = this.base.step(g);
    if (this.count === 0) this.x0 = copy(x);
    const x0 = this.x0 as Vec;
    const sSum = this.s.reduce((a, b) => a + b, 0);
    let gg = 0;
    let xx = 0;
    for (const leaf of LEAVES)
      g[leaf].forEach((gi, i) => {
        gg += gi * gi;
        xx += (x[leaf][i] as number) ** 2;
      });
    const coef = (this.wd * sSum * Math.sqrt(gg)) / (Math.sqrt(xx) + this.eps);
    let h = 0;
    const deltaPrev = zeros();
    for (const leaf of LEAVES)
      g[leaf].forEach((gi, i) => {
        const xi = x[leaf][i] as number;
        deltaPrev[leaf][i] = ((x0[leaf][i] as number) - xi) / (sSum + this.eps);
        h += (gi + coef * xi) * (deltaPrev[leaf][i] as number);
      });
    for (let j = 0; j < this.n; j++) {
      const b = this.betas[j] as number;
      const mOld = this.m[j] as number;
      const clipped = Math.min(Math.max(h, -mOld), mOld);
      this.m[j] = Math.max(b * mOld, Math.abs(h) + this.eps);
      this.v[j] = b * b * (this.v[j] as number) + h * h;
      this.r[j] = b * (this.r[j] as number) + clipped * (this.s[j] as number);
      const wealth =
        (this.sInit / this.n) * (this.m[j] as number) + Math.max(0, this.r[j] as number);
      this.s[j] = wealth / (Math.sqrt(this.v[j] as number) + this.eps);
    }
    const total = this.s.reduce((a, b) => a + b, 0);
    this.count += 1;
    const out = zeros();
    for (const leaf of LEAVES)
      out[leaf].forEach((_, i) => {
        // Stored as float32, as the model's params are (see the note at the reference run).
        out[leaf][i] = Math.fround(
          (x0[leaf][i] as number) -
            total * ((deltaPrev[leaf][i] as number) - (u[leaf][i] as number)),
        );
      });
    return out;
  }
}

// ---------------------------------------------------------------------------

const STEPS = 150;
const FREE_DEFAULT = 60;

describeEachBackend('mechanize', () => {
  it('validates its options at construction', () => {
    expect(() => mechanize(sgd(1), { sinit: 1e-6 } as never)).toThrow(InvalidOptionError);
    expect(() => mechanize(sgd(1), { sinit: 1e-6 } as never)).toThrow(/option "sinit"/);
    expect(() => mechanize(sgd(1), { weightDecay: -1 })).toThrow(/option "weightDecay"/);
    expect(() => mechanize(sgd(1), { eps: Number.NaN })).toThrow(/option "eps"/);
    expect(() => mechanize(sgd(1), { sInit: 0 })).toThrow(/option "sInit"/);
    expect(() => mechanize(sgd(1), { numBetas: 2.5 })).toThrow(/option "numBetas"/);
    expect(() => mechanize({} as never)).toThrow(/option "base"/);
    const base = adam(1);
    expect(mechanize(base, { numBetas: 3 }).spec).toEqual({
      name: 'mechanize',
      args: [base, { numBetas: 3 }],
    });
  });

  it('matches two steps derived by hand', () => {
    // numBetas 2 (betas 0.9, 0.99), sInit 0.2, weightDecay 0.01, eps 1e-8, base sgd(1):
    // the base update is −g. x = [1, 2].
    //
    // Step 1, g = [1, 0]: s_i = 0.2 → Σs = 0.4; x0 = x = [1, 2], so Δprev = 0 and h = 0.
    //   m_i = max(β_i·0, 0 + 1e-8) = 1e-8, v_i = 0, r_i = 0 + clip(0, ±0)·0.2 = 0.
    //   s_i = (0.2/2 · 1e-8 + 0) / (0 + 1e-8) = 0.1 → Σs = 0.2.
    //   x1 = x0 − 0.2·(0 − (−[1, 0])) = [0.8, 2]; update [−0.2, 0].
    // Step 2, g = [0.5, 1]: Σs_old = 0.2, |g| = sqrt(1.25) = 1.1180340,
    //   |x1| = sqrt(4.64) = 2.1540659; decay coefficient 0.01·0.2·1.1180340/2.1540659 = 0.00103807
    //   g̃ = g + 0.00103807·[0.8, 2] = [0.5008305, 1.0020761]
    //   Δprev = ([1, 2] − [0.8, 2]) / (0.2 + 1e-8) = [0.99999995, 0]
    //   h = 0.5008305·0.99999995 = 0.5008304
    //   clip(h, ±m_old = ±1e-8) = 1e-8 → r_i = 0 + 1e-8·0.1 = 1e-9
    //   m_i = max(β_i·1e-8, 0.5008304 + 1e-8) = 0.5008304, v_i = h² = 0.2508311
    //   s_i = (0.1·0.5008304 + 1e-9) / (0.5008304 + 1e-8) = 0.1000000020 → Σs = 0.2000000040
    //   x2 = x0 − 0.2·(Δprev − (−g)) = [1, 2] − 0.2·[1.5, 1] = [0.7, 1.8];
    //   update [−0.1, −0.2].
    const before = tf.memory().numTensors;
    const tx = mechanize(sgd(1), { numBetas: 2, sInit: 0.2 });
    let params: Tree = { w: tf.tensor1d([1, 2]) };
    let state: StateOf<typeof tx> = tx.init(params);
    expect(readMechanicScale(state)).toBeCloseTo(0.4, 7);
    const tol = { rtol: 1e-6, atol: 1e-7 };
    const expected = [
      { g: [1, 0], x: [0.8, 2], s: 0.2, h: 0 },
      { g: [0.5, 1], x: [0.7, 1.8], s: 0.200000004, h: 0.5008304 },
    ];
    for (const e of expected) {
      const g = { w: tf.tensor1d(e.g) };
      const next: StepResult<StateOf<typeof tx>> = step(tx, params, g, state);
      treeDispose([g, params]);
      params = next.params;
      state = next.state;
      expectArrayClose(values((params as { w: tf.Tensor }).w), e.x, tol, 'x');
      expectArrayClose([readMechanicScale(state)], [e.s], tol, 'scale');
      // m_i = |h| + eps once h is large: the per-beta state is what the derivation says.
      expectArrayClose(values(state.m), [e.h + 1e-8, e.h + 1e-8], tol, 'm');
    }
    expectArrayClose(values(state.r), [1e-9, 1e-9], { rtol: 1e-5, atol: 0 }, 'r');
    treeDispose([params, state]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('starts from numBetas · sInit and moves by sInit times the base step at first (defaults)', () => {
    // Defaults: 6 betas, sInit 1e-6. Step 1 has h = 0, so every s_i = (1e-6/6·1e-8)/1e-8 and
    // Σs = 1e-6: the update is 1e-6 times sgd(1)'s −g.
    const tx = mechanize(sgd(1));
    const params = { w: tf.tensor1d([0, 0]) };
    const state = tx.init(params);
    expect(readMechanicScale(state)).toBeCloseTo(6e-6, 12);
    const g = { w: tf.tensor1d([3, -4]) };
    const [u, next] = tx.update(g, state, params);
    expectArrayClose(values((u as { w: tf.Tensor }).w), [-3e-6, 4e-6], { rtol: 1e-5, atol: 0 });
    expectArrayClose([readMechanicScale(next)], [1e-6], { rtol: 1e-5, atol: 0 });
    treeDispose([params, state, g, u, next]);
  });

  it('takes x0 from the params of the first update, not those given to init', () => {
    const tx = mechanize(sgd(1));
    const a = { w: tf.tensor1d([1, 1]) };
    const b = { w: tf.tensor1d([5, -5]) };
    const g = { w: tf.tensor1d([1, 1]) };
    const s0 = tx.init(a);
    const [u, s1] = tx.update(g, s0, b);
    const x0 = (s1 as MechanicState).x0 as { w: tf.Tensor };
    expect(values(x0.w)).toEqual([5, -5]);
    expect(x0.w).not.toBe(b.w); // its own handle
    treeDispose([a, b, g, s0, u, s1]);
  });

  it('needs the params and says so; readMechanicScale needs a mechanize state', () => {
    const tx = mechanize(sgd(1));
    const p = { w: tf.tensor1d([1]) };
    const s = tx.init(p);
    expect(() => tx.update(p, s)).toThrow(
      /^mechanize: update needs the current params \(they define x0 and the scale\)/,
    );
    expect(() => readMechanicScale({ count: 1 })).toThrow(/found 0/);
    const other = tx.init(p);
    expect(() => readMechanicScale([s, other])).toThrow(/found 2/);
    expect(readMechanicScale([{ other: 1 }, { inner: s }])).toBeCloseTo(6e-6, 12);
    treeDispose([p, s, other]);
  });

  const cases = [
    {
      name: 'mechanize(sgd(0.05, momentum 0.9))',
      tx: () => mechanize(sgd(0.05, { momentum: 0.9 })),
      ref: () => new RefMechanic(refSgdMomentum(0.05, 0.9)),
    },
    {
      name: 'mechanize(adam(0.01))',
      tx: () => mechanize(adam(0.01)),
      ref: () => new RefMechanic(refAdam(0.01)),
    },
    {
      name: 'mechanize(adam(0.01), { weightDecay: 0.1, sInit: 1e-4, numBetas: 3 })',
      tx: () => mechanize(adam(0.01), { weightDecay: 0.1, sInit: 1e-4, numBetas: 3 }),
      ref: () => new RefMechanic(refAdam(0.01), 0.1, 1e-8, 1e-4, 3),
      // A larger start: the scale grows sooner and the free runs part sooner.
      free: 40,
    },
  ];

  for (const c of cases) {
    it(`${c.name} follows an independent float64 reference for ${STEPS} steps`, () => {
      const FREE_STEPS = 'free' in c ? (c.free as number) : FREE_DEFAULT;
      // Two references run beside the transform, both float64 with their params stored rounded
      // to float32 (as the model's are: Mechanic recomputes Δ = (x0 − x) / s from the params,
      // and while s is ~1e-6 the low bits of float32 params are most of x − x0).
      // - free: its own trajectory from the same start. Mechanic amplifies rounding once its
      //   scale has grown (measured on mechanize(adam): gap 0 for 30 steps, ~4e-6 to step 72,
      //   then growing by ~2x per step; cpu and wasm part from each other the same way), so it
      //   is compared for the first FREE_STEPS steps, at rtol 1e-4, atol 1e-5.
      // - forced: before each step it takes over the transform's params and state, so every one
      //   of the STEPS steps checks the update rule itself at rtol 1e-5, atol 1e-6 (scale: rtol
      //   1e-4), all along the trajectory.
      const before = tf.memory().numTensors;
      const tx: GradientTransformation<any> = c.tx();
      const free = c.ref();
      const forced = c.ref();
      let params: { w: tf.Tensor; b: tf.Tensor } = {
        w: tf.tensor2d(START.w, [2, 3]),
        b: tf.tensor1d(START.b),
      };
      let state = tx.init(params);
      let x: Vec = { w: START.w.map(Math.fround), b: START.b.map(Math.fround) };
      let worstFree = 0;
      let worstForced = 0;
      let maxScale = 0;
      for (let k = 1; k <= STEPS; k++) {
        const current = read(params);
        const gTf = gradient(current, k);
        const grads = { w: tf.tensor2d(gTf.w, [2, 3]), b: tf.tensor1d(gTf.b) };
        if (k <= FREE_STEPS) x = free.step(x, gradient(x, k));
        forced.load(state);
        const y = forced.step(current, gTf);
        const next = step(tx, params, grads, state);
        treeDispose([grads, params]);
        params = next.params as typeof params;
        state = next.state;
        const got = [...values(params.b), ...values(params.w)];
        const wantForced = [...y.b, ...y.w];
        expectArrayClose(got, wantForced, { rtol: 1e-5, atol: 1e-6 }, `step ${k} params (forced)`);
        const sum = forced.s.reduce((a, b) => a + b, 0);
        expectArrayClose(
          [readMechanicScale(state)],
          [sum],
          { rtol: 1e-4, atol: 0 },
          `step ${k} scale`,
        );
        maxScale = Math.max(maxScale, sum);
        got.forEach((a, i) => {
          worstForced = Math.max(worstForced, Math.abs(a - (wantForced[i] as number)));
        });
        if (k <= FREE_STEPS) {
          const wantFree = [...x.b, ...x.w];
          expectArrayClose(got, wantFree, { rtol: 1e-4, atol: 1e-5 }, `step ${k} params (free)`);
          got.forEach((a, i) => {
            worstFree = Math.max(worstFree, Math.abs(a - (wantFree[i] as number)));
          });
        }
      }
      // The run must exercise the scale: it grows by orders of magnitude from its start.
      expect(maxScale).toBeGreaterThan(100 * forced.sInit * forced.n);
      console.log(
        `${c.name}: worst |tf − reference| free (${FREE_STEPS} steps) ${worstFree.toExponential(2)}, forced (${STEPS} steps) ${worstForced.toExponential(2)}; max scale ${maxScale.toPrecision(3)}`,
      );
      treeDispose([params, state]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
