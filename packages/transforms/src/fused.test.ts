import * as tf from '@tensorflow/tfjs-core';
import {
  chain,
  collectTensors,
  type GradientTransformation,
  identity,
  type StepOptions,
  stateless,
  stepVariables,
  type Tree,
  treeDispose,
  treeFlatten,
  whyNotFusable,
  withSpec,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, stateSignature, values } from '@tfopt/testing';
import { describe, expect, it } from 'vitest';
import {
  adagrad,
  adam,
  adamw,
  clip,
  clipByGlobalNorm,
  ema,
  rmsprop,
  scale,
  scaleByAdam,
  scaleByLearningRate,
  scaleBySchedule,
  sgd,
  trace,
} from './index.js';

const FUSED: StepOptions = { fused: true };
const COMPOSABLE: StepOptions = { fused: false };

// Leaves of 6 and 2 × 4 elements: on wasm the SIMD loop takes four elements at a time and
// JavaScript the rest (a's last 2), so both run.
const SIZES = { a: 6, b: 8 } as const;
const INITIAL = [1, -2, 0.5, 0.3, -0.7, 2.5, 0.25, 3, -0.4, 1.2, 0.9, -2.2, 0.05, 0.6];

/** The gradient of step k (1-based): several frequencies per coordinate, so none settles. */
function gradValues(k: number): number[] {
  return INITIAL.map(
    (_, j) =>
      Math.sin((0.3 + 0.07 * j) * k + j) +
      0.4 * Math.cos((1.1 + 0.13 * j) * k) +
      0.1 * ((j % 3) - 1),
  );
}

function gradTree(k: number): Tree {
  const g = gradValues(k);
  return { a: tf.tensor1d(g.slice(0, SIZES.a)), b: tf.tensor2d(g.slice(SIZES.a), [2, 4]) };
}

const makeVars = () =>
  tf.tidy(() => ({
    a: tf.variable(tf.tensor1d(INITIAL.slice(0, SIZES.a))),
    b: tf.variable(tf.tensor2d(INITIAL.slice(SIZES.a), [2, 4])),
  }));

const flat = (t: Tree) => treeFlatten(t).flatMap((l) => values(l.tensor));

/** Every alias, and chains of the fusable links, with options away from their defaults. */
const ROWS: readonly [string, () => GradientTransformation<any>][] = [
  ['sgd', () => sgd(0.05)],
  ['sgd + momentum', () => sgd(0.02, { momentum: 0.9 })],
  ['sgd + nesterov', () => sgd(0.02, { momentum: 0.8, nesterov: true })],
  ['sgd, scheduled', () => sgd((count) => 0.05 / (1 + 0.1 * count), { momentum: 0.5 })],
  ['adam', () => adam(0.01)],
  [
    'adam (b1, b2, eps, epsRoot)',
    () => adam(0.02, { b1: 0.8, b2: 0.99, eps: 1e-3, epsRoot: 1e-4 }),
  ],
  ['adam + nesterov', () => adam(0.01, { nesterov: true })],
  ['adamw', () => adamw(0.01, { weightDecay: 0.05 })],
  ['adamw, masked', () => adamw(0.01, { weightDecay: 0.1, mask: { a: true, b: false } })],
  [
    'adamw, mask function',
    () => adamw(0.01, { weightDecay: 0.1, mask: () => ({ a: false, b: true }) }),
  ],
  ['adagrad', () => adagrad(0.1)],
  [
    'adagrad (no eps, no initial value)',
    () => adagrad(0.1, { eps: 0, initialAccumulatorValue: 0 }),
  ],
  ['rmsprop', () => rmsprop(0.01)],
  [
    'rmsprop, eps after the root',
    () => rmsprop(0.01, { epsInSqrt: false, eps: 1e-4, decay: 0.95 }),
  ],
  ['rmsprop + momentum', () => rmsprop(0.005, { momentum: 0.9 })],
  [
    'rmsprop centered + nesterov',
    () => rmsprop(0.005, { centered: true, momentum: 0.5, nesterov: true, eps: 1e-4 }),
  ],
  ['clipByGlobalNorm, adam', () => chain(clipByGlobalNorm(0.5), adam(0.01))],
  [
    'adam, then clip the step',
    () => chain(scaleByAdam(), clipByGlobalNorm(1), scaleByLearningRate(0.01)),
  ],
  [
    'two clips',
    () => chain(clipByGlobalNorm(2), trace({ decay: 0.9 }), clipByGlobalNorm(1), scale(-0.01)),
  ],
  [
    'ema, clip, schedule',
    () =>
      chain(
        ema({ decay: 0.8 }),
        clip(0.3),
        scaleBySchedule((c) => -0.05 * 0.99 ** c),
      ),
  ],
  [
    'ema without debias',
    () => chain(ema({ decay: 0.5, debias: false }), scaleByLearningRate(0.05)),
  ],
  ['no flip', () => chain(trace({ decay: 0.5 }), scaleByLearningRate(0.01, { flipSign: false }))],
];

