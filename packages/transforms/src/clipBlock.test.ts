import * as tf from '@tensorflow/tfjs-core';
import { type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { clipByBlockRms } from './index.js';

const leaf = (t: Tree, key: string) => values((t as Record<string, tf.Tensor>)[key] as tf.Tensor);

describeEachBackend('clipByBlockRms', () => {
  it('clips each leaf to the threshold on its root mean square (by hand)', () => {
    // w = [3, −4]: rms = sqrt((9 + 16) / 2) = 3.5355339 > 1, so w / 3.5355339 = [0.8485281, −1.1313708].
    // b = [0.1, 0.2]: rms = sqrt(0.025) = 0.1581139 <= 1, unchanged.
    // s = 5 (a scalar): rms = 5; with threshold 2, 5 / (5 / 2) = 2.
    // e (empty) passes through.
    const u = { w: tf.tensor([3, -4]), b: tf.tensor([0.1, 0.2]), e: tf.zeros([0]) };
    const tx = clipByBlockRms(1);
    const [out] = tx.update(u, tx.init(u));
    expectArrayClose(leaf(out, 'w'), [0.8485281, -1.1313708]);
    expectArrayClose(leaf(out, 'b'), [0.1, 0.2]);
    expect(leaf(out, 'e')).toEqual([]);
    const s = tf.scalar(5);
    const [clipped] = clipByBlockRms(2).update(s, {});
    expectArrayClose(values(clipped as tf.Tensor), [2]);
    expect(tx.spec).toEqual({ name: 'clipByBlockRms', args: [1] });
    treeDispose([u, out, s, clipped]);
  });

  it('rejects a threshold that is not a positive number', () => {
    expect(() => clipByBlockRms(0)).toThrow(
      'clipByBlockRms: option "threshold" must be a finite number > 0, got 0',
    );
    expect(() => clipByBlockRms(Number.NaN)).toThrow(/"threshold"/);
  });
});
