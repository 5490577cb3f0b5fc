// egSgdm against an independent float64 implementation of the reference
// algorithm of PAPER.md (five steps per iteration, state per parameter
// tensor), and against values derived by hand for the first two steps.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { type StepResult, step, type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { type EgSgdmState, egSgdm } from './aliases.js';
import { readEgGains, readEgScale } from './inspect.js';

// ---------------------------------------------------------------------------
// Reference (plain arrays, float64), written from PAPER.md only.

interface RefConfig {
  readonly lr: number;
  readonly momentum: number;
  readonly beta: number;
  readonly etaP: number;
  readonly etaS: number;
  readonly signal: 'sign' | 'product';
  readonly normalize: boolean;
}

interface RefState {
  t: number;
  v: number[][];
  gbar: number[][];
  p: number[][];
  s: number[];
}

const clip = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

function refInit(theta: number[][]): RefState {
  return {
    t: 0,
    v: theta.map((x) => x.map(() => 0)),
    gbar: theta.map((x) => x.map(() => 0)),
    p: theta.map((x) => x.map(() => 1)),
    s: theta.map(() => 1),
  };
}

/** One iteration; updates `st` in place and returns the new parameters. */
function refStep(theta: number[][], g: number[][], st: RefState, c: RefConfig): number[][] {
  st.t += 1;
  return theta.map((x, k) => {
    const gk = g[k]!;
    const v = st.v[k]!;
    const gbar = st.gbar[k]!;
    const p = st.p[k]!;
    // 1. scale from the previous v
    let dot = 0;
    let gg = 0;
    let vv = 0;
    for (let i = 0; i < x.length; i++) {
      dot += gk[i]! * v[i]!;
      gg += gk[i]! ** 2;
      vv += v[i]! ** 2;
    }
    const denom = Math.sqrt(gg) * Math.sqrt(vv);
    const a = c.normalize ? (denom === 0 ? 0 : dot / denom) : dot;
    st.s[k] = clip(st.s[k]! * Math.exp(c.etaS * a), 0.1, 10);
    for (let i = 0; i < x.length; i++) {
      // 2. gains from the previous gbar
      const r =
        c.signal === 'sign'
          ? Math.sign(gk[i]!) * Math.sign(gbar[i]!)
          : (gk[i]! * gbar[i]!) / (1 - c.beta ** Math.max(st.t - 1, 1));
      p[i] = clip(p[i]! * Math.exp(c.etaP * r), 0.01, 100);
      // 3. momentum, 4. EMA
      v[i] = c.momentum * v[i]! + c.lr * p[i]! * gk[i]!;
      gbar[i] = c.beta * gbar[i]! + (1 - c.beta) * gk[i]!;
    }
    // 5. parameters
    return x.map((xi, i) => xi - st.s[k]! * v[i]!);
  });
}

// ---------------------------------------------------------------------------
// A small least-squares problem with two parameter tensors: W [3, 2], b [2],
// and a target that drifts with the step t, so gradients stay well above
// float32 noise for the whole run (on a fixed target the run converges, and
// the cosine of two noise vectors would decide the scale).
// loss_t = 1/2 sum((X W + b - Y_t)^2); dW = X^T R, db = sum over rows of R.

const X = [
  [0.5, -1.0, 0.3],
  [1.2, 0.4, -0.7],
  [-0.3, 0.8, 1.1],
  [0.9, -0.2, 0.6],
  [-1.1, 0.5, -0.4],
  [0.2, 1.3, 0.1],
];
const Y = [
  [1.0, -0.5],
  [0.3, 0.8],
  [-0.7, 1.2],
  [0.6, 0.1],
  [-0.9, -0.4],
  [1.5, 0.9],
];
/** Y_t[n][j] = Y[n][j] + 0.5 sin(0.05 t + n + j). */
function target(t: number): number[][] {
  return Y.map((row, n) => row.map((y, j) => y + 0.5 * Math.sin(0.05 * t + n + j)));
}
const W0 = [0.2, -0.1, 0.0, 0.3, -0.4, 0.1]; // row-major [3, 2]
const B0 = [0.05, -0.05];

function refGrads([w, b]: number[][], t: number): number[][] {
  const yt = target(t);
  const gw = new Array<number>(6).fill(0);
  const gb = [0, 0];
  for (let n = 0; n < X.length; n++) {
    for (let j = 0; j < 2; j++) {
      let r = b![j]! - yt[n]![j]!;
      for (let i = 0; i < 3; i++) r += X[n]![i]! * w![i * 2 + j]!;
      for (let i = 0; i < 3; i++) gw[i * 2 + j] = gw[i * 2 + j]! + X[n]![i]! * r;
      gb[j] = gb[j]! + r;
    }
  }
  return [gw, gb];
}

