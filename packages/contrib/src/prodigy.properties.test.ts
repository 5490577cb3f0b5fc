// prodigy and dadaptAdamw through the shared property tables of
// @tfopt/testing: the alias table (parabola, Rosenbrock, stable state shape,
// no leak over 1,000 steps, purity) and the random property table (key
// order, chain laws, purity, ownership, leaks) with random hyperparameters.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { fc, logUniform, optimizerPropertySuite, propertyRow, propertySuite } from '@tfopt/testing';
import { dadaptAdamw } from './dadapt.js';
import { prodigy } from './prodigy.js';

// Both methods estimate the step size themselves; the learning rate here is
// the schedule optax's docstrings recommend for them, 1 decaying linearly to
// 0 over the step budget. With it both reach the suite's default tolerances
// (1e-2 on the parabola, 5e-2 on Rosenbrock) in its default budgets (500 and
// 2,000 steps) with every other option at its default; nothing else was
// tuned, and constant learning rates were not tried.
const linearToZero = (steps: number) => (count: number) => Math.max(0, 1 - count / steps);

optimizerPropertySuite('learning-rate-free (prodigy, dadaptAdamw)', [
  {
    name: 'prodigy',
    parabola: () => prodigy(linearToZero(500)),
    rosenbrock: () => prodigy(linearToZero(2000)),
  },
  {
    name: 'dadaptAdamw',
    parabola: () => dadaptAdamw(linearToZero(500)),
    rosenbrock: () => dadaptAdamw(linearToZero(2000)),
  },
]);

const lr = logUniform(1e-3, 1);
const decay = fc.double({ min: 0, max: 0.99, noNaN: true });
const b2 = fc.double({ min: 0.9, max: 0.9999, noNaN: true });
const eps = logUniform(1e-8, 1e-4);
const d0 = logUniform(1e-8, 1e-2);
const growthRate = fc.oneof(
  fc.constant(Number.POSITIVE_INFINITY),
  fc.double({ min: 1, max: 2, noNaN: true }),
);
const weightDecay = fc.oneof(fc.constant(0), logUniform(1e-6, 1e-1));

propertySuite('learning-rate-free (random properties)', [
  propertyRow({
    name: 'prodigy',
    hyper: fc.record({
      rate: lr,
      b1: decay,
      b2,
      b3: fc.option(decay, { nil: undefined }),
      eps,
      d0,
      dCoef: logUniform(0.1, 10),
      weightDecay,
      biasCorrection: fc.boolean(),
      growthRate,
      safeguardWarmup: fc.boolean(),
    }),
    build: ({ rate, ...options }) => prodigy(rate, options),
  }),
  propertyRow({
    name: 'dadaptAdamw',
    hyper: fc.record({
      rate: lr,
      b1: decay,
      b2,
      eps,
      d0,
      weightDecay,
      biasCorrection: fc.boolean(),
      growthRate,
    }),
    build: ({ rate, ...options }) => dadaptAdamw(rate, options),
  }),
]);
