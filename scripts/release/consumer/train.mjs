// A consumer in plain ESM JavaScript: trains a linear model from the installed tarballs, once
// with stepVariables on a tree of tf.Variables and once with TransformOptimizer in model.fit,
// and prints the first and last loss of each as JSON.
import * as tf from '@tensorflow/tfjs';
import { stepVariables } from '@tfopt/core';
import { positive } from '@tfopt/core/options';
import { egAdam } from '@tfopt/eg';
import { TransformOptimizer } from '@tfopt/layers';

await tf.setBackend('cpu');
if (positive('consumer', 'learningRate', 0.1)._tag !== 'Right') throw new Error('options rule');
const xs = tf.randomNormal([64, 4], 0, 1, 'float32', 1);
const ys = tf.sum(xs, 1, true);

const vars = { w: tf.variable(tf.zeros([4, 1])), b: tf.variable(tf.zeros([1])) };
const mse = (w, b) => tf.losses.meanSquaredError(ys, tf.add(tf.matMul(xs, w), b));
const lossAndGrads = tf.grads(mse);
const tx = egAdam(0.1);
let state = tx.init(vars);
const steps = [];
for (let i = 0; i < 10; i++) {
  steps.push(tf.tidy(() => mse(vars.w, vars.b).dataSync()[0]));
  const [w, b] = lossAndGrads([vars.w, vars.b]);
  state = stepVariables(tx, vars, { w, b }, state);
  tf.dispose([w, b]);
}
steps.push(tf.tidy(() => mse(vars.w, vars.b).dataSync()[0]));

const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 1 })] });
model.compile({ optimizer: new TransformOptimizer(egAdam(0.05)), loss: 'meanSquaredError' });
const history = await model.fit(xs, ys, { epochs: 20, verbose: 0 });

console.log(JSON.stringify({ stepVariables: steps, fit: history.history.loss }));