describeEachBackend('fused transforms', () => {
  for (const [name, build] of ROWS) {
    it(`${name}: fuses, and agrees with the composable path over 200 steps`, () => {
      const tx = build();
      expect(whyNotFusable(tx)).toBeUndefined();
      const fused = makeVars();
      const plain = makeVars();
      // Fused, then composable, then fused again on the same state: the layouts are one.
      const mixed = makeVars();
      let sf = tx.init(fused);
      let sp = tx.init(plain);
      let sm = tx.init(mixed);
      const live = tf.memory().numTensors;
      for (let k = 1; k <= 200; k++) {
        const grads = gradTree(k);
        sf = stepVariables(tx, fused, grads, sf, undefined, FUSED);
        sp = stepVariables(tx, plain, grads, sp, undefined, COMPOSABLE);
        sm = stepVariables(
          tx,
          mixed,
          grads,
          sm,
          undefined,
          k > 70 && k <= 140 ? COMPOSABLE : FUSED,
        );
        treeDispose(grads);
        expect(tf.memory().numTensors, `live tensors after step ${k}`).toBe(live);
        if (k % 20 === 0) {
          const tol = { rtol: 1e-4, atol: 1e-5 };
          expectArrayClose(flat(fused), flat(plain), tol, `params, step ${k}`);
          expectArrayClose(flat(mixed), flat(plain), tol, `mixed params, step ${k}`);
        }
      }
      expect(stateSignature(sf)).toEqual(stateSignature(sp));
      // Same layout, so the tensors come in the same order.
      const fusedState = collectTensors(sf);
      collectTensors(sp).forEach((t, i) => {
        const tol = { rtol: 1e-4, atol: 1e-6 };
        expectArrayClose(values(fusedState[i]!), values(t), tol, `state tensor ${i}`);
      });
      treeDispose([fused, plain, mixed, sf, sp, sm]);
    });
  }
});

/** Run `tx` fused on the standard problem and compare the params with `reference(k)` after each step. */
function followReference(
  tx: GradientTransformation<any>,
  steps: number,
  reference: (k: number, g: number[]) => number[],
  tol = { rtol: 1e-4, atol: 1e-5 },
): void {
  const vars = makeVars();
  let state = tx.init(vars);
  for (let k = 1; k <= steps; k++) {
    const grads = gradTree(k);
    state = stepVariables(tx, vars, grads, state, undefined, FUSED);
    treeDispose(grads);
    expectArrayClose(flat(vars), reference(k, gradValues(k)), tol, `step ${k}`);
  }
  treeDispose([vars, state]);
}

