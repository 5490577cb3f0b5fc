import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  getTransformFactory,
  InvalidOptionError,
  injectHyperparams,
  injectLearningRate,
  optimizerCatalog,
  step,
  stepVariables,
  type Tree,
  treeDispose,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { describe, expect, it } from 'vitest';
import { ENTRIES } from './catalog/misc.js';
import {
  noisySgd,
  optimisticAdam,
  optimisticGradientDescent,
  polyakSgd,
  signSgd,
  signum,
} from './index.js';
import { gaussianNoise, splitKey } from './noise.js';

const w = (t: Tree) => values((t as { w: tf.Tensor }).w);

/** The updates of `tx` for `grads` (one per step), at fixed params, with an optional loss per step. */
function updatesOf(
  tx: GradientTransformation<any>,
  grads: readonly number[][],
  loss?: (k: number) => number,
): number[][] {
  const params = { w: tf.zeros([grads[0]!.length]) };
  let state = tx.init(params);
  const out: number[][] = [];
  grads.forEach((g, k) => {
    const gt = { w: tf.tensor(g) };
    const context = loss === undefined ? undefined : { loss: loss(k) };
    const [u, next] = tx.update(gt, state, params, context);
    out.push(w(u));
    treeDispose([gt, u, state]);
    state = next;
  });
  treeDispose([params, state]);
  return out;
}

/** A deterministic gradient sequence of `n` coordinates over `steps` steps. */
const gradients = (steps: number, n = 3) =>
  Array.from({ length: steps }, (_, k) =>
    Array.from({ length: n }, (_, i) => Math.sin(0.7 * (k + 1) + i) * (i + 1) - 0.1 * i),
  );

describeEachBackend('noisySgd', () => {
  it('matches the first two steps derived by hand', () => {
    // lr = 0.1, eta = 0.04, gamma = 1, seed 9; g = [1, −2] on both steps.
    // Step 1: sigma² = 0.04 / 1 → sigma = 0.2; u = −0.1·(g + 0.2·z1).
    // Step 2: sigma² = 0.04 / 2 → sigma = 0.141421; u = −0.1·(g + 0.141421·z2),
    // with z1, z2 the stream's normals for seed 9 (see noise.test.ts).
    const [k1, s1] = splitKey(9);
    const [, s2] = splitKey(k1);
    const z1 = Array.from(gaussianNoise(s1, 0, 2));
    const z2 = Array.from(gaussianNoise(s2, 0, 2));
    const g = [1, -2];
    const [u1, u2] = updatesOf(noisySgd(0.1, { eta: 0.04, gamma: 1, seed: 9 }), [g, g]);
    expectArrayClose(
      u1!,
      g.map((x, i) => -0.1 * (x + 0.2 * z1[i]!)),
    );
    expectArrayClose(
      u2!,
      g.map((x, i) => -0.1 * (x + Math.sqrt(0.02) * z2[i]!)),
    );
  });

  it('follows a float64 reference over 100 steps', () => {
    // θ_k update = −lr_k·(g_k + sqrt(eta / k^gamma)·z_k), lr a schedule, the z_k of the stream.
    const eta = 0.3;
    const gamma = 0.55;
    const seed = 31;
    const lr = (count: number) => 0.05 / (1 + 0.01 * count);
    const grads = gradients(100);
    const got = updatesOf(noisySgd(lr, { eta, gamma, seed }), grads);
    let key = seed;
    grads.forEach((g, k) => {
      const [next, sample] = splitKey(key);
      key = next;
      const z = gaussianNoise(sample, 0, g.length);
      const sigma = Math.sqrt(eta / (k + 1) ** gamma);
      const expected = g.map((x, i) => -lr(k) * (x + sigma * z[i]!));
      expectArrayClose(got[k]!, expected, { rtol: 1e-5, atol: 1e-7 }, `step ${k + 1}`);
    });
  });

  it("uses Optax's defaults eta = 0.01, gamma = 0.55, seed 0", () => {
    const defaults = updatesOf(noisySgd(0.1), gradients(3));
    const explicit = updatesOf(noisySgd(0.1, { eta: 0.01, gamma: 0.55, seed: 0 }), gradients(3));
    expect(defaults).toEqual(explicit);
    expect(updatesOf(noisySgd(0.1, { seed: 1 }), gradients(3))).not.toEqual(defaults);
  });
});

