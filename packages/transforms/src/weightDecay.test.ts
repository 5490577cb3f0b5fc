import * as tf from '@tensorflow/tfjs-core';
import { TfoptError, type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { addDecayedWeights } from './index.js';

function run(tx: ReturnType<typeof addDecayedWeights>, updates: Tree, params: Tree): number[][] {
  const [u] = tx.update(updates, tx.init(params), params);
  const out = flat(u);
  treeDispose([u, updates, params]);
  return out;
}
const flat = (t: Tree): number[][] =>
  (Array.isArray(t) ? t : Object.values(t as object)).flatMap((x: Tree) =>
    x instanceof tf.Tensor ? [values(x)] : flat(x),
  );

describeEachBackend('addDecayedWeights', () => {
  it('adds weightDecay · params', () => {
    // [1, 1] + 0.5·[2, −4] = [2, −1]
    const out = run(
      addDecayedWeights({ weightDecay: 0.5 }),
      { w: tf.tensor([1, 1]) },
      { w: tf.tensor([2, -4]) },
    );
    expectArrayClose(out[0]!, [2, -1]);
  });

  it('decays only where the mask is true; a boolean covers a whole subtree', () => {
    // kernel: [1] + 0.1·[10] = [2]; bias untouched; layers[1] (true) decays both leaves.
    const updates = {
      kernel: tf.tensor([1]),
      bias: tf.tensor([1]),
      layers: [tf.tensor([0]), { a: tf.tensor([0]), b: tf.tensor([1]) }],
    };
    const params = {
      kernel: tf.tensor([10]),
      bias: tf.tensor([10]),
      layers: [tf.tensor([5]), { a: tf.tensor([20]), b: tf.tensor([30]) }],
    };
    const out = run(
      addDecayedWeights({
        weightDecay: 0.1,
        mask: { kernel: true, bias: false, layers: [false, true] },
      }),
      updates,
      params,
    );
    // Leaves in order: kernel, bias, layers[0], layers[1].a (0 + 0.1·20), layers[1].b (1 + 0.1·30).
    for (const [i, expected] of [[2], [1], [0], [2], [4]].entries()) {
      expectArrayClose(out[i]!, expected);
    }
  });

  it('accepts a mask function of the params', () => {
    // Decay rank-2 leaves only: w: [0, 0] + 0.5·[[2, 4]] → [[1, 2]]; b untouched.
    const tx = addDecayedWeights({
      weightDecay: 0.5,
      mask: (p) =>
        Object.fromEntries(Object.entries(p).map(([k, t]) => [k, (t as tf.Tensor).rank === 2])),
    });
    const out = run(
      tx,
      { w: tf.zeros([1, 2]), b: tf.zeros([2]) },
      { w: tf.tensor([[2, 4]]), b: tf.tensor([3, 3]) },
    );
    expectArrayClose(out[0]!, [1, 2]);
    expectArrayClose(out[1]!, [0, 0]);
  });

  it('throws clearly without params, and names the path of a mask that does not fit', () => {
    const tx = addDecayedWeights({ weightDecay: 0.1 });
    const g = { w: tf.tensor([1]) };
    expect(() => tx.update(g, tx.init(g))).toThrow(TfoptError);
    expect(() => tx.update(g, tx.init(g))).toThrow(/addDecayedWeights: needs the parameters/);
    const masked = addDecayedWeights({ weightDecay: 0.1, mask: { v: true } });
    expect(() => masked.update(g, masked.init(g), g)).toThrow(/\.w: missing in the mask/);
    treeDispose(g);
  });
});
