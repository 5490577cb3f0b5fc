import type { OptimizerEntry } from '@tfopt/core';
import {
  noisySgd,
  optimisticAdam,
  optimisticGradientDescent,
  polyakSgd,
  signSgd,
  signum,
} from '../miscAliases.js';

const PACKAGE = '@tfopt/transforms';
const BERNSTEIN =
  'Bernstein et al., 2018, "signSGD: Compressed Optimisation for Non-Convex Problems", arXiv:1802.04434';

/** @internal Catalog entries of the aliases defined next to this file's namesake. */
export const ENTRIES: readonly OptimizerEntry[] = [
  {
    name: 'noisySgd',
    package: PACKAGE,
    summary: 'SGD with annealed Gaussian noise added to the gradient, from a seeded stream.',
    reference:
      'Neelakantan et al., 2015, "Adding Gradient Noise Improves Learning for Very Deep Networks", arXiv:1511.06807',
    typicalLearningRate: 1e-2,
    factory: noisySgd,
  },
  {
    name: 'optimisticGradientDescent',
    package: PACKAGE,
    summary: 'Gradient descent on (alpha + beta)·g_t − beta·g_(t−1), for min-max games.',
    reference:
      'Mokhtari, Ozdaglar & Pattathil, 2019, "A Unified Analysis of Extra-gradient and Optimistic Gradient Methods for Saddle Point Problems: Proximal Point Approach", arXiv:1901.08511',
    typicalLearningRate: 1e-2,
    factory: optimisticGradientDescent,
  },
  {
    name: 'optimisticAdam',
    package: PACKAGE,
    summary: "The optimistic step taken on Adam's (Nesterov) direction, for min-max games.",
    reference: 'Daskalakis et al., 2018, "Training GANs with Optimism", arXiv:1711.00141',
    typicalLearningRate: 1e-3,
    factory: optimisticAdam,
  },
  {
    name: 'polyakSgd',
    package: PACKAGE,
    summary: 'SGD with the Polyak step size (loss − fMin) / ‖g‖², capped; needs context.loss.',
    reference:
      'Loizou et al., 2021, "Stochastic Polyak Step-size for SGD: An Adaptive Learning Rate for Fast Convergence", arXiv:2002.10542',
    typicalLearningRate: 1,
    factory: polyakSgd,
  },
  {
    name: 'signSgd',
    package: PACKAGE,
    summary: "Steps of fixed length along the signs of the gradient's coordinates.",
    reference: BERNSTEIN,
    typicalLearningRate: 1e-3,
    factory: signSgd,
  },
  {
    name: 'signum',
    package: PACKAGE,
    summary: 'signSGD on a moving average of the gradients (sign momentum).',
    reference: BERNSTEIN,
    typicalLearningRate: 1e-3,
    factory: signum,
  },
];
