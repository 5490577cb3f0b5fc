import * as tf from '@tensorflow/tfjs-core';
import {
  chain,
  collectTensors,
  specOf,
  step,
  TfoptError,
  type Tree,
  treeDispose,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import {
  keepParamsNonnegative,
  scaleByLearningRate,
  type ZeroNansState,
  zeroNans,
} from './index.js';

const leaf = (t: Tree, key: string) => (t as Record<string, tf.Tensor>)[key] as tf.Tensor;

describeEachBackend('zeroNans', () => {
  it('zeroes NaNs, keeps infinities and reports per leaf', () => {
    // a = [1, NaN, −∞] → [1, 0, −∞], found; b = [[2, 3]] unchanged, not found; the
    // empty leaf c is not found. Keys paired by name: the state follows the updates.
    const tx = zeroNans();
    const params = { a: tf.zeros([3]), b: tf.zeros([1, 2]), c: tf.zeros([0]) };
    const s0 = tx.init(params);
    for (const key of ['a', 'b', 'c']) {
      expect(leaf(s0.foundNan, key).dtype).toBe('bool');
      expect(leaf(s0.foundNan, key).shape).toEqual([]);
      expect(values(leaf(s0.foundNan, key))).toEqual([0]);
    }
    const g = {
      c: tf.zeros([0]),
      b: tf.tensor([[2, 3]]),
      a: tf.tensor([1, Number.NaN, Number.NEGATIVE_INFINITY]),
    };
    const [u, s1] = tx.update(g, s0, params);
    expect(values(leaf(u, 'a'))).toEqual([1, 0, Number.NEGATIVE_INFINITY]);
    expect(values(leaf(u, 'b'))).toEqual([2, 3]);
    expect(leaf(u, 'c').shape).toEqual([0]);
    expect(values(leaf(s1.foundNan, 'a'))).toEqual([1]);
    expect(values(leaf(s1.foundNan, 'b'))).toEqual([0]);
    expect(values(leaf(s1.foundNan, 'c'))).toEqual([0]);

    // The flags describe the last update only: a clean update clears them.
    const clean = { a: tf.tensor([1, 2, 3]), b: tf.tensor([[0, 0]]), c: tf.zeros([0]) };
    const [u2, s2] = tx.update(clean, s1, params);
    expect(values(leaf(s2.foundNan, 'a'))).toEqual([0]);
    treeDispose([params, s0, g, u, s1, clean, u2, s2]);
  });

  it('is pure: the input state is not changed and the new one owns its tensors', () => {
    const tx = zeroNans();
    const g = { w: tf.tensor([Number.NaN]) };
    const s0: ZeroNansState = tx.init(g);
    const [u, s1] = tx.update(g, s0);
    expect(values(leaf(s0.foundNan, 'w'))).toEqual([0]);
    expect(values(leaf(s1.foundNan, 'w'))).toEqual([1]);
    expect(values(leaf(u, 'w'))).toEqual([0]);
    expect(collectTensors(s1)).not.toContain(g.w);
    expect(specOf(tx)).toEqual({ name: 'zeroNans', args: [] });
    treeDispose([g, s0, u, s1]);
  });

  it('keeps a NaN gradient out of a momentum chain', () => {
    // sgd-like chain: θ = 1 − 0.5·[1, 0] = [0.5, 1] — the NaN coordinate does not move.
    const tx = chain(zeroNans(), scaleByLearningRate(0.5));
    const params = { w: tf.tensor([1, 1]) };
    const g = { w: tf.tensor([1, Number.NaN]) };
    const next = step(tx, params, g, tx.init(params));
    expectArrayClose(values(leaf(next.params, 'w')), [0.5, 1]);
    treeDispose([params, g, next]);
  });
});

describeEachBackend('keepParamsNonnegative', () => {
  it('stops parameters at zero, hand-derived', () => {
    // p = [0.5, 2, −1, 0], u = [−1, −1, 1, −0.25]:
    //   p + u = [−0.5, 1, 0, −0.25] → below zero at 0 and 3, where u = −p;
    //   u' = [−0.5, −1, 1, −0], so p + u' = [0, 1, 0, 0].
    const tx = keepParamsNonnegative();
    const p = { w: tf.tensor([0.5, 2, -1, 0]) };
    const g = { w: tf.tensor([-1, -1, 1, -0.25]) };
    const [u] = tx.update(g, tx.init(p), p);
    expectArrayClose(values(leaf(u, 'w')), [-0.5, -1, 1, 0]);
    treeDispose([p, g, u]);
  });

  it('moves an already negative parameter to zero', () => {
    // p = −2, u = 0.5: p + u = −1.5 < 0, so u = −p = 2 and p + u = 0.
    const tx = keepParamsNonnegative();
    const p = { w: tf.tensor([-2]) };
    const g = { w: tf.tensor([0.5]) };
    const [u] = tx.update(g, tx.init(p), p);
    expectArrayClose(values(leaf(u, 'w')), [2]);
    treeDispose([p, g, u]);
  });

  it('needs the params', () => {
    const tx = keepParamsNonnegative();
    const g = { w: tf.tensor([1]) };
    expect(() => tx.update(g, tx.init(g))).toThrow(TfoptError);
    expect(() => tx.update(g, tx.init(g))).toThrow(
      /keepParamsNonnegative: update needs the current params/,
    );
    treeDispose(g);
  });

  it('follows a float64 reference of projected gradient descent over 150 steps', () => {
    // f(p) = Σ c_i (p_i − t_i)² with targets t = [1, −2, 0.5, −0.1] and curvatures
    // c = [1, 2, 0.5, 3], from p = [3, 1, 0, 2]; chain(sgd(0.1), keepParamsNonnegative()),
    // i.e. p ← max(p − 0.1·∇f, 0) where the step would cross zero. A time-varying
    // perturbation 0.3·sin(0.7k + i) of the gradient keeps coordinates crossing zero.
    const target = [1, -2, 0.5, -0.1];
    const curvature = [1, 2, 0.5, 3];
    const lr = 0.1;
    const ref = [3, 1, 0, 2];
    const tx = chain(scaleByLearningRate(lr), keepParamsNonnegative());
    let params: Tree = { w: tf.tensor(ref) };
    let state: ReturnType<typeof tx.init> = tx.init(params);
    for (let k = 1; k <= 150; k++) {
      const grad = ref.map(
        (p, i) => 2 * curvature[i]! * (p - target[i]!) + 0.3 * Math.sin(0.7 * k + i),
      );
      for (let i = 0; i < ref.length; i++) {
        const u = -lr * grad[i]!;
        ref[i] = Math.max(ref[i]! + u, 0);
      }
      const g = { w: tf.tensor(grad) };
      const next: { params: Tree; state: typeof state } = step(tx, params, g, state);
      treeDispose([g, params]);
      params = next.params;
      state = next.state;
      expectArrayClose(values(leaf(params, 'w')), ref, { rtol: 1e-5, atol: 1e-6 }, `step ${k}`);
      expect(Math.min(...values(leaf(params, 'w')))).toBeGreaterThanOrEqual(0);
    }
    treeDispose([params, state]);
  });
});
