import * as tf from '@tensorflow/tfjs-core';
import {
  chain,
  collectTensors,
  type GradientTransformation,
  type StepOptions,
  stepVariables,
  type Tree,
  treeDispose,
  treeFlatten,
  whyNotFusable,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, stateSignature, values } from '@tfopt/testing';
import { clipByGlobalNorm, scaleByLearningRate, trace } from '@tfopt/transforms';
import { describe, expect, it } from 'vitest';
// From the entry module, which registers the fused forms of the EG links.
import {
  egAdagrad,
  egAdam,
  egCoordinateGains,
  egGlobalScale,
  egSgdm,
  hypergradientScale,
  readEgScale,
} from './index.js';

const FUSED: StepOptions = { fused: true };
const COMPOSABLE: StepOptions = { fused: false };

// Leaves of 6 and 2 × 4 elements: on wasm the SIMD loop takes four elements at a time and
// JavaScript the rest (a's last 2), so both run.
const SIZES = { a: 6, b: 8 } as const;
const INITIAL = [1, -2, 0.5, 0.3, -0.7, 2.5, 0.25, 3, -0.4, 1.2, 0.9, -2.2, 0.05, 0.6];
/** Leaf of each coordinate: a is leaf 0, b is leaf 1 (canonical order). */
const LEAF = INITIAL.map((_, j) => (j < SIZES.a ? 0 : 1));

/**
 * The gradient of step k (1-based): a drifting direction plus oscillation per
 * coordinate, so the alignment and the gains' signs change over the run
 * instead of settling.
 */
