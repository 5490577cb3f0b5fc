import * as tf from '@tensorflow/tfjs-core';
import { chain, treeDispose } from '@tfopt/core';
import { describeEachBackend } from '@tfopt/testing';
import { scaleByAdam, scaleByLearningRate } from '@tfopt/transforms';
import { expect, it } from 'vitest';
import { egAdam, egSgdm } from './aliases.js';
import { egCoordinateGains } from './coordinateGains.js';
import { egGlobalScale } from './globalScale.js';
import { hypergradientScale } from './hypergradient.js';
import {
  findEgCoordinateGainsState,
  findEgGlobalScaleState,
  findHypergradientScaleState,
  isEgCoordinateGainsState,
  isEgGlobalScaleState,
  readEgGains,
  readEgScale,
  readEgScaleByPath,
  readHypergradientScale,
  readHypergradientScaleByPath,
} from './inspect.js';

describeEachBackend('reading EG state', () => {
  it('finds the EG states inside nested chains and wrapper records', () => {
    const tx = chain(
      scaleByAdam(),
      chain(egCoordinateGains(), chain(egGlobalScale({ perTensor: true }))),
    );
    const state = tx.init({ a: tf.zeros([2]), b: tf.zeros([3]) });
    const wrapped = { hyperparams: { learningRate: 0.1 }, inner: state };
    expect(findEgGlobalScaleState(wrapped)).toBe(state[1][1][0]);
    expect(findEgCoordinateGainsState(wrapped)).toBe(state[1][0]);
    expect(findHypergradientScaleState(wrapped)).toBeUndefined();
    expect(readEgScale(wrapped)).toEqual([1, 1]);
    expect(isEgGlobalScaleState(state[0])).toBe(false);
    expect(isEgCoordinateGainsState(state[0])).toBe(false);
    treeDispose(state);
  });

  it('returns [] / undefined when a part is switched off', () => {
    const state = egSgdm(0.1, { gains: false, scale: false }).init({ w: tf.zeros([2]) });
    expect(readEgScale(state)).toEqual([]);
    expect(readEgScaleByPath(state)).toEqual({});
    expect(readEgGains(state)).toBeUndefined();
    expect(readHypergradientScale(state)).toEqual([]);
    expect(readHypergradientScaleByPath(state)).toEqual({});
    treeDispose(state);
  });

  it('summarises the gains: mean, min and max over every coordinate', () => {
    // gainLearningRate 0.5, gradients w: [1, -1, 2], b: [[3]] then w: [1, 1, -2], b: [[0]]:
    // signs agree, disagree, disagree, vanish: gains e^0.5, e^-0.5, e^-0.5, 1.
    // mean = (1.6487213 + 2 * 0.6065307 + 1) / 4 = 0.9654457
    const tx = chain(egCoordinateGains({ gainLearningRate: 0.5 }), scaleByLearningRate(0.1));
    const params = { w: tf.zeros([3]), b: tf.zeros([1, 1]) };
    let state = tx.init(params);
    for (const [w, b] of [
      [[1, -1, 2], [[3]]],
      [[1, 1, -2], [[0]]],
    ] as const) {
      const g = {
        w: tf.tensor1d(w as unknown as number[]),
        b: tf.tensor2d(b as unknown as number[][]),
      };
      const [out, next] = tx.update(g, state);
      treeDispose([g, out, state]);
      state = next;
    }
    const summary = readEgGains(state)!;
    expect(summary.size).toBe(4);
    expect(summary.count).toBe(2);
    expect(summary.min).toBeCloseTo(0.6065307, 6);
    expect(summary.max).toBeCloseTo(1.6487213, 6);
    expect(summary.mean).toBeCloseTo(0.9654457, 6);
    treeDispose([params, state]);
  });

  it('reads the scale of egAdam and the multiplier of hypergradientScale', () => {
    const s1 = egAdam(1e-3).init({ w: tf.zeros([2]) });
    expect(readEgScale(s1)).toEqual([1]);
    const s2 = chain(hypergradientScale({ initial: 2, perTensor: true })).init([
      tf.zeros([1]),
      tf.zeros([1]),
    ]);
    expect(readHypergradientScale(s2)).toEqual([2, 2]);
    expect(readHypergradientScaleByPath(s2)).toEqual({ '[0]': 2, '[1]': 2 });
    treeDispose([s1, s2]);
  });

  it("reads a scale by path: the root for a global scale, each tensor's path per tensor", () => {
    const params = {
      'dense/kernel': tf.zeros([2, 2]),
      layers: [{ w: tf.zeros([1]) }],
      a: tf.zeros([3]),
    };
    const global = egAdam(1e-3).init(params);
    expect(readEgScaleByPath(global)).toEqual({ '': 1 });
    const perTensor = egSgdm(0.1, { scale: { perTensor: true } }).init(params);
    expect(readEgScaleByPath(perTensor)).toEqual({
      '.a': 1,
      '["dense/kernel"]': 1,
      '.layers[0].w': 1,
    });
    // Canonical order: a, dense/kernel, layers.
    expect(readEgScale(perTensor)).toEqual([1, 1, 1]);
    expect(isEgGlobalScaleState(findEgGlobalScaleState(perTensor))).toBe(true);
    treeDispose([params, global, perTensor]);
  });
});
