import * as tf from '@tensorflow/tfjs-core';
import {
  disposeReplaced,
  InvalidOptionError,
  stepVariables,
  TfoptError,
  type Tree,
  treeDispose,
  type UpdateContext,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { describe, expect, it } from 'vitest';
import { adam, conditionallyMask, conditionallyTransform, sgd, trace } from './index.js';

const w = (t: Tree) => values((t as { w: tf.Tensor }).w);

describeEachBackend('conditionallyTransform and conditionallyMask', () => {
  it('conditionallyTransform: hand-derived steps, skipped steps pass through and keep the inner state', () => {
    // trace(0.5) run at even steps only; g = [2] every time.
    // step 0 (run):   t = 2,            u = 2
    // step 1 (skip):  u = g = 2, t stays 2 (the same state object)
    // step 2 (run):   t = 0.5·2 + 2 = 3, u = 3
    const tx = conditionallyTransform(trace({ decay: 0.5 }), (step) => step % 2 === 0);
    const g = { w: tf.tensor([2]) };
    const s0 = tx.init(g);
    const [u1, s1] = tx.update(g, s0);
    const [u2, s2] = tx.update(g, s1);
    const [u3, s3] = tx.update(g, s2);
    expect([w(u1), w(u2), w(u3)]).toEqual([[2], [2], [3]]);
    expect(u2).toBe(g);
    expect(s2.inner).toBe(s1.inner);
    expect([s1.step, s2.step, s3.step]).toEqual([1, 2, 3]);
    treeDispose([g, s0, u1, s1, s2, u3, s3]);
  });

  it('conditionallyMask: skipped steps give zeros and keep the inner state', () => {
    // sgd(0.1) after a warm-up of 2 steps: u = [0], [0], then −0.1·g = [−0.3].
    const tx = conditionallyMask(sgd(0.1), (step) => step >= 2);
    const g = { w: tf.tensor([3]) };
    let state = tx.init(g);
    const out: number[][] = [];
    for (let k = 0; k < 3; k++) {
      const [u, next] = tx.update(g, state, g);
      out.push(w(u));
      treeDispose(u);
      disposeReplaced(state, next);
      state = next;
    }
    expect(out[0]).toEqual([0]);
    expect(out[1]).toEqual([0]);
    expectArrayClose(out[2]!, [-0.3]);
    expect(state.inner[1].count).toBe(1);
    treeDispose([g, state]);
  });

  it('follows a float64 reference of Adam run every third step over 150 steps', () => {
    const [b1, b2, eps] = [0.9, 0.99, 1e-6];
    const n = 2;
    const m = new Array<number>(n).fill(0);
    const v = new Array<number>(n).fill(0);
    let runs = 0;
    const tx = conditionallyMask(adam(1, { b1, b2, eps }), (step) => step % 3 === 0);
    let state = tx.init({ w: tf.zeros([n]) });
    for (let k = 0; k < 150; k++) {
      const g = Array.from({ length: n }, (_, i) => Math.sin(0.5 * k + i));
      let expected = [0, 0];
      if (k % 3 === 0) {
        runs++;
        expected = g.map((gi, i) => {
          m[i] = b1 * m[i]! + (1 - b1) * gi;
          v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
          return -(m[i]! / (1 - b1 ** runs)) / (Math.sqrt(v[i]! / (1 - b2 ** runs)) + eps);
        });
      }
      const gt = { w: tf.tensor(g) };
      const [u, next] = tx.update(gt, state);
      expectArrayClose(w(u), expected, { rtol: 1e-4, atol: 1e-6 }, `step ${k}`);
      treeDispose([gt, u]);
      disposeReplaced(state, next);
      state = next;
    }
    treeDispose(state);
  });

  it('hands the predicate the step count and the context', () => {
    const calls: [number, UpdateContext | undefined][] = [];
    const tx = conditionallyTransform(sgd(1), (step, context) => {
      calls.push([step, context]);
      return true;
    });
    const g = { w: tf.tensor([1]) };
    const context = { loss: 2 };
    let state = tx.init(g);
    for (let k = 0; k < 2; k++) {
      const [u, next] = tx.update(g, state, g, context);
      treeDispose(u);
      disposeReplaced(state, next);
      state = next;
    }
    expect(calls).toEqual([
      [0, context],
      [1, context],
    ]);
    treeDispose([g, state]);
  });

  it('leaks no tensor over 500 steps', () => {
    const tx = conditionallyMask(
      conditionallyTransform(adam(1e-2), (s) => s % 2 === 0),
      (s) => s % 3 !== 0,
    );
    const vars = { w: tf.variable(tf.tensor([1, -1])) };
    const grads = { w: tf.tensor([0.5, 0.1]) };
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

describe('conditionallyTransform options, state and spec', () => {
  it('rejects a bad inner transform or predicate, naming it', () => {
    expect(() => conditionallyTransform({} as never, () => true)).toThrow(InvalidOptionError);
    expect(() => conditionallyTransform(sgd(1), 3 as never)).toThrow(
      /conditionallyTransform: option "shouldTransform" must be a function of the step count/,
    );
    expect(() => conditionallyMask(sgd as never, () => true)).toThrow(
      /conditionallyMask: option "inner" must be a gradient transformation/,
    );
  });

  it('throws when the predicate returns a non-boolean, or on a state it did not build', () => {
    const tx = conditionallyTransform(sgd(1), () => 1 as never);
    expect(() => tx.update({}, tx.init({}))).toThrow(
      'conditionallyTransform: shouldTransform returned 1 at step 0; expected true or false',
    );
    expect(() => tx.update({}, [] as never)).toThrow(TfoptError);
    expect(() => tx.update({}, { inner: [] } as never)).toThrow(
      /expected a state \{ inner, step \}/,
    );
  });

  it('records the inner spec and the predicate', () => {
    const every = (step: number) => step % 2 === 0;
    expect(conditionallyMask(sgd(0.1), every).spec).toEqual({
      name: 'conditionallyMask',
      args: [{ name: 'sgd', args: [0.1] }, every],
    });
  });
});
