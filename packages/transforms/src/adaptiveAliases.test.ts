import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  getTransformFactory,
  InvalidOptionError,
  injectHyperparams,
  injectLearningRate,
  optimizerCatalog,
  stepVariables,
  treeDispose,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { describe, expect, it } from 'vitest';
import { ENTRIES } from './catalog/adaptive.js';
import {
  adabelief,
  adamax,
  adamaxw,
  adan,
  lion,
  nadam,
  nadamw,
  novograd,
  radam,
  scaleByAdamax,
  scaleByAmsgrad,
  scaleByBelief,
  scaleByLion,
  scaleByNovograd,
  scaleByRadam,
  scaleByYogi,
  yogi,
} from './index.js';

const bad = (build: () => unknown, message: RegExp) => {
  expect(build).toThrow(InvalidOptionError);
  expect(build).toThrow(message);
};

describe('adaptive aliases and transforms: bad options throw at construction, naming the option', () => {
  it('learning rates and decay rates', () => {
    bad(() => lion(-1), /lion: option "learningRate" must be a finite number >= 0, got -1/);
    bad(() => adan(Number.NaN), /adan: option "learningRate" .* got NaN/);
    bad(
      () => adabelief(0.1, { b1: 1 }),
      /adabelief: option "b1" must be a number in \[0, 1\), got 1/,
    );
    bad(() => adan(0.1, { b3: -0.1 }), /adan: option "b3" must be a number in \[0, 1\), got -0.1/);
    bad(() => scaleByYogi({ b2: 1.5 }), /scaleByYogi: option "b2" must be a number in \[0, 1\)/);
  });

  it('epsilons, weight decays and thresholds', () => {
    bad(
      () => yogi(0.1, { eps: -1e-3 }),
      /yogi: option "eps" must be a finite number >= 0, got -0.001/,
    );
    bad(() => scaleByBelief({ epsRoot: -1 }), /scaleByBelief: option "epsRoot"/);
    bad(
      () => adamaxw(0.1, { weightDecay: -1 }),
      /adamaxw: option "weightDecay" must be a finite number >= 0/,
    );
    bad(() => novograd(0.1, { weightDecay: Number.NaN }), /novograd: option "weightDecay"/);
    bad(
      () => scaleByRadam({ threshold: Number.POSITIVE_INFINITY }),
      /scaleByRadam: option "threshold" must be a finite number/,
    );
    bad(
      () => scaleByYogi({ initialAccumulatorValue: -1 }),
      /scaleByYogi: option "initialAccumulatorValue"/,
    );
  });

  it('wrong types, unknown options and bad masks', () => {
    bad(
      () => radam(0.1, { nesterov: 'yes' as never }),
      /radam: option "nesterov" must be true or false, got "yes"/,
    );
    bad(
      () => scaleByAmsgrad({ biasCorrectionNu: 1 as never }),
      /scaleByAmsgrad: option "biasCorrectionNu" must be true or false/,
    );
    bad(
      () => scaleByLion({ mode: 'soft' as never }),
      /scaleByLion: option "mode" must be one of "hard", "smooth", "refined", got "soft"/,
    );
    bad(
      () => scaleByLion({ smoothBeta: 0 }),
      /scaleByLion: option "smoothBeta" must be a finite number > 0/,
    );
    bad(
      () => nadam(0.1, { nesterov: true } as never),
      /nadam: option "nesterov" must be absent \(nadam takes b1, b2, eps, epsRoot\)/,
    );
    bad(() => lion(0.1, { beta1: 0.9 } as never), /lion: option "beta1" must be absent/);
    bad(() => adamax(0.1, 0.9 as never), /adamax: option "options" must be an object/);
    bad(
      () => nadamw(0.1, { mask: { w: 1 } as never }),
      /nadamw: option "mask" must be a tree of booleans .* \(at mask\.w\)/,
    );
    bad(() => adabelief(0.1, { mask: 'w' as never }), /adabelief: option "mask"/);
    bad(
      () => scaleByNovograd({ eps: '1e-8' as never }),
      /scaleByNovograd: option "eps" must be a finite number >= 0, got "1e-8"/,
    );
  });
});

