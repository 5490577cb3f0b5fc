import * as tf from '@tensorflow/tfjs-core';
import { type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { type ScaleByFactoredRmsState, scaleByFactoredRms } from './index.js';

const leaf = (t: Tree, key: string) => (t as Record<string, tf.Tensor>)[key] as tf.Tensor;
const BETA2 = 1 - 2 ** -0.8; // the decay at the second step, t = 2: 0.4256508225

// --- A float64 reference of the factored rule for any shape, on flat arrays. ---
const unravel = (i: number, shape: readonly number[]) => {
  const idx = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    idx[a] = i % (shape[a] as number);
    i = Math.floor(i / (shape[a] as number));
  }
  return idx;
};
const ravel = (idx: readonly number[], shape: readonly number[]) =>
  idx.reduce((acc, v, a) => acc * (shape[a] as number) + v, 0);
const drop = <T>(xs: readonly T[], axis: number) => xs.filter((_, a) => a !== axis);
/** Mean of `x` (of `shape`) over `axis`. */
function meanOver(x: readonly number[], shape: readonly number[], axis: number): number[] {
  const out = new Array<number>(x.length / (shape[axis] as number)).fill(0);
  const outShape = drop(shape, axis);
  x.forEach((v, i) => {
    const j = ravel(drop(unravel(i, shape), axis), outShape);
    out[j] = (out[j] as number) + v / (shape[axis] as number);
  });
  return out;
}

/** One reference step on a factored leaf; mutates vRow and vCol. */
function factoredStep(
  g: readonly number[],
  shape: readonly number[],
  d1: number,
  d0: number,
  vRow: number[],
  vCol: number[],
  beta: number,
  eps: number,
): number[] {
  const gSq = g.map((x) => x * x + eps);
  const rowNew = meanOver(gSq, shape, d0);
  const colNew = meanOver(gSq, shape, d1);
  rowNew.forEach((v, i) => {
    vRow[i] = beta * (vRow[i] as number) + (1 - beta) * v;
  });
  colNew.forEach((v, i) => {
    vCol[i] = beta * (vCol[i] as number) + (1 - beta) * v;
  });
  const rowShape = drop(shape, d0);
  const colShape = drop(shape, d1);
  const reduced = d1 > d0 ? d1 - 1 : d1;
  const rowMean = meanOver(vRow, rowShape, reduced);
  return g.map((x, i) => {
    const idx = unravel(i, shape);
    const r = drop(idx, d0);
    const vr = vRow[ravel(r, rowShape)] as number;
    const rm = rowMean[ravel(drop(r, reduced), drop(rowShape, reduced))] as number;
    const vc = vCol[ravel(drop(idx, d1), colShape)] as number;
    return (x / Math.sqrt(vr / rm)) * (1 / Math.sqrt(vc));
  });
}

