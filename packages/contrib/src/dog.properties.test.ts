import { fc, logUniform, optimizerPropertySuite, propertyRow, propertySuite } from '@tfopt/testing';
import { cocob } from './cocob.js';
import { dog, dowg } from './dog.js';

// The alias property table (parabola, Rosenbrock, state shape, no leak over
// 1,000 steps, purity). Measured on cpu before fixing the rows:
// - parabola (500 steps, tol 1e-2): every method at its defaults ends within
//   1.6e-6 of the optimum.
// - Rosenbrock (tol 5e-2) is slow for all three, since none has momentum and
//   DoG's/DoWG's eta only falls as the gradient sum grows. At 2,000 steps the
//   defaults end 1.7 (dog), 0.39 (dowg) and 1.0 (cocob) away. dog() needs
//   ~20,000 steps (5e-5), so the row starts DoG at initDistance 0.1 (4.2e-3
//   after 15,000 steps); dowg(0.5) is 6.0e-3 away after 8,000 steps (dowg()
//   3.2e-2 after 10,000); cocob() is 5.8e-2 away after 20,000 steps, so the
//   row bets with alpha 10 (3.9e-2 after 15,000 steps).
optimizerPropertySuite('dog, dowg and cocob (property table)', [
  {
    name: 'dog',
    parabola: () => dog(),
    rosenbrock: () => dog(1, { initDistance: 0.1 }),
    rosenbrockSteps: 15000,
  },
  {
    name: 'dog, layer-wise',
    parabola: () => dog(1, { layerWise: true }),
    rosenbrock: () => dog(1, { layerWise: true, initDistance: 0.1 }),
    rosenbrockSteps: 15000,
  },
  {
    name: 'dowg',
    parabola: () => dowg(),
    rosenbrock: () => dowg(0.5),
    rosenbrockSteps: 8000,
  },
  {
    name: 'cocob',
    parabola: () => cocob(),
    rosenbrock: () => cocob(1, { alpha: 10 }),
    rosenbrockSteps: 15000,
  },
]);

// The random property table (key order, chain laws, purity, ownership, leaks)
// with random hyperparameters over the ranges people use.
const lr = logUniform(1e-2, 1);
propertySuite('dog, dowg and cocob (random properties)', [
  propertyRow({
    name: 'dog (heuristic)',
    hyper: fc.record({
      rate: lr,
      repsRel: logUniform(1e-7, 1e-3),
      eps: logUniform(1e-10, 1e-6),
      layerWise: fc.boolean(),
    }),
    build: ({ rate, ...options }) => dog(rate, options),
  }),
  propertyRow({
    name: 'dog (initDistance or initEta, weight decay)',
    hyper: fc.record({
      rate: lr,
      init: fc.oneof(
        logUniform(1e-4, 1).map((initDistance) => ({ initDistance })),
        logUniform(1e-4, 1).map((initEta) => ({ initEta })),
      ),
      weightDecay: logUniform(1e-6, 1e-1),
      layerWise: fc.boolean(),
    }),
    build: ({ rate, init, ...options }) => dog(rate, { ...init, ...options }),
  }),
  propertyRow({
    name: 'dowg',
    hyper: fc.record({
      rate: lr,
      eps: logUniform(1e-6, 1e-2),
      initEstimSqDist: fc.option(logUniform(1e-6, 1), { nil: undefined }),
      weightDecay: fc.option(logUniform(1e-6, 1e-1), { nil: undefined }),
    }),
    build: ({ rate, ...options }) => dowg(rate, options),
  }),
  propertyRow({
    name: 'cocob',
    hyper: fc.record({
      rate: logUniform(1e-2, 10),
      alpha: fc.double({ min: 1, max: 200, noNaN: true }),
      eps: logUniform(1e-10, 1e-6),
      weightDecay: fc.constantFrom(0, 1e-4, 1e-2),
    }),
    build: ({ rate, ...options }) => cocob(rate, options),
  }),
]);