describeEachBackend('optimisticGradientDescent', () => {
  it('matches the first two steps derived by hand', () => {
    // lr = 0.1, alpha = beta = 1; g1 = [1, −2], g2 = [3, 0.5].
    // Step 1: g_prev = g1, so u = 2·g1 − g1 = g1 → −0.1·g1 = [−0.1, 0.2].
    // Step 2: u = 2·g2 − g1 = [5, 3] → [−0.5, −0.3].
    const [u1, u2] = updatesOf(optimisticGradientDescent(0.1), [
      [1, -2],
      [3, 0.5],
    ]);
    expectArrayClose(u1!, [-0.1, 0.2]);
    expectArrayClose(u2!, [-0.5, -0.3]);
  });

  it('follows a float64 reference over 100 steps', () => {
    const alpha = 0.6;
    const beta = 1.4;
    const lr = 0.03;
    const grads = gradients(100);
    const got = updatesOf(optimisticGradientDescent(lr, { alpha, beta }), grads);
    grads.forEach((g, k) => {
      const previous = grads[Math.max(k - 1, 0)]!;
      const expected = g.map((x, i) => -lr * ((alpha + beta) * x - beta * previous[i]!));
      expectArrayClose(got[k]!, expected, { rtol: 1e-5, atol: 1e-7 }, `step ${k + 1}`);
    });
  });

  it('converges on the bilinear game where gradient descent-ascent spirals out', () => {
    // min_x max_y x·y: the gradient field (y, −x) rotates; plain GDA grows the radius by
    // sqrt(1 + lr²) per step, the optimistic step shrinks it
    // (from sqrt(5) to about 5e-5 in 500 steps at lr = 0.2, by a float64 run of the same rule).
    const radius = (tx: GradientTransformation<any>) => {
      const p = { x: tf.variable(tf.scalar(1)), y: tf.variable(tf.scalar(2)) };
      let state = tx.init(p);
      for (let k = 0; k < 500; k++) {
        const grads = tf.tidy(() => ({ x: p.y.clone(), y: tf.neg(p.x) }));
        state = stepVariables(tx, p, grads, state);
        treeDispose(grads);
      }
      const r = Math.hypot(values(p.x)[0]!, values(p.y)[0]!);
      treeDispose([p, state]);
      return r;
    };
    expect(radius(optimisticGradientDescent(0.2))).toBeLessThan(1e-3);
    expect(radius(optimisticGradientDescent(0.2, { beta: 0 }))).toBeGreaterThan(Math.sqrt(5));
  });
});

