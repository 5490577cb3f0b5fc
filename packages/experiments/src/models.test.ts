import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { PIXELS } from './data.js';
import { createModel, crossEntropy, evaluate } from './models.js';

describe.each(['cpu', 'wasm'] as const)('models [%s]', (backend) => {
  beforeAll(async () => {
    expect(await initBackend(backend)).toBe(backend);
  });

  it('builds the same weights from the same seed', () => {
    const a = createModel('mlp', 5);
    const b = createModel('mlp', 5);
    const c = createModel('mlp', 6);
    const k = (m: typeof a) => Array.from(m.params['hidden/kernel']!.dataSync().slice(0, 20));
    expect(k(a)).toEqual(k(b));
    expect(k(a)).not.toEqual(k(c));
    for (const m of [a, b, c]) m.dispose();
  });

  it("gives the CNN's filters the gradient of a plain 3x3 'same' convolution", () => {
    const model = createModel('cnn', 1);
    const x = tf.randomUniform([3, PIXELS], 0, 1, 'float32', 7) as tf.Tensor2D;
    const y = tf.tensor1d([1, 4, 9], 'int32');
    const vars = Object.values(model.params);
    const ours = tf.variableGrads(() => crossEntropy(model.logits(x), y), vars);
    // Reference: the same network written with im2col (slices + matMul), whose gradients tfjs derives itself.
    const im2col = (input: tf.Tensor4D, w: tf.Tensor4D) => {
      const [n, h, wd, c] = input.shape;
      const padded = tf.pad(input, [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ]);
      const cols: tf.Tensor[] = [];
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 3; j++) cols.push(tf.slice(padded, [0, i, j, 0], [n, h, wd, c]));
      const patches = tf.reshape(tf.concat(cols, 3), [n * h * wd, 9 * c]);
      return tf.reshape(tf.matMul(patches, tf.reshape(w, [9 * c, -1])), [
        n,
        h,
        wd,
        -1,
      ]) as tf.Tensor4D;
    };
    const p = model.params;
    const reference = tf.variableGrads(() => {
      const block = (input: tf.Tensor4D, k: tf.Variable, b: tf.Variable) =>
        tf.maxPool(
          tf.relu(tf.add(im2col(input, k as tf.Tensor4D), b)) as tf.Tensor4D,
          2,
          2,
          'valid',
        );
      let h = tf.reshape(x, [3, 28, 28, 1]) as tf.Tensor4D;
      h = block(h, p['conv1/kernel']!, p['conv1/bias']!);
      h = block(h, p['conv2/kernel']!, p['conv2/bias']!);
      const logits = tf.add(
        tf.matMul(tf.reshape(h, [3, -1]), p['output/kernel']!),
        p['output/bias']!,
      ) as tf.Tensor2D;
      return crossEntropy(logits, y);
    }, vars);
    expect(ours.value.dataSync()[0]).toBeCloseTo(reference.value.dataSync()[0] as number, 5);
    for (const v of vars) {
      const a = ours.grads[v.name]!.dataSync();
      const b = reference.grads[v.name]!.dataSync();
      const scale = Math.max(...Array.from(b, Math.abs), 1e-6);
      a.forEach((value, i) => {
        expect(Math.abs(value - (b[i] as number)) / scale).toBeLessThan(1e-4);
      });
    }
    tf.dispose([
      x,
      y,
      ours.value,
      reference.value,
      ...Object.values(ours.grads),
      ...Object.values(reference.grads),
    ]);
    model.dispose();
  });

  it('evaluates without leaking tensors', () => {
    const model = createModel('cnn', 2);
    const data = {
      images: new Float32Array(5 * PIXELS).fill(0.5),
      labels: new Uint8Array([0, 1, 2, 3, 4]),
      size: 5,
    };
    const before = tf.memory().numTensors;
    const result = evaluate(model, data, 2);
    expect(tf.memory().numTensors).toBe(before);
    expect(result.accuracy).toBeGreaterThanOrEqual(0);
    expect(result.accuracy).toBeLessThanOrEqual(1);
    expect(Number.isFinite(result.loss)).toBe(true);
    model.dispose();
  });
});
