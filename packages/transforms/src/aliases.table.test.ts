// tfjs-core registers no gradients by itself; the suite's problems use tf.grads.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { optimizerPropertySuite } from '@tfopt/testing';
import { adagrad, adam, adamw, rmsprop, sgd } from './index.js';

// Every alias through the shared property table (parabola, Rosenbrock, stable
// state structure, no leak over 1,000 steps, purity) with the suite's default
// tolerances. Learning rates and step budgets were chosen per optimizer so
// that each converges honestly: plain gradient descent needs a step below
// 2 / (largest curvature) ≈ 2e-3 near Rosenbrock's optimum and then crawls
// along the valley, so it gets more steps; the adaptive methods get rates at
// which they settle rather than oscillate around the parabola's optimum.
optimizerPropertySuite('aliases', [
  {
    name: 'sgd',
    parabola: () => sgd(0.1),
    rosenbrock: () => sgd(2e-3),
    rosenbrockSteps: 6000,
  },
  {
    name: 'sgd + momentum',
    parabola: () => sgd(0.02, { momentum: 0.9 }),
    rosenbrock: () => sgd(1e-3, { momentum: 0.9 }),
  },
  {
    name: 'sgd + nesterov',
    parabola: () => sgd(0.02, { momentum: 0.9, nesterov: true }),
    rosenbrock: () => sgd(1e-3, { momentum: 0.9, nesterov: true }),
  },
  {
    name: 'adam',
    parabola: () => adam(0.05),
    rosenbrock: () => adam(0.05),
  },
  {
    name: 'adamw',
    parabola: () => adamw(0.05),
    rosenbrock: () => adamw(0.05),
  },
  {
    name: 'adagrad',
    parabola: () => adagrad(1),
    rosenbrock: () => adagrad(1),
    rosenbrockSteps: 5000,
  },
  {
    name: 'rmsprop',
    parabola: () => rmsprop(0.02),
    rosenbrock: () => rmsprop(3e-3),
    rosenbrockSteps: 5000,
  },
  {
    name: 'rmsprop + momentum',
    parabola: () => rmsprop(3e-3, { momentum: 0.9 }),
    rosenbrock: () => rmsprop(3e-4, { momentum: 0.9 }),
  },
  {
    name: 'rmsprop centered + momentum',
    parabola: () => rmsprop(3e-3, { centered: true, momentum: 0.9 }),
    rosenbrock: () => rmsprop(3e-4, { centered: true, momentum: 0.9 }),
  },
]);
