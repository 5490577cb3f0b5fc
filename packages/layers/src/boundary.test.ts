// Errors at the boundary between a tfjs-layers model and tfopt, from the user's side.
import * as tf from '@tensorflow/tfjs';
import { stepVariables, TreeStructureError } from '@tfopt/core';
import { egAdam } from '@tfopt/eg';
import { describeEachBackend, values } from '@tfopt/testing';
import { adam } from '@tfopt/transforms';
import { expect, it } from 'vitest';
import { TransformOptimizer } from './index.js';

function tinyModel(): tf.Sequential {
  return tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
}

describeEachBackend('the model boundary', () => {
  it('points model.trainableWeights (LayerVariables) at read() and TransformOptimizer', () => {
    const model = tinyModel();
    const tx = adam(0.1);
    expect(() => tx.init(model.trainableWeights as never)).toThrow(TreeStructureError);
    expect(() => tx.init(model.trainableWeights as never)).toThrow(
      /\[0\] is a tfjs-layers LayerVariable .*layerVariable\.read\(\).*TransformOptimizer/,
    );
    // What the message suggests works: the tf.Variables behind them, keyed by name.
    const vars = Object.fromEntries(model.trainableWeights.map((w) => [w.name, w.read()]));
    const state = tx.init(vars as never);
    const grads = Object.fromEntries(
      Object.entries(vars).map(([k, v]) => [k, tf.onesLike(v as tf.Tensor)]),
    );
    const kernel = vars[model.trainableWeights[0]!.name] as tf.Variable;
    const before = values(kernel);
    const next = stepVariables(tx, vars as never, grads as never, state);
    // Adam's first step moves every coordinate by -lr * sign(g) = -0.1.
    values(kernel).forEach((x, i) => {
      expect(x).toBeCloseTo((before[i] as number) - 0.1, 5);
    });
    tf.dispose([next as never, grads as never]);
    model.dispose();
  });

  it('rejects unknown TransformOptimizer options', () => {
    expect(() => new TransformOptimizer(adam(0.1), { checkfinite: true } as never)).toThrow(
      'TransformOptimizer: option "checkfinite" must be absent (TransformOptimizer takes checkFinite, fused), got true',
    );
  });

  it('names a disposed or mistyped gradient and changes nothing', () => {
    const a = tf.variable(tf.tensor1d([1, 2]), true, 'boundary/a');
    const b = tf.variable(tf.tensor1d([3]), true, 'boundary/b');
    const opt = new TransformOptimizer(egAdam(0.1));
    opt.applyGradients({ 'boundary/a': tf.tensor1d([1, 1]), 'boundary/b': tf.tensor1d([1]) });
    const snap = [values(a), values(b)];
    const gone = tf.tensor1d([1, 1]);
    gone.dispose();
    const okA = tf.tensor1d([1, 1]);
    const okB = tf.tensor1d([1]);
    const ints = tf.tensor1d([1], 'int32');
    const count = tf.memory().numTensors;
    expect(() => opt.applyGradients({ 'boundary/a': gone, 'boundary/b': okB })).toThrow(
      'grads["boundary/a"] was disposed',
    );
    expect(() => opt.applyGradients({ 'boundary/a': okA, 'boundary/b': ints })).toThrow(
      'grads["boundary/b"] is int32; expected float32 (the dtype of variables["boundary/b"])',
    );
    expect(tf.memory().numTensors).toBe(count);
    expect([values(a), values(b)]).toEqual(snap);
    expect(opt.iterations).toBe(1);
    opt.dispose();
    tf.dispose([a, b, okA, okB, ints]);
  });
});