function gradValues(k: number): number[] {
  return INITIAL.map(
    (_, j) =>
      Math.sin((0.03 + 0.01 * j) * k + j) +
      0.4 * Math.sin((0.9 + 0.11 * j) * k) +
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

const ROWS: readonly [string, () => GradientTransformation<any>][] = [
  ['egSgdm', () => egSgdm(0.02)],
  ['egSgdm + nesterov', () => egSgdm(0.02, { nesterov: true, scale: { scaleLearningRate: 0.05 } })],
  [
    'egSgdm, per-tensor scale',
    () => egSgdm(0.02, { scale: { perTensor: true, scaleLearningRate: 0.05 } }),
  ],
  [
    'egSgdm, product signal',
    () => egSgdm(0.02, { gains: { signal: 'product', gainLearningRate: 0.1 } }),
  ],
  ['egSgdm, no gains', () => egSgdm(0.02, { gains: false, scale: { scaleLearningRate: 0.05 } })],
  ['egSgdm, no scale', () => egSgdm(0.02, { scale: false })],
  ['egSgdm, zero gain rate', () => egSgdm(0.02, { gains: { gainLearningRate: 0 } })],
  ['egAdam', () => egAdam(0.01)],
  ['egAdam, gains off', () => egAdam(0.01, { gains: false, scale: { scaleLearningRate: 0.05 } })],
  ['egAdam, scale off', () => egAdam(0.01, { scale: false, gains: { gainLearningRate: 0.05 } })],
  [
    'egAdam, per-tensor scale',
    () => egAdam(0.01, { scale: { perTensor: true, scaleLearningRate: 0.05 } }),
  ],
  [
    'egAdam, inner-product alignment',
    () => egAdam(0.01, { scale: { normalize: false, scaleLearningRate: 0.05 } }),
  ],
  [
    'egAdam, tight bounds',
    () =>
      egAdam(0.01, {
        gains: { min: 0.9, max: 1.1, gainLearningRate: 0.1 },
        scale: { min: 0.5, max: 2, scaleLearningRate: 0.5 },
      }),
  ],
  ['egAdagrad', () => egAdagrad(0.05)],
  ['egAdagrad, per-tensor scale', () => egAdagrad(0.05, { scale: { perTensor: true } })],
  [
    'clip, scale, clip',
    () =>
      chain(
        clipByGlobalNorm(1),
        egGlobalScale({ scaleLearningRate: 0.1 }),
        clipByGlobalNorm(0.8),
        scaleByLearningRate(0.02),
      ),
  ],
  [
    'gains before momentum',
    () => chain(egCoordinateGains({ beta: 0.5 }), trace({ decay: 0.5 }), scaleByLearningRate(0.02)),
  ],
];

describeEachBackend('fused EG optimizers', () => {
  for (const [name, build] of ROWS) {
    it(`${name}: fuses, and agrees with the composable path over 200 steps`, () => {
      const tx = build();
      expect(whyNotFusable(tx)).toBeUndefined();
      const fused = makeVars();
      const plain = makeVars();
      const mixed = makeVars();
      let sf = tx.init(fused);
      let sp = tx.init(plain);
      let sm = tx.init(mixed);
      const live = tf.memory().numTensors;
      for (let k = 1; k <= 200; k++) {
        const grads = gradTree(k);
        const context = { grads };
        sf = stepVariables(tx, fused, grads, sf, context, FUSED);
        sp = stepVariables(tx, plain, grads, sp, context, COMPOSABLE);
        sm = stepVariables(tx, mixed, grads, sm, context, k > 70 && k <= 140 ? COMPOSABLE : FUSED);
        treeDispose(grads);
        expect(tf.memory().numTensors, `live tensors after step ${k}`).toBe(live);
        if (k % 20 === 0) {
          const tol = { rtol: 1e-4, atol: 1e-5 };
          expectArrayClose(flat(fused), flat(plain), tol, `params, step ${k}`);
          expectArrayClose(flat(mixed), flat(plain), tol, `mixed params, step ${k}`);
        }
      }
      expect(stateSignature(sf)).toEqual(stateSignature(sp));
      const fusedState = collectTensors(sf);
      collectTensors(sp).forEach((t, i) => {
        const tol = { rtol: 1e-4, atol: 1e-6 };
        expectArrayClose(values(fusedState[i]!), values(t), tol, `state tensor ${i}`);
      });
      treeDispose([fused, plain, mixed, sf, sp, sm]);
    });
  }
});

describeEachBackend('fused EG against its rules', () => {
  it('egSgdm: the first two steps derived by hand', () => {
    // lr = 0.1, momentum 0.9, gainLearningRate 0.1, scaleLearningRate 0.5 on w = [1, 1].
    // Step 1, g = [1, −2]: the gradient sum m is 0, so the gains stay 1 (sign 0); m = [1, −2].
    //   Momentum v = [1, −2]. The previous updates are 0: alignment 0, the scale stays 1.
    //   w = [1, 1] − 0.1·[1, −2] = [0.9, 1.2].
    // Step 2, g = [2, 0.5]: g·m = [2, −1], so the gains are [e^0.1, e^−0.1] = [1.1051709, 0.9048374];
    //   u = [2.2103418, 0.4524187]; v = 0.9·[1, −2] + u = [3.1103418, −1.3475813].
    //   cos(g, v_prev) = (2·1 − 0.5·2) / (|[2, 0.5]| |[1, −2]|) = 1 / (2.0615528 · 2.2360680) = 0.2169305;
    //   s = exp(0.5 · 0.2169305) = 1.1145656; w = [0.9, 1.2] − 0.1·1.1145656·v = [0.5533320, 1.3501968].
    const tx = egSgdm(0.1, {
      momentum: 0.9,
      gains: { gainLearningRate: 0.1 },
      scale: { scaleLearningRate: 0.5 },
    });
    const w = { w: tf.variable(tf.tensor1d([1, 1])) };
    let state = tx.init(w);
    const g1 = { w: tf.tensor1d([1, -2]) };
    state = stepVariables(tx, w, g1, state, undefined, FUSED);
    expectArrayClose(values(w.w), [0.9, 1.2]);
    expect(readEgScale(state)).toEqual([1]);
    const g2 = { w: tf.tensor1d([2, 0.5]) };
    state = stepVariables(tx, w, g2, state, undefined, FUSED);
    const s = Math.exp(0.5 * (1 / (Math.sqrt(4.25) * Math.sqrt(5))));
    const v = [0.9 + 2 * Math.exp(0.1), -1.8 + 0.5 * Math.exp(-0.1)];
    expectArrayClose(values(w.w), [0.9 - 0.1 * s * v[0]!, 1.2 - 0.1 * s * v[1]!]);
    // ≈ [0.5533320, 1.3501968]
    expectArrayClose(readEgScale(state), [s]);
    treeDispose([w, state, g1, g2]);
  });

  it('egAdam (sign gains, one scale) follows a float64 reference for 150 steps', () => {
    const [lr, b1, b2, eps] = [0.01, 0.9, 0.999, 1e-8];
    const [etaP, beta, etaS] = [0.05, 0.9, 0.1];
    const tx = egAdam(lr, {
      gains: { gainLearningRate: etaP, beta },
      scale: { scaleLearningRate: etaS },
    });
    const n = INITIAL.length;
    const p = [...INITIAL];
    const m = new Array<number>(n).fill(0);
    const v = new Array<number>(n).fill(0);
    const gains = new Array<number>(n).fill(1);
    const gradSum = new Array<number>(n).fill(0);
    let previous = new Array<number>(n).fill(0);
    let s = 1;
    const clip = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
    followReference(tx, 150, (k, g) => {
      const dot = g.reduce((acc, x, i) => acc + x * previous[i]!, 0);
      const norms = Math.hypot(...g) * Math.hypot(...previous);
      s = clip(s * Math.exp(etaS * (norms === 0 ? 0 : dot / norms)), 0.1, 10);
      const u = g.map((gi, i) => {
        m[i] = b1 * m[i]! + (1 - b1) * gi;
        v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
        const adamStep = m[i]! / (1 - b1 ** k) / (Math.sqrt(v[i]! / (1 - b2 ** k)) + eps);
        gains[i] = clip(
          gains[i]! * Math.exp(etaP * Math.sign(gi) * Math.sign(gradSum[i]!)),
          0.01,
          100,
        );
        gradSum[i] = beta * gradSum[i]! + gi;
        return adamStep * gains[i]!;
      });
      previous = u;
      return p.map((pi, i) => {
        p[i] = pi - lr * s * u[i]!;
        return p[i]!;
      });
    });
  });

  it('egSgdm (product gains, a scale per tensor) follows a float64 reference for 150 steps', () => {
    const [lr, mu, etaP, beta, etaS] = [0.02, 0.9, 0.2, 0.8, 0.1];
    const tx = egSgdm(lr, {
      momentum: mu,
      gains: { gainLearningRate: etaP, beta, signal: 'product' },
      scale: { scaleLearningRate: etaS, perTensor: true },
    });
    const n = INITIAL.length;
    const p = [...INITIAL];
    const t = new Array<number>(n).fill(0);
    const gains = new Array<number>(n).fill(1);
    const gradSum = new Array<number>(n).fill(0);
    let previous = new Array<number>(n).fill(0);
    const s = [1, 1];
    const clip = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
    followReference(tx, 150, (k, g) => {
      for (const leaf of [0, 1]) {
        const at = LEAF.flatMap((l, i) => (l === leaf ? [i] : []));
        const dot = at.reduce((acc, i) => acc + g[i]! * previous[i]!, 0);
        const norms =
          Math.hypot(...at.map((i) => g[i]!)) * Math.hypot(...at.map((i) => previous[i]!));
        s[leaf] = clip(s[leaf]! * Math.exp(etaS * (norms === 0 ? 0 : dot / norms)), 0.1, 10);
      }
      const correction = 1 - beta ** Math.max(k - 1, 1);
      g.forEach((gi, i) => {
        const gbar = (1 - beta) * gradSum[i]!;
        gains[i] = clip(gains[i]! * Math.exp((etaP * gi * gbar) / correction), 0.01, 100);
        gradSum[i] = beta * gradSum[i]! + gi;
        t[i] = mu * t[i]! + gains[i]! * gi;
      });
      previous = [...t];
      return p.map((pi, i) => {
        p[i] = pi - lr * s[LEAF[i]!]! * t[i]!;
        return p[i]!;
      });
    });
  });

  it('clips the scale to its bounds exactly, and an overflowing alignment pushes it to a bound', () => {
    // Aligned gradients with a large scaleLearningRate: the scale reaches max and stays there.
    const tx = egSgdm(1e-3, { gains: false, scale: { scaleLearningRate: 5, max: 3 } });
    const w = { w: tf.variable(tf.tensor1d([1, 1])) };
    let state = tx.init(w);
    for (let k = 0; k < 5; k++) {
      const g = { w: tf.tensor1d([1, 2]) };
      state = stepVariables(tx, w, g, state, undefined, FUSED);
      treeDispose(g);
    }
    expect(readEgScale(state)).toEqual([3]);
    // <g, v> = 1e30 · 1e30 overflows float32: +Infinity, a push to max (as on the composable path).
    const raw = egSgdm(1e-33, { gains: false, scale: { normalize: false, scaleLearningRate: 1 } });
    const scales = [FUSED, COMPOSABLE].map((options) => {
      const x = { w: tf.variable(tf.tensor1d([0, 0])) };
      let s = raw.init(x);
      for (const g of [
        [1e30, 0],
        [1e30, 0],
      ]) {
        const grads = { w: tf.tensor1d(g) };
        s = stepVariables(raw, x, grads, s, undefined, options);
        treeDispose(grads);
      }
      const out = readEgScale(s);
      treeDispose([x, s]);
      return out;
    });
    expect(scales[0]).toEqual([10]);
    expect(scales[0]).toEqual(scales[1]);
    treeDispose([w, state]);
  });

  it('keeps the remembered direction on the momentum buffer and the gains when their rate is 0', () => {
    const tx = egSgdm(0.01, { gains: { gainLearningRate: 0 } });
    const w = { w: tf.variable(tf.tensor1d([1, 1])) };
    let state = tx.init(w);
    const gainsBefore = (state[0] as unknown as { gains: { w: tf.Tensor } }).gains.w;
    const g = { w: tf.tensor1d([1, 2]) };
    state = stepVariables(tx, w, g, state, undefined, FUSED);
    // As the composable path: a zero rate returns the gains tensor itself.
    expect((state[0] as unknown as { gains: { w: tf.Tensor } }).gains.w).toBe(gainsBefore);
    expect(gainsBefore.isDisposed).toBe(false);
    // The scale's previous updates are the new momentum: the same data, no copy.
    const traceW = (state[1].trace as { w: tf.Tensor }).w;
    const previousW = ((state[2] as { previous: Tree }).previous as { w: tf.Tensor }).w;
    expect(previousW).not.toBe(traceW);
    expect(previousW.dataId).toBe(traceW.dataId);
    treeDispose([w, state, g]);
  });
});

/** Run `tx` fused on the standard problem and compare the params with `reference(k, g)` after each step. */
function followReference(
  tx: GradientTransformation<any>,
  steps: number,
  reference: (k: number, g: number[]) => number[],
): void {
  const vars = makeVars();
  let state = tx.init(vars);
  for (let k = 1; k <= steps; k++) {
    const grads = gradTree(k);
    state = stepVariables(tx, vars, grads, state, undefined, FUSED);
    treeDispose(grads);
    expectArrayClose(
      flat(vars),
      reference(k, gradValues(k)),
      { rtol: 1e-4, atol: 1e-5 },
      `step ${k}`,
    );
  }
  treeDispose([vars, state]);
}

describe('which EG transforms fuse', () => {
  it('egSgdm, egAdam and egAdagrad with any parts; not the hypergradient baseline', () => {
    const fusable = [
      egSgdm(0.1),
      egSgdm(0.1, { gains: false, scale: { perTensor: true } }),
      egAdam(1e-3, { scale: false, gains: { signal: 'product' } }),
      egAdagrad(0.1, { gains: false, scale: false }),
    ];
    for (const tx of fusable) expect(whyNotFusable(tx), tx.spec?.name).toBeUndefined();
    expect(whyNotFusable(chain(hypergradientScale(), scaleByLearningRate(0.1)))).toBe(
      '"hypergradientScale" has no fused form',
    );
  });
});