describeEachBackend('optimisticAdam', () => {
  /** Adam's update with Nesterov (NAdam, Optax's form) at step t, in float64. */
  const nadamDirection = (
    mu: number,
    nu: number,
    g: number,
    t: number,
    b1: number,
    b2: number,
    eps: number,
  ) => {
    const muHat = (b1 * mu) / (1 - b1 ** (t + 1)) + ((1 - b1) * g) / (1 - b1 ** t);
    return muHat / (Math.sqrt(nu / (1 - b2 ** t)) + eps);
  };

  it('matches the first two steps derived by hand', () => {
    // lr = 0.1, alpha = beta = 1, b1 = 0.9, b2 = 0.999, eps = 1e-8, nesterov; g1 = [1, −2], g2 = [3, 0.5].
    // Step 1: mu = [0.1, −0.2], nu = [0.001, 0.004]; look-ahead
    //   m̂ = 0.9·mu / (1 − 0.9²) + 0.1·g1 / 0.1 = [0.473684 + 1, −0.947368 − 2] = [1.473684, −2.947368],
    //   v̂ = nu / 0.001 = [1, 4]: r1 = [1.473684, −1.473684]; first step r_0 = r_1, so u = r1
    //   → −0.1·r1 = [−0.147368, 0.147368].
    // Step 2: mu = [0.39, −0.13], nu = [0.009999, 0.004246];
    //   m̂ = 0.9·mu / 0.271 + 0.1·g2 / 0.19 = [1.295203 + 1.578947, −0.431734 + 0.263158] = [2.874150, −0.168576],
    //   sqrt(v̂) = sqrt(nu / 0.001999) = [2.236515, 1.457416]: r2 = [1.285101, −0.115668];
    //   u = 2·r2 − r1 = [1.096518, 1.242348] → [−0.1096518, −0.1242348].
    const [u1, u2] = updatesOf(optimisticAdam(0.1), [
      [1, -2],
      [3, 0.5],
    ]);
    const r1 = [1, -2].map((g, i) =>
      nadamDirection([0.1, -0.2][i]!, [0.001, 0.004][i]!, g, 1, 0.9, 0.999, 1e-8),
    );
    const r2 = [3, 0.5].map((g, i) =>
      nadamDirection([0.39, -0.13][i]!, [0.009999, 0.004246][i]!, g, 2, 0.9, 0.999, 1e-8),
    );
    expectArrayClose(r1, [1.473684, -1.473684], { rtol: 1e-6 });
    expectArrayClose(r2, [1.285101, -0.115668], { rtol: 1e-5 });
    expectArrayClose(u1!, [-0.1473684, 0.1473684], { rtol: 1e-5 });
    expectArrayClose(u2!, [-0.1096518, -0.1242348], { rtol: 1e-5 });
  });

  it('follows a float64 reference over 100 steps (with and without Nesterov)', () => {
    const b1 = 0.8;
    const b2 = 0.99;
    const eps = 1e-6;
    const alpha = 0.5;
    const beta = 2;
    const lr = 0.01;
    const grads = gradients(100);
    for (const nesterov of [true, false]) {
      const got = updatesOf(optimisticAdam(lr, { b1, b2, eps, alpha, beta, nesterov }), grads);
      const mu = [0, 0, 0];
      const nu = [0, 0, 0];
      let previous: number[] | undefined;
      grads.forEach((g, k) => {
        const t = k + 1;
        const r = g.map((x, i) => {
          mu[i] = b1 * mu[i]! + (1 - b1) * x;
          nu[i] = b2 * nu[i]! + (1 - b2) * x * x;
          return nesterov
            ? nadamDirection(mu[i]!, nu[i]!, x, t, b1, b2, eps)
            : mu[i]! / (1 - b1 ** t) / (Math.sqrt(nu[i]! / (1 - b2 ** t)) + eps);
        });
        const before = previous ?? r;
        const expected = r.map((x, i) => -lr * ((alpha + beta) * x - beta * before[i]!));
        previous = r;
        expectArrayClose(
          got[k]!,
          expected,
          { rtol: 1e-4, atol: 1e-7 },
          `nesterov ${nesterov}, step ${t}`,
        );
      });
    }
  });
});

describeEachBackend('optimisticAdam on the bilinear game', () => {
  it("reproduces Optax's docstring distances", () => {
    // Optax's optimistic_adam(1e-2, 1.0) example, min_x max_y x·y from (1, 2): the distance
    // to the equilibrium after 4^i steps prints 2.243, 2.195, 2.161, 2.055, 0.796, 0.001.
    // Its deprecated optimistic_adam(lr, optimism) is optimisticAdam(1, { alpha: lr, beta: optimism }).
    const tx = optimisticAdam(1, { alpha: 1e-2, beta: 1 });
    const p = { x: tf.variable(tf.scalar(1)), y: tf.variable(tf.scalar(2)) };
    let state = tx.init(p);
    const distances: number[] = [];
    for (let k = 0; k <= 1024; k++) {
      if ([1, 4, 16, 64, 256, 1024].includes(k)) {
        distances.push(Math.hypot(values(p.x)[0]!, values(p.y)[0]!));
      }
      const grads = tf.tidy(() => ({ x: p.y.clone(), y: tf.neg(p.x) }));
      state = stepVariables(tx, p, grads, state);
      treeDispose(grads);
    }
    treeDispose([p, state]);
    expectArrayClose(distances, [2.243, 2.195, 2.161, 2.055, 0.796, 0.001], {
      atol: 2e-3,
      rtol: 0,
    });
  });
});

