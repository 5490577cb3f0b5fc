import * as tf from '@tensorflow/tfjs-core';
import { CLASSES, type Dataset, IMAGE_SIDE, PIXELS } from './data.js';
import { createRng, normalSamples } from './rng.js';

/** The two model families of the study. */
export const MODEL_KINDS = ['mlp', 'cnn'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/**
 * A classifier as plain variables and a forward function. The model owns its
 * variables; `dispose` releases them.
 */
export interface Model {
  readonly kind: ModelKind;
  /** Trainable variables by name, in a fixed order (the optimizer's tree). */
  readonly params: Readonly<Record<string, tf.Variable>>;
  /** Class scores for a batch of flattened images `[n, 784]`. */
  logits(images: tf.Tensor2D): tf.Tensor2D;
  dispose(): void;
}

/** A one-line description of each architecture, for the report. */
export const MODEL_DESCRIPTIONS: Record<ModelKind, string> = {
  mlp: 'MLP 784-256-10, ReLU',
  cnn: 'CNN conv3x3(8)-ReLU-maxpool2 → conv3x3(16)-ReLU-maxpool2 → dense(784→10)',
};

/** Build a model with weights drawn from `seed` (He-normal kernels, zero biases). */
export function createModel(kind: ModelKind, seed: number): Model {
  const rng = createRng(seed);
  const kernel = (shape: number[], fanIn: number): tf.Variable => {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = normalSamples(n, rng).map((v) => v * Math.sqrt(2 / fanIn));
    // tidy frees the initial tensor; the variable keeps its own reference.
    return tf.tidy(() => tf.variable(tf.tensor(values, shape), true));
  };
  const bias = (n: number): tf.Variable => tf.tidy(() => tf.variable(tf.zeros([n]), true));

  if (kind === 'mlp') {
    const params = {
      'hidden/kernel': kernel([PIXELS, 256], PIXELS),
      'hidden/bias': bias(256),
      'output/kernel': kernel([256, CLASSES], 256),
      'output/bias': bias(CLASSES),
    };
    return {
      kind,
      params,
      logits: (x) =>
        tf.tidy(() => {
          const h = tf.relu(tf.add(tf.matMul(x, params['hidden/kernel']), params['hidden/bias']));
          return tf.add(
            tf.matMul(h, params['output/kernel']),
            params['output/bias'],
          ) as tf.Tensor2D;
        }),
      dispose: () => tf.dispose(Object.values(params)),
    };
  }

  const flat = (IMAGE_SIDE / 4) * (IMAGE_SIDE / 4) * 16;
  const params = {
    'conv1/kernel': kernel([3, 3, 1, 8], 9),
    'conv1/bias': bias(8),
    'conv2/kernel': kernel([3, 3, 8, 16], 9 * 8),
    'conv2/bias': bias(16),
    'output/kernel': kernel([flat, CLASSES], flat),
    'output/bias': bias(CLASSES),
  };
  return {
    kind,
    params,
    logits: (x) =>
      tf.tidy(() => {
        const n = x.shape[0];
        const block = (input: tf.Tensor4D, kernel: tf.Variable, bias: tf.Variable): tf.Tensor4D =>
          tf.maxPool(
            tf.relu(tf.add(conv3x3(input, kernel as tf.Tensor4D), bias)) as tf.Tensor4D,
            2,
            2,
            'valid',
          );
        let h: tf.Tensor4D = tf.reshape(x, [n, IMAGE_SIDE, IMAGE_SIDE, 1]);
        h = block(h, params['conv1/kernel'], params['conv1/bias']);
        h = block(h, params['conv2/kernel'], params['conv2/bias']);
        return tf.add(
          tf.matMul(tf.reshape(h, [n, flat]), params['output/kernel']),
          params['output/bias'],
        ) as tf.Tensor2D;
      }),
    dispose: () => tf.dispose(Object.values(params)),
  };
}

/**
 * A 3x3 'same' convolution whose filter gradient is itself a convolution:
 * the wasm backend has no Conv2DBackpropFilter kernel, and the cpu one is
 * about 50x slower than this on MNIST-sized batches.
 */
const conv3x3 = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.conv2d(x, w, 1, 'same'),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [input, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const dy4 = dy as tf.Tensor4D;
      const dx = tf.conv2dTranspose(dy4, filter, input.shape, 1, 'same');
      // dW[i, j, c, o] = sum over batch and positions of xpad[b, y+i, x+j, c] * dy[b, y, x, o]:
      // a valid convolution of the channels-as-batch input with dy as the filter.
      const padded = tf.transpose(
        tf.pad(input, [
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ]),
        [3, 1, 2, 0],
      );
      const dyAsFilter = tf.transpose(dy4, [1, 2, 0, 3]);
      const dw = tf.transpose(
        tf.conv2d(padded as tf.Tensor4D, dyAsFilter as tf.Tensor4D, 1, 'valid'),
        [1, 2, 0, 3],
      );
      return [dx, dw];
    },
  };
}) as (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;

/** Mean softmax cross-entropy of `logits` against integer `labels`. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(labels, CLASSES);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}

/** Accuracy and mean loss of a model on a dataset. */
export interface Evaluation {
  readonly accuracy: number;
  readonly loss: number;
}

/** Evaluate `model` on all of `data`, in chunks to bound memory. */
export function evaluate(model: Model, data: Dataset, chunk = 1000): Evaluation {
  let correct = 0;
  let lossSum = 0;
  for (let from = 0; from < data.size; from += chunk) {
    const n = Math.min(chunk, data.size - from);
    const [hits, loss] = tf.tidy(() => {
      const x = tf.tensor2d(data.images.subarray(from * PIXELS, (from + n) * PIXELS), [n, PIXELS]);
      const y = tf.tensor1d(data.labels.subarray(from, from + n), 'int32');
      const logits = model.logits(x);
      const hit = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32'));
      return [hit.dataSync()[0] as number, crossEntropy(logits, y).dataSync()[0] as number];
    });
    correct += hits;
    lossSum += loss * n;
  }
  return { accuracy: correct / data.size, loss: lossSum / data.size };
}
