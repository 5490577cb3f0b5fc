import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import { step, treeDispose } from '@tfopt/core';
import { sgd, adam, adagrad } from '@tfopt/transforms';
import { egSgdm, egAdam, egAdagrad, readEgScale, readEgGains } from '@tfopt/eg';
await tf.setBackend('cpu');
const parabola = ({ w }) => tf.tidy(() => tf.sum(tf.mul(tf.tensor1d([1, 4]), tf.square(tf.sub(w, tf.tensor1d([1, -2]))))));
const rosen = ({ xy }) => tf.tidy(() => { const [x, y] = tf.split(xy, 2); return tf.sum(tf.add(tf.square(tf.sub(1, x)), tf.mul(100, tf.square(tf.sub(y, tf.square(x)))))); });
function run(tx, loss, start, steps) {
  let params = Object.fromEntries(Object.entries(start).map(([k, v]) => [k, tf.tensor1d(v)]));
  let state = tx.init(params); const keys = Object.keys(params);
  for (let i = 0; i < steps; i++) {
    const ga = tf.grads((...xs) => loss(Object.fromEntries(keys.map((k, j) => [k, xs[j]]))))(keys.map((k) => params[k]));
    const grads = Object.fromEntries(keys.map((k, j) => [k, ga[j]]));
    const next = step(tx, params, grads, state); treeDispose(grads); treeDispose(params);
    params = next.params; state = next.state;
  }
  const out = Object.fromEntries(keys.map((k) => [k, Array.from(params[k].dataSync())]));
  const sc = readEgScale(state); const gn = readEgGains(state);
  treeDispose(params); treeDispose(state); return { out, sc, gn };
}
const dist = (a, b) => Math.hypot(...a.map((x, i) => x - b[i]));
const cases = JSON.parse(process.argv[2]);
for (const [name, lr, extra, psteps = 500, rsteps = 2000] of cases) {
  const f = { egSgdm, egAdam, egAdagrad, sgd, adam, adagrad }[name];
  const p = run(f(lr, extra), parabola, { w: [-3, 4] }, psteps);
  const r = run(f(lr, extra), rosen, { xy: [-1.2, 1] }, rsteps);
  console.log(name, lr, JSON.stringify(extra), 'para', dist(p.out.w, [1, -2]).toExponential(2), p.sc, 'rosen', dist(r.out.xy, [1, 1]).toExponential(2), r.sc, r.gn && [r.gn.min, r.gn.max]);
}
