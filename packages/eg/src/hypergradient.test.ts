import * as tf from '@tensorflow/tfjs-core';
import {
  disposeReplaced,
  type GradientTransformation,
  InvalidOptionError,
  treeDispose,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { describe, expect, it } from 'vitest';
import { egGlobalScale } from './globalScale.js';
import { hypergradientScale } from './hypergradient.js';
import { readEgScale, readHypergradientScale, readHypergradientScaleByPath } from './inspect.js';

/** Feed gradients (as updates, no context); return the multiplier after each step and the outputs. */
function run<S>(
  tx: GradientTransformation<S>,
  grads: readonly number[][],
  read: (state: S) => number[],
): { trace: number[][]; outs: number[][] } {
  let state = tx.init(tf.zeros([grads[0]!.length]));
  const trace: number[][] = [];
  const outs: number[][] = [];
  for (const g of grads) {
    const t = tf.tensor1d(g);
    const [out, next] = tx.update(t, state);
    outs.push(values(out as tf.Tensor));
    treeDispose(t);
    disposeReplaced([state, out], next);
    state = next;
    trace.push(read(state));
  }
  treeDispose(state);
  return { trace, outs };
}

describeEachBackend('hypergradientScale', () => {
  it('matches the hand-derived additive steps', () => {
    // g1 = [1, 0, 2], g2 = [1, 1, -1], scaleLearningRate 0.5.
    // Step 1: no previous updates, alpha = 1.
    // Step 2: cosine:        a = -1/sqrt(15) = -0.2581989, alpha = 1 - 0.1290994 = 0.8709006
    //         inner product: a = -1,                       alpha = 1 - 0.5       = 0.5
    const g = [
      [1, 0, 2],
      [1, 1, -1],
    ];
    const cos = run(hypergradientScale({ scaleLearningRate: 0.5 }), g, readHypergradientScale);
    expect(cos.trace[0]).toEqual([1]);
    expectArrayClose(cos.trace[1]!, [0.8709006], { rtol: 1e-6 });
    expectArrayClose(cos.outs[1]!, [0.8709006, 0.8709006, -0.8709006], { rtol: 1e-6 });
    const dot = run(
      hypergradientScale({ scaleLearningRate: 0.5, normalize: false }),
      g,
      readHypergradientScale,
    );
    expectArrayClose(dot.trace[1]!, [0.5], { rtol: 1e-6 });
  });

  it('goes negative without bounds and stops at them with bounds', () => {
    // Alternating gradients: cosine -1 from step 2 on, alpha = 1 - 0.4 (t - 1).
    const alternate = Array.from({ length: 8 }, (_, t) => [(-1) ** t, 2 * (-1) ** t]);
    const free = run(
      hypergradientScale({ scaleLearningRate: 0.4 }),
      alternate,
      readHypergradientScale,
    );
    expectArrayClose(free.trace.flat(), [1, 0.6, 0.2, -0.2, -0.6, -1, -1.4, -1.8], {
      rtol: 1e-5,
      atol: 1e-6,
    });
    // A negative multiplier turns the update around: the output opposes the input.
    expect(free.outs[7]![0]! * alternate[7]![0]!).toBeLessThan(0);
    const bounded = run(
      hypergradientScale({ scaleLearningRate: 0.4, min: 0.1, max: 3 }),
      alternate,
      readHypergradientScale,
    );
    expectArrayClose(bounded.trace.flat(), [1, 0.6, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1], {
      rtol: 1e-5,
      atol: 1e-6,
    });
  });

  it('is the first-order twin of egGlobalScale: log s_t = alpha_t - 1 on the same signal', () => {
    // Both see the same alignments a_t (same gradients, previous updates taken
    // before scaling); EG adds eta a_t to log s, the baseline adds it to alpha.
    const grads = Array.from({ length: 40 }, (_, t) => [
      Math.sin(0.2 * t) + 0.3,
      Math.cos(0.1 * t),
    ]);
    const eg = run(egGlobalScale({ scaleLearningRate: 0.02 }), grads, readEgScale).trace.flat();
    const hd = run(
      hypergradientScale({ scaleLearningRate: 0.02 }),
      grads,
      readHypergradientScale,
    ).trace.flat();
    expectArrayClose(
      eg.map(Math.log),
      hd.map((a) => a - 1),
      { rtol: 0, atol: 1e-5 },
    );
    expect(Math.max(...hd.map((a) => Math.abs(a - 1)))).toBeGreaterThan(0.05);
  });

  it('keeps a per-tensor multiplier and a custom starting value', () => {
    const tx = hypergradientScale({ perTensor: true, initial: 0.5 });
    const state = tx.init({ a: tf.zeros([2]), b: tf.zeros([3]) });
    expect(readHypergradientScale(state)).toEqual([0.5, 0.5]);
    expect(readHypergradientScaleByPath(state)).toEqual({ '.a': 0.5, '.b': 0.5 });
    treeDispose(state);
  });

  it("moves each per-tensor multiplier by its own tensor's alignment", () => {
    // a: g1 = [1, 0], g2 = [1, 1]: cos = 1 / sqrt(2) = 0.7071068, alpha_a = 1 + 0.5 * 0.7071068 = 1.3535534
    // b: g1 = [2],    g2 = [-1]:   cos = -1,                      alpha_b = 1 - 0.5 = 0.5
    const tx = hypergradientScale({ scaleLearningRate: 0.5, perTensor: true });
    const params = { a: tf.zeros([2]), b: tf.zeros([1]) };
    let state = tx.init(params);
    for (const [a, b] of [
      [[1, 0], [2]],
      [[1, 1], [-1]],
    ]) {
      const g = { a: tf.tensor1d(a!), b: tf.tensor1d(b!) };
      const [out, next] = tx.update(g, state);
      treeDispose(g);
      disposeReplaced([state, out], next);
      state = next;
    }
    const byPath = readHypergradientScaleByPath(state);
    expectArrayClose([byPath['.a']!, byPath['.b']!], [1.3535534, 0.5], { rtol: 1e-6 });
    treeDispose([params, state]);
  });

  it('stays finite under adversarial gradients', () => {
    const adversarial = [
      [1e30, -1e30],
      [3e38, 3e38],
      [-3e38, -3e38],
      [0, 0],
      [1e-30, -1e-30],
    ];
    for (const normalize of [true, false]) {
      const seq = Array.from({ length: 20 }, (_, i) => adversarial[i % adversarial.length]!);
      const { trace } = run(
        hypergradientScale({ scaleLearningRate: 1, normalize }),
        seq,
        readHypergradientScale,
      );
      for (const a of trace.flat()) expect(Number.isFinite(a)).toBe(true);
    }
  });
});

describe('hypergradientScale options', () => {
  const cases: [unknown, string][] = [
    [{ scaleLearningRate: -1 }, 'scaleLearningRate'],
    [{ normalize: 'no' }, 'normalize'],
    [{ initial: Number.NaN }, 'initial'],
    [{ min: Number.NEGATIVE_INFINITY }, 'min'],
    [{ min: 1, max: 1 }, 'max'],
    [{ min: 0, max: 0.5 }, 'initial'],
    [{ initial: -1, min: 0 }, 'initial'],
    [{ perTensor: 0 }, 'perTensor'],
    [{ beta: 0.1 }, 'beta'],
  ];
  it('rejects the former name learningRate, naming scaleLearningRate', () => {
    expect(() => hypergradientScale({ learningRate: 0.01 } as never)).toThrow(
      /^hypergradientScale: option "learningRate" must be absent \(renamed scaleLearningRate; /,
    );
  });
  for (const [options, option] of cases) {
    it(`rejects ${JSON.stringify(options)} naming "${option}"`, () => {
      expect(() => hypergradientScale(options as never)).toThrow(InvalidOptionError);
      expect(() => hypergradientScale(options as never)).toThrow(
        `hypergradientScale: option "${option}" must be`,
      );
    });
  }
});