describeEachBackend('fused transforms against their published rules', () => {
  it('adam: the first two steps derived by hand', () => {
    // lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8 on w = [0, 0]; g1 = [1, −2], g2 = [3, 0.5].
    // Step 1: mu = [0.1, −0.2], nu = [0.001, 0.004]; mû = [1, −2], nû = [1, 4];
    //   u = mû / (sqrt(nû) + eps) ≈ [1, −1]; w = −0.1·u = [−0.1, 0.1].
    // Step 2: mu = [0.39, −0.13], nu = [0.009999, 0.004246]; 1 − b1² = 0.19, 1 − b2² = 0.001999;
    //   u = (mu / 0.19) / (sqrt(nu / 0.001999) + eps) ≈ [0.9177811, −0.4694682];
    //   w = [−0.1 − 0.09177811, 0.1 + 0.04694682] = [−0.1917781, 0.1469468].
    const tx = adam(0.1);
    const w = { w: tf.variable(tf.zeros([2])) };
    let state = tx.init(w);
    const g1 = { w: tf.tensor1d([1, -2]) };
    const g2 = { w: tf.tensor1d([3, 0.5]) };
    state = stepVariables(tx, w, g1, state, undefined, FUSED);
    expectArrayClose(values(w.w), [-0.1, 0.1], { rtol: 1e-6 });
    expect(state[0].count).toBe(1);
    expectArrayClose(values((state[0].mu as { w: tf.Tensor }).w), [0.1, -0.2]);
    expectArrayClose(values((state[0].nu as { w: tf.Tensor }).w), [0.001, 0.004]);
    state = stepVariables(tx, w, g2, state, undefined, FUSED);
    const u2 = [
      0.39 / 0.19 / (Math.sqrt(0.009999 / 0.001999) + 1e-8),
      -0.13 / 0.19 / (Math.sqrt(0.004246 / 0.001999) + 1e-8),
    ];
    expectArrayClose(values(w.w), [-0.1 - 0.1 * u2[0]!, 0.1 - 0.1 * u2[1]!], { rtol: 1e-5 });
    expect(state[1].count).toBe(2);
    treeDispose([w, state, g1, g2]);
  });

  it('sgd with Nesterov momentum: the first two steps derived by hand', () => {
    // lr = 0.1, momentum = 0.5 on w = [1]; g1 = [2], g2 = [−1].
    // Step 1: t = 2; u = g + 0.5·t = 3; w = 1 − 0.3 = 0.7.
    // Step 2: t = 0.5·2 − 1 = 0; u = −1 + 0.5·0 = −1; w = 0.7 + 0.1 = 0.8.
    const tx = sgd(0.1, { momentum: 0.5, nesterov: true });
    const w = { w: tf.variable(tf.tensor1d([1])) };
    let state = tx.init(w);
    for (const [g, expected] of [
      [2, 0.7],
      [-1, 0.8],
    ] as const) {
      const grads = { w: tf.tensor1d([g]) };
      state = stepVariables(tx, w, grads, state, undefined, FUSED);
      expectArrayClose(values(w.w), [expected]);
      treeDispose(grads);
    }
    treeDispose([w, state]);
  });

  it('adam (and NAdam) follow a float64 reference for 150 steps', () => {
    for (const nesterov of [false, true]) {
      const [lr, b1, b2, eps, epsRoot] = [0.01, 0.8, 0.99, 1e-6, 1e-4];
      const p = [...INITIAL];
      const m = new Array<number>(INITIAL.length).fill(0);
      const v = new Array<number>(INITIAL.length).fill(0);
      followReference(adam(lr, { b1, b2, eps, epsRoot, nesterov }), 150, (k, g) =>
        p.map((_, i) => {
          m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
          v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
          const mHat = nesterov
            ? (b1 * m[i]!) / (1 - b1 ** (k + 1)) + ((1 - b1) * g[i]!) / (1 - b1 ** k)
            : m[i]! / (1 - b1 ** k);
          p[i] = p[i]! - (lr * mHat) / (Math.sqrt(v[i]! / (1 - b2 ** k) + epsRoot) + eps);
          return p[i]!;
        }),
      );
    }
  });

  it('adamw with a mask follows a float64 reference for 150 steps', () => {
    // Decoupled decay on the decayed leaves: θ ← θ − lr·(adam + wd·θ); b is not decayed.
    const [lr, wd] = [0.01, 0.1];
    const p = [...INITIAL];
    const m = new Array<number>(INITIAL.length).fill(0);
    const v = new Array<number>(INITIAL.length).fill(0);
    followReference(adamw(lr, { weightDecay: wd, mask: { a: true, b: false } }), 150, (k, g) =>
      p.map((_, i) => {
        m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
        v[i] = 0.999 * v[i]! + 0.001 * g[i]! ** 2;
        const adamStep = m[i]! / (1 - 0.9 ** k) / (Math.sqrt(v[i]! / (1 - 0.999 ** k)) + 1e-8);
        p[i] = p[i]! - lr * (adamStep + (i < SIZES.a ? wd * p[i]! : 0));
        return p[i]!;
      }),
    );
  });

  it('sgd with heavy-ball and Nesterov momentum follows a float64 reference for 200 steps', () => {
    for (const nesterov of [false, true]) {
      const [lr, mu] = [0.02, 0.9];
      const p = [...INITIAL];
      const t = new Array<number>(INITIAL.length).fill(0);
      followReference(sgd(lr, { momentum: mu, nesterov }), 200, (_, g) =>
        p.map((_, i) => {
          t[i] = mu * t[i]! + g[i]!;
          p[i] = p[i]! - lr * (nesterov ? g[i]! + mu * t[i]! : t[i]!);
          return p[i]!;
        }),
      );
    }
  });

  it('centered rmsprop with momentum follows a float64 reference for 150 steps', () => {
    // ms ← d·ms + (1 − d)·g², mg ← d·mg + (1 − d)·g, m ← μ·m + lr·g / sqrt(ms − mg² + eps), θ ← θ − m.
    const [lr, d, mu, eps] = [0.005, 0.9, 0.5, 1e-4];
    const p = [...INITIAL];
    const ms = new Array<number>(INITIAL.length).fill(0);
    const mg = new Array<number>(INITIAL.length).fill(0);
    const mom = new Array<number>(INITIAL.length).fill(0);
    followReference(
      rmsprop(lr, { decay: d, momentum: mu, centered: true, eps }),
      150,
      (_, g) =>
        p.map((_, i) => {
          ms[i] = d * ms[i]! + (1 - d) * g[i]! ** 2;
          mg[i] = d * mg[i]! + (1 - d) * g[i]!;
          mom[i] = mu * mom[i]! + (lr * g[i]!) / Math.sqrt(ms[i]! - mg[i]! ** 2 + eps);
          p[i] = p[i]! - mom[i]!;
          return p[i]!;
        }),
      { rtol: 1e-3, atol: 1e-5 },
    );
  });

  it('adagrad follows a float64 reference for 200 steps', () => {
    const [lr, s0, eps] = [0.1, 0.1, 1e-7];
    const p = [...INITIAL];
    const s = new Array<number>(INITIAL.length).fill(s0);
    followReference(adagrad(lr, { initialAccumulatorValue: s0, eps }), 200, (_, g) =>
      p.map((_, i) => {
        s[i] = s[i]! + g[i]! ** 2;
        p[i] = p[i]! - (lr * g[i]!) / Math.sqrt(s[i]! + eps);
        return p[i]!;
      }),
    );
  });

  it('clipByGlobalNorm before adam follows a float64 reference for 150 steps', () => {
    // g ← g · maxNorm / max(|g|, maxNorm) over the whole tree, then Adam.
    const [lr, maxNorm] = [0.01, 1];
    const p = [...INITIAL];
    const m = new Array<number>(INITIAL.length).fill(0);
    const v = new Array<number>(INITIAL.length).fill(0);
    followReference(chain(clipByGlobalNorm(maxNorm), adam(lr)), 150, (k, raw) => {
      const norm = Math.sqrt(raw.reduce((acc, x) => acc + x * x, 0));
      const g = raw.map((x) => (x * maxNorm) / Math.max(norm, maxNorm));
      return p.map((_, i) => {
        m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
        v[i] = 0.999 * v[i]! + 0.001 * g[i]! ** 2;
        p[i] =
          p[i]! - (lr * (m[i]! / (1 - 0.9 ** k))) / (Math.sqrt(v[i]! / (1 - 0.999 ** k)) + 1e-8);
        return p[i]!;
      });
    });
  });
});

