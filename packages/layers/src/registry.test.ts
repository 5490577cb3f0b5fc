import * as tf from '@tensorflow/tfjs-core';
import {
  chain,
  type GradientTransformation,
  identity,
  injectHyperparams,
  injectLearningRate,
  stateless,
  treeDispose,
  treeFlatten,
  withFunctionSpec,
  withSpec,
} from '@tfopt/core';
import {
  egAdagrad,
  egAdam,
  egCoordinateGains,
  egGlobalScale,
  egSgdm,
  hypergradientScale,
} from '@tfopt/eg';
import {
  constantSchedule,
  cosineDecaySchedule,
  exponentialDecaySchedule,
  joinSchedules,
  linearSchedule,
  piecewiseConstantSchedule,
  polynomialSchedule,
  warmupConstantSchedule,
  warmupCosineDecaySchedule,
} from '@tfopt/schedules';
import { describeEachBackend, values } from '@tfopt/testing';
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
} from '@tfopt/transforms';
import { describe, expect, it } from 'vitest';
import {
  getTransformFactory,
  NotSerializableError,
  registeredTransformFactories,
  registerTransformFactory,
  transformFromJson,
  transformToJson,
} from './index.js';

/** Save-then-load through text, as model.json does. */
function roundTrip(tx: GradientTransformation<any>): GradientTransformation<any> {
  return transformFromJson(JSON.parse(JSON.stringify(transformToJson(tx))));
}

/** Updates of three steps on a small tree, as flat arrays. */
function run(tx: GradientTransformation<any>): number[][] {
  const params = {
    a: tf.tensor1d([0.5, -1, 2]),
    b: tf.tensor2d([
      [1, -2],
      [3, 0.25],
    ]),
  };
  let state = tx.init(params);
  const out: number[][] = [];
  for (let i = 0; i < 3; i++) {
    const grads = {
      a: tf.tensor1d([0.1 * (i + 1), -0.2, 0.3]),
      b: tf.tensor2d([
        [0.05, -0.4 / (i + 1)],
        [0.2, -0.1],
      ]),
    };
    const [updates, next] = tx.update(grads, state, params);
    out.push(...treeFlatten(updates).map((l) => values(l.tensor)));
    treeDispose([updates, state, grads]);
    state = next;
  }
  treeDispose([state, params]);
  return out;
}

const seen: unknown[][] = [];
function custom(...args: unknown[]) {
  seen.push(args);
  return withSpec(identity(), 'tfoptTestCustom', args);
}
registerTransformFactory('tfoptTestCustom', custom);

const lr = warmupCosineDecaySchedule({
  initValue: 0,
  peakValue: 0.1,
  warmupSteps: 2,
  decaySteps: 10,
});

const TABLE: [string, () => GradientTransformation<any>][] = [
  ['identity', () => identity()],
  ['scale', () => scale(-0.5)],
  [
    'scaleBySchedule',
    () => scaleBySchedule(linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 4 })),
  ],
  ['scaleByLearningRate', () => scaleByLearningRate(0.1)],
  ['scaleByAdam', () => scaleByAdam({ b1: 0.8, eps: 1e-6 })],
  ['scaleByRms', () => scaleByRms()],
  ['scaleByStddev', () => scaleByStddev()],
  ['scaleByAdagrad', () => scaleByAdagrad()],
  ['trace', () => trace({ decay: 0.9, nesterov: true })],
  ['ema', () => ema({ decay: 0.5 })],
  ['addDecayedWeights', () => addDecayedWeights({ weightDecay: 0.01 })],
  ['clipByGlobalNorm', () => clipByGlobalNorm(0.3)],
  ['clip', () => clip(0.1)],
  ['sgd', () => sgd(0.1, { momentum: 0.9 })],
  ['adam with a schedule', () => adam(lr, { eps: 1e-7 })],
  ['adamw', () => adamw(0.01, { weightDecay: 0.1 })],
  ['adagrad', () => adagrad(0.1)],
  ['rmsprop', () => rmsprop(0.01)],
  [
    'egGlobalScale',
    () => chain(egGlobalScale({ scaleLearningRate: 0.1, perTensor: true }), scale(-0.1)),
  ],
  ['egCoordinateGains', () => chain(egCoordinateGains({ gainLearningRate: 0.1 }), scale(-0.1))],
  ['hypergradientScale', () => chain(hypergradientScale(), scale(-0.1))],
  ['egSgdm', () => egSgdm(0.05, { momentum: 0.8, scale: { scaleLearningRate: 0.1 } })],
  [
    'egAdam',
    () => egAdam(exponentialDecaySchedule({ initValue: 0.1, transitionSteps: 2, decayRate: 0.5 })),
  ],
  ['egAdagrad', () => egAdagrad(0.1, { gains: false })],
  [
    'joined and piecewise schedules',
    () =>
      sgd(
        joinSchedules(
          [
            constantSchedule(0.1),
            piecewiseConstantSchedule({ initValue: 0.05, boundariesAndScales: { 1: 0.5 } }),
            cosineDecaySchedule({ initValue: 0.01, decaySteps: 5 }),
          ],
          [1, 2],
        ),
      ),
  ],
  [
    'polynomial and warmup-constant schedules',
    () =>
      chain(
        scaleBySchedule(
          polynomialSchedule({ initValue: 1, endValue: 0.1, power: 2, transitionSteps: 3 }),
        ),
        scaleBySchedule(warmupConstantSchedule({ initValue: 0, peakValue: 1, warmupSteps: 2 })),
        scale(-1),
      ),
  ],
  ['injectLearningRate', () => injectLearningRate(egAdam, 0.01, { b1: 0.8 })],
  [
    'injectHyperparams with a registered factory',
    () => injectHyperparams(scaleByAdam, { b1: 0.8, b2: 0.99 }),
  ],
];

