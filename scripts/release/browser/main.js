// Bundled by vite from the installed tarballs and run in headless Chromium: trains a tiny
// model with egAdam on each backend the browser offers and leaves the losses on `window`.
import * as tf from '@tensorflow/tfjs';
import { egAdam } from '@tfopt/eg';
import { TransformOptimizer } from '@tfopt/layers';

function webglRenderer() {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return undefined;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  return gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
}

async function train(backend) {
  const offered = await tf.setBackend(backend).catch(() => false);
  if (!offered || tf.getBackend() !== backend) return { backend, offered: false };
  const xs = tf.randomNormal([64, 4], 0, 1, 'float32', 1);
  const ys = tf.sum(xs, 1, true);
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 1 })] });
  model.compile({ optimizer: new TransformOptimizer(egAdam(0.05)), loss: 'meanSquaredError' });
  const history = await model.fit(xs, ys, { epochs: 20, verbose: 0 });
  tf.dispose([xs, ys]);
  model.dispose();
  return { backend, offered: true, loss: history.history.loss };
}

window.releaseCheck = (async () => {
  try {
    return { renderer: webglRenderer(), runs: [await train('cpu'), await train('webgl')] };
  } catch (e) {
    return { error: String(e?.stack ?? e) };
  }
})();
