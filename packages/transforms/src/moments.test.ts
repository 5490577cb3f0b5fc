import * as tf from '@tensorflow/tfjs-core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { biasCorrection, momentWeights, updateMoment, updateMomentSquared } from './index.js';

describeEachBackend('moments', () => {
  it('updateMoment: decay·m + (1 − decay)·g', () => {
    // 0.9·[0, 1] + 0.1·[1, 3] = [0.1, 1.2]
    const out = tf.tidy(() => updateMoment(tf.tensor([1, 3]), tf.tensor([0, 1]), 0.9));
    expectArrayClose(values(out), [0.1, 1.2]);
    out.dispose();
  });

  it('accepts shared momentWeights in place of the number', () => {
    // momentWeights(0.75) = { decay: 0.75, complement: 0.25 }: 0.75·[4] + 0.25·[8] = [5]; squared: 0.75·4 + 0.25·64 = 19.
    const [plain, squared] = tf.tidy(() => {
      const w = momentWeights(0.75);
      return [
        updateMoment(tf.tensor([8]), tf.tensor([4]), w),
        updateMomentSquared(tf.tensor([8]), tf.tensor([4]), w),
      ];
    });
    expectArrayClose(values(plain!), [5]);
    expectArrayClose(values(squared!), [19]);
    tf.dispose([plain!, squared!]);
  });

  it('updateMomentSquared: decay·m + (1 − decay)·g²', () => {
    // 0.5·[1, 0] + 0.5·[2², (−3)²] = [2.5, 4.5]
    const out = tf.tidy(() => updateMomentSquared(tf.tensor([2, -3]), tf.tensor([1, 0]), 0.5));
    expectArrayClose(values(out), [2.5, 4.5]);
    out.dispose();
  });

  it('biasCorrection: 1 − decay^count', () => {
    expect(biasCorrection(0.9, 1)).toBeCloseTo(0.1, 15);
    expect(biasCorrection(0.9, 2)).toBeCloseTo(0.19, 15);
    expect(biasCorrection(0.999, 2)).toBeCloseTo(0.001999, 15);
  });
});
