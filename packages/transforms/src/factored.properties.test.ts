import { chain } from '@tfopt/core';
import { fc, logUniform, propertyRow, propertySuite } from '@tfopt/testing';
import {
  adadelta,
  adafactor,
  adaptiveGradClip,
  clipByBlockRms,
  fromage,
  lamb,
  lars,
  rprop,
  scaleByFactoredRms,
  scaleByLearningRate,
  scaleBySm3,
  scaleByTrustRatio,
  sgd,
  sm3,
} from './index.js';

// The aliases of factored.table.test.ts, and their building blocks in short
// chains, through the random property table of @tfopt/testing (key order,
// chain laws, purity, ownership, leaks) over random trees (scalars, empty and
// zero-sized leaves, ranks up to 3), gradients and hyperparameters.
// minDimSizeToFactor is drawn from 1 to 3 so that the random leaves (sides up
// to 3) are factored as often as not.
const lr = logUniform(1e-4, 1);
const decay = fc.double({ min: 0, max: 0.99, noNaN: true });
const b2 = fc.double({ min: 0.9, max: 0.9999, noNaN: true });
const eps = logUniform(1e-8, 1e-4);
const weightDecay = fc.oneof(fc.constant(0), logUniform(1e-6, 1e-1));
const minDim = fc.integer({ min: 1, max: 3 });

propertySuite('factored aliases (random properties)', [
  propertyRow({
    name: 'adadelta',
    hyper: fc.record({ rate: logUniform(1e-2, 10), rho: decay, eps, weightDecay }),
    build: ({ rate, ...options }) => adadelta(rate, options),
  }),
  propertyRow({
    name: 'adafactor',
    hyper: fc.record({
      rate: lr,
      minDimSizeToFactor: minDim,
      decayRate: fc.double({ min: 0.5, max: 1, noNaN: true }),
      clippingThreshold: fc.oneof(fc.constant(null), fc.double({ min: 0.5, max: 2, noNaN: true })),
      multiplyByParameterScale: fc.boolean(),
      factored: fc.boolean(),
    }),
    build: ({ rate, ...options }) => adafactor(rate, options),
  }),
  propertyRow({
    name: 'adafactor + momentum + weight decay',
    hyper: fc.record({
      rate: lr,
      minDimSizeToFactor: minDim,
      momentum: decay,
      weightDecayRate: logUniform(1e-6, 1e-1),
      beta2Cap: fc.double({ min: 0.9, max: 1, noNaN: true }),
    }),
    build: ({ rate, ...options }) => adafactor(rate, options),
  }),
  propertyRow({
    name: 'sm3',
    hyper: fc.record({ rate: lr, momentum: decay }),
    build: ({ rate, ...options }) => sm3(rate, options),
  }),
  propertyRow({
    name: 'rprop',
    hyper: fc.record({
      rate: lr,
      etaMinus: fc.double({ min: 0.1, max: 1, noNaN: true }),
      etaPlus: fc.double({ min: 1, max: 2, noNaN: true }),
    }),
    build: ({ rate, ...options }) => rprop(rate, options),
  }),
  propertyRow({
    name: 'lamb',
    hyper: fc.record({ rate: lr, b1: decay, b2, eps, weightDecay }),
    build: ({ rate, ...options }) => lamb(rate, options),
  }),
  propertyRow({
    name: 'lars',
    hyper: fc.record({
      rate: logUniform(1e-2, 10),
      weightDecay,
      trustCoefficient: logUniform(1e-4, 1),
      momentum: decay,
      nesterov: fc.boolean(),
    }),
    build: ({ rate, ...options }) => lars(rate, options),
  }),
  propertyRow({
    name: 'fromage',
    hyper: fc.record({ rate: lr, minNorm: fc.oneof(fc.constant(0), logUniform(1e-8, 1e-2)) }),
    build: ({ rate, ...options }) => fromage(rate, options),
  }),
  // The building blocks in short chains.
  propertyRow({
    name: 'scaleByFactoredRms + clipByBlockRms',
    hyper: fc.tuple(minDim, logUniform(1e-2, 10), lr),
    build: ([minDimSizeToFactor, threshold, rate]) =>
      chain(
        scaleByFactoredRms({ minDimSizeToFactor }),
        clipByBlockRms(threshold),
        scaleByLearningRate(rate),
      ),
  }),
  propertyRow({
    name: 'scaleBySm3 (b2 < 1)',
    hyper: fc.tuple(decay, b2, lr),
    build: ([b1, b2, rate]) => chain(scaleBySm3({ b1, b2 }), scaleByLearningRate(rate)),
  }),
  propertyRow({
    name: 'adaptiveGradClip + sgd',
    hyper: fc.tuple(logUniform(1e-3, 1), lr),
    build: ([clipping, rate]) => chain(adaptiveGradClip(clipping), sgd(rate, { momentum: 0.9 })),
  }),
  propertyRow({
    name: 'scaleByTrustRatio (minNorm, eps)',
    hyper: fc.record({ minNorm: logUniform(1e-8, 1), eps, trustCoefficient: logUniform(1e-3, 1) }),
    build: (options) => chain(scaleByTrustRatio(options), scaleByLearningRate(0.1)),
  }),
]);
