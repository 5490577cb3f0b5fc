// Bundled by vite from the installed tarballs and run in headless Chromium: trains a tiny
// model with egAdam on each backend the browser offers and leaves the losses on `window`. On
// cpu it first loads the fused path (a chunk of its own in the bundle) and trains fused, then
// saves the model and loads it back, which needs @tfopt/eg's registration module.
import * as tf from '@tensorflow/tfjs';
import { loadFusedSteps } from '@tfopt/core';
import { egAdam } from '@tfopt/eg';
import '@tfopt/eg/register';
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
  const fused = backend === 'cpu';
  if (fused) await loadFusedSteps();
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 1 })] });
  const optimizer = new TransformOptimizer(egAdam(0.05), fused ? { fused: true } : {});
  model.compile({ optimizer, loss: 'meanSquaredError' });
  const history = await model.fit(xs, ys, { epochs: 20, verbose: 0 });
  const run = { backend, offered: true, fused, loss: history.history.loss };
  if (fused) run.resumedLoss = await saveLoadResume(model, xs, ys);
  tf.dispose([xs, ys]);
  model.dispose();
  return run;
}

// Save with the optimizer, load into a new model and train one more epoch: the loss it reports.
async function saveLoadResume(model, xs, ys) {
  let saved;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
    { includeOptimizer: true },
  );
  const restored = await tf.loadLayersModel(tf.io.fromMemory(saved));
  if (!(restored.optimizer instanceof TransformOptimizer)) {
    throw new Error('the loaded model has no TransformOptimizer');
  }
  const history = await restored.fit(xs, ys, { epochs: 1, verbose: 0 });
  restored.optimizer.dispose();
  restored.dispose();
  return history.history.loss[0];
}

window.releaseCheck = (async () => {
  try {
    return { renderer: webglRenderer(), runs: [await train('cpu'), await train('webgl')] };
  } catch (e) {
    return { error: String(e?.stack ?? e) };
  }
})();