describe('the factory registry', () => {
  it('holds every tfopt factory', () => {
    const expected = [
      'identity',
      'chain',
      'injectHyperparams',
      'injectLearningRate',
      'scale',
      'scaleBySchedule',
      'scaleByLearningRate',
      'scaleByAdam',
      'scaleByRms',
      'scaleByStddev',
      'scaleByAdagrad',
      'trace',
      'ema',
      'addDecayedWeights',
      'clipByGlobalNorm',
      'clip',
      'sgd',
      'adam',
      'adamw',
      'adagrad',
      'rmsprop',
      'egGlobalScale',
      'egCoordinateGains',
      'hypergradientScale',
      'egSgdm',
      'egAdam',
      'egAdagrad',
      'constantSchedule',
      'polynomialSchedule',
      'linearSchedule',
      'cosineDecaySchedule',
      'warmupCosineDecaySchedule',
      'warmupConstantSchedule',
      'exponentialDecaySchedule',
      'piecewiseConstantSchedule',
      'joinSchedules',
    ];
    expect(registeredTransformFactories()).toEqual(expect.arrayContaining(expected));
    expect(getTransformFactory('egAdam')).toBe(egAdam);
  });

  it('protects registered names from being rebound by accident', () => {
    expect(() => registerTransformFactory('adam', sgd)).toThrow(/already bound.*replace: true/);
    registerTransformFactory('adam', adam); // the same function again is fine
    expect(() => registerTransformFactory('', adam)).toThrow(/non-empty string/);
    expect(() => registerTransformFactory('x', 3 as never)).toThrow(/must be a function/);
  });
});

describeEachBackend('spec round trip', () => {
  for (const [title, build] of TABLE) {
    it(`${title}: same spec and same updates after save and load`, () => {
      const original = build();
      const revived = roundTrip(original);
      expect(transformToJson(revived)).toEqual(transformToJson(original));
      expect(run(revived)).toEqual(run(original));
    });
  }

  it('keeps special numbers, undefined and $-keys of user specs', () => {
    seen.length = 0;
    const args = [
      Number.NaN,
      Number.NEGATIVE_INFINITY,
      undefined,
      { $weird: 1, plain: [1, 'a_b'] },
      null,
      'x',
    ];
    roundTrip(custom(...args));
    expect(seen[1]).toEqual(args);
  });
});

describe('what cannot be saved', () => {
  it('a transform without a spec says how to give it one', () => {
    const bare = stateless((u) => u);
    expect(() => transformToJson(bare)).toThrow(NotSerializableError);
    expect(() => transformToJson(bare)).toThrow(
      /withSpec\(transform, name, args\).*registerTransformFactory/,
    );
    // A chain with one such link has no spec either.
    expect(() => transformToJson(chain(adam(0.1), bare))).toThrow(
      /a chain has one only when every link does/,
    );
  });

  it('a spec whose name is not registered names it', () => {
    const tx = withSpec(identity(), 'notRegisteredAnywhere', [1]);
    expect(() => transformToJson(chain(tx))).toThrow(
      /chain\.args\[0\] → notRegisteredAnywhere: no factory is registered under "notRegisteredAnywhere"; call registerTransformFactory/,
    );
  });

  it('a schedule or factory from user code without a spec names where it sits', () => {
    expect(() => transformToJson(adam((c: number) => 0.1 / (1 + c)))).toThrow(
      /adam\.args\[0\]: a function that has no spec and is not a registered factory/,
    );
    const factory = ({ learningRate }: { learningRate: number }) => sgd(learningRate);
    const tx = injectHyperparams(factory, { learningRate: 0.1 });
    expect(() => transformToJson(tx)).toThrow(/injectHyperparams\.args\[0\]: a function/);
    // Registering the function itself makes it savable.
    registerTransformFactory('tfoptTestSgdFactory', factory);
    expect(run(roundTrip(tx))).toEqual(run(tx));
  });

  it('a schedule with a spec from user code works once its factory is registered', () => {
    const halving = (start: number) =>
      withFunctionSpec((c: number) => start / 2 ** c, 'tfoptTestHalving', [start]);
    const tx = sgd(halving(0.4));
    expect(() => transformToJson(tx)).toThrow(/"tfoptTestHalving"/);
    registerTransformFactory('tfoptTestHalving', halving);
    expect(run(roundTrip(tx))).toEqual(run(tx));
  });

  it('tensors and class instances in arguments are refused', () => {
    const withTensor = withSpec(identity(), 'identity', [tf.scalar(1)]);
    expect(() => transformToJson(withTensor)).toThrow(/identity\.args\[0\]: a tensor/);
    const withDate = withSpec(identity(), 'identity', [{ when: new Date(0) }]);
    expect(() => transformToJson(withDate)).toThrow(
      /identity\.args\[0\]\.when: an instance of Date/,
    );
    tf.dispose(withTensor.spec?.args as tf.Tensor[]);
  });

  it('loading a spec whose factory is unknown says so', () => {
    expect(() => transformFromJson({ name: 'neverRegistered', args: [] })).toThrow(
      /no factory is registered under "neverRegistered".*before loading/,
    );
    expect(() => transformFromJson({ name: 'constantSchedule', args: [1] })).toThrow(
      /does not rebuild a transform/,
    );
  });
});
