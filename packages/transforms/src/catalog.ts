import type { OptimizerEntry } from '@tfopt/core';
import { adagrad, adam, adamw, rmsprop, sgd } from './aliases.js';
import { ENTRIES as ADAPTIVE } from './catalog/adaptive.js';
import { ENTRIES as FACTORED } from './catalog/factored.js';
import { ENTRIES as MISC } from './catalog/misc.js';

const PACKAGE = '@tfopt/transforms';

const BASIC: readonly OptimizerEntry[] = [
  {
    name: 'sgd',
    package: PACKAGE,
    summary: 'Stochastic gradient descent, with optional heavy-ball or Nesterov momentum.',
    reference: 'Robbins & Monro, 1951; Polyak, 1964; Nesterov, 1983',
    typicalLearningRate: 1e-2,
    factory: sgd,
  },
  {
    name: 'adam',
    package: PACKAGE,
    summary: 'Bias-corrected first and second moment estimates.',
    reference: 'Kingma & Ba, 2015, "Adam: A Method for Stochastic Optimization", arXiv:1412.6980',
    typicalLearningRate: 1e-3,
    factory: adam,
  },
  {
    name: 'adamw',
    package: PACKAGE,
    summary: 'Adam with decoupled weight decay.',
    reference:
      'Loshchilov & Hutter, 2019, "Decoupled Weight Decay Regularization", arXiv:1711.05101',
    typicalLearningRate: 1e-3,
    factory: adamw,
  },
  {
    name: 'adagrad',
    package: PACKAGE,
    summary: 'Per-coordinate steps from the sum of squared gradients.',
    reference: 'Duchi, Hazan & Singer, 2011, "Adaptive Subgradient Methods", JMLR 12',
    typicalLearningRate: 1e-1,
    factory: adagrad,
  },
  {
    name: 'rmsprop',
    package: PACKAGE,
    summary:
      'Steps scaled by a moving average of squared gradients; optionally centred, with momentum.',
    reference: 'Tieleman & Hinton, 2012, Lecture 6.5 of "Neural Networks for Machine Learning"',
    typicalLearningRate: 1e-3,
    factory: rmsprop,
  },
];

/** @internal The aliases of this package, for the catalog of every optimizer. */
export const OPTIMIZERS: readonly OptimizerEntry[] = [...BASIC, ...ADAPTIVE, ...FACTORED, ...MISC];