describeEachBackend('polyakSgd', () => {
  /** θ after `steps` steps on f(x) = Σ c_i (x_i − t_i)², the loss passed as context. */
  const descend = (tx: GradientTransformation<any>, start: number[], steps: number) => {
    const c = [1, 1, 1];
    const target = [0, 0, 0];
    let params: Tree = { w: tf.tensor(start) };
    let state = tx.init(params);
    const path: number[][] = [];
    for (let k = 0; k < steps; k++) {
      const x = w(params);
      const loss = x.reduce((s, v, i) => s + c[i]! * (v - target[i]!) ** 2, 0);
      const g = { w: tf.tensor(x.map((v, i) => 2 * c[i]! * (v - target[i]!))) };
      const next: { params: Tree; state: typeof state } = step(tx, params, g, state, { loss });
      treeDispose([g, params]);
      params = next.params;
      state = next.state;
      path.push(w(params));
    }
    treeDispose([params, state]);
    return path;
  };

  it('matches the first two steps derived by hand', () => {
    // f = ‖x‖² from [1, 2, 3]: f = 14, g = 2x, ‖g‖² = 56, step = min(14/56, 1) = 1/4,
    //   x1 = x − g/4 = x/2 = [0.5, 1, 1.5]; again f = 3.5, ‖g‖² = 14: x2 = [0.25, 0.5, 0.75].
    // scaling 2 (Optax's form: the norm is of u = −2g): ‖u‖² = 224, step = 14/224 = 1/16,
    //   x1 = x − 2g/16 = [0.75, 1.5, 2.25]; f = 7.875, ‖u‖² = 126, step 1/16: x2 = [0.5625, 1.125, 1.6875].
    const plain = descend(polyakSgd(), [1, 2, 3], 2);
    expectArrayClose(plain[0]!, [0.5, 1, 1.5]);
    expectArrayClose(plain[1]!, [0.25, 0.5, 0.75]);
    const scaled = descend(polyakSgd(1, { scaling: 2 }), [1, 2, 3], 2);
    expectArrayClose(scaled[0]!, [0.75, 1.5, 2.25]);
    expectArrayClose(scaled[1]!, [0.5625, 1.125, 1.6875]);
  });

  it('follows a float64 reference over 100 steps', () => {
    // Updates at fixed params for a gradient sequence and a loss sequence, with the cap,
    // eps, fMin and a scaling schedule all in play: u = −s_k·g_k·min(gap_k / (s_k²‖g_k‖² + eps), cap).
    const cap = 0.3;
    const eps = 1e-2;
    const fMin = 0.2;
    const scaling = (count: number) => 1 + 0.5 * Math.cos(0.1 * count);
    const grads = gradients(120);
    const loss = (k: number) => 1 + 0.8 * Math.sin(0.3 * k);
    for (const variant of ['sps', 'sps+'] as const) {
      const got = updatesOf(polyakSgd(cap, { eps, fMin, scaling, variant }), grads, loss);
      grads.forEach((g, k) => {
        const s = scaling(k);
        const squared = g.reduce((a, x) => a + (s * x) ** 2, 0);
        const gap = variant === 'sps+' ? Math.max(loss(k) - fMin, 0) : loss(k) - fMin;
        const size = Math.min(gap / (squared + eps), cap);
        const expected = g.map((x) => -s * x * size);
        expectArrayClose(got[k]!, expected, { rtol: 1e-5, atol: 1e-7 }, `${variant} step ${k + 1}`);
      });
    }
  });

  it('needs the loss on every step', () => {
    const tx = polyakSgd();
    const params = { w: tf.ones([2]) };
    const g = { w: tf.ones([2]) };
    expect(() => step(tx, params, g, tx.init(params))).toThrow(
      /scaleByPolyakStepSize: update needs the loss at the current params as context\.loss/,
    );
    treeDispose([params, g]);
  });
});

