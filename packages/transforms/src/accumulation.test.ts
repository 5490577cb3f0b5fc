import * as tf from '@tensorflow/tfjs-core';
import {
  disposeReplaced,
  type GradientTransformation,
  InvalidOptionError,
  stepVariables,
  TfoptError,
  type Tree,
  treeDispose,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { describe, expect, it } from 'vitest';
import { adam, multiSteps, sgd } from './index.js';

const w = (t: Tree) => values((t as { w: tf.Tensor }).w);

describeEachBackend('multiSteps', () => {
  it('matches steps derived by hand: zeros while accumulating, then sgd on the mean', () => {
    // multiSteps(sgd(0.1, momentum 0.5), everyK 3), gradients [1], [2], [6], then [3], [3], [3]:
    // mini-steps 1, 2: acc = 1, then 1 + (2 − 1)/2 = 1.5; u = 0
    // mini-step 3:     acc = 1.5 + (6 − 1.5)/3 = 3 (the mean); t = 3, u = −0.3; acc ← 0
    // mini-steps 4–6:  mean 3; at the sixth t = 0.5·3 + 3 = 4.5, u = −0.45
    const tx = multiSteps(sgd(0.1, { momentum: 0.5 }), { everyK: 3 });
    const params = { w: tf.zeros([1]) };
    let state = tx.init(params);
    const out: number[][] = [];
    const accs: number[][] = [];
    for (const g of [1, 2, 6, 3, 3, 3]) {
      const gt = { w: tf.tensor([g]) };
      const [u, next] = tx.update(gt, state, params);
      out.push(w(u));
      accs.push(w(next.accGrads));
      treeDispose([gt, u]);
      disposeReplaced(state, next);
      state = next;
    }
    expect(out.slice(0, 2)).toEqual([[0], [0]]);
    expectArrayClose(out[2]!, [-0.3]);
    expect(out.slice(3, 5)).toEqual([[0], [0]]);
    expectArrayClose(out[5]!, [-0.45]);
    expectArrayClose(accs.flat(), [1, 1.5, 0, 3, 3, 0]);
    expect([state.miniStep, state.gradientStep, state.inner[1].count]).toEqual([0, 2, 2]);
    treeDispose([params, state]);
  });

  it("adds instead with accumulation 'sum', and follows an everyK schedule", () => {
    // everyK(gradientStep) = gradientStep + 1: groups of 1, 2, 3 mini-steps; sgd(1), g = [1] each time.
    // sums: 1 (after 1 mini-step), 2 (after 2), 3 (after 3): u = −1, 0, −2, 0, 0, −3.
    const tx = multiSteps(sgd(1), { everyK: (s) => s + 1, accumulation: 'sum' });
    const g = { w: tf.tensor([1]) };
    let state = tx.init(g);
    const out: number[] = [];
    for (let k = 0; k < 6; k++) {
      const [u, next] = tx.update(g, state, g);
      out.push(w(u)[0]!);
      treeDispose(u);
      disposeReplaced(state, next);
      state = next;
    }
    expect(out).toEqual([-1, 0, -2, 0, 0, -3]);
    treeDispose([g, state]);
  });

  it('follows a float64 reference of Adam on the mean of every 4 gradients over 160 mini-steps', () => {
    const [b1, b2, eps, lr, k] = [0.9, 0.999, 1e-8, 0.01, 4];
    const n = 3;
    const m = new Array<number>(n).fill(0);
    const v = new Array<number>(n).fill(0);
    const sum = new Array<number>(n).fill(0);
    let t = 0;
    const tx = multiSteps(adam(lr, { b1, b2, eps }), { everyK: k });
    let state = tx.init({ w: tf.zeros([n]) });
    for (let step = 1; step <= 160; step++) {
      const g = Array.from({ length: n }, (_, i) => Math.sin(0.29 * step + 1.3 * i) * (i + 1));
      g.forEach((gi, i) => {
        sum[i]! += gi;
      });
      let expected = new Array<number>(n).fill(0);
      if (step % k === 0) {
        t++;
        expected = sum.map((s, i) => {
          const mean = s / k;
          m[i] = b1 * m[i]! + (1 - b1) * mean;
          v[i] = b2 * v[i]! + (1 - b2) * mean * mean;
          return (-lr * (m[i]! / (1 - b1 ** t))) / (Math.sqrt(v[i]! / (1 - b2 ** t)) + eps);
        });
        sum.fill(0);
      }
      const gt = { w: tf.tensor(g) };
      const [u, next] = tx.update(gt, state);
      expectArrayClose(w(u), expected, { rtol: 1e-4, atol: 1e-7 }, `mini-step ${step}`);
      treeDispose([gt, u]);
      disposeReplaced(state, next);
      state = next;
    }
    expect(state.gradientStep).toBe(40);
    treeDispose(state);
  });

  it('gives the inner transform the accumulated gradient as context.grads, and runs it only when it emits', () => {
    const seen: number[][] = [];
    const spyTx: GradientTransformation<Record<string, never>> = {
      init: () => ({}),
      update: (u, s, _p, context) => {
        seen.push(w(context?.grads as Tree));
        return [u, s];
      },
    };
    const tx = multiSteps(spyTx, { everyK: 2 });
    let state = tx.init({ w: tf.zeros([1]) });
    for (const g of [1, 3, 5, 9]) {
      const gt = { w: tf.tensor([g]) };
      const [u, next] = tx.update(gt, state, undefined, { grads: gt, loss: 1 });
      treeDispose([gt, u]);
      disposeReplaced(state, next);
      state = next;
    }
    expect(seen).toEqual([[2], [7]]);
    treeDispose(state);
  });

  it('leaks no tensor over 500 mini-steps, and keeps the state tensor count', () => {
    const tx = multiSteps(adam(1e-2), { everyK: 3 });
    const vars = { w: tf.variable(tf.tensor([1, -1])), b: [tf.variable(tf.zeros([2, 2]))] };
    const grads = { w: tf.tensor([0.5, 0.1]), b: [tf.fill([2, 2], -0.2)] };
    let state = tx.init(vars);
    let before = 0;
    for (let i = 0; i < 500; i++) {
      if (i === 6) before = tf.memory().numTensors;
      state = stepVariables(tx, vars, grads, state);
    }
    expect(tf.memory().numTensors).toBe(before);
    treeDispose([vars, grads, state]);
  });
});

describe('multiSteps options, state and spec', () => {
  it('rejects bad options, naming the option', () => {
    const cases: [unknown, RegExp][] = [
      [
        undefined,
        /multiSteps: option "everyK" must be an integer >= 1 or a schedule \(it has no default\)/,
      ],
      [
        {},
        /option "everyK" must be an integer >= 1 or a schedule \(it has no default\), got undefined/,
      ],
      [{ everyK: 0 }, /option "everyK" must be an integer >= 1, got 0/],
      [{ everyK: 2.5 }, /option "everyK" must be an integer >= 1, got 2.5/],
      [
        { everyK: 2, accumulation: 'avg' },
        /option "accumulation" must be one of "mean", "sum", got "avg"/,
      ],
      [{ everyK: 2, useGradMean: true }, /option "useGradMean" must be absent/],
    ];
    for (const [options, message] of cases) {
      expect(() => multiSteps(sgd(1), options as never)).toThrow(InvalidOptionError);
      expect(() => multiSteps(sgd(1), options as never)).toThrow(message);
    }
    expect(() => multiSteps(sgd as never, { everyK: 2 })).toThrow(
      /option "inner" must be a gradient/,
    );
  });

  it('checks what an everyK schedule returns, and the state', () => {
    expect(() => multiSteps(sgd(1), { everyK: () => 0 })).toThrow(
      'multiSteps: everyK returned 0 at gradient step 0; expected an integer >= 1',
    );
    const tx = multiSteps(sgd(1), { everyK: 2 });
    expect(() => tx.update({}, { inner: [] } as never)).toThrow(TfoptError);
    expect(() => tx.update({}, { inner: [] } as never)).toThrow(
      /multiSteps: expected a state \{ miniStep, gradientStep, inner, accGrads \}/,
    );
  });

  it('records the inner spec and the options', () => {
    expect(multiSteps(adam(0.1), { everyK: 4 }).spec).toEqual({
      name: 'multiSteps',
      args: [{ name: 'adam', args: [0.1] }, { everyK: 4 }],
    });
  });
});
