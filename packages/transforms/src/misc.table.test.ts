// tfjs-core registers no gradients by itself; the suite's problems use tf.grads.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import type * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, tidy } from '@tfopt/core';
import { optimizerPropertySuite, parabola, rosenbrock } from '@tfopt/testing';
import {
  noisySgd,
  optimisticAdam,
  optimisticGradientDescent,
  polyakSgd,
  signSgd,
  signum,
} from './index.js';

/**
 * `tx` with `context.loss` filled in from the params, as `TransformOptimizer`
 * fills it in from the model: the suite's problems pass no context, and
 * polyakSgd needs the loss at every step.
 */
function withLoss(
  tx: GradientTransformation<any>,
  loss: (params: Record<string, tf.Tensor>) => tf.Scalar,
): GradientTransformation<any> {
  return {
    init: (params) => tx.init(params),
    update: (updates, state, params, context) =>
      tidy(() =>
        tx.update(updates, state, params, {
          ...context,
          loss: context?.loss ?? loss(params as Record<string, tf.Tensor>),
        }),
      ),
  };
}

/** Exponential decay of a fixed step: sign methods move every coordinate by the rate. */
const decaying = (start: number, halfLife: number) => (count: number) =>
  start * 0.5 ** (count / halfLife);

// The aliases of miscAliases.ts through the shared property table (parabola,
// Rosenbrock, stable state structure, no leak over 1,000 steps, purity) with
// the suite's default tolerances. Rates and budgets per optimizer, checked
// first on a float64 run of each rule:
// - noisySgd is sgd plus noise whose variance decays as t^-0.55: sgd's rates,
//   where the noise left at the end moves θ by far less than the tolerance;
// - the optimistic step 2g_t − g_(t−1) overshoots twice as far as gradient
//   descent's: from 8e-4 on it locks into a 2-cycle across Rosenbrock's valley
//   (about 0.24 from the optimum), so it gets 6e-4 and a long budget (0.020 in
//   float64 after 16,000 steps);
// - optimisticAdam at 0.01 needs 4,000 steps on Rosenbrock (0.0097 in float64);
// - polyakSgd picks its own step from the loss, and f* = 0 is exact on both
//   problems: with the default cap 1 it reaches Rosenbrock's optimum to 1e-7
//   within the default budget;
// - signSgd and signum move every coordinate by the rate, so a constant rate
//   ends oscillating at that distance: they get decaying schedules (signSgd
//   crawls along the valley: 0.0074 after 8,000 steps; signum 9e-5 after 5,000).
optimizerPropertySuite('misc aliases', [
  {
    name: 'noisySgd',
    parabola: () => noisySgd(0.1),
    rosenbrock: () => noisySgd(2e-3),
    rosenbrockSteps: 6000,
  },
  {
    name: 'optimisticGradientDescent',
    parabola: () => optimisticGradientDescent(0.05),
    rosenbrock: () => optimisticGradientDescent(6e-4),
    rosenbrockSteps: 16000,
  },
  {
    name: 'optimisticAdam',
    parabola: () => optimisticAdam(0.05),
    rosenbrock: () => optimisticAdam(0.01),
    rosenbrockSteps: 4000,
  },
  {
    name: 'polyakSgd',
    parabola: () => withLoss(polyakSgd(1), parabola),
    rosenbrock: () => withLoss(polyakSgd(1), rosenbrock),
  },
  {
    name: 'signSgd',
    parabola: () => signSgd(decaying(0.1, 50)),
    rosenbrock: () => signSgd(decaying(3e-3, 700)),
    rosenbrockSteps: 8000,
  },
  {
    name: 'signum',
    parabola: () => signum(decaying(0.1, 50)),
    rosenbrock: () => signum(decaying(0.01, 1000)),
    rosenbrockSteps: 5000,
  },
]);
