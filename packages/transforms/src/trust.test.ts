import * as tf from '@tensorflow/tfjs-core';
import { type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { adaptiveGradClip, scaleByTrustRatio } from './index.js';

const leaf = (t: Tree, key: string) => values((t as Record<string, tf.Tensor>)[key] as tf.Tensor);

describeEachBackend('scaleByTrustRatio', () => {
  it('scales each leaf by ‖θ‖ / ‖u‖ (by hand)', () => {
    // w: ‖θ‖ = ‖[0.6, 0.8]‖ = 1, ‖u‖ = ‖[3, 4]‖ = 5, ratio 0.2: u = [0.6, 0.8].
    // b: ‖θ‖ = 0, so the ratio is 1 and u = [1, 1] is kept.
    // trustCoefficient 0.5, eps 1: ratio = 0.5·1 / (5 + 1) = 1/12: w = [0.25, 0.3333333].
    // minNorm 10: both norms are raised to 10, ratio 1: w = [3, 4].
    const params = { w: tf.tensor([0.6, 0.8]), b: tf.zeros([2]) };
    const u = { w: tf.tensor([3, 4]), b: tf.tensor([1, 1]) };
    const [plain] = scaleByTrustRatio().update(u, {}, params);
    expectArrayClose(leaf(plain, 'w'), [0.6, 0.8]);
    expectArrayClose(leaf(plain, 'b'), [1, 1]);
    const [weighted] = scaleByTrustRatio({ trustCoefficient: 0.5, eps: 1 }).update(u, {}, params);
    expectArrayClose(leaf(weighted, 'w'), [0.25, 1 / 3]);
    const [floored] = scaleByTrustRatio({ minNorm: 10 }).update(u, {}, params);
    expectArrayClose(leaf(floored, 'w'), [3, 4]);
    treeDispose([params, u, plain, weighted, floored]);
  });

  it('needs the params and checks its options', () => {
    const u = { w: tf.tensor([1]) };
    expect(() => scaleByTrustRatio().update(u, {})).toThrow(
      /^scaleByTrustRatio: update needs the current params/,
    );
    expect(() => scaleByTrustRatio({ minNorm: -1 })).toThrow(/option "minNorm"/);
    expect(() => scaleByTrustRatio({ trustCoeff: 1 } as never)).toThrow(/option "trustCoeff"/);
    treeDispose(u);
  });
});

describeEachBackend('adaptiveGradClip', () => {
  it('clips units of a dense kernel (columns) relative to the params (by hand)', () => {
    // θ = [[1, 0], [0, 2]], g = [[3, 0], [4, 0.1]]; rank 2, units over axis 0 (one per column):
    //   ‖θ‖ = [1, 2], ‖g‖ = [5, 0.1]; clipping 0.5: max = [0.5, 1];
    //   column 0: 5 >= 0.5, scaled by 0.5 / 5 = 0.1 to [0.3, 0.4]; column 1: 0.1 < 1, kept.
    // With axis 1 (rows): ‖θ‖ = [1, 2], ‖g‖ = [3, 4.0012498]; max = [0.5, 1]:
    //   row 0 scaled by 0.5 / 3 to [0.5, 0]; row 1 by 1 / 4.0012498 to [0.9996877, 0.0249922].
    const params = { k: tf.tensor([1, 0, 0, 2], [2, 2]) };
    const g = { k: tf.tensor([3, 0, 4, 0.1], [2, 2]) };
    const [byColumn] = adaptiveGradClip(0.5).update(g, {}, params);
    expectArrayClose(leaf(byColumn, 'k'), [0.3, 0, 0.4, 0.1]);
    const [byRow] = adaptiveGradClip(0.5, { axis: 1 }).update(g, {}, params);
    expectArrayClose(leaf(byRow, 'k'), [0.5, 0, 0.9996877, 0.0249922]);
    treeDispose([params, g, byColumn, byRow]);
  });

  it('treats vectors, [1, n] matrices and conv kernels by their conventions (by hand)', () => {
    // v: θ = 0, so max = 0.5·max(0, eps = 1e-3) = 5e-4 and g = [3, 4] (norm 5) becomes [3e-4, 4e-4].
    // r: shape [1, 2] counts as a vector: ‖θ‖ = 5, ‖g‖ = ‖[8, 6]‖ = 10, clipping 1: g·(5/10) = [4, 3].
    // c: shape [1, 1, 2, 2] (HWIO), units over axes 0–2, one per output o:
    //   θ = ones, ‖θ‖ = sqrt(2) per output; g[…, i, o] = [[3, 0], [4, 0]]: ‖g‖ = [5, 0];
    //   output 0 scaled by sqrt(2) / 5 to [0.8485281, 1.1313708]; output 1 kept (zeros).
    const params = {
      v: tf.zeros([2]),
      r: tf.tensor([[3, 4]]),
      c: tf.ones([1, 1, 2, 2]),
    };
    const g = {
      v: tf.tensor([3, 4]),
      r: tf.tensor([[8, 6]]),
      c: tf.tensor([3, 0, 4, 0], [1, 1, 2, 2]),
    };
    const [v] = adaptiveGradClip(0.5).update({ v: g.v }, {}, { v: params.v });
    expectArrayClose(leaf(v, 'v'), [3e-4, 4e-4]);
    const [out] = adaptiveGradClip(1).update({ r: g.r, c: g.c }, {}, { r: params.r, c: params.c });
    expectArrayClose(leaf(out, 'r'), [4, 3]);
    expectArrayClose(leaf(out, 'c'), [0.8485281, 0, 1.1313708, 0]);
    treeDispose([params, g, v, out]);
  });

  it('needs the params, an axis for ranks above 5, and checks its options', () => {
    const big = { deep: { w: tf.ones([1, 1, 1, 1, 2, 2]) } };
    const tx = adaptiveGradClip(1);
    expect(() => tx.update(big, {})).toThrow(/^adaptiveGradClip: update needs the current params/);
    expect(() => tx.update(big, {}, big)).toThrow(
      'adaptiveGradClip: updates.deep.w has rank 6; units are defined for ranks 0 to 5, pass "axis" for others',
    );
    const [ok] = adaptiveGradClip(1, { axis: [0, 1, 2, 3, 4] }).update(big, {}, big);
    expectArrayClose(leaf((ok as typeof big).deep, 'w'), [1, 1, 1, 1]);
    expect(() => adaptiveGradClip(1, { axis: 3 }).update(big, {}, big)).not.toThrow();
    expect(() => adaptiveGradClip(1, { axis: 9 }).update(big, {}, big)).toThrow(
      /axis 9 is out of range/,
    );
    expect(() => adaptiveGradClip(-1)).toThrow(/option "clipping"/);
    expect(() => adaptiveGradClip(1, { axis: 0.5 })).toThrow(/option "axis" must be an integer/);
    treeDispose([big, ok]);
  });
});
