// Fit a small tfjs model with egAdam and print the learned step-size scale.
// Run after building: node examples/train.mjs
import * as tf from '@tensorflow/tfjs';
import { stepVariables } from '@tfopt/core';
import { egAdam, readEgGains, readEgScale } from '@tfopt/eg';

await tf.setBackend('cpu');

// y = sin(3x) on [-1, 1], with a little noise.
const x = tf.linspace(-1, 1, 256).reshape([256, 1]);
const y = tf.tidy(() => tf.sin(x.mul(3)).add(tf.randomNormal([256, 1], 0, 0.05, 'float32', 1)));

const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [1], units: 32, activation: 'tanh' }),
    tf.layers.dense({ units: 1 }),
  ],
});
// The optimizer works on a tree of variables: here { [name]: tf.Variable }.
const variables = Object.fromEntries(model.trainableWeights.map((w) => [w.name, w.read()]));

// The default scale rate (0.001) moves the scale by at most e^0.3 in 300
// steps; 0.01 makes the adaptation visible in a short run.
const tx = egAdam(0.01, { scale: { scaleLearningRate: 0.01 } });
let state = tx.init(variables);

for (let i = 1; i <= 300; i++) {
  const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(y, model.predict(x)));
  state = stepVariables(tx, variables, grads, state);
  if (i % 50 === 0) {
    const gains = readEgGains(state);
    console.log(
      `step ${i}: loss ${value.dataSync()[0].toFixed(5)}, scale ${readEgScale(state)[0].toFixed(4)}, ` +
        `gains mean ${gains.mean.toFixed(3)} [${gains.min.toFixed(3)}, ${gains.max.toFixed(3)}]`,
    );
  }
  tf.dispose([value, grads]);
}
console.log('learned scale:', readEgScale(state));
