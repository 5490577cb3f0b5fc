import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll } from 'vitest';

// Fixtures for the tfjs-layers tests (import from '@tfopt/testing/layers', so
// that packages without tfjs-layers never load it).

/**
 * A small regression problem: 48 samples of 3 inputs, 3 batches of 16 per
 * epoch, targets from a fixed smooth function. One target in each batch
 * listed in `nanBatches` is NaN, so every gradient of that batch is NaN.
 */
export function regressionData(nanBatches: readonly number[] = []): {
  xs: tf.Tensor2D;
  ys: tf.Tensor2D;
} {
  const x = Array.from({ length: 48 * 3 }, (_, i) => Math.sin(1.7 * i + 0.3));
  const y = Array.from(
    { length: 48 },
    (_, i) =>
      0.5 * (x[3 * i] as number) - (x[3 * i + 1] as number) + 2 * (x[3 * i + 2] as number) ** 2,
  );
  for (const b of nanBatches) y[16 * b + 5] = Number.NaN;
  return { xs: tf.tensor2d(x, [48, 3]), ys: tf.tensor2d(y, [48, 1]) };
}

/** A seeded 3-6-1 tanh network for {@link regressionData}. */
export function regressionModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({
        units: 6,
        inputShape: [3],
        activation: 'tanh',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
      }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }) }),
    ],
  });
}

/** Two epochs of the three batches, in order. */
export const REGRESSION_FIT = { epochs: 2, batchSize: 16, shuffle: false, verbose: 0 } as const;

/**
 * Turn tfjs's test-mode leak check off on wasm for the suite: it misfires on
 * wasm's fused matMul during training (the tests count tensors themselves).
 */
export function quietWasmLeakCheck(backend: string): void {
  beforeAll(() => {
    if (backend === 'wasm') tf.env().set('IS_TEST', false);
  });
  afterAll(() => {
    tf.env().set('IS_TEST', true);
  });
}

/** What `model.save` writes with the optimizer, its JSON part through text as a file would have it. */
export async function saveWithOptimizer(m: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
    { includeOptimizer: true },
  );
  if (artifacts === undefined) throw new Error('model.save wrote nothing');
  const { weightData, ...json } = artifacts;
  return { ...JSON.parse(JSON.stringify(json)), weightData };
}

/** The model's weights as plain arrays, for exact comparison. */
export function modelWeights(m: tf.LayersModel): number[][] {
  return m.getWeights().map((w) => Array.from(w.dataSync()));
}
