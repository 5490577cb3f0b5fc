// tfjs-core registers no gradients by itself; the suite's problems use tf.grads.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { optimizerPropertySuite } from '@tfopt/testing';
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
  yogi,
} from './index.js';

// The aliases of adaptiveAliases.ts through the shared property table
// (parabola, Rosenbrock, stable state structure, no leak over 1,000 steps,
// purity) with the suite's default tolerances. Rates and budgets per
// optimizer, chosen so that each converges honestly:
// - Rosenbrock's gradient at the start is about 200 in size. RAdam's first
//   five steps are plain momentum steps of lr·|g| (its second moment is too
//   short to trust), so only a small rate keeps it in the valley, and it then
//   needs more steps; AMSGrad divides by the largest second moment seen,
//   which keeps the start's scale, so it needs a large rate.
// - Lion moves every coordinate by ±lr per step: the parabola's start is 6
//   from the optimum in one coordinate (600 steps at 0.01), and its final
//   jitter is of the order of lr, hence the small Rosenbrock rate.
// - Adamax and Adan (b1 = 0.98) approach the parabola's optimum in slowly
//   decaying oscillations, so they get more steps rather than smaller rates.
optimizerPropertySuite('adaptive aliases', [
  { name: 'adabelief', parabola: () => adabelief(0.05), rosenbrock: () => adabelief(0.05) },
  {
    name: 'adabelief + weight decay',
    parabola: () => adabelief(0.05, { weightDecay: 1e-4 }),
    rosenbrock: () => adabelief(0.05, { weightDecay: 1e-4 }),
  },
  {
    name: 'adamax',
    parabola: () => adamax(0.1),
    rosenbrock: () => adamax(0.05),
    rosenbrockSteps: 5000,
  },
  {
    name: 'adamaxw',
    parabola: () => adamaxw(0.05),
    parabolaSteps: 1000,
    rosenbrock: () => adamaxw(0.05),
    rosenbrockSteps: 5000,
  },
  {
    name: 'amsgrad',
    parabola: () => amsgrad(0.1),
    rosenbrock: () => amsgrad(0.5),
    rosenbrockSteps: 3000,
  },
  { name: 'nadam', parabola: () => nadam(0.05), rosenbrock: () => nadam(0.05) },
  { name: 'nadamw', parabola: () => nadamw(0.05), rosenbrock: () => nadamw(0.05) },
  {
    name: 'radam',
    parabola: () => radam(0.05),
    rosenbrock: () => radam(1.5e-3),
    rosenbrockSteps: 10000,
  },
  { name: 'yogi', parabola: () => yogi(0.05), rosenbrock: () => yogi(0.05) },
  {
    name: 'lion',
    parabola: () => lion(0.01),
    parabolaSteps: 1000,
    rosenbrock: () => lion(2e-3),
    rosenbrockSteps: 3000,
  },
  {
    name: 'novograd',
    parabola: () => novograd(0.01),
    rosenbrock: () => novograd(3e-3),
    rosenbrockSteps: 3000,
  },
  {
    name: 'adan',
    parabola: () => adan(0.05),
    parabolaSteps: 1500,
    rosenbrock: () => adan(0.05),
  },
]);
