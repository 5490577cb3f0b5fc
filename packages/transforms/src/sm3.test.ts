import * as tf from '@tensorflow/tfjs-core';
import { type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { type ScaleBySm3State, scaleBySm3 } from './index.js';

const leaf = (t: Tree, key: string) => values((t as Record<string, tf.Tensor>)[key] as tf.Tensor);

/** Float64 SM3 on one leaf of `shape` (flat, row-major): per-axis accumulators `mu[axis][index]`. */
function sm3Reference(shape: readonly number[], b1: number, b2: number, eps: number) {
  const n = shape.reduce((a, b) => a * b, 1);
  const mu =
    shape.length < 2
      ? [new Array<number>(n).fill(0)]
      : shape.map((d) => new Array<number>(d).fill(0));
  const nu = new Array<number>(n).fill(0);
  const index = (i: number) => {
    const idx: number[] = [];
    for (let a = shape.length - 1; a >= 0; a--) {
      idx.unshift(i % (shape[a] as number));
      i = Math.floor(i / (shape[a] as number));
    }
    return idx;
  };
  const c = b2 === 1 ? 1 : 1 - b2;
  return (g: readonly number[]) => {
    const accum = g.map((x, i) => {
      const cover =
        shape.length < 2
          ? (mu[0]?.[i] as number)
          : Math.min(...index(i).map((j, axis) => mu[axis]?.[j] as number));
      return c * x * x + b2 * cover;
    });
    if (shape.length < 2) {
      mu[0] = [...accum];
    } else {
      shape.forEach((d, axis) => {
        mu[axis] = new Array<number>(d).fill(Number.NEGATIVE_INFINITY);
      });
      accum.forEach((v, i) => {
        index(i).forEach((j, axis) => {
          const row = mu[axis] as number[];
          row[j] = Math.max(row[j] as number, v);
        });
      });
    }
    return g.map((x, i) => {
      const a = accum[i] as number;
      const u = a > 0 ? x / Math.sqrt(a + eps) : 0;
      nu[i] = b1 * (nu[i] as number) + (1 - b1) * u;
      return nu[i] as number;
    });
  };
}

describeEachBackend('scaleBySm3', () => {
  it('matches the first two steps derived by hand on a vector (Adagrad with momentum)', () => {
    // b1 = 0.9, b2 = 1, eps = 1e-8. g1 = [1, −2]: ν = [1, 4]; u = g / sqrt(ν + eps) ≈ [1, −1];
    //   nu = 0.1·u = [0.1, −0.1].
    // g2 = [3, 0.5]: ν = [10, 4.25]; u = [0.9486833, 0.2425356];
    //   nu = 0.9·[0.1, −0.1] + 0.1·u = [0.1848683, −0.0657464].
    const tx = scaleBySm3();
    const params = { w: tf.zeros([2]) };
    const g1 = { w: tf.tensor([1, -2]) };
    const g2 = { w: tf.tensor([3, 0.5]) };
    const s0 = tx.init(params);
    const [u1, s1] = tx.update(g1, s0);
    expectArrayClose(leaf(u1, 'w'), [0.1, -0.1]);
    expectArrayClose(leaf(s1.mu, 'w'), [1, 4]);
    const [u2, s2] = tx.update(g2, s1);
    expectArrayClose(leaf(u2, 'w'), [0.1848683, -0.0657464]);
    expectArrayClose(leaf(s2.mu, 'w'), [10, 4.25]);
    treeDispose([params, g1, g2, s0, u1, s1, u2, s2]);
  });

  it('matches the first two steps derived by hand on a matrix (row and column accumulators)', () => {
    // Shape [2, 2]: μ_rows = [0, 0], μ_cols = [0, 0], stored as [rows..., cols...].
    // g1 = [[1, 2], [3, 0]]: cover = 0, ν = g1² = [[1, 4], [9, 0]];
    //   μ_rows = row maxima [4, 9], μ_cols = column maxima [9, 4];
    //   u = g / sqrt(ν) where ν > 0, else 0 = [[1, 1], [1, 0]]; nu = 0.1·u.
    // g2 = ones: cover[i][j] = min(μ_rows[i], μ_cols[j]) = [[4, 4], [9, 4]]; ν = [[5, 5], [10, 5]];
    //   μ_rows = [5, 10], μ_cols = [10, 5];
    //   u = [[1/√5, 1/√5], [1/√10, 1/√5]] = [[0.4472136, 0.4472136], [0.3162278, 0.4472136]];
    //   nu = 0.9·nu + 0.1·u = [[0.1347214, 0.1347214], [0.1216228, 0.0447214]].
    const tx = scaleBySm3();
    const params = { k: tf.zeros([2, 2]) };
    const g1 = { k: tf.tensor([1, 2, 3, 0], [2, 2]) };
    const g2 = { k: tf.ones([2, 2]) };
    const s0 = tx.init(params);
    expect((s0.mu as { k: tf.Tensor }).k.shape).toEqual([4]);
    const [u1, s1] = tx.update(g1, s0);
    expectArrayClose(leaf(u1, 'k'), [0.1, 0.1, 0.1, 0]);
    expectArrayClose(leaf(s1.mu, 'k'), [4, 9, 9, 4]);
    const [u2, s2] = tx.update(g2, s1);
    expectArrayClose(leaf(s2.mu, 'k'), [5, 10, 10, 5]);
    expectArrayClose(leaf(u2, 'k'), [0.1347214, 0.1347214, 0.1216228, 0.0447214]);
    treeDispose([params, g1, g2, s0, u1, s1, u2, s2]);
  });

  it('follows a float64 reference over 100 steps (scalar, matrix, rank 3; b2 < 1)', () => {
    const b1 = 0.5;
    const b2 = 0.99;
    const eps = 1e-6;
    const shapes = { s: [], m: [2, 3], t: [2, 2, 3] } as const;
    const refs = {
      s: sm3Reference(shapes.s, b1, b2, eps),
      m: sm3Reference(shapes.m, b1, b2, eps),
      t: sm3Reference(shapes.t, b1, b2, eps),
    };
    const tx = scaleBySm3({ b1, b2, eps });
    const zeros = { s: tf.scalar(0), m: tf.zeros([2, 3]), t: tf.zeros([2, 2, 3]) };
    let state: ScaleBySm3State = tx.init(zeros);
    for (let k = 1; k <= 100; k++) {
      const grad = (n: number, phase: number) =>
        Array.from({ length: n }, (_, i) => Math.sin(0.3 * k * (i + 1) + phase) * (1 + i));
      const gs = { s: grad(1, 0), m: grad(6, 1), t: grad(12, 2) };
      const g = {
        s: tf.scalar(gs.s[0] as number),
        m: tf.tensor(gs.m, [2, 3]),
        t: tf.tensor(gs.t, [2, 2, 3]),
      };
      const [u, next] = tx.update(g, state);
      const tol = { rtol: 1e-4, atol: 1e-6 };
      expectArrayClose(leaf(u, 's'), refs.s(gs.s), tol, `s, step ${k}`);
      expectArrayClose(leaf(u, 'm'), refs.m(gs.m), tol, `m, step ${k}`);
      expectArrayClose(leaf(u, 't'), refs.t(gs.t), tol, `t, step ${k}`);
      treeDispose([g, state]);
      state = next;
    }
    treeDispose([zeros, state]);
  });

  it('rejects bad options, naming them', () => {
    expect(() => scaleBySm3({ b1: 1 })).toThrow(
      'scaleBySm3: option "b1" must be a number in [0, 1), got 1',
    );
    expect(() => scaleBySm3({ b2: 1.5 })).toThrow(/option "b2" must be a number in \[0, 1\]/);
    expect(() => scaleBySm3({ eps: -1 })).toThrow(/option "eps"/);
  });
});
