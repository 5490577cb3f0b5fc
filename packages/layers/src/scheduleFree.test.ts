import * as tf from '@tensorflow/tfjs';
import { type ScheduleFreeState, scheduleFreeAdamw, scheduleFreeSgd } from '@tfopt/contrib';
import { describeEachBackend, expectArrayClose } from '@tfopt/testing';
import {
  quietWasmLeakCheck,
  REGRESSION_FIT,
  regressionData,
  regressionModel,
  modelWeights as weights,
} from '@tfopt/testing/layers';
import { expect, it } from 'vitest';
import { TransformOptimizer } from './index.js';

/** The model's weights as raw float32 bit patterns (for bit-for-bit comparisons). */
function bits(m: tf.LayersModel): number[][] {
  return m
    .getWeights()
    .map((w) => Array.from(new Uint32Array(new Float32Array(w.dataSync()).buffer)));
}

/** x = (y − (1 − b1)·z) / b1 computed by hand, in float64, for each weight of the model. */
function handX(m: tf.LayersModel, optimizer: TransformOptimizer<any>): number[][] {
  const state = optimizer.getState() as ScheduleFreeState;
  const b1 = state.b1;
  const z = state.z as Record<string, tf.Tensor>;
  return m.weights.map((w) => {
    const y = w.read().dataSync();
    const zi = (z[(w.read() as tf.Variable).name] as tf.Tensor).dataSync();
    return Array.from(y, (yi, i) => (yi - (1 - b1) * (zi[i] as number)) / b1);
  });
}

describeEachBackend('TransformOptimizer.withEvaluationParams (Schedule-Free)', (backend) => {
  quietWasmLeakCheck(backend);

  it('evaluates at x inside model.fit and training continues bit for bit as without it', async () => {
    const { xs, ys } = regressionData();
    const run = async (swap: boolean) => {
      const m = regressionModel();
      const optimizer = new TransformOptimizer(scheduleFreeAdamw(0.05));
      m.compile({ optimizer, loss: 'meanSquaredError' });
      const seen: {
        inside: number[][];
        y: number[][];
        expected: number[][];
        loss: number;
        lossByHand: number;
      }[] = [];
      await m.fit(xs, ys, {
        ...REGRESSION_FIT,
        epochs: 3,
        callbacks: {
          onEpochEnd: async () => {
            if (!swap) return;
            const expected = handX(m, optimizer);
            const before = bits(m);
            const { inside, loss } = await optimizer.withEvaluationParams(async () => {
              const l = m.evaluate(xs, ys) as tf.Scalar;
              const value = (await l.data())[0] as number;
              l.dispose();
              return { inside: weights(m), loss: value };
            });
            expect(bits(m)).toEqual(before); // y is back, bit for bit
            // The loss at x by hand: a second model holding the hand-computed x.
            const probe = regressionModel();
            probe.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
            const given = expected.map((w, i) => tf.tensor(w, m.getWeights()[i]!.shape));
            probe.setWeights(given);
            const pl = probe.evaluate(xs, ys) as tf.Scalar;
            const lossByHand = (await pl.data())[0] as number;
            tf.dispose([pl, given]);
            probe.dispose();
            seen.push({ inside, y: weights(m), expected, loss, lossByHand });
          },
        },
      });
      const out = { bits: bits(m), seen };
      optimizer.dispose();
      m.dispose();
      return out;
    };
    const withSwap = await run(true);
    const without = await run(false);
    expect(withSwap.seen.length).toBe(3);
    for (const s of withSwap.seen) {
      s.inside.forEach((w, i) => {
        expectArrayClose(w, s.expected[i]!, { rtol: 1e-6, atol: 1e-6 }, `x weight ${i}`);
      });
      expectArrayClose([s.loss], [s.lossByHand], { rtol: 1e-5, atol: 1e-7 }, 'loss at x');
    }
    // x differs from y after training (the swap did something).
    expect(withSwap.seen[2]!.inside).not.toEqual(withSwap.seen[2]!.y);
    expect(withSwap.bits).toEqual(without.bits);
    tf.dispose([xs, ys]);
  });

  it('restores y bit for bit when fn throws, leaks nothing, and runs fn as is before the first step', async () => {
    const { xs, ys } = regressionData();
    const m = regressionModel();
    const optimizer = new TransformOptimizer(scheduleFreeSgd(0.1));
    m.compile({ optimizer, loss: 'meanSquaredError' });
    const untouched = bits(m);
    expect(await optimizer.withEvaluationParams(() => bits(m))).toEqual(untouched);
    await m.fit(xs, ys, { ...REGRESSION_FIT, epochs: 1 });
    const before = bits(m);
    const tensors = tf.memory().numTensors;
    const x = handX(m, optimizer);
    await expect(
      optimizer.withEvaluationParams(() => {
        weights(m).forEach((w, i) => {
          expectArrayClose(w, x[i]!, { rtol: 1e-6, atol: 1e-6 }, `x weight ${i}`);
        });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(bits(m)).toEqual(before);
    expect(tf.memory().numTensors).toBe(tensors);
    optimizer.dispose();
    m.dispose();
    tf.dispose([xs, ys]);
  });
});
