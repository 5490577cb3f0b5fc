import * as tf from '@tensorflow/tfjs-core';
import { describeEachBackend } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { chain, identity } from './index.js';

describeEachBackend('smoke', (backend) => {
  it('runs', () => {
    expect(tf.getBackend()).toBe(backend);
    const tx = chain(identity());
    const g = tf.ones([2]);
    const [u] = tx.update(g, tx.init(g));
    expect(u).toBe(g);
  });
});
