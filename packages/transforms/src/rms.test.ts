import * as tf from '@tensorflow/tfjs-core';
import { type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { it } from 'vitest';
import { scaleByRms, scaleByStddev } from './index.js';

const w = (t: Tree) => values((t as { w: tf.Tensor }).w);

describeEachBackend('scaleByRms', () => {
  it('matches the first two steps derived by hand', () => {
    // decay 0.9, eps 1e-8 inside the sqrt; g1 = [1, −2], g2 = [3, 0.5].
    // Step 1: nu = 0.1·g1² = [0.1, 0.4]; u = g1 / sqrt(nu + eps) ≈ [3.1622776, −3.1622776].
    // Step 2: nu = 0.9·[0.1, 0.4] + 0.1·[9, 0.25] = [0.99, 0.385]; u = g2 / sqrt(nu + eps).
    const tx = scaleByRms();
    const g1 = { w: tf.tensor([1, -2]) };
    const g2 = { w: tf.tensor([3, 0.5]) };
    const s0 = tx.init(g1);
    const [u1, s1] = tx.update(g1, s0);
    expectArrayClose(w(u1), [1 / Math.sqrt(0.1 + 1e-8), -2 / Math.sqrt(0.4 + 1e-8)]);
    expectArrayClose(w(s1.nu), [0.1, 0.4]);
    const [u2, s2] = tx.update(g2, s1);
    expectArrayClose(w(u2), [3 / Math.sqrt(0.99 + 1e-8), 0.5 / Math.sqrt(0.385 + 1e-8)]);
    expectArrayClose(w(s2.nu), [0.99, 0.385]);
    treeDispose([g1, g2, s0, u1, s1, u2, s2]);
  });

  it('puts eps after the square root with epsInSqrt: false, and starts nu at initialScale', () => {
    // initialScale 1, decay 0.9, g = 1: nu = 0.9·1 + 0.1·1 = 1; u = 1 / (sqrt(1) + 0.5) = 2/3.
    const tx = scaleByRms({ initialScale: 1, eps: 0.5, epsInSqrt: false });
    const g = { w: tf.tensor([1]) };
    const s0 = tx.init(g);
    expectArrayClose(w(s0.nu), [1]);
    const [u, s1] = tx.update(g, s0);
    expectArrayClose(w(u), [2 / 3]);
    treeDispose([g, s0, u, s1]);
  });
});

describeEachBackend('scaleByStddev', () => {
  it('matches the first two steps derived by hand', () => {
    // decay 0.9, eps 0; g1 = [1, −2], g2 = [3, 0.5].
    // Step 1: mu = [0.1, −0.2], nu = [0.1, 0.4]; nu − mu² = [0.09, 0.36]; u = g1 / [0.3, 0.6] = [3.333…, −3.333…].
    // Step 2: mu = 0.9·mu + 0.1·g2 = [0.39, −0.13]; nu = [0.99, 0.385];
    //   nu − mu² = [0.99 − 0.1521, 0.385 − 0.0169] = [0.8379, 0.3681]; u = g2 / sqrt(that).
    const tx = scaleByStddev({ eps: 0 });
    const g1 = { w: tf.tensor([1, -2]) };
    const g2 = { w: tf.tensor([3, 0.5]) };
    const s0 = tx.init(g1);
    const [u1, s1] = tx.update(g1, s0);
    expectArrayClose(w(u1), [1 / 0.3, -2 / 0.6]);
    expectArrayClose(w(s1.mu), [0.1, -0.2]);
    const [u2, s2] = tx.update(g2, s1);
    expectArrayClose(w(u2), [3 / Math.sqrt(0.8379), 0.5 / Math.sqrt(0.3681)]);
    expectArrayClose(w(s2.mu), [0.39, -0.13]);
    expectArrayClose(w(s2.nu), [0.99, 0.385]);
    treeDispose([g1, g2, s0, u1, s1, u2, s2]);
  });

  it('adds eps inside the square root by default', () => {
    // Step 1 with eps = 0.91: u = 1 / sqrt(0.09 + 0.91) = 1.
    const tx = scaleByStddev({ eps: 0.91 });
    const g = { w: tf.tensor([1]) };
    const s0 = tx.init(g);
    const [u, s1] = tx.update(g, s0);
    expectArrayClose(w(u), [1]);
    treeDispose([g, s0, u, s1]);
  });
});
