import * as tf from '@tensorflow/tfjs-core';
import { type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { ema, trace } from './index.js';

const w = (t: Tree) => values((t as { w: tf.Tensor }).w);

describeEachBackend('trace', () => {
  it('accumulates t = decay·t + g and returns t', () => {
    // decay 0.9: t1 = g1 = [1, −2]; t2 = 0.9·[1, −2] + [3, 0.5] = [3.9, −1.3].
    const tx = trace({ decay: 0.9 });
    const g1 = { w: tf.tensor([1, -2]) };
    const g2 = { w: tf.tensor([3, 0.5]) };
    const s0 = tx.init(g1);
    const [u1, s1] = tx.update(g1, s0);
    expectArrayClose(w(u1), [1, -2]);
    const [u2, s2] = tx.update(g2, s1);
    expectArrayClose(w(u2), [3.9, -1.3]);
    expectArrayClose(w(s2.trace), [3.9, -1.3]);
    treeDispose([g1, g2, s0, u1, s1, u2, s2]);
  });

  it('returns g + decay·t_new with nesterov', () => {
    // t1 = [1, −2], u1 = g1 + 0.9·t1 = [1.9, −3.8];
    // t2 = [3.9, −1.3], u2 = g2 + 0.9·t2 = [3 + 3.51, 0.5 − 1.17] = [6.51, −0.67].
    const tx = trace({ decay: 0.9, nesterov: true });
    const g1 = { w: tf.tensor([1, -2]) };
    const g2 = { w: tf.tensor([3, 0.5]) };
    const s0 = tx.init(g1);
    const [u1, s1] = tx.update(g1, s0);
    expectArrayClose(w(u1), [1.9, -3.8]);
    expectArrayClose(w(s1.trace), [1, -2]);
    const [u2, s2] = tx.update(g2, s1);
    expectArrayClose(w(u2), [6.51, -0.67]);
    expectArrayClose(w(s2.trace), [3.9, -1.3]);
    treeDispose([g1, g2, s0, u1, s1, u2, s2]);
  });
});

describeEachBackend('ema', () => {
  it('debiases by 1 − decay^count', () => {
    // decay 0.9: e1 = 0.1·g1 = [0.1, −0.2], u1 = e1 / 0.1 = g1;
    // e2 = 0.9·e1 + 0.1·g2 = [0.39, −0.13], u2 = e2 / 0.19 ≈ [2.0526316, −0.6842105].
    const tx = ema({ decay: 0.9 });
    const g1 = { w: tf.tensor([1, -2]) };
    const g2 = { w: tf.tensor([3, 0.5]) };
    const s0 = tx.init(g1);
    const [u1, s1] = tx.update(g1, s0);
    expectArrayClose(w(u1), [1, -2]);
    expectArrayClose(w(s1.ema), [0.1, -0.2]);
    const [u2, s2] = tx.update(g2, s1);
    expectArrayClose(w(u2), [0.39 / 0.19, -0.13 / 0.19]);
    expectArrayClose(w(s2.ema), [0.39, -0.13]);
    expect(s2.count).toBe(2);
    treeDispose([g1, g2, s0, u1, s1, u2, s2]);
  });

  it('returns the raw average with debias: false', () => {
    const tx = ema({ decay: 0.9, debias: false });
    const g1 = { w: tf.tensor([1, -2]) };
    const g2 = { w: tf.tensor([3, 0.5]) };
    const s0 = tx.init(g1);
    const [u1, s1] = tx.update(g1, s0);
    const [u2, s2] = tx.update(g2, s1);
    expectArrayClose(w(u1), [0.1, -0.2]);
    expectArrayClose(w(u2), [0.39, -0.13]);
    treeDispose([g1, g2, s0, u1, s1, u2, s2]);
  });
});
