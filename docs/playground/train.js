// The playground's toy problem and its training loop, kept apart from the page so that it runs
// the same in Node: a small tanh network fits a noisy sine curve with egAdam through
// stepVariables, the learning rate injected so that it can change between steps; each step
// records the loss and the learned EG scale.
import * as tf from '@tensorflow/tfjs';
import {
  getHyperparams,
  injectLearningRate,
  setHyperparams,
  stepVariables,
  treeDispose,
} from '@tfopt/core';
import { egAdam, readEgScale } from '@tfopt/eg';

/** Number of points of the curve, evenly spaced on [-1, 1]. */
export const POINTS = 128;
const HIDDEN = 16;

/** A positive finite number, or an error naming the setting. */
export function checkRate(name, value) {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${name} must be a positive number, got ${value}`);
  }
  return value;
}

/**
 * A trainer on the current tf backend. `learningRate` can change between steps
 * (`setLearningRate`); `scaleLearningRate` is egAdam's `scale.scaleLearningRate`, fixed per trainer.
 * `step(n)` runs `n` steps and appends each step's loss (before the update) and scale to
 * `losses` and `scales`. Call `dispose` to free every tensor it made.
 */
export function createTrainer({ learningRate, scaleLearningRate, seed = 7 }) {
  checkRate('learning rate', learningRate);
  checkRate('scale learning rate', scaleLearningRate);
  const xs = tf.tidy(() => tf.reshape(tf.linspace(-1, 1, POINTS), [POINTS, 1]));
  // The curve 0.8 sin(2 pi x) plus seeded noise of standard deviation 0.05.
  const ys = tf.tidy(() =>
    tf.add(
      tf.mul(0.8, tf.sin(tf.mul(2 * Math.PI, xs))),
      tf.randomNormal([POINTS, 1], 0, 0.05, 'float32', seed),
    ),
  );
  // Keys equal the variable names, as tf.variableGrads keys the gradients by name.
  const layer = (name, fanIn, fanOut, offset) =>
    tf.tidy(() => ({
      [`w${name}`]: tf.variable(
        tf.randomNormal([fanIn, fanOut], 0, Math.sqrt(1 / fanIn), 'float32', seed + offset),
        true,
        `w${name}`,
      ),
      [`b${name}`]: tf.variable(tf.zeros([fanOut]), true, `b${name}`),
    }));
  const vars = {
    ...layer('1', 1, HIDDEN, 1),
    ...layer('2', HIDDEN, HIDDEN, 2),
    ...layer('3', HIDDEN, 1, 3),
  };
  const forward = (x) => {
    const h1 = tf.tanh(tf.add(tf.matMul(x, vars.w1), vars.b1));
    const h2 = tf.tanh(tf.add(tf.matMul(h1, vars.w2), vars.b2));
    return tf.add(tf.matMul(h2, vars.w3), vars.b3);
  };
  const loss = () => tf.losses.meanSquaredError(ys, forward(xs));

  const tx = injectLearningRate(egAdam, learningRate, { scale: { scaleLearningRate } });
  let state = tx.init(vars);
  const losses = [];
  const scales = [readEgScale(state)[0]];

  return {
    losses,
    scales,
    get learningRate() {
      return getHyperparams(state).learningRate;
    },
    setLearningRate(value) {
      // Pure: the new state shares the old one's tensors, so nothing is freed here.
      state = setHyperparams(state, { learningRate: checkRate('learning rate', value) });
    },
    step(n = 1) {
      for (let i = 0; i < n; i++) {
        const { value, grads } = tf.variableGrads(loss);
        losses.push(value.dataSync()[0]);
        state = stepVariables(tx, vars, grads, state);
        tf.dispose([value, grads]);
        scales.push(readEgScale(state)[0]);
      }
    },
    /** The data and the current fit, as plain arrays. */
    curves() {
      const fit = tf.tidy(() => forward(xs));
      const out = { x: xs.dataSync(), y: ys.dataSync(), fit: fit.dataSync() };
      fit.dispose();
      return out;
    },
    dispose() {
      // egAdam's state holds no tensor of the caller's (stepVariables guarantees it).
      treeDispose(state);
      tf.dispose([xs, ys, ...Object.values(vars)]);
    },
  };
}
