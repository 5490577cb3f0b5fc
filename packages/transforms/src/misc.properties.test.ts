import * as tf from '@tensorflow/tfjs-core';
import { chain, type GradientTransformation, tidy, treeSquaredNorm } from '@tfopt/core';
import { fc, logUniform, propertyRow, propertySuite } from '@tfopt/testing';
import {
  addNoise,
  centralize,
  keepParamsNonnegative,
  noisySgd,
  optimisticAdam,
  optimisticGradientDescent,
  polyakSgd,
  scaleByLearningRate,
  scaleByOptimisticGradient,
  scaleByPolyakStepSize,
  scaleBySign,
  signSgd,
  signum,
  zeroNans,
} from './index.js';

/**
 * `tx` with `context.loss` filled in when the caller gave none, as
 * `TransformOptimizer` fills it in: the suite passes a context only in some
 * runs, and the Polyak step needs a loss at every update. The stand-in loss,
 * `1 + ‖params‖²`, is a function of the params only, so it obeys the
 * properties under test (key order, purity) exactly as a real loss would.
 */
function withLoss(tx: GradientTransformation<any>): GradientTransformation<any> {
  return {
    init: (params) => tx.init(params),
    update: (updates, state, params, context) =>
      tidy(() =>
        tx.update(updates, state, params, {
          ...context,
          loss: context?.loss ?? (tf.add(treeSquaredNorm(params ?? {}), 1) as tf.Scalar),
        }),
      ),
  };
}

// Every alias of misc.table.test.ts and the building blocks they are made of
// through the random property table of @tfopt/testing (key order, chain laws,
// purity, ownership, leaks) over random trees, gradients and hyperparameters.
const lr = logUniform(1e-4, 1);
const decay = fc.double({ min: 0, max: 0.99, noNaN: true });
const b2 = fc.double({ min: 0.9, max: 0.9999, noNaN: true });
const eps = logUniform(1e-8, 1e-4);
const weight = fc.double({ min: -2, max: 2, noNaN: true });
const seed = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const noise = fc.record({
  eta: logUniform(1e-4, 1),
  gamma: fc.double({ min: 0, max: 1, noNaN: true }),
  seed,
});
const polyak = fc.record({
  fMin: fc.double({ min: -1, max: 1, noNaN: true }),
  eps: fc.oneof(fc.constant(0), logUniform(1e-8, 1e-2)),
  variant: fc.constantFrom('sps' as const, 'sps+' as const),
});

propertySuite('misc aliases (random properties)', [
  propertyRow({
    name: 'noisySgd',
    hyper: fc.tuple(lr, noise),
    build: ([rate, options]) => noisySgd(rate, options),
  }),
  propertyRow({
    name: 'optimisticGradientDescent',
    hyper: fc.record({ rate: lr, alpha: weight, beta: weight }),
    build: ({ rate, ...options }) => optimisticGradientDescent(rate, options),
  }),
  propertyRow({
    name: 'optimisticAdam',
    hyper: fc.record({
      rate: lr,
      b1: decay,
      b2,
      eps,
      alpha: weight,
      beta: weight,
      nesterov: fc.boolean(),
    }),
    build: ({ rate, ...options }) => optimisticAdam(rate, options),
  }),
  propertyRow({
    name: 'polyakSgd (loss from the params)',
    hyper: fc.tuple(logUniform(1e-3, 10), logUniform(0.1, 10), polyak),
    build: ([cap, scaling, options]) => withLoss(polyakSgd(cap, { scaling, ...options })),
  }),
  propertyRow({ name: 'signSgd', hyper: lr, build: (rate) => signSgd(rate) }),
  propertyRow({
    name: 'signum',
    hyper: fc.tuple(lr, decay),
    build: ([rate, beta]) => signum(rate, { beta }),
  }),
  // The building blocks, each before a learning rate (keepParamsNonnegative after it).
  propertyRow({
    name: 'zeroNans + lr',
    hyper: lr,
    build: (rate) => chain(zeroNans(), scaleByLearningRate(rate)),
  }),
  propertyRow({
    name: 'lr + keepParamsNonnegative',
    hyper: lr,
    build: (rate) => chain(scaleByLearningRate(rate), keepParamsNonnegative()),
  }),
  propertyRow({
    name: 'centralize + lr',
    hyper: lr,
    build: (rate) => chain(centralize(), scaleByLearningRate(rate)),
  }),
  propertyRow({
    name: 'addNoise + lr',
    hyper: fc.tuple(lr, noise),
    build: ([rate, options]) => chain(addNoise(options), scaleByLearningRate(rate)),
  }),
  propertyRow({
    name: 'scaleBySign + lr',
    hyper: lr,
    build: (rate) => chain(scaleBySign(), scaleByLearningRate(rate)),
  }),
  propertyRow({
    name: 'scaleByOptimisticGradient + lr',
    hyper: fc.tuple(lr, weight, weight),
    build: ([rate, alpha, beta]) =>
      chain(scaleByOptimisticGradient({ alpha, beta }), scaleByLearningRate(rate)),
  }),
  propertyRow({
    name: 'scaleByPolyakStepSize (loss from the params)',
    hyper: fc.tuple(logUniform(1e-3, 10), polyak),
    build: ([maxLearningRate, options]) =>
      withLoss(scaleByPolyakStepSize({ maxLearningRate, ...options })),
  }),
]);
