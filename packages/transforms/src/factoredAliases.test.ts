import * as tf from '@tensorflow/tfjs-core';
import {
  disposeReplaced,
  type GradientTransformation,
  getHyperparams,
  injectLearningRate,
  setHyperparams,
  type Tree,
  treeDispose,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, stateSignature, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { adadelta, adafactor, fromage, lamb, lars, rprop, sm3 } from './index.js';

type Flat = Record<string, number[]>;
interface Leaf {
  readonly shape: number[];
  readonly data: number[];
}

const tensors = (leaves: Record<string, Leaf>) =>
  Object.fromEntries(Object.entries(leaves).map(([k, l]) => [k, tf.tensor(l.data, l.shape)]));
const flat = (t: Tree): Flat =>
  Object.fromEntries(
    Object.entries(t as Record<string, tf.Tensor>).map(([k, v]) => [k, values(v)]),
  );
const norm = (x: readonly number[]) => Math.sqrt(x.reduce((s, v) => s + v * v, 0));
const rms = (x: readonly number[]) => norm(x) / Math.sqrt(x.length);

/**
 * Run `tx` from `start` on the gradients `grad(k)` (k = 1, 2, ...), applying
 * each update to the params, and compare the params after every step with
 * `reference`, a float64 implementation that moves its own params in place.
 */
function followReference(
  tx: GradientTransformation<any>,
  start: Record<string, Leaf>,
  grad: (k: number) => Flat,
  reference: (theta: Flat, g: Flat, k: number) => void,
  steps: number,
  tol = { rtol: 1e-4, atol: 1e-5 },
): void {
  const theta: Flat = Object.fromEntries(Object.entries(start).map(([k, l]) => [k, [...l.data]]));
  let params: Record<string, tf.Tensor> = tensors(start);
  let state = tx.init(params);
  for (let k = 1; k <= steps; k++) {
    const gk = grad(k);
    const g = Object.fromEntries(
      Object.entries(gk).map(([key, v]) => [key, tf.tensor(v, start[key]?.shape)]),
    );
    const [u, next] = tx.update(g, state, params);
    const moved = tf.tidy(() =>
      Object.fromEntries(
        Object.entries(params).map(([key, p]) => [
          key,
          tf.add(p, (u as Record<string, tf.Tensor>)[key] as tf.Tensor),
        ]),
      ),
    );
    reference(theta, gk, k);
    for (const key of Object.keys(start)) {
      expectArrayClose(
        values(moved[key] as tf.Tensor),
        theta[key] as number[],
        tol,
        `${key}, step ${k}`,
      );
    }
    disposeReplaced([g, u, state, params], [next, moved]);
    params = moved;
    state = next;
  }
  treeDispose([params, state]);
}

/** The first updates of `tx` from `start` on `grads`, each applied to the params before the next. */
function firstUpdates(
  tx: GradientTransformation<any>,
  start: Record<string, Leaf>,
  grads: Flat[],
): Flat[] {
  let params: Record<string, tf.Tensor> = tensors(start);
  let state = tx.init(params);
  const out: Flat[] = [];
  for (const gk of grads) {
    const g = Object.fromEntries(
      Object.entries(gk).map(([key, v]) => [key, tf.tensor(v, start[key]?.shape)]),
    );
    const [u, next] = tx.update(g, state, params);
    out.push(flat(u));
    const moved = tf.tidy(() =>
      Object.fromEntries(
        Object.entries(params).map(([key, p]) => [
          key,
          tf.add(p, (u as Record<string, tf.Tensor>)[key] as tf.Tensor),
        ]),
      ),
    );
    disposeReplaced([g, u, state, params], [next, moved]);
    params = moved;
    state = next;
  }
  treeDispose([params, state]);
  return out;
}

const vector = (...data: number[]): Leaf => ({ shape: [data.length], data });
const wave = (k: number, n: number, phase: number) =>
  Array.from({ length: n }, (_, i) => Math.sin(0.23 * k * (i + 1) + phase) + 0.3 * Math.cos(k + i));

describeEachBackend('adafactor', () => {
  it('matches the first two steps derived by hand', () => {
    // lr 0.1, defaults (a vector is not factored; clipping 1; relative steps), θ0 = [3, −4].
    // Step 1 (β = 0): u = g1 / sqrt(g1²) = [1, −1]; rms(u) = 1, not clipped; · lr = [0.1, −0.1];
    //   · rms(θ0) = sqrt(12.5) = 3.5355339 → [0.3535534, −0.3535534]; negated: [−0.3535534, 0.3535534].
    //   θ1 = [2.6464466, −3.6464466].
    // Step 2 (β = 1 − 2^(−0.8) = 0.4256508), g2 = [3, 2]: v = β·[1, 4] + (1 − β)·[9, 4] = [5.5947934, 4];
    //   u = [3 / 2.3653315, 2 / 2] = [1.2683211, 1]; rms(u) = 1.1420680 > 1, so u / 1.1420680 = [1.1105479, 0.8756046];
    //   · lr · rms(θ1) = 0.1 · 3.1859263; negated: [−0.3538124, −0.2789612].
    const [u1, u2] = firstUpdates(adafactor(0.1), { w: vector(3, -4) }, [
      { w: [1, -2] },
      { w: [3, 2] },
    ]);
    expectArrayClose(u1?.w as number[], [-0.3535534, 0.3535534]);
    expectArrayClose(u2?.w as number[], [-0.3538124, -0.2789612]);
  });

  it('follows a float64 reference over 120 steps (factored matrix, momentum, weight decay)', () => {
    // A [2, 3] leaf factored (minDimSizeToFactor 2; d0 = axis 1, d1 = axis 0) and a vector leaf.
    const lr = 0.05;
    const momentum = 0.8;
    const wd = 0.01;
    const eps = 1e-30;
    const state = {
      row: [0, 0],
      col: [0, 0, 0],
      v: [0, 0, 0],
      m: { k: new Array<number>(6).fill(0), b: new Array<number>(3).fill(0) },
    };
    const finish = (key: 'k' | 'b', theta: Flat, u: number[]) => {
      const clip = Math.max(1, rms(u) / 1);
      const scale = lr * Math.max(rms(theta[key] as number[]), 1e-3);
      const m = state.m[key];
      const step = u.map((x, i) => {
        m[i] = momentum * (m[i] as number) + (1 - momentum) * ((x / clip) * scale);
        return (m[i] as number) + wd * (theta[key]?.[i] as number);
      });
      theta[key] = (theta[key] as number[]).map((x, i) => x - (step[i] as number));
    };
    const reference = (theta: Flat, g: Flat, k: number) => {
      const beta = 1 - k ** -0.8;
      const gk = g.k as number[];
      const sq = gk.map((x) => x * x + eps);
      const at = (i: number, j: number) => sq[3 * i + j] as number;
      state.row = state.row.map(
        (r, i) => beta * r + (1 - beta) * ((at(i, 0) + at(i, 1) + at(i, 2)) / 3),
      );
      state.col = state.col.map((c, j) => beta * c + (1 - beta) * ((at(0, j) + at(1, j)) / 2));
      const rowMean = ((state.row[0] as number) + (state.row[1] as number)) / 2;
      const uk = gk.map(
        (x, n) =>
          x /
          Math.sqrt((state.row[Math.floor(n / 3)] as number) / rowMean) /
          Math.sqrt(state.col[n % 3] as number),
      );
      const gb = g.b as number[];
      state.v = state.v.map((v, i) => beta * v + (1 - beta) * ((gb[i] as number) ** 2 + eps));
      const ub = gb.map((x, i) => x / Math.sqrt(state.v[i] as number));
      finish('k', theta, uk);
      finish('b', theta, ub);
    };
    followReference(
      adafactor(lr, { minDimSizeToFactor: 2, momentum, weightDecayRate: wd }),
      { k: { shape: [2, 3], data: [0.5, -1, 2, 0.1, 0.7, -0.3] }, b: vector(1, -0.2, 0.4) },
      (k) => ({ k: wave(k, 6, 0), b: wave(k, 3, 1) }),
      reference,
      120,
    );
  });

  it('needs the params for the parameter scale, and checks its options', () => {
    const g = { w: tf.tensor([1, 2]) };
    const tx = adafactor(0.1);
    const s = tx.init(g);
    expect(() => tx.update(g, s)).toThrow(/^scaleByParamBlockRms: update needs the current params/);
    const absolute = adafactor(0.1, { multiplyByParameterScale: false, clippingThreshold: null });
    const [u, s2] = absolute.update(g, absolute.init(g));
    expectArrayClose(values((u as typeof g).w), [-0.1, -0.1]);
    expect(() => adafactor(0.1, { clippingThreshold: 0 })).toThrow(
      'adafactor: option "clippingThreshold" must be a finite number > 0, got 0',
    );
    expect(() => adafactor(0.1, { momentum: 1 })).toThrow(/adafactor: option "momentum"/);
    expect(() => adafactor(-1)).toThrow(/adafactor: option "learningRate"/);
    expect(() => adafactor(0.1, { weightDecayMask: 3 } as never)).toThrow(
      /option "weightDecayMask"/,
    );
    treeDispose([g, s, u, s2]);
  });
});

describeEachBackend('adadelta', () => {
  it('matches the first two steps derived by hand (with weight decay)', () => {
    // lr 2, rho 0.9, eps 1e-6, weightDecay 0.1, θ0 = [1, 2].
    // Step 1: g' = g1 + 0.1·θ0 = [1.1, −1.8]; E[g²] = 0.1·g'² = [0.121, 0.324];
    //   Δ = sqrt(1e-6) / sqrt(E[g²] + 1e-6)·g' = [0.0031622646, −0.0031622679]; u = −2·Δ.
    // Step 2: θ1 = [0.9936755, 2.0063245]; g' = [3, 0.5] + 0.1·θ1 = [3.0993675, 0.7006325];
    //   E[g²] = [1.0695079, 0.3406886]; Δ = [0.0042383, 0.0016976]; u = [−0.0084767, −0.0033951].
    const [u1, u2] = firstUpdates(adadelta(2, { weightDecay: 0.1 }), { w: vector(1, 2) }, [
      { w: [1, -2] },
      { w: [3, 0.5] },
    ]);
    expectArrayClose(u1?.w as number[], [-0.00632453, 0.00632455], { rtol: 1e-5, atol: 0 });
    expectArrayClose(u2?.w as number[], [-0.00847666, -0.00339512], { rtol: 1e-5, atol: 0 });
  });

  it('follows a float64 reference over 120 steps', () => {
    const [lr, rho, eps, wd] = [1, 0.95, 1e-6, 0.01];
    const eG = [0, 0, 0];
    const eX = [0, 0, 0];
    followReference(
      adadelta(lr, { rho, eps, weightDecay: wd }),
      { w: vector(1, -2, 0.5) },
      (k) => ({ w: wave(k, 3, 0.5) }),
      (theta, g) => {
        theta.w = (theta.w as number[]).map((x, i) => {
          const gi = (g.w?.[i] as number) + wd * x;
          eG[i] = rho * (eG[i] as number) + (1 - rho) * gi * gi;
          const d = (Math.sqrt((eX[i] as number) + eps) / Math.sqrt((eG[i] as number) + eps)) * gi;
          eX[i] = rho * (eX[i] as number) + (1 - rho) * d * d;
          return x - lr * d;
        });
      },
      120,
    );
  });

  it('needs no params without weight decay, and checks its options', () => {
    const g = { w: tf.tensor([1, 2]) };
    const tx = adadelta(1);
    const [u, s] = tx.update(g, tx.init(g));
    expect(values((u as typeof g).w)).toHaveLength(2);
    expect(() => adadelta(1, { rho: 1.2 })).toThrow(
      'adadelta: option "rho" must be a number in [0, 1), got 1.2',
    );
    expect(() => adadelta(1, { weightDecay: -1 })).toThrow(/adadelta: option "weightDecay"/);
    expect(() => adadelta(1, { epsilon: 1e-6 } as never)).toThrow(
      /adadelta: option "epsilon" must be absent/,
    );
    treeDispose([g, u, s]);
  });
});

describeEachBackend('sm3', () => {
  it('matches the first two steps derived by hand', () => {
    // lr 0.1, momentum 0.9 (see scaleBySm3's test): nu1 = [0.1, −0.1], nu2 = [0.1848683, −0.0657464];
    // u = −lr·nu: [−0.01, 0.01] and [−0.01848683, 0.00657464].
    const [u1, u2] = firstUpdates(sm3(0.1), { w: vector(0, 0) }, [{ w: [1, -2] }, { w: [3, 0.5] }]);
    expectArrayClose(u1?.w as number[], [-0.01, 0.01]);
    expectArrayClose(u2?.w as number[], [-0.01848683, 0.00657464]);
  });

  it('follows a float64 reference over 120 steps (a [2, 2] leaf)', () => {
    const [lr, momentum] = [0.05, 0.6];
    const rows = [0, 0];
    const cols = [0, 0];
    const nu = [0, 0, 0, 0];
    followReference(
      sm3(lr, { momentum }),
      { k: { shape: [2, 2], data: [1, -1, 0.5, 2] } },
      (k) => ({ k: wave(k, 4, 2) }),
      (theta, g) => {
        const gk = g.k as number[];
        const accum = gk.map(
          (x, n) => Math.min(rows[n >> 1] as number, cols[n % 2] as number) + x * x,
        );
        rows[0] = Math.max(accum[0] as number, accum[1] as number);
        rows[1] = Math.max(accum[2] as number, accum[3] as number);
        cols[0] = Math.max(accum[0] as number, accum[2] as number);
        cols[1] = Math.max(accum[1] as number, accum[3] as number);
        theta.k = (theta.k as number[]).map((x, n) => {
          const a = accum[n] as number;
          const u = a > 0 ? (gk[n] as number) / Math.sqrt(a + 1e-8) : 0;
          nu[n] = momentum * (nu[n] as number) + (1 - momentum) * u;
          return x - lr * (nu[n] as number);
        });
      },
      120,
    );
  });

  it('checks its options', () => {
    expect(() => sm3(0.1, { momentum: -0.1 })).toThrow(
      'sm3: option "momentum" must be a number in [0, 1), got -0.1',
    );
    expect(() => sm3(0.1, { b1: 0.9 } as never)).toThrow(/sm3: option "b1" must be absent/);
  });
});

describeEachBackend('rprop', () => {
  it('matches the first two steps derived by hand', () => {
    // lr 0.1 (initial step), etaPlus 1.2: step 1 u = −0.1·sign(g1) = [−0.1, 0.1];
    // step 2, g2 = [3, 0.5]: entry 0 keeps its sign (step 0.12, u = −0.12), entry 1 flips (u = 0).
    const [u1, u2] = firstUpdates(rprop(0.1), { w: vector(0, 0) }, [
      { w: [1, -2] },
      { w: [3, 0.5] },
    ]);
    expectArrayClose(u1?.w as number[], [-0.1, 0.1]);
    expectArrayClose(u2?.w as number[], [-0.12, 0]);
  });

  it('follows a float64 reference over 120 steps on a quadratic', () => {
    const lr = 0.02;
    const step = [lr, lr];
    const prev = [0, 0];
    // The gradient of Σ c·(θ − t)², computed from the reference's own params.
    const target = [1, -2];
    const curvature = [1, 4];
    let theta: Flat = { w: [-3, 4] };
    followReference(
      rprop(lr),
      { w: vector(-3, 4) },
      () => ({
        w: (theta.w as number[]).map(
          (x, i) => 2 * (curvature[i] as number) * (x - (target[i] as number)),
        ),
      }),
      (t, g) => {
        t.w = (t.w as number[]).map((x, i) => {
          const gi = g.w?.[i] as number;
          const s = gi * (prev[i] as number);
          const clip = (v: number) => Math.min(Math.max(v, 1e-6), 50);
          if (s > 0) step[i] = clip((step[i] as number) * 1.2);
          else if (s < 0) step[i] = clip((step[i] as number) * 0.5);
          const u = s < 0 ? 0 : (step[i] as number) * Math.sign(gi);
          prev[i] = u;
          return x - u;
        });
        theta = t;
      },
      120,
    );
    expectArrayClose(theta.w as number[], target, { rtol: 0, atol: 1e-2 });
  });

  it('checks its options', () => {
    expect(() => rprop(0.1, { etaPlus: 0.5 })).toThrow(
      'rprop: option "etaPlus" must be a finite number >= 1, got 0.5',
    );
    expect(() => rprop((() => 0.1) as never)).toThrow(
      /rprop: option "learningRate" must be a finite number >= 0/,
    );
  });
});

describeEachBackend('lamb', () => {
  it('matches the first two steps derived by hand', () => {
    // lr 0.1, weightDecay 0.1, eps 1e-6, θ0 = [0.6, 0.8] (‖θ0‖ = 1), g1 = [1, −2], g2 = [3, 0.5].
    // Step 1: adam = g1 / (|g1| + 1e-6) = [0.999999, −0.9999995]; r = adam + 0.1·θ0 = [1.059999, −0.9199995];
    //   ‖r‖ = 1.4035658; u = −0.1·(1 / 1.4035658)·r = [−0.0755219, 0.0655473].
    // Step 2: θ1 = [0.5244781, 0.8655473], ‖θ1‖ = 1.0120521; adam = [0.9177807, −0.4694679] (see
    //   scaleByAdam's test); r = [0.9702285, −0.3829131], ‖r‖ = 1.0430560;
    //   u = −0.1·(1.0120521 / 1.0430560)·r = [−0.0941389, 0.0371531].
    const [u1, u2] = firstUpdates(lamb(0.1, { weightDecay: 0.1 }), { w: vector(0.6, 0.8) }, [
      { w: [1, -2] },
      { w: [3, 0.5] },
    ]);
    expectArrayClose(u1?.w as number[], [-0.07552186, 0.0655473]);
    expectArrayClose(u2?.w as number[], [-0.09413893, 0.03715314]);
  });

  it('follows a float64 reference over 120 steps (two leaves, each its own ratio)', () => {
    const [lr, b1, b2, eps, wd] = [0.02, 0.9, 0.99, 1e-6, 0.05];
    const moments: Record<string, { m: number[]; v: number[] }> = {
      a: { m: [0, 0], v: [0, 0] },
      b: { m: [0, 0, 0], v: [0, 0, 0] },
    };
    followReference(
      lamb(lr, { b1, b2, eps, weightDecay: wd }),
      { a: vector(0.6, -0.8), b: vector(2, 1, -1) },
      (k) => ({ a: wave(k, 2, 0), b: wave(k, 3, 1) }),
      (theta, g, k) => {
        for (const key of ['a', 'b']) {
          const { m, v } = moments[key] as { m: number[]; v: number[] };
          const th = theta[key] as number[];
          const r = (g[key] as number[]).map((gi, i) => {
            m[i] = b1 * (m[i] as number) + (1 - b1) * gi;
            v[i] = b2 * (v[i] as number) + (1 - b2) * gi * gi;
            const adam =
              (m[i] as number) /
              (1 - b1 ** k) /
              (Math.sqrt((v[i] as number) / (1 - b2 ** k)) + eps);
            return adam + wd * (th[i] as number);
          });
          const ratio = norm(th) / norm(r);
          theta[key] = th.map((x, i) => x - lr * ratio * (r[i] as number));
        }
      },
      120,
    );
  });

  it('needs the params', () => {
    const g = { w: tf.tensor([1, 2]) };
    const tx = lamb(0.1);
    const s = tx.init(g);
    expect(() => tx.update(g, s)).toThrow(/^scaleByTrustRatio: update needs the current params/);
    expect(() => lamb(0.1, { nesterov: true } as never)).toThrow(
      /lamb: option "nesterov" must be absent/,
    );
    treeDispose([g, s]);
  });
});

describeEachBackend('lars', () => {
  it('matches the first two steps derived by hand', () => {
    // lr 1, weightDecay 0.1, trustCoefficient 0.001, momentum 0.9, θ0 = [0.6, 0.8].
    // Step 1: r = g1 + 0.1·θ0 = [1.06, −1.92], ‖r‖ = 2.1931712; r ← 0.001·1 / 2.1931712·r
    //   = [4.8332e-4, −8.7544e-4]; m = −lr·r; u = m = [−4.8332e-4, 8.7544e-4].
    // Step 2: θ1 = [0.5995167, 0.8008754], ‖θ1‖ = 1.0004108; r = [3, 0.5] + 0.1·θ1 = [3.0599517, 0.5800875],
    //   ‖r‖ = 3.1144511; r ← 0.001·1.0004108 / 3.1144511·r = [9.8290e-4, 1.8633e-4];
    //   m = 0.9·m − r = [−1.41789e-3, 6.0157e-4].
    const [u1, u2] = firstUpdates(lars(1, { weightDecay: 0.1 }), { w: vector(0.6, 0.8) }, [
      { w: [1, -2] },
      { w: [3, 0.5] },
    ]);
    expectArrayClose(u1?.w as number[], [-0.00048332, 0.00087544], { rtol: 1e-4, atol: 0 });
    expectArrayClose(u2?.w as number[], [-0.00141789, 0.00060157], { rtol: 1e-4, atol: 0 });
  });

  it('follows a float64 reference over 120 steps (Nesterov, a leaf left out of the trust ratio)', () => {
    const [lr, wd, tc, momentum] = [0.5, 0.01, 0.01, 0.9];
    const traces: Record<string, number[]> = { a: [0, 0], b: [0, 0, 0] };
    followReference(
      lars(lr, {
        weightDecay: wd,
        trustCoefficient: tc,
        momentum,
        nesterov: true,
        trustRatioMask: { a: true, b: false },
      }),
      { a: vector(0.6, -0.8), b: vector(0.2, 0.1, -0.3) },
      (k) => ({ a: wave(k, 2, 0), b: wave(k, 3, 1) }),
      (theta, g) => {
        for (const key of ['a', 'b']) {
          const th = theta[key] as number[];
          let r = (g[key] as number[]).map((gi, i) => gi + wd * (th[i] as number));
          if (key === 'a') {
            const ratio = (tc * norm(th)) / norm(r);
            r = r.map((x) => x * ratio);
          }
          const t = traces[key] as number[];
          theta[key] = th.map((x, i) => {
            const step = -lr * (r[i] as number);
            t[i] = momentum * (t[i] as number) + step;
            return x + step + momentum * (t[i] as number);
          });
        }
      },
      120,
    );
  });

  it('needs the params and checks its options', () => {
    const g = { w: tf.tensor([1, 2]) };
    const tx = lars(1);
    const s = tx.init(g);
    expect(() => tx.update(g, s)).toThrow(/^scaleByTrustRatio: update needs the current params/);
    expect(() => lars(1, { momentum: 1 })).toThrow(
      'lars: option "momentum" must be a number in [0, 1), got 1',
    );
    expect(() => lars(1, { trustRatioMask: 'all' } as never)).toThrow(
      /lars: option "trustRatioMask" must be a tree of booleans/,
    );
    treeDispose([g, s]);
  });
});

describeEachBackend('fromage', () => {
  it('matches the first two steps derived by hand', () => {
    // lr 0.1, c = 1 / sqrt(1.01) = 0.9950372, θ0 = [0.6, 0.8] (‖θ0‖ = 1), g1 = [1, −2] (‖g1‖ = sqrt(5)).
    // Step 1: θ1 = (θ0 − 0.1·(1 / 2.2360680)·g1)·c = [0.5525229, 0.8850286]; u = θ1 − θ0 = [−0.0474771, 0.0850286].
    // Step 2: ‖θ1‖ = 1.0433394, ‖g2‖ = ‖[3, 0.5]‖ = 3.0413813;
    //   θ2 = (θ1 − 0.1·(1.0433394 / 3.0413813)·g2)·c = [0.4473772, 0.8635691]; u = [−0.1051457, −0.0214595].
    const [u1, u2] = firstUpdates(fromage(0.1), { w: vector(0.6, 0.8) }, [
      { w: [1, -2] },
      { w: [3, 0.5] },
    ]);
    expectArrayClose(u1?.w as number[], [-0.0474771, 0.08502858]);
    expectArrayClose(u2?.w as number[], [-0.10514569, -0.0214595]);
  });

  it('follows a float64 reference over 120 steps, with a schedule', () => {
    const schedule = (count: number) => 0.05 / (1 + 0.01 * count);
    followReference(
      fromage(schedule),
      { a: vector(0.6, -0.8), b: vector(2, 1, -1) },
      (k) => ({ a: wave(k, 2, 0), b: wave(k, 3, 1) }),
      (theta, g, k) => {
        const lr = schedule(k - 1);
        const c = 1 / Math.sqrt(1 + lr * lr);
        for (const key of ['a', 'b']) {
          const th = theta[key] as number[];
          const gk = g[key] as number[];
          const ratio = Math.max(norm(th), 1e-6) / Math.max(norm(gk), 1e-6);
          theta[key] = th.map((x, i) => (x - lr * ratio * (gk[i] as number)) * c);
        }
      },
      120,
    );
  });

  it('needs the params', () => {
    const g = { w: tf.tensor([1, 2]) };
    const tx = fromage(0.1);
    const s = tx.init(g);
    expect(() => tx.update(g, s)).toThrow(/^scaleByTrustRatio: update needs the current params/);
    expect(() => fromage(0.1, { minNorm: -1 })).toThrow(
      'fromage: option "minNorm" must be a finite number >= 0, got -1',
    );
    treeDispose([g, s]);
  });
});

describeEachBackend('the aliases under injectLearningRate', () => {
  const cases: [string, (lr: any, o?: any) => GradientTransformation<any>, number, object?][] = [
    ['adafactor', adafactor, 0.05, { minDimSizeToFactor: 2, momentum: 0.5 }],
    ['adadelta', adadelta, 1, { weightDecay: 0.01 }],
    ['sm3', sm3, 0.1],
    ['rprop', rprop, 0.01],
    ['lamb', lamb, 0.01, { weightDecay: 0.01 }],
    ['lars', lars, 1],
    ['fromage', fromage, 0.01],
  ];
  for (const [name, alias, lr, options] of cases) {
    it(`${name}: the same updates as the alias, a stable state, and a settable rate`, () => {
      const start = { k: { shape: [2, 2], data: [0.5, -1, 0.3, 0.8] }, b: vector(0.1, -0.2) };
      const grads = [1, 2, 3].map((k) => ({ k: wave(k, 4, 0), b: wave(k, 2, 1) }));
      const plain = firstUpdates(alias(lr, options), start, grads);
      const injected = injectLearningRate(alias, lr, options);
      const viaInjection = firstUpdates(injected, start, grads);
      viaInjection.forEach((u, i) => {
        expectArrayClose(u.k as number[], plain[i]?.k as number[], { rtol: 1e-6, atol: 1e-7 });
        expectArrayClose(u.b as number[], plain[i]?.b as number[], { rtol: 1e-6, atol: 1e-7 });
      });
      expect(alias(lr, options).spec).toEqual({
        name,
        args: options === undefined ? [lr] : [lr, options],
      });
      const params = tensors(start);
      const s0 = injected.init(params);
      const s1 = setHyperparams(s0, { learningRate: lr / 2 });
      expect(getHyperparams(s1).learningRate).toBe(lr / 2);
      const first = grads[0] as Flat;
      const g = tensors({
        k: { shape: [2, 2], data: first.k as number[] },
        b: vector(...(first.b as number[])),
      });
      const [u, s2] = injected.update(g, s1, params);
      expect(JSON.stringify(stateSignature(s2))).toBe(JSON.stringify(stateSignature(s0)));
      disposeReplaced([s0, s1, u], s2);
      treeDispose([params, g, s2]);
    });
  }
});