function tfGrads(
  params: { W: tf.Tensor; b: tf.Tensor },
  t: number,
): { W: tf.Tensor; b: tf.Tensor } {
  const [gW, gb] = tf.grads((w: tf.Tensor, b: tf.Tensor) =>
    tf.tidy(() => {
      const r = tf.sub(
        tf.add(tf.matMul(tf.tensor2d(X), w as tf.Tensor2D), b),
        tf.tensor2d(target(t)),
      );
      return tf.mul(0.5, tf.sum(tf.square(r)));
    }),
  )([params.W, params.b]);
  return { W: gW!, b: gb! };
}

function egSgdmFor(c: RefConfig) {
  return egSgdm(c.lr, {
    momentum: c.momentum,
    gains: { gainLearningRate: c.etaP, beta: c.beta, signal: c.signal },
    // Learning rate applied at the end: the inner-product signal is 1/lr
    // times the reference's, so the matching rate is eta_s * lr.
    scale: {
      scaleLearningRate: c.normalize ? c.etaS : c.etaS * c.lr,
      normalize: c.normalize,
      perTensor: true,
    },
  });
}

const CONFIGS: readonly RefConfig[] = [
  { lr: 0.01, momentum: 0.9, beta: 0.9, etaP: 0.01, etaS: 0.01, signal: 'sign', normalize: true },
  { lr: 0.01, momentum: 0.9, beta: 0.9, etaP: 0.01, etaS: 0.1, signal: 'sign', normalize: false },
  {
    lr: 0.01,
    momentum: 0.8,
    beta: 0.7,
    etaP: 0.01,
    etaS: 0.01,
    signal: 'product',
    normalize: true,
  },
  {
    lr: 0.01,
    momentum: 0.8,
    beta: 0.7,
    etaP: 0.01,
    etaS: 0.1,
    signal: 'product',
    normalize: false,
  },
];

const STEPS = 250;

