import { chain } from '@tfopt/core';
import { fc, logUniform, propertyRow, propertySuite } from '@tfopt/testing';
import {
  adabelief,
  adamax,
  adamaxw,
  adan,
  amsgrad,
  lion,
  nadam,
  nadamw,
  novograd,
  radam,
  scaleByLearningRate,
  scaleByLion,
  yogi,
} from './index.js';

// Every alias of adaptive.table.test.ts through the random property table of
// @tfopt/testing (key order, chain laws, purity, ownership, leaks) over random
// trees, gradients and hyperparameters drawn from the ranges people use.
const lr = logUniform(1e-4, 1);
const decay = fc.double({ min: 0, max: 0.99, noNaN: true });
const b2 = fc.double({ min: 0.9, max: 0.9999, noNaN: true });
const eps = logUniform(1e-8, 1e-4);
const weightDecay = logUniform(1e-6, 1e-1);

propertySuite('adaptive aliases (random properties)', [
  propertyRow({
    name: 'adabelief',
    hyper: fc.record({
      rate: lr,
      b1: decay,
      b2,
      eps,
      epsRoot: logUniform(1e-16, 1e-6),
      nesterov: fc.boolean(),
      weightDecay: fc.option(weightDecay, { nil: undefined }),
    }),
    build: ({ rate, ...options }) => adabelief(rate, options),
  }),
  propertyRow({
    name: 'adamax',
    hyper: fc.record({ rate: lr, b1: decay, b2, eps }),
    build: ({ rate, ...options }) => adamax(rate, options),
  }),
  propertyRow({
    name: 'adamaxw',
    hyper: fc.record({ rate: lr, b1: decay, b2, weightDecay }),
    build: ({ rate, ...options }) => adamaxw(rate, options),
  }),
  propertyRow({
    name: 'amsgrad',
    hyper: fc.record({
      rate: lr,
      b1: decay,
      b2,
      eps,
      biasCorrectionMu: fc.boolean(),
      biasCorrectionNu: fc.boolean(),
    }),
    build: ({ rate, ...options }) => amsgrad(rate, options),
  }),
  propertyRow({
    name: 'nadam',
    hyper: fc.record({ rate: lr, b1: decay, b2, eps }),
    build: ({ rate, ...options }) => nadam(rate, options),
  }),
  propertyRow({
    name: 'nadamw',
    hyper: fc.record({ rate: lr, b1: decay, b2, weightDecay }),
    build: ({ rate, ...options }) => nadamw(rate, options),
  }),
  propertyRow({
    name: 'radam (momentum phase)',
    hyper: fc.record({ rate: lr, b1: decay, b2, nesterov: fc.boolean() }),
    build: ({ rate, ...options }) => radam(rate, options),
  }),
  // b2 = 0 makes ρ = ρ∞ = 1 at every step, so threshold 1 takes the rectified
  // branch (with r = 1) from the first step on.
  propertyRow({
    name: 'radam (rectified branch)',
    hyper: fc.record({ rate: lr, b1: decay, eps, nesterov: fc.boolean() }),
    build: ({ rate, ...options }) => radam(rate, { ...options, b2: 0, threshold: 1 }),
  }),
  propertyRow({
    name: 'yogi',
    hyper: fc.record({
      rate: lr,
      b1: decay,
      b2,
      eps: logUniform(1e-6, 1e-2),
      initialAccumulatorValue: logUniform(1e-8, 1),
    }),
    build: ({ rate, ...options }) => yogi(rate, options),
  }),
  propertyRow({
    name: 'lion',
    hyper: fc.record({ rate: lr, b1: decay, b2, weightDecay }),
    build: ({ rate, ...options }) => lion(rate, options),
  }),
  propertyRow({
    name: 'scaleByLion modes',
    hyper: fc.record({
      rate: lr,
      mode: fc.constantFrom('hard' as const, 'smooth' as const, 'refined' as const),
      smoothBeta: logUniform(0.1, 10),
    }),
    build: ({ rate, ...options }) => chain(scaleByLion(options), scaleByLearningRate(rate)),
  }),
  propertyRow({
    name: 'novograd',
    hyper: fc.record({
      rate: lr,
      b1: decay,
      b2: decay,
      eps,
      weightDecay: fc.oneof(fc.constant(0), weightDecay),
    }),
    build: ({ rate, ...options }) => novograd(rate, options),
  }),
  propertyRow({
    name: 'adan',
    hyper: fc.record({ rate: lr, b1: decay, b2: decay, b3: b2, weightDecay }),
    build: ({ rate, ...options }) => adan(rate, options),
  }),
]);