describe('adaptive alias specs and catalog entries', () => {
  it('record the factory name and the exact arguments', () => {
    const schedule = (c: number) => 0.1 / (c + 1);
    expect(adabelief(1e-3).spec).toEqual({ name: 'adabelief', args: [1e-3] });
    expect(lion(schedule, { weightDecay: 0.1 }).spec).toEqual({
      name: 'lion',
      args: [schedule, { weightDecay: 0.1 }],
    });
    expect(nadamw(1e-3, { b2: 0.99 }).spec).toEqual({ name: 'nadamw', args: [1e-3, { b2: 0.99 }] });
    expect(scaleByAdamax({ eps: 0 }).spec).toEqual({ name: 'scaleByAdamax', args: [{ eps: 0 }] });
  });

  it('list every alias once, registered under its own name, with a spec of that name', () => {
    expect(ENTRIES.map((e) => e.name)).toEqual([
      'adabelief',
      'adamax',
      'adamaxw',
      'amsgrad',
      'nadam',
      'nadamw',
      'radam',
      'yogi',
      'lion',
      'novograd',
      'adan',
    ]);
    const catalog = new Set(optimizerCatalog().map((e) => e.name));
    for (const entry of ENTRIES) {
      expect(catalog.has(entry.name), entry.name).toBe(true);
      expect(getTransformFactory(entry.name), entry.name).toBe(entry.factory);
      expect(entry.factory(entry.typicalLearningRate).spec?.name, entry.name).toBe(entry.name);
      expect(entry.reference, entry.name).toMatch(/\d{4}/);
    }
  });
});

/** θ after `steps` steps from [0.5, −1.5, 2] on a fixed gradient sequence. */
function trajectory(tx: GradientTransformation<any>, steps = 6): number[] {
  const theta = { w: tf.variable(tf.tensor([0.5, -1.5, 2])) };
  let state = tx.init(theta);
  for (let k = 0; k < steps; k++) {
    const g = { w: tf.tensor([Math.sin(k), Math.cos(2 * k) - 0.3, 0.1 * k - 0.2]) };
    state = stepVariables(tx, theta, g, state);
    treeDispose(g);
  }
  const out = values(theta.w);
  treeDispose([theta, state]);
  return out;
}

describeEachBackend('adaptive aliases under hyperparameter injection', () => {
  for (const entry of ENTRIES) {
    it(`${entry.name}: the same numbers under injectLearningRate and injectHyperparams`, () => {
      const lr = entry.typicalLearningRate;
      const plain = trajectory(entry.factory(lr));
      expect(trajectory(injectLearningRate(entry.factory, lr))).toEqual(plain);
      expect(
        trajectory(
          injectHyperparams(({ learningRate }) => entry.factory(learningRate), {
            learningRate: lr,
          }),
        ),
      ).toEqual(plain);
    });
  }

  it('a weight-decay hyperparameter can be injected as well', () => {
    // Injected weightDecay 0.5 for adamaxw matches the alias built with it.
    const injected = injectHyperparams(
      ({ learningRate, weightDecay }) => adamaxw(learningRate, { weightDecay }),
      { learningRate: 0.1, weightDecay: 0.5 },
    );
    expect(trajectory(injected)).toEqual(trajectory(adamaxw(0.1, { weightDecay: 0.5 })));
  });
});

describeEachBackend('adaptive aliases: decoupled weight decay with a mask', () => {
  it('decays only the masked leaves', () => {
    // One step of lion(0.1, { weightDecay: 0.5, mask: { a: true, b: false } }) with g = 1 on both:
    //   u = sign(0.1·g) = 1; a: θ = 1 − 0.1·(1 + 0.5·1) = 0.85; b: θ = 1 − 0.1·1 = 0.9.
    const theta = { a: tf.variable(tf.tensor([1])), b: tf.variable(tf.tensor([1])) };
    const g = { b: tf.tensor([1]), a: tf.tensor([1]) };
    const tx = lion(0.1, { weightDecay: 0.5, mask: { a: true, b: false } });
    const state = stepVariables(tx, theta, g, tx.init(theta));
    expectArrayClose(values(theta.a), [0.85]);
    expectArrayClose(values(theta.b), [0.9]);
    treeDispose([theta, g, state]);
  });
});