describeEachBackend('egSgdm reproduces the reference algorithm', () => {
  for (const c of CONFIGS) {
    it(`step for step over ${STEPS} steps (signal ${c.signal}, normalize ${c.normalize})`, () => {
      const before = tf.memory().numTensors;
      const tx = egSgdmFor(c);
      let params = { W: tf.tensor2d(W0, [3, 2]), b: tf.tensor1d(B0) };
      let state = tx.init(params);
      let theta = [W0.slice(), B0.slice()];
      const ref = refInit(theta);
      let scaleMoved = 0;
      for (let i = 0; i < STEPS; i++) {
        theta = refStep(theta, refGrads(theta, i + 1), ref, c);
        const grads = tfGrads(params, i + 1);
        const next = step(tx, params, grads, state);
        treeDispose([grads, params]);
        params = next.params as typeof params;
        state = next.state;
        const tol = { rtol: 2e-5, atol: 5e-6 };
        expectArrayClose(values(params.W), theta[0]!, tol, `step ${i + 1} W`);
        expectArrayClose(values(params.b), theta[1]!, tol, `step ${i + 1} b`);
        expectArrayClose(readEgScale(state), ref.s, tol, `step ${i + 1} scale`);
        scaleMoved = Math.max(scaleMoved, ...ref.s.map((s) => Math.abs(s - 1)));
      }
      const gains = readEgGains(state)!;
      const p = ref.p.flat();
      expectArrayClose(
        [gains.min, gains.max, gains.mean],
        [Math.min(...p), Math.max(...p), p.reduce((x, y) => x + y, 0) / p.length],
        { rtol: 2e-5, atol: 5e-6 },
        'gains min, max, mean',
      );
      // The run must exercise the adaptation, or the comparison proves little.
      expect(scaleMoved).toBeGreaterThan(0.05);
      expect(Math.max(...p) / Math.min(...p)).toBeGreaterThan(1.2);
      treeDispose([params, state]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  // By hand: a = [1, -1], b = [2], loss = (a0^2 + 4 a1^2 + b0^2) / 2, so the
  // gradient is g_a = [a0, 4 a1], g_b = [b0]. lr 0.3, momentum 0.9, beta 0.9,
  // eta_p = eta_s = 0.1, one scale per tensor.
  //
  // Step 1: g_a = [1, -4], g_b = [2]. v = 0 and gbar = 0, so cos = 0 and the
  //   sign signal is 0: s = 1, p = 1.
  //   v_a = 0.3 [1, -4] = [0.3, -1.2], v_b = [0.6]
  //   gbar_a = 0.1 [1, -4] = [0.1, -0.4], gbar_b = [0.2]
  //   a = [1 - 0.3, -1 + 1.2] = [0.7, 0.2], b = [2 - 0.6] = [1.4]
  // Step 2: g_a = [0.7, 0.8], g_b = [1.4].
  //   sign, normalized:
  //   cos_a = (0.7*0.3 - 0.8*1.2) / (sqrt(1.13) sqrt(1.53)) = -0.75 / 1.3148764 = -0.5703958
  //   s_a = exp(-0.05703958) = 0.9445567; cos_b = 1, s_b = exp(0.1) = 1.1051709
  //   signs g_a * gbar_a = [+, -]: p_a = [e^0.1, e^-0.1] = [1.1051709, 0.9048374]; p_b = 1.1051709
  //   v_a = 0.9 [0.3, -1.2] + 0.3 [1.1051709*0.7, 0.9048374*0.8] = [0.5020859, -0.8628390]
  //   v_b = 0.54 + 0.3 * 1.1051709 * 1.4 = 1.0041718
  //   a = [0.7 - 0.9445567*0.5020859, 0.2 + 0.9445567*0.8628390] = [0.2257514, 1.0150004]
  //   b = 1.4 - 1.1051709 * 1.0041718 = 0.2902185
  //   product, unnormalized (reference eta_s 0.1 on <g, v>; here 0.1 * lr = 0.03 on <g, v / lr>):
  //   r_a = g_a gbar_a / (1 - 0.9) = [0.7, -3.2], p_a = [e^0.07, e^-0.32] = [1.0725082, 0.7261490]
  //   r_b = 1.4*0.2 / 0.1 = 2.8, p_b = e^0.28 = 1.3231298
  //   <g_a, v_a> = -0.75, s_a = e^-0.075 = 0.9277435; <g_b, v_b> = 0.84, s_b = e^0.084 = 1.0876289
  //   v_a = [0.27 + 0.3*1.0725082*0.7, -1.08 + 0.3*0.7261490*0.8] = [0.4952267, -0.9057242]
  //   v_b = 0.54 + 0.3*1.3231298*1.4 = 1.0957145
  //   a = [0.7 - 0.9277435*0.4952267, 0.2 + 0.9277435*0.9057242] = [0.2405566, 1.0402798]
  //   b = 1.4 - 1.0876289*1.0957145 = 0.2082692
  const handCases = [
    {
      signal: 'sign' as const,
      normalize: true,
      a: [0.2257514, 1.0150004],
      b: [0.2902185],
      scale: [0.9445567, 1.1051709],
    },
    {
      signal: 'product' as const,
      normalize: false,
      a: [0.2405566, 1.0402798],
      b: [0.2082692],
      scale: [0.9277435, 1.0876289],
    },
  ];
  for (const hand of handCases) {
    it(`matches the hand-derived first two steps (signal ${hand.signal}, normalize ${hand.normalize})`, () => {
      const c: RefConfig = {
        lr: 0.3,
        momentum: 0.9,
        beta: 0.9,
        etaP: 0.1,
        etaS: 0.1,
        signal: hand.signal,
        normalize: hand.normalize,
      };
      const handGrads = ([a, b]: number[][]) => [[a![0]!, 4 * a![1]!], [b![0]!]];
      // The reference itself.
      let theta = [[1, -1], [2]];
      const ref = refInit(theta);
      for (let i = 0; i < 2; i++) theta = refStep(theta, handGrads(theta), ref, c);
      expectArrayClose(theta[0]!, hand.a, { rtol: 1e-6, atol: 1e-7 }, 'reference a');
      expectArrayClose(theta[1]!, hand.b, { rtol: 1e-6, atol: 1e-7 }, 'reference b');
      expectArrayClose(ref.s, hand.scale, { rtol: 1e-6, atol: 1e-7 }, 'reference scale');
      // The library.
      const tx = egSgdmFor(c);
      let params: Tree = { a: tf.tensor1d([1, -1]), b: tf.tensor1d([2]) };
      let state: EgSgdmState = tx.init(params);
      for (let i = 0; i < 2; i++) {
        const { a, b } = params as { a: tf.Tensor; b: tf.Tensor };
        const grads = tf.tidy(() => ({ a: tf.mul(a, tf.tensor1d([1, 4])), b: tf.clone(b) }));
        const next: StepResult<EgSgdmState> = step(tx, params, grads, state);
        treeDispose([grads, params]);
        params = next.params;
        state = next.state;
      }
      const { a, b } = params as { a: tf.Tensor; b: tf.Tensor };
      expectArrayClose(values(a), hand.a, { rtol: 1e-5, atol: 1e-6 }, 'a');
      expectArrayClose(values(b), hand.b, { rtol: 1e-5, atol: 1e-6 }, 'b');
      expectArrayClose(readEgScale(state), hand.scale, { rtol: 1e-5, atol: 1e-6 }, 'scale');
      treeDispose([params, state]);
    });
  }
});