describeEachBackend('signSgd', () => {
  it('matches the first two steps derived by hand', () => {
    // lr = 0.1; g1 = [1, −2, 0] → −0.1·[1, −1, 0]; g2 = [−3, 0.5, 1e-9] → −0.1·[−1, 1, 1].
    const [u1, u2] = updatesOf(signSgd(0.1), [
      [1, -2, 0],
      [-3, 0.5, 1e-9],
    ]);
    expectArrayClose(u1!, [-0.1, 0.1, 0]);
    expectArrayClose(u2!, [0.1, -0.1, -0.1]);
  });

  it('follows a float64 reference over 100 steps', () => {
    const lr = (count: number) => 0.1 * 0.97 ** count;
    const grads = gradients(100);
    const got = updatesOf(signSgd(lr), grads);
    grads.forEach((g, k) => {
      expectArrayClose(
        got[k]!,
        g.map((x) => -lr(k) * Math.sign(x)),
        {},
        `step ${k + 1}`,
      );
    });
  });
});

describeEachBackend('signum', () => {
  it('matches the first two steps derived by hand', () => {
    // lr = 0.1, beta = 0.5; g1 = [1, −2]: m = 0.5·g1 = [0.5, −1] → −0.1·[1, −1] = [−0.1, 0.1].
    // g2 = [−3, 0.5]: m = 0.5·m + 0.5·g2 = [−1.25, −0.25] → −0.1·[−1, −1] = [0.1, 0.1]
    // (the second coordinate keeps the momentum's sign although g2 is positive there).
    const [u1, u2] = updatesOf(signum(0.1, { beta: 0.5 }), [
      [1, -2],
      [-3, 0.5],
    ]);
    expectArrayClose(u1!, [-0.1, 0.1]);
    expectArrayClose(u2!, [0.1, 0.1]);
  });

  it('follows a float64 reference over 100 steps', () => {
    const beta = 0.9;
    const lr = 0.02;
    const grads = gradients(100);
    const got = updatesOf(signum(lr), grads);
    const m = [0, 0, 0];
    grads.forEach((g, k) => {
      const expected = g.map((x, i) => {
        m[i] = beta * m[i]! + (1 - beta) * x;
        return -lr * Math.sign(m[i]!);
      });
      expectArrayClose(got[k]!, expected, {}, `step ${k + 1}`);
    });
  });
});

describe('misc aliases: bad options throw at construction, naming the option', () => {
  const bad = (build: () => unknown, message: RegExp) => {
    expect(build).toThrow(InvalidOptionError);
    expect(build).toThrow(message);
  };

  it('learning rates', () => {
    bad(() => noisySgd(-1), /noisySgd: option "learningRate" must be a finite number >= 0, got -1/);
    bad(() => signSgd(Number.NaN), /signSgd: option "learningRate" .* got NaN/);
    bad(() => signum('0.1' as never), /signum: option "learningRate"/);
    bad(() => optimisticAdam(-0.1), /optimisticAdam: option "learningRate"/);
    bad(
      () => polyakSgd(-1),
      /polyakSgd: option "maxLearningRate" must be a finite number >= 0, got -1/,
    );
    bad(() => polyakSgd((() => 1) as never), /polyakSgd: option "maxLearningRate" .* a function/);
  });

  it('other options and unknown keys', () => {
    bad(() => noisySgd(0.1, { eta: -1 }), /noisySgd: option "eta" must be a finite number >= 0/);
    bad(() => noisySgd(0.1, { seed: -3 }), /noisySgd: option "seed" must be an integer >= 0/);
    bad(
      () => noisySgd(0.1, { seed: 2 ** 33 }),
      /noisySgd: option "seed" must be an integer in \[0, 2\^32\)/,
    );
    bad(
      () => optimisticGradientDescent(0.1, { alpha: Number.POSITIVE_INFINITY }),
      /optimisticGradientDescent: option "alpha" must be a finite number/,
    );
    bad(
      () => optimisticAdam(0.1, { b1: 1 }),
      /optimisticAdam: option "b1" must be a number in \[0, 1\)/,
    );
    bad(() => optimisticAdam(0.1, { optimism: 1 } as never), /option "optimism" must be absent/);
    bad(
      () => polyakSgd(1, { variant: 'sps++' as never }),
      /polyakSgd: option "variant" must be one of "sps", "sps\+"/,
    );
    bad(() => polyakSgd(1, { scaling: -2 }), /polyakSgd: option "scaling"/);
    bad(
      () => polyakSgd(1, { maxLearningRate: 2 } as never),
      /option "maxLearningRate" must be absent/,
    );
    bad(
      () => signum(0.1, { beta: 1 }),
      /signum: option "beta" must be a number in \[0, 1\), got 1/,
    );
    bad(() => signum(0.1, { momentum: 0.9 } as never), /signum: option "momentum" must be absent/);
  });
});

