import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { contenderLabel, contendersOf, distinctBytes } from './contenders.js';

describe('contenders', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('runs tf.train once and every tfopt optimizer on both paths', () => {
    expect(contendersOf(['tf.train.adam', 'adam']).map(contenderLabel)).toEqual([
      'tf.train.adam',
      'adam (fused)',
      'adam (composable)',
    ]);
    expect(() => contendersOf(['adamax'])).toThrow('unknown optimizer adamax');
  });

  it('counts a buffer shared by two tensors once', () => {
    const a = tf.zeros([10]);
    const view = tf.reshape(a, [2, 5]);
    const b = tf.zeros([3], 'int32');
    // 10 float32 (40 bytes) shared by a and view, plus 3 int32 (12 bytes).
    expect(distinctBytes({ a, view, nested: [b, { again: a }] })).toBe(52);
    tf.dispose([a, view, b]);
  });
});
