// A consumer in strict TypeScript (built once with moduleResolution node16, once with bundler):
// the same training as train.mjs, typed through the packages' declarations, including a
// generic over the transform's state and the `@tfopt/core/options` subpath.
import * as tf from '@tensorflow/tfjs';
import { type GradientTransformation, stepVariables } from '@tfopt/core';
import { type OptionRule, positive } from '@tfopt/core/options';
import { egAdam } from '@tfopt/eg';
import { TransformOptimizer } from '@tfopt/layers';

await tf.setBackend('cpu');
const rule: OptionRule = positive;
if (rule('consumer', 'learningRate', 0.1)._tag !== 'Right') throw new Error('options rule');
const xs = tf.randomNormal([64, 4], 0, 1, 'float32', 1);
const ys = tf.sum(xs, 1, true);

type Params = { w: tf.Variable; b: tf.Variable };
const mse = (w: tf.Tensor, b: tf.Tensor): tf.Tensor =>
  tf.losses.meanSquaredError(ys, tf.add(tf.matMul(xs, w), b));
const lossAndGrads = tf.grads(mse);

function train<S>(tx: GradientTransformation<S>, vars: Params, n: number): number[] {
  const loss = (): number => tf.tidy(() => mse(vars.w, vars.b).dataSync()[0] as number);
  let state: S = tx.init(vars);
  const losses: number[] = [];
  for (let i = 0; i < n; i++) {
    losses.push(loss());
    const [w, b] = lossAndGrads([vars.w, vars.b]) as [tf.Tensor, tf.Tensor];
    state = stepVariables(tx, vars, { w, b }, state);
    tf.dispose([w, b]);
  }
  losses.push(loss());
  return losses;
}

const vars: Params = { w: tf.variable(tf.zeros([4, 1])), b: tf.variable(tf.zeros([1])) };
const steps = train(egAdam(0.1), vars, 10);

const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 1 })] });
model.compile({ optimizer: new TransformOptimizer(egAdam(0.05)), loss: 'meanSquaredError' });
const history = await model.fit(xs, ys, { epochs: 20, verbose: 0 });

console.log(JSON.stringify({ stepVariables: steps, fit: history.history.loss }));