describe('misc alias specs and catalog entries', () => {
  it('record the factory name and the exact arguments', () => {
    const schedule = (c: number) => 0.1 / (c + 1);
    expect(noisySgd(0.01, { seed: 3 }).spec).toEqual({
      name: 'noisySgd',
      args: [0.01, { seed: 3 }],
    });
    expect(signSgd(schedule).spec).toEqual({ name: 'signSgd', args: [schedule] });
    expect(signum(1e-3).spec).toEqual({ name: 'signum', args: [1e-3] });
    // The default cap is recorded: a saved spec does not depend on the default staying 1.
    expect(polyakSgd().spec).toEqual({ name: 'polyakSgd', args: [1] });
    expect(polyakSgd(0.5, { fMin: -1 }).spec).toEqual({
      name: 'polyakSgd',
      args: [0.5, { fMin: -1 }],
    });
    expect(optimisticAdam(1e-3, { beta: 0.5 }).spec).toEqual({
      name: 'optimisticAdam',
      args: [1e-3, { beta: 0.5 }],
    });
    expect(optimisticGradientDescent(0.1).spec).toEqual({
      name: 'optimisticGradientDescent',
      args: [0.1],
    });
  });

  it('list every alias once, registered under its own name, with a spec of that name', () => {
    expect(ENTRIES.map((e) => e.name)).toEqual([
      'noisySgd',
      'optimisticGradientDescent',
      'optimisticAdam',
      'polyakSgd',
      'signSgd',
      'signum',
    ]);
    const catalog = new Set(optimizerCatalog().map((e) => e.name));
    for (const entry of ENTRIES) {
      expect(catalog.has(entry.name), entry.name).toBe(true);
      expect(getTransformFactory(entry.name), entry.name).toBe(entry.factory);
      expect(entry.factory(entry.typicalLearningRate).spec?.name, entry.name).toBe(entry.name);
      expect(entry.reference, entry.name).toMatch(/\d{4}/);
    }
  });
});

/** θ after `steps` steps from [0.5, −1.5, 2] on a fixed gradient sequence, with a loss. */
function trajectory(tx: GradientTransformation<any>, steps = 6): number[] {
  const theta = { w: tf.variable(tf.tensor([0.5, -1.5, 2])) };
  let state = tx.init(theta);
  for (let k = 0; k < steps; k++) {
    const g = { w: tf.tensor([Math.sin(k), Math.cos(2 * k) - 0.3, 0.1 * k - 0.2]) };
    state = stepVariables(tx, theta, g, state, { loss: 1 + 0.1 * k });
    treeDispose(g);
  }
  const out = values(theta.w);
  treeDispose([theta, state]);
  return out;
}

describeEachBackend('misc aliases under hyperparameter injection', () => {
  for (const entry of ENTRIES) {
    it(`${entry.name}: the same numbers under injectLearningRate and injectHyperparams`, () => {
      const lr = entry.typicalLearningRate;
      const plain = trajectory(entry.factory(lr));
      expect(trajectory(injectLearningRate(entry.factory, lr))).toEqual(plain);
      expect(
        trajectory(
          injectHyperparams(({ learningRate }) => entry.factory(learningRate), {
            learningRate: lr,
          }),
        ),
      ).toEqual(plain);
    });
  }

  it('a schedule injected as the Polyak cap is evaluated at every step', () => {
    // The cap halves each step; with a large gap the step is the cap: −cap_k·g.
    const cap = (count: number) => 0.5 ** count;
    const injected = injectHyperparams(({ cap: c }) => polyakSgd(c), { cap });
    const got = updatesOf(injected, [[1], [1], [1]], () => 100);
    expectArrayClose(got.flat(), [-1, -0.5, -0.25]);
  });
});
