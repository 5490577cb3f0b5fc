import * as tf from '@tensorflow/tfjs-core';
import {
  chain,
  disposeReplaced,
  type GradientTransformation,
  InvalidOptionError,
  type Tree,
  TreeStructureError,
  treeDispose,
  treeLeaves,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { clipByGlobalNorm, scale } from '@tfopt/transforms';
import { describe, expect, it } from 'vitest';
import { type EgCoordinateGainsState, egCoordinateGains } from './coordinateGains.js';

/** Feed `steps` (updates, raw gradient) pairs; return each step's output and the final state. */
function run<S>(
  tx: GradientTransformation<S>,
  steps: readonly [number[], number[] | undefined][],
): { outs: number[][]; state: S } {
  let state = tx.init(tf.zeros([steps[0]![0].length]));
  const outs: number[][] = [];
  for (const [u, g] of steps) {
    const updates = tf.tensor1d(u);
    const grads = g === undefined ? undefined : tf.tensor1d(g);
    const [out, next] = tx.update(updates, state, undefined, grads && { grads });
    outs.push(values(out as tf.Tensor));
    treeDispose([updates, grads, out]);
    disposeReplaced(state, next);
    state = next;
  }
  return { outs, state };
}

const gainsOf = (state: EgCoordinateGainsState) => values(treeLeaves(state.gains)[0]!);
const traceOf = (state: EgCoordinateGainsState) => values(treeLeaves(state.gradTrace)[0]!);

describeEachBackend('egCoordinateGains', () => {
  // Updates u = [2, 2, 2] every step; raw gradients in the context:
  // g1 = [1, -1, 0], g2 = [3, 1, 1], g3 = [1, 1, -1]. gainLearningRate 0.5, beta 0.9.
  // Step 1: gbar = 0, signal 0, p = 1, out = u; gbar1 = 0.1 g1 = [0.1, -0.1, 0].
  // Step 2 (t = 2): gbar2 = 0.9 gbar1 + 0.1 g2 = [0.39, 0.01, 0.1].
  //   sign:    r = sign(g2) sign(gbar1) = [1, -1, 0], p = [e^0.5, e^-0.5, 1]
  //            = [1.6487213, 0.6065307, 1], out = [3.2974425, 1.2130613, 2]
  //   product: r = g2 gbar1 / (1 - 0.9^1) = [0.3, -0.1, 0] / 0.1 = [3, -1, 0],
  //            p = [e^1.5, e^-0.5, 1] = [4.4816891, 0.6065307, 1], out = [8.9633781, 1.2130613, 2]
  // Step 3 (t = 3): bias correction 1 - 0.9^2 = 0.19.
  //   sign:    r = sign(g3) sign(gbar2) = [1, 1, -1], p = [e^1, e^0, e^-0.5]
  //            = [2.7182818, 1, 0.6065307], out = [5.4365637, 2, 1.2130613]
  //   product: r = g3 gbar2 / 0.19 = [2.0526316, 0.0526316, -0.5263158],
  //            p = [4.4816891 e^1.0263158, 0.6065307 e^0.0263158, e^-0.2631579]
  //            = [12.5073415, 0.6227039, 0.7686205], out = [25.0146829, 1.2454077, 1.5372411]
  const steps: [number[], number[]][] = [
    [
      [2, 2, 2],
      [1, -1, 0],
    ],
    [
      [2, 2, 2],
      [3, 1, 1],
    ],
    [
      [2, 2, 2],
      [1, 1, -1],
    ],
  ];
  const tol = { rtol: 1e-5, atol: 1e-6 };

  it('sign signal: matches the hand-derived steps', () => {
    const { outs, state } = run(egCoordinateGains({ gainLearningRate: 0.5 }), steps);
    expectArrayClose(outs[0]!, [2, 2, 2], tol, 'step 1');
    expectArrayClose(outs[1]!, [3.2974425, 1.2130613, 2], tol, 'step 2');
    expectArrayClose(outs[2]!, [5.4365637, 2, 1.2130613], tol, 'step 3');
    expectArrayClose(gainsOf(state), [Math.E, 1, 0.6065307], tol, 'gains');
    expect(state.count).toBe(3);
    // gbar3 = 0.9 gbar2 + 0.1 g3 = [0.351 + 0.1, 0.009 + 0.1, 0.09 - 0.1] = [0.451, 0.109, -0.01],
    // kept as the trace m3 = gbar3 / (1 - 0.9) = [4.51, 1.09, -0.1].
    expectArrayClose(traceOf(state), [4.51, 1.09, -0.1], tol, 'gradTrace');
    treeDispose(state);
  });

  it('product signal: matches the hand-derived steps, with the max(t - 1, 1) correction', () => {
    const { outs, state } = run(
      egCoordinateGains({ gainLearningRate: 0.5, signal: 'product' }),
      steps,
    );
    expectArrayClose(outs[0]!, [2, 2, 2], tol, 'step 1');
    expectArrayClose(outs[1]!, [8.9633781, 1.2130613, 2], tol, 'step 2');
    expectArrayClose(outs[2]!, [25.0146829, 1.2454077, 1.5372411], tol, 'step 3');
    treeDispose(state);
  });

  it('takes its signal from the incoming updates when the context has no gradient', () => {
    // Updates = gradients = [1, -1], [1, 1]: r = sign([1, 1]) sign([0.1, -0.1]) = [1, -1].
    const { outs, state } = run(egCoordinateGains({ gainLearningRate: 0.5 }), [
      [[1, -1], undefined],
      [[1, 1], undefined],
    ]);
    expectArrayClose(outs[1]!, [1.6487213, 0.6065307], tol, 'step 2');
    treeDispose(state);
  });

  it('sees the raw gradient inside a chain, after transforms that rescale the updates', () => {
    // clipByGlobalNorm(1e-3) and scale(-1) change the updates but not the raw
    // gradient in context.grads: the gains are those of the raw gradient alone.
    const tx = chain(
      clipByGlobalNorm(1e-3),
      scale(-1),
      chain(egCoordinateGains({ gainLearningRate: 0.5 })),
    );
    let state = tx.init(tf.zeros([2]));
    for (const g of [
      [1, -1],
      [1, 1],
    ]) {
      const grads = tf.tensor1d(g);
      const [out, next] = tx.update(grads, state);
      disposeReplaced(state, next);
      treeDispose([grads, out]);
      state = next;
    }
    expectArrayClose(gainsOf(state[2][0]), [1.6487213, 0.6065307], tol, 'gains');
    treeDispose(state);
  });

  it('clips the gains to [min, max] and keeps them positive', () => {
    // gainLearningRate 10: after two agreeing steps p = e^10 > 3 -> 3; disagreeing -> e^-10 < 0.2 -> 0.2.
    const { state } = run(egCoordinateGains({ gainLearningRate: 10, min: 0.2, max: 3 }), [
      [
        [1, 1],
        [1, 1],
      ],
      [
        [1, 1],
        [1, -1],
      ],
      [
        [1, 1],
        [1, 1],
      ],
    ]);
    expect(gainsOf(state)).toEqual([3, 0.2].map(Math.fround));
    treeDispose(state);
  });

  for (const signal of ['sign', 'product'] as const) {
    it(`stays finite, positive and within bounds under adversarial gradients (${signal})`, () => {
      const tx = egCoordinateGains({ gainLearningRate: 1, signal, min: 0.01, max: 100 });
      const adversarial = [
        [1e30, -1e30, 1e-30, 0],
        [1e30, 1e30, -1e-30, 0],
        [-1e30, 1e30, 1e-30, 0],
        [3e38, -3e38, 1e-38, 0],
        [0, 0, 0, 0],
        [-3e38, 3e38, -1e-45, 0],
      ];
      let state = tx.init(tf.zeros([4]));
      for (let i = 0; i < 60; i++) {
        const g = tf.tensor1d(adversarial[i % adversarial.length]!);
        const [out, next] = tx.update(g, state);
        expect(values(out as tf.Tensor).some(Number.isNaN)).toBe(false);
        disposeReplaced(state, next);
        treeDispose([g, out]);
        state = next;
        for (const p of gainsOf(state)) {
          expect(p).toBeGreaterThanOrEqual(Math.fround(0.01));
          expect(p).toBeLessThanOrEqual(100);
        }
        expect(traceOf(state).some(Number.isNaN)).toBe(false);
      }
      treeDispose(state);
    });
  }

  it('with gainLearningRate 0 returns the updates bit for bit', () => {
    const tx = egCoordinateGains({ gainLearningRate: 0, signal: 'product' });
    const u = [0.1, -3.7, 1e-20];
    const { outs, state } = run(tx, [
      [u, [1e30, -1e30, 5]],
      [u, [1e30, -1e30, 5]],
      [u, [-2, 7, 1]],
    ]);
    for (const out of outs) expect(out).toEqual(u.map(Math.fround));
    expect(gainsOf(state)).toEqual([1, 1, 1]);
    treeDispose(state);
  });

  it('is pure and leaks nothing over many steps', () => {
    const tx = egCoordinateGains();
    const params = { w: tf.zeros([3]), b: [tf.zeros([2, 2])] };
    const grads = { w: tf.tensor1d([1, -2, 3]), b: [tf.fill([2, 2], -0.5)] };
    let state = tx.init(params);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) {
      const [out, next] = tx.update(grads, state);
      disposeReplaced(state, next);
      treeDispose(out);
      state = next;
    }
    expect(tf.memory().numTensors).toBe(before);
    for (const t of treeLeaves([grads, params] as unknown as Tree))
      expect(t.isDisposed).toBe(false);
    treeDispose([params, grads, state]);
  });

  it('names the tree path and the mismatching tree when structures differ', () => {
    const tx = egCoordinateGains();
    const state = tx.init({ w: tf.zeros([2]) });
    const u = { w: tf.zeros([2]) };
    const g = { w: tf.zeros([3]) };
    expect(() => tx.update(u, state, undefined, { grads: g })).toThrow(TreeStructureError);
    expect(() => tx.update(u, state, undefined, { grads: g })).toThrow(
      /^context\.grads\.w has shape \[3\] but updates\.w has \[2\] \(in egCoordinateGains\.update/,
    );
    expect(() => tx.update({ v: tf.zeros([2]) }, state)).toThrow(
      /^updates is missing key "w" that state\.gains has \(in egCoordinateGains\.update/,
    );
    treeDispose([state, u, g]);
  });
});

describe('egCoordinateGains options', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ gainLearningRate: -1 }, 'gainLearningRate'],
    [{ gainLearningRate: Number.POSITIVE_INFINITY }, 'gainLearningRate'],
    [{ beta: 1 }, 'beta'],
    [{ beta: -0.1 }, 'beta'],
    [{ signal: 'cosine' }, 'signal'],
    [{ min: 0 }, 'min'],
    [{ min: 1.5 }, 'min'],
    [{ max: 0.5 }, 'max'],
    [{ rate: 0.1 }, 'rate'],
  ];
  for (const [options, option] of cases) {
    it(`rejects ${JSON.stringify(options)} naming "${option}"`, () => {
      expect(() => egCoordinateGains(options as never)).toThrow(InvalidOptionError);
      expect(() => egCoordinateGains(options as never)).toThrow(
        `egCoordinateGains: option "${option}" must be`,
      );
    });
  }
  it('rejects the former name learningRate, naming gainLearningRate', () => {
    expect(() => egCoordinateGains({ learningRate: 0.01 } as never)).toThrow(InvalidOptionError);
    expect(() => egCoordinateGains({ learningRate: 0.01 } as never)).toThrow(
      'egCoordinateGains: option "learningRate" must be absent (renamed gainLearningRate; egCoordinateGains takes gainLearningRate, beta, signal, min, max), got 0.01',
    );
  });
  it('records its spec', () => {
    expect(egCoordinateGains({ beta: 0.5 }).spec).toEqual({
      name: 'egCoordinateGains',
      args: [{ beta: 0.5 }],
    });
    expect(egCoordinateGains().spec).toEqual({ name: 'egCoordinateGains', args: [] });
  });
});
