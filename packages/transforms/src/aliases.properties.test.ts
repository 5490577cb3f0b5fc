import { chain } from '@tfopt/core';
import { fc, logUniform, propertyRow, propertySuite } from '@tfopt/testing';
import {
  adagrad,
  adam,
  adamw,
  applyIfFinite,
  clipByGlobalNorm,
  rmsprop,
  scaleByAdam,
  scaleByLearningRate,
  sgd,
} from './index.js';

// Every alias of aliases.table.test.ts through the random property table of
// @tfopt/testing (key order, chain laws, purity, ownership, leaks) over random
// trees, gradients and hyperparameters drawn from the ranges people use.
const lr = logUniform(1e-4, 1);
const decay = fc.double({ min: 0, max: 0.99, noNaN: true });
const b2 = fc.double({ min: 0.9, max: 0.9999, noNaN: true });
const eps = logUniform(1e-8, 1e-4);

propertySuite('aliases (random properties)', [
  propertyRow({ name: 'sgd', hyper: lr, build: (rate) => sgd(rate) }),
  propertyRow({
    name: 'sgd + momentum',
    hyper: fc.tuple(lr, decay),
    build: ([rate, momentum]) => sgd(rate, { momentum }),
  }),
  propertyRow({
    name: 'sgd + nesterov',
    hyper: fc.tuple(lr, decay),
    build: ([rate, momentum]) => sgd(rate, { momentum, nesterov: true }),
  }),
  propertyRow({
    name: 'adam',
    hyper: fc.record({ rate: lr, b1: decay, b2, eps }),
    build: ({ rate, ...options }) => adam(rate, options),
  }),
  propertyRow({
    name: 'adamw',
    hyper: fc.record({ rate: lr, b1: decay, b2, weightDecay: logUniform(1e-6, 1e-1) }),
    build: ({ rate, ...options }) => adamw(rate, options),
  }),
  propertyRow({
    name: 'adagrad',
    hyper: fc.record({ rate: lr, initialAccumulatorValue: logUniform(1e-3, 1) }),
    build: ({ rate, ...options }) => adagrad(rate, options),
  }),
  propertyRow({
    name: 'rmsprop',
    hyper: fc.record({ rate: lr, decay, eps, epsInSqrt: fc.boolean() }),
    build: ({ rate, ...options }) => rmsprop(rate, options),
  }),
  propertyRow({
    name: 'rmsprop + momentum',
    hyper: fc.record({ rate: lr, decay, momentum: decay, nesterov: fc.boolean() }),
    build: ({ rate, ...options }) => rmsprop(rate, options),
  }),
  propertyRow({
    name: 'rmsprop centered + momentum',
    hyper: fc.record({ rate: lr, decay, momentum: decay }),
    build: ({ rate, ...options }) => rmsprop(rate, { centered: true, ...options }),
  }),
  // Links with a global reduction or a wrapper around the inner state.
  propertyRow({
    name: 'clipByGlobalNorm + adam',
    hyper: fc.tuple(logUniform(1e-3, 10), lr),
    build: ([maxNorm, rate]) =>
      chain(clipByGlobalNorm(maxNorm), scaleByAdam(), scaleByLearningRate(rate)),
  }),
  propertyRow({
    name: 'applyIfFinite(adam)',
    hyper: fc.tuple(fc.integer({ min: 0, max: 3 }), lr),
    build: ([maxConsecutiveErrors, rate]) => applyIfFinite(adam(rate), { maxConsecutiveErrors }),
  }),
]);
