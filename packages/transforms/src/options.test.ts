import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, TfoptError, TreeStructureError, treeDispose } from '@tfopt/core';
import { describeEachBackend } from '@tfopt/testing';
import { describe, expect, it } from 'vitest';
import {
  adagrad,
  adam,
  adamw,
  addDecayedWeights,
  clip,
  clipByGlobalNorm,
  ema,
  rmsprop,
  scale,
  scaleByAdagrad,
  scaleByAdam,
  scaleByLearningRate,
  scaleByRms,
  scaleBySchedule,
  scaleByStddev,
  sgd,
  trace,
} from './index.js';

const bad = (build: () => unknown, message: RegExp) => {
  expect(build).toThrow(InvalidOptionError);
  expect(build).toThrow(message);
};

describe('bad options throw at construction, naming the option', () => {
  it('learning rates', () => {
    bad(() => adam(-0.1), /adam: option "learningRate" must be a finite number >= 0, got -0.1/);
    bad(() => sgd(Number.NaN), /sgd: option "learningRate" .* got NaN/);
    bad(() => rmsprop(Number.POSITIVE_INFINITY), /rmsprop: option "learningRate" .* got Infinity/);
    bad(() => adagrad('0.1' as never), /adagrad: option "learningRate" .* got "0.1"/);
    bad(() => adamw(undefined as never), /adamw: option "learningRate" .* got undefined/);
    bad(() => scaleByLearningRate(-1), /scaleByLearningRate: option "learningRate"/);
  });

  it('decay rates outside [0, 1)', () => {
    bad(() => adam(0.1, { b1: 1 }), /adam: option "b1" must be a number in \[0, 1\), got 1/);
    bad(() => adam(0.1, { b2: -0.1 }), /adam: option "b2" must be a number in \[0, 1\), got -0.1/);
    bad(() => scaleByAdam({ b1: Number.NaN }), /scaleByAdam: option "b1" .* got NaN/);
    bad(() => sgd(0.1, { momentum: 1.5 }), /sgd: option "momentum" must be a number in \[0, 1\)/);
    bad(() => rmsprop(0.1, { decay: 1 }), /rmsprop: option "decay"/);
    bad(() => trace({ decay: -0.5 }), /trace: option "decay"/);
    bad(() => ema({ decay: 2 }), /ema: option "decay"/);
  });

  it('wrong types and non-finite values', () => {
    bad(
      () => scaleByAdam({ eps: '1e-8' as never }),
      /scaleByAdam: option "eps" must be a finite number >= 0, got "1e-8"/,
    );
    bad(
      () => scaleByRms({ epsInSqrt: 1 as never }),
      /scaleByRms: option "epsInSqrt" must be true or false, got 1/,
    );
    bad(() => scaleByStddev({ initialScale: -1 }), /scaleByStddev: option "initialScale"/);
    bad(
      () => scaleByAdagrad({ eps: Number.POSITIVE_INFINITY }),
      /scaleByAdagrad: option "eps" .* got Infinity/,
    );
    bad(
      () => adagrad(0.1, { initialAccumulatorValue: -0.1 }),
      /adagrad: option "initialAccumulatorValue"/,
    );
    bad(
      () => sgd(0.1, { nesterov: 'yes' as never }),
      /sgd: option "nesterov" must be true or false/,
    );
    bad(() => scaleByLearningRate(0.1, { flipSign: 0 as never }), /option "flipSign"/);
    bad(() => scale(Number.NaN), /scale: option "factor" must be a finite number, got NaN/);
    bad(
      () => clipByGlobalNorm(0),
      /clipByGlobalNorm: option "maxNorm" must be a finite number > 0, got 0/,
    );
    bad(() => clip(-1), /clip: option "maxDelta" must be a finite number >= 0, got -1/);
    bad(
      () => scaleBySchedule(0.1 as never),
      /scaleBySchedule: option "schedule" must be a function, got 0.1/,
    );
    bad(() => addDecayedWeights({ weightDecay: -1 }), /addDecayedWeights: option "weightDecay"/);
    bad(
      () => adamw(0.1, { mask: { dense: { kernel: 'yes' } } as never }),
      /adamw: option "mask" must be a tree of booleans or a function of the params \(at mask\.dense\.kernel\), got "yes"/,
    );
  });

  it('missing required options, misspelt options and misplaced arguments', () => {
    bad(
      () => trace({} as never),
      /trace: option "decay" must be a number in \[0, 1\), got undefined/,
    );
    bad(() => ema(undefined as never), /ema: option "decay"/);
    bad(() => addDecayedWeights({} as never), /addDecayedWeights: option "weightDecay"/);
    bad(
      () => adam(0.1, { beta1: 0.9 } as never),
      /adam: option "beta1" must be absent \(adam takes b1, b2, eps, epsRoot, nesterov\)/,
    );
    bad(
      () => sgd(0.1, { nesterov: true }),
      /sgd: option "nesterov" must be false unless "momentum" is set/,
    );
    bad(() => rmsprop(0.1, { nesterov: true }), /rmsprop: option "nesterov"/);
    expect(() => sgd(0.1, 0.9 as never)).toThrow(TfoptError);
    expect(() => sgd(0.1, 0.9 as never)).toThrow(
      /sgd: option "options" must be an object such as \{ momentum, nesterov \}, got 0\.9/,
    );
  });
});

describeEachBackend('mismatched trees throw naming the path', () => {
  it('updates whose shape differs from the state', () => {
    const tx = adam(0.1);
    const params = { dense: { kernel: tf.zeros([2, 2]), bias: tf.zeros([2]) } };
    const state = tx.init(params);
    const wrongShape = { dense: { kernel: tf.zeros([2, 2]), bias: tf.zeros([3]) } };
    expect(() => tx.update(wrongShape, state, params)).toThrow(TreeStructureError);
    expect(() => tx.update(wrongShape, state, params)).toThrow(
      // Inside a transform the trees are its arguments: the updates, then the state's trees.
      'trees[1].dense.bias has shape [2] but trees[0].dense.bias has [3]',
    );
    const missing = { dense: { kernel: tf.zeros([2, 2]), b: tf.zeros([2]) } };
    expect(() => tx.update(missing, state, params)).toThrow(
      'trees[1].dense is missing key "b" that trees[0].dense has',
    );
    treeDispose([params, state, wrongShape, missing]);
  });

  it('the tree checks run for every stateful transform', () => {
    const params = { w: tf.zeros([2]) };
    const other = { v: tf.zeros([2]) };
    for (const tx of [
      scaleByRms(),
      scaleByStddev(),
      scaleByAdagrad(),
      trace({ decay: 0.9 }),
      ema({ decay: 0.9 }),
    ]) {
      const state = tx.init(params);
      expect(() => (tx.update as (...a: unknown[]) => unknown)(other, state)).toThrow(
        /trees\[1\] is missing key "v" that trees\[0\] has/,
      );
      treeDispose(state);
    }
    const decay = addDecayedWeights({ weightDecay: 0.1 });
    expect(() => decay.update(other, decay.init(params), params)).toThrow(/is missing key "v"/);
    treeDispose([params, other]);
  });
});