describe('which transforms fuse', () => {
  it('every alias of this package does, with any options', () => {
    const aliases = [
      sgd(0.1),
      sgd(0.1, { momentum: 0.9, nesterov: true }),
      adam(1e-3, { nesterov: true }),
      adamw(1e-3, { mask: () => true }),
      adagrad(0.1),
      rmsprop(1e-3, { centered: true, momentum: 0.9 }),
    ];
    for (const tx of aliases) expect(whyNotFusable(tx), tx.spec?.name).toBeUndefined();
  });

  it('a link without a fused form keeps the chain on the composable path, saying why', () => {
    expect(
      whyNotFusable(
        chain(
          adam(1e-3),
          stateless((u) => u),
        ),
      ),
    ).toBe('a link has no spec (built by stateless() or by hand)');
    // A spec with an option the fused form does not know (a newer option, say) is not guessed at.
    expect(whyNotFusable(withSpec(identity(), 'scaleByAdam', [{ b3: 0.5 }]))).toBe(
      '"scaleByAdam" has an option the fused form does not know ("b3")',
    );
    const vars = makeVars();
    const tx = chain(
      adam(1e-3),
      stateless((u) => u),
    );
    const grads = gradTree(1);
    const state = tx.init(vars);
    expect(() => stepVariables(tx, vars, grads, state, undefined, FUSED)).toThrow(
      'stepVariables: cannot fuse this step (fused: true): a link has no spec (built by stateless() or by hand)',
    );
    treeDispose([vars, grads, state]);
  });
});