describeEachBackend('scaleByFactoredRms', () => {
  it('matches the first two steps derived by hand on an unfactored vector', () => {
    // Defaults: decayRate 0.8, eps 1e-30; a vector is never factored.
    // Step 1: t = 1, β = 1 − 1^(−0.8) = 0; v = g1² + eps = [1, 4]; u = g1 / sqrt(v) = [1, −1].
    // Step 2: t = 2, β = 1 − 2^(−0.8) = 0.4256508; g2 = [3, 0.5]:
    //   v = β·[1, 4] + (1 − β)·[9, 0.25] = [5.5947934, 1.8461906];
    //   u = [3 / 2.3653315, 0.5 / 1.3587460] = [1.2683211, 0.3679864].
    const tx = scaleByFactoredRms();
    const params = { w: tf.zeros([2]) };
    const g1 = { w: tf.tensor([1, -2]) };
    const g2 = { w: tf.tensor([3, 0.5]) };
    const s0 = tx.init(params);
    expect(leaf(s0.vRow, 'w').shape).toEqual([1]);
    expect(leaf(s0.v, 'w').shape).toEqual([2]);
    const [u1, s1] = tx.update(g1, s0, params);
    expectArrayClose(values(leaf(u1, 'w')), [1, -1]);
    expectArrayClose(values(leaf(s1.v, 'w')), [1, 4]);
    expect(s1.count).toBe(1);
    const [u2, s2] = tx.update(g2, s1, params);
    const v2 = [BETA2 * 1 + (1 - BETA2) * 9, BETA2 * 4 + (1 - BETA2) * 0.25];
    expectArrayClose(values(leaf(s2.v, 'w')), v2);
    expectArrayClose(values(leaf(u2, 'w')), [3 / Math.sqrt(v2[0]!), 0.5 / Math.sqrt(v2[1]!)]);
    expectArrayClose(values(leaf(u2, 'w')), [1.2683211, 0.3679864], { rtol: 1e-6 });
    treeDispose([params, g1, g2, s0, u1, s1, u2, s2]);
  });

  it('matches the first two steps derived by hand on a factored matrix', () => {
    // minDimSizeToFactor 2, shape [2, 3]: d0 = axis 1 (size 3), d1 = axis 0 (size 2).
    // g1 = [[1, −1, 2], [2, 0, −2]], g1² = [[1, 1, 4], [4, 0, 4]].
    // Step 1 (β = 0): vRow = row means = [2, 8/3]; vCol = column means = [2.5, 0.5, 4];
    //   mean(vRow) = 7/3; u[i][j] = g[i][j] / sqrt(vRow[i] / (7/3)) / sqrt(vCol[j])
    //   = [[0.6831301, −1.5275252, 1.0801234], [1.1832160, 0, −0.9354143]].
    // Step 2 (β = 0.4256508): g2 = [[0.5, 1, −1], [1, −3, 0.5]], g2² = [[0.25, 1, 1], [1, 9, 0.25]]:
    //   vRow = β·[2, 8/3] + (1 − β)·[0.75, 3.4166667] = [1.2820635, 3.0974286];
    //   vCol = β·[2.5, 0.5, 4] + (1 − β)·[0.625, 5, 0.625] = [1.4230953, 3.0845713, 2.0615715];
    //   u = [[0.5477661, 0.7441229, −0.9102127], [0.7048217, −1.4362170, 0.2927973]].
    const tx = scaleByFactoredRms({ minDimSizeToFactor: 2 });
    const params = { k: tf.zeros([2, 3]) };
    const g1 = { k: tf.tensor([1, -1, 2, 2, 0, -2], [2, 3]) };
    const g2 = { k: tf.tensor([0.5, 1, -1, 1, -3, 0.5], [2, 3]) };
    const s0 = tx.init(params);
    expect(leaf(s0.vRow, 'k').shape).toEqual([2]);
    expect(leaf(s0.vCol, 'k').shape).toEqual([3]);
    expect(leaf(s0.v, 'k').shape).toEqual([1]);
    const [u1, s1] = tx.update(g1, s0, params);
    expectArrayClose(values(leaf(s1.vRow, 'k')), [2, 8 / 3]);
    expectArrayClose(values(leaf(s1.vCol, 'k')), [2.5, 0.5, 4]);
    expectArrayClose(
      values(leaf(u1, 'k')),
      [0.6831301, -1.5275252, 1.0801234, 1.183216, 0, -0.9354143],
      {
        rtol: 1e-6,
      },
    );
    const [u2, s2] = tx.update(g2, s1, params);
    expectArrayClose(values(leaf(s2.vRow, 'k')), [1.2820635, 3.0974286], { rtol: 1e-6 });
    expectArrayClose(values(leaf(s2.vCol, 'k')), [1.4230953, 3.0845713, 2.0615715], { rtol: 1e-6 });
    expectArrayClose(
      values(leaf(u2, 'k')),
      [0.5477661, 0.7441229, -0.9102127, 0.7048217, -1.436217, 0.2927973],
      { rtol: 1e-6 },
    );
    treeDispose([params, g1, g2, s0, u1, s1, u2, s2]);
  });

  it('factors only leaves whose second-largest dimension reaches minDimSizeToFactor', () => {
    // [128, 128]: ties keep the lower axis as d1, so d1 = 0, d0 = 1; [4, 200]: 4 < 128, kept whole.
    const tx = scaleByFactoredRms();
    const params = { square: tf.zeros([128, 128]), wide: tf.zeros([4, 200]), scalar: tf.scalar(0) };
    const s = tx.init(params);
    expect(leaf(s.vRow, 'square').shape).toEqual([128]);
    expect(leaf(s.vCol, 'square').shape).toEqual([128]);
    expect(leaf(s.v, 'wide').shape).toEqual([4, 200]);
    expect(leaf(s.vRow, 'wide').shape).toEqual([1]);
    expect(leaf(s.v, 'scalar').shape).toEqual([]);
    const off = scaleByFactoredRms({ factored: false }).init(params);
    expect(leaf(off.v, 'square').shape).toEqual([128, 128]);
    treeDispose([params, s, off]);
  });

  it('follows a float64 reference over 120 steps (ranks 1 to 3, offset and cap)', () => {
    // Shapes [3, 2] (d0 = 0 before d1 = 1), [2, 3, 4] (d0 = 2, d1 = 1) and a vector [3].
    // stepOffset 5 restarts the schedule at t = 1 for the first six steps; beta2Cap 0.95.
    const eps = 1e-3;
    const options = { minDimSizeToFactor: 2, stepOffset: 5, beta2Cap: 0.95, decayRate: 0.7, eps };
    const shapes = { a: [3, 2], b: [2, 3, 4], c: [3] } as const;
    const dims = { a: [1, 0], b: [1, 2] } as const;
    const size = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);
    const grad = (key: string, k: number, n: number) =>
      Array.from(
        { length: n },
        (_, i) => Math.sin(0.37 * k + 1.3 * i + key.length) * (1 + (i % 3)),
      );
    const ref = {
      aRow: new Array<number>(2).fill(0),
      aCol: new Array<number>(3).fill(0),
      bRow: new Array<number>(6).fill(0),
      bCol: new Array<number>(8).fill(0),
      c: new Array<number>(3).fill(0),
    };
    const tx = scaleByFactoredRms(options);
    let state: ScaleByFactoredRmsState = tx.init({
      a: tf.zeros([...shapes.a]),
      b: tf.zeros([...shapes.b]),
      c: tf.zeros([...shapes.c]),
    });
    for (let count = 0; count < 120; count++) {
      const t = Math.max(1, count - 5 + 1);
      const beta = Math.min(1 - t ** -0.7, 0.95);
      const ga = grad('a', count, size(shapes.a));
      const gb = grad('bb', count, size(shapes.b));
      const gc = grad('ccc', count, size(shapes.c));
      const ea = factoredStep(ga, shapes.a, dims.a[0], dims.a[1], ref.aRow, ref.aCol, beta, eps);
      const eb = factoredStep(gb, shapes.b, dims.b[0], dims.b[1], ref.bRow, ref.bCol, beta, eps);
      const ec = gc.map((x, i) => {
        ref.c[i] = beta * (ref.c[i] as number) + (1 - beta) * (x * x + eps);
        return x / Math.sqrt(ref.c[i] as number);
      });
      const g = {
        a: tf.tensor(ga, [...shapes.a]),
        b: tf.tensor(gb, [...shapes.b]),
        c: tf.tensor(gc, [...shapes.c]),
      };
      const [u, next] = tx.update(g, state);
      const tol = { rtol: 1e-4, atol: 1e-5 };
      expectArrayClose(values(leaf(u, 'a')), ea, tol, `a, step ${count + 1}`);
      expectArrayClose(values(leaf(u, 'b')), eb, tol, `b, step ${count + 1}`);
      expectArrayClose(values(leaf(u, 'c')), ec, tol, `c, step ${count + 1}`);
      treeDispose([g, u, state]);
      state = next;
    }
    expectArrayClose(values(leaf(state.vRow, 'b')), ref.bRow, { rtol: 1e-4 });
    expectArrayClose(values(leaf(state.vCol, 'a')), ref.aCol, { rtol: 1e-4 });
    treeDispose(state);
  });

  it('rejects bad options, naming them', () => {
    expect(() => scaleByFactoredRms({ decayRate: -1 })).toThrow(
      'scaleByFactoredRms: option "decayRate" must be a finite number >= 0, got -1',
    );
    expect(() => scaleByFactoredRms({ minDimSizeToFactor: 0.5 })).toThrow(/"minDimSizeToFactor"/);
    expect(() => scaleByFactoredRms({ beta2Cap: 1.5 })).toThrow(
      /"beta2Cap" must be a number in \[0, 1\]/,
    );
    expect(() => scaleByFactoredRms({ decay: 0.8 } as never)).toThrow(
      /option "decay" must be absent/,
    );
  });
});
