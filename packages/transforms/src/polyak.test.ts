import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, specOf, TfoptError, type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { scaleByPolyakStepSize } from './index.js';

const leaf = (t: Tree, key: string) => (t as Record<string, tf.Tensor>)[key] as tf.Tensor;

describeEachBackend('scaleByPolyakStepSize', () => {
  it('scales by (loss − fMin) / ‖u‖² over the whole tree, hand-derived', () => {
    // u = { a: [1, 2], b: [[2]] }: ‖u‖² = 1 + 4 + 4 = 9. loss 4, fMin 1: gap 3,
    // step = min(3 / 9, 1) = 1/3 → a = [1/3, 2/3], b = [[2/3]].
    const tx = scaleByPolyakStepSize({ fMin: 1 });
    const g = { b: tf.tensor([[2]]), a: tf.tensor([1, 2]) };
    const [u] = tx.update(g, tx.init(g), undefined, { loss: 4 });
    expectArrayClose(values(leaf(u, 'a')), [1 / 3, 2 / 3]);
    expectArrayClose(values(leaf(u, 'b')), [2 / 3]);
    treeDispose([g, u]);
  });

  it('caps the step at maxLearningRate and adds eps to the denominator', () => {
    // u = [0.1]: ‖u‖² = 0.01, loss 1 → 1 / 0.01 = 100, capped at 2 → [0.2].
    // eps = 0.09 under a cap of 20: 1 / (0.01 + 0.09) = 10 < 20 → [1].
    const g = { w: tf.tensor([0.1]) };
    const capped = scaleByPolyakStepSize({ maxLearningRate: 2 });
    const [u1] = capped.update(g, capped.init(g), undefined, { loss: 1 });
    expectArrayClose(values(leaf(u1, 'w')), [0.2]);
    const damped = scaleByPolyakStepSize({ maxLearningRate: 20, eps: 0.09 });
    const [u2] = damped.update(g, damped.init(g), undefined, { loss: 1 });
    expectArrayClose(values(leaf(u2, 'w')), [1], { rtol: 1e-5 });
    treeDispose([g, u1, u2]);
  });

  it("'sps' keeps a negative gap, 'sps+' clips it at zero", () => {
    // loss 0.5 < fMin 1: gap −0.5, ‖u‖² = 4 + 0 = 4 → 'sps' step −0.125 → [−0.25, 0];
    // 'sps+' step 0 → [0, 0].
    const g = { w: tf.tensor([2, 0]) };
    const sps = scaleByPolyakStepSize({ fMin: 1 });
    const plus = scaleByPolyakStepSize({ fMin: 1, variant: 'sps+' });
    const [a] = sps.update(g, sps.init(g), undefined, { loss: 0.5 });
    const [b] = plus.update(g, plus.init(g), undefined, { loss: 0.5 });
    expectArrayClose(values(leaf(a, 'w')), [-0.25, 0]);
    expectArrayClose(values(leaf(b, 'w')), [0, 0]);
    treeDispose([g, a, b]);
  });

  it('takes no step on a zero gradient, and accepts the loss as a tensor', () => {
    // ‖u‖² + eps = 0 <= 2.2e-16: step 0 rather than 1 / 0.
    const tx = scaleByPolyakStepSize();
    const zero = { w: tf.zeros([2]) };
    const loss = tf.scalar(3);
    const [u] = tx.update(zero, tx.init(zero), undefined, { loss });
    expect(values(leaf(u, 'w'))).toEqual([0, 0]);
    // A [1]-shaped tensor loss works too: 3 / ‖[1, 1]‖² = 1.5, capped at 1.
    const g = { w: tf.ones([2]) };
    const lossVector = tf.tensor([3]) as tf.Scalar; // shaped [1], as some callers pass it
    const [v] = tx.update(g, tx.init(g), undefined, { loss: lossVector });
    expectArrayClose(values(leaf(v, 'w')), [1, 1]);
    expect(loss.isDisposed).toBe(false);
    treeDispose([zero, loss, u, g, lossVector, v]);
  });

  it('reaches the minimum of ‖x‖² by halving, as in Optax', () => {
    // f = ‖x‖², g = 2x, ‖g‖² = 4f: step = f / 4f = 1/4, x ← x − 2x/4 = x/2, so
    // f goes 14 → 3.5 → 0.875 → 0.21875 → 0.0546875 (Optax's docstring example).
    const tx = scaleByPolyakStepSize();
    let x = [1, 2, 3];
    const losses: number[] = [];
    for (let k = 0; k < 5; k++) {
      const f = x.reduce((a, b) => a + b * b, 0);
      const g = { x: tf.tensor(x.map((v) => 2 * v)) };
      const [u] = tx.update(g, tx.init(g), undefined, { loss: f });
      const step = values(leaf(u, 'x'));
      x = x.map((v, i) => v - step[i]!);
      losses.push(x.reduce((a, b) => a + b * b, 0));
      treeDispose([g, u]);
    }
    expectArrayClose(losses, [3.5, 0.875, 0.21875, 0.0546875, 0.013671875]);
  });

  it('throws a clear error when context.loss is missing or not a scalar', () => {
    const tx = scaleByPolyakStepSize();
    const g = { w: tf.ones([2]) };
    expect(() => tx.update(g, tx.init(g))).toThrow(TfoptError);
    expect(() => tx.update(g, tx.init(g), undefined, {})).toThrow(
      /scaleByPolyakStepSize: update needs the loss at the current params as context\.loss \(a number or a scalar tensor\), got none/,
    );
    const wide = tf.ones([2]);
    expect(() => tx.update(g, tx.init(g), undefined, { loss: wide as tf.Scalar })).toThrow(
      /got a tensor of shape \[2\]/,
    );
    expect(() => tx.update(g, tx.init(g), undefined, { loss: '1' as never })).toThrow(/got string/);
    treeDispose([g, wide]);
  });

  it('records its options and rejects bad ones, naming them', () => {
    expect(specOf(scaleByPolyakStepSize({ fMin: -1 }))).toEqual({
      name: 'scaleByPolyakStepSize',
      args: [{ fMin: -1 }],
    });
    const bad = (build: () => unknown, message: RegExp) => {
      expect(build).toThrow(InvalidOptionError);
      expect(build).toThrow(message);
    };
    bad(
      () => scaleByPolyakStepSize({ variant: 'sps-' as never }),
      /scaleByPolyakStepSize: option "variant" must be one of "sps", "sps\+", got "sps-"/,
    );
    bad(
      () => scaleByPolyakStepSize({ maxLearningRate: -1 }),
      /option "maxLearningRate" must be a finite number >= 0, got -1/,
    );
    bad(() => scaleByPolyakStepSize({ eps: -1e-8 }), /option "eps"/);
    bad(() => scaleByPolyakStepSize({ fMin: Number.NaN }), /option "fMin" must be a finite number/);
    bad(() => scaleByPolyakStepSize({ f_min: 0 } as never), /option "f_min" must be absent/);
  });
});
