import * as tf from '@tensorflow/tfjs-core';
import { specOf, type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { scaleBySign } from './index.js';

const leaf = (t: Tree, key: string) => (t as Record<string, tf.Tensor>)[key] as tf.Tensor;

describeEachBackend('scaleBySign', () => {
  it('replaces every coordinate by its sign, leaf by leaf', () => {
    // sign([0.3, −2, 0, 1e-30, −1e-9, −∞]) = [1, −1, 0, 1, −1, −1], tiny values included
    // (wasm's tf.sign would give 0 for them); NaN stays NaN; the nested leaf likewise.
    const tx = scaleBySign();
    const g = {
      w: tf.tensor([0.3, -2, 0, 1e-30, -1e-9, Number.NEGATIVE_INFINITY, Number.NaN]),
      nested: [tf.tensor([[-0.5, 4]])],
    };
    const [u, state] = tx.update(g, tx.init(g));
    expect(values(leaf(u, 'w'))).toEqual([1, -1, 0, 1, -1, -1, Number.NaN]);
    expect(values((u as { nested: tf.Tensor[] }).nested[0]!)).toEqual([-1, 1]);
    expect(state).toEqual({});
    expect(specOf(tx)).toEqual({ name: 'scaleBySign', args: [] });
    treeDispose([g, u]);
  });
});
