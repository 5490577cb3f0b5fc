// tfjs-core registers no gradients by itself; the suite's problems use tf.grads.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { optimizerPropertySuite } from '@tfopt/testing';
import { adadelta, adafactor, fromage, lamb, lars, rprop, sm3 } from './index.js';

/** `lr / (1 + rate·count)`, the decay the normalised methods need to settle. */
const decaying = (lr: number, rate: number) => (count: number) => lr / (1 + rate * count);

// The aliases of factoredAliases.ts through the shared property table, with
// the suite's default tolerances (1e-2 on the parabola, 5e-2 on Rosenbrock).
// Rates and budgets were chosen per optimizer, for honest reasons:
// - LAMB, LARS and Fromage take steps whose size is set by the parameters'
//   norm, not the gradient's (LAMB's is exactly lr·‖θ‖ every step), so at a
//   fixed rate they hover around the optimum at that distance; they settle
//   with a decaying rate, as they are used in practice. On Rosenbrock the
//   path passes near the origin, where ‖θ‖-relative steps shrink, so LAMB and
//   Fromage decay more slowly there and get more steps.
// - Adadelta's steps start at sqrt(eps) and grow with its own history; it
//   crosses the parabola with lr 10 but oscillates across Rosenbrock's valley
//   at any fixed rate tried (0.3 to 10), so it gets a decaying rate there.
// - Adafactor's relative steps (lr·rms(θ)) stall in Rosenbrock's valley
//   without momentum; it runs with momentum 0.9, and separately with absolute
//   steps (multiplyByParameterScale: false) at a smaller rate.
// - SM3 (Adagrad-like, ever-shrinking steps) and Rprop need no decay.
optimizerPropertySuite('factored aliases', [
  {
    name: 'adadelta',
    parabola: () => adadelta(10),
    rosenbrock: () => adadelta(decaying(10, 1 / 200)),
    rosenbrockSteps: 6000,
  },
  {
    name: 'adafactor + momentum',
    parabola: () => adafactor(0.05, { momentum: 0.9 }),
    rosenbrock: () => adafactor(0.05, { momentum: 0.9 }),
  },
  {
    name: 'adafactor, absolute steps',
    parabola: () => adafactor(0.1, { multiplyByParameterScale: false }),
    rosenbrock: () => adafactor(0.01, { multiplyByParameterScale: false }),
    rosenbrockSteps: 6000,
  },
  {
    name: 'sm3',
    parabola: () => sm3(1),
    rosenbrock: () => sm3(1),
    rosenbrockSteps: 5000,
  },
  {
    name: 'rprop',
    parabola: () => rprop(0.01),
    rosenbrock: () => rprop(0.01),
  },
  {
    name: 'lamb',
    parabola: () => lamb(decaying(0.1, 0.05)),
    rosenbrock: () => lamb(decaying(0.05, 1 / 500)),
    rosenbrockSteps: 8000,
  },
  {
    name: 'lars',
    parabola: () => lars(decaying(10, 0.02)),
    rosenbrock: () => lars(decaying(10, 0.02)),
  },
  {
    name: 'fromage',
    parabola: () => fromage(0.01),
    rosenbrock: () => fromage(decaying(0.02, 1 / 3000)),
    rosenbrockSteps: 4000,
  },
]);
