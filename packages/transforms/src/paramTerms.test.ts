import * as tf from '@tensorflow/tfjs-core';
import { type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { addScaledParams, scaleByParamBlockRms } from './index.js';

const leaf = (t: Tree, key: string) => values((t as Record<string, tf.Tensor>)[key] as tf.Tensor);

describeEachBackend('scaleByParamBlockRms', () => {
  it("multiplies each leaf by its parameter leaf's root mean square (by hand)", () => {
    // θw = [3, −4]: rms = 3.5355339, so u = [1, 1]·3.5355339.
    // θz = [0, 0]: rms 0 < minScale 1e-3, so u = [2, −2]·1e-3 = [0.002, −0.002].
    const params = { w: tf.tensor([3, -4]), z: tf.zeros([2]) };
    const u = { w: tf.tensor([1, 1]), z: tf.tensor([2, -2]) };
    const tx = scaleByParamBlockRms();
    const [out] = tx.update(u, tx.init(params), params);
    expectArrayClose(leaf(out, 'w'), [3.5355339, 3.5355339]);
    expectArrayClose(leaf(out, 'z'), [0.002, -0.002]);
    const [floored] = scaleByParamBlockRms({ minScale: 0.5 }).update(u, {}, params);
    expectArrayClose(leaf(floored, 'z'), [1, -1]);
    treeDispose([params, u, out, floored]);
  });

  it('needs the params and checks its option', () => {
    const u = { w: tf.tensor([1]) };
    expect(() => scaleByParamBlockRms().update(u, {})).toThrow(
      /^scaleByParamBlockRms: update needs the current params/,
    );
    expect(() => scaleByParamBlockRms({ minScale: -1 })).toThrow(/option "minScale"/);
    treeDispose(u);
  });
});

describeEachBackend('addScaledParams', () => {
  it('adds a multiple of the params, following a schedule of the count (by hand)', () => {
    // Fixed −0.5: u = [1, 1] − 0.5·[2, −4] = [0, 3].
    // Schedule c(count) = count: step 1 uses c(0) = 0 (u unchanged), step 2 c(1) = 1 (u + θ = [3, −3]).
    const params = { w: tf.tensor([2, -4]) };
    const u = { w: tf.tensor([1, 1]) };
    const fixed = addScaledParams(-0.5);
    const [a, sa] = fixed.update(u, fixed.init(params), params);
    expectArrayClose(leaf(a, 'w'), [0, 3]);
    expect(sa).toEqual({ count: 1 });
    const scheduled = addScaledParams((count) => count);
    const [b1, s1] = scheduled.update(u, scheduled.init(params), params);
    expectArrayClose(leaf(b1, 'w'), [1, 1]);
    const [b2, s2] = scheduled.update(u, s1, params);
    expectArrayClose(leaf(b2, 'w'), [3, -3]);
    expect(s2).toEqual({ count: 2 });
    treeDispose([params, u, a, b1, b2]);
  });

  it('needs the params and a finite scale', () => {
    const u = { w: tf.tensor([1]) };
    expect(() => addScaledParams(1).update(u, { count: 0 })).toThrow(
      /^addScaledParams: update needs the current params/,
    );
    expect(() => addScaledParams(Number.POSITIVE_INFINITY)).toThrow(/option "scale"/);
    treeDispose(u);
  });
});
