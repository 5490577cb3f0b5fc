import type { OptimizerEntry } from '@tfopt/core';
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
} from '../adaptiveAliases.js';

const PACKAGE = '@tfopt/transforms';
const ADAM = 'Kingma & Ba, 2015, "Adam: A Method for Stochastic Optimization", arXiv:1412.6980';
const DOZAT = 'Dozat, 2016, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop';

/** @internal Catalog entries of the aliases defined next to this file's namesake. */
export const ENTRIES: readonly OptimizerEntry[] = [
  {
    name: 'adabelief',
    package: PACKAGE,
    summary: 'Adam scaled by the second moment of the prediction error g − m instead of g.',
    reference:
      'Zhuang et al., 2020, "AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed Gradients", arXiv:2010.07468',
    typicalLearningRate: 1e-3,
    factory: adabelief,
  },
  {
    name: 'adamax',
    package: PACKAGE,
    summary: 'Adam with an exponentially weighted infinity norm in place of the second moment.',
    reference: `${ADAM}, section 7.1`,
    typicalLearningRate: 2e-3,
    factory: adamax,
  },
  {
    name: 'adamaxw',
    package: PACKAGE,
    summary: 'Adamax with decoupled weight decay.',
    reference:
      'Loshchilov & Hutter, 2019, "Decoupled Weight Decay Regularization", arXiv:1711.05101',
    typicalLearningRate: 2e-3,
    factory: adamaxw,
  },
  {
    name: 'amsgrad',
    package: PACKAGE,
    summary: 'Adam divided by the running maximum of its second moment.',
    reference: 'Reddi, Kale & Kumar, 2018, "On the Convergence of Adam and Beyond", ICLR 2018',
    typicalLearningRate: 1e-3,
    factory: amsgrad,
  },
  {
    name: 'nadam',
    package: PACKAGE,
    summary: "Adam with Nesterov's look-ahead on the first moment.",
    reference: DOZAT,
    typicalLearningRate: 1e-3,
    factory: nadam,
  },
  {
    name: 'nadamw',
    package: PACKAGE,
    summary: 'NAdam with decoupled weight decay.',
    reference: DOZAT,
    typicalLearningRate: 1e-3,
    factory: nadamw,
  },
  {
    name: 'radam',
    package: PACKAGE,
    summary: "Rectified Adam: momentum steps until the second moment's variance is tractable.",
    reference:
      'Liu et al., 2020, "On the Variance of the Adaptive Learning Rate and Beyond", arXiv:1908.03265',
    typicalLearningRate: 1e-3,
    factory: radam,
  },
  {
    name: 'yogi',
    package: PACKAGE,
    summary: 'Adam whose second moment moves towards g² by additive, sign-controlled steps.',
    reference: 'Zaheer et al., 2018, "Adaptive Methods for Nonconvex Optimization", NeurIPS 2018',
    typicalLearningRate: 1e-2,
    factory: yogi,
  },
  {
    name: 'lion',
    package: PACKAGE,
    summary: 'The sign of an interpolation of momentum and gradient, with decoupled weight decay.',
    reference:
      'Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms", arXiv:2302.06675',
    typicalLearningRate: 3e-4,
    factory: lion,
  },
  {
    name: 'novograd',
    package: PACKAGE,
    summary: 'Momentum of gradients normalised per layer by a moving average of their norm.',
    reference:
      'Ginsburg et al., 2019, "Stochastic Gradient Methods with Layer-wise Adaptive Moments for Training of Deep Networks", arXiv:1905.11286',
    typicalLearningRate: 1e-2,
    factory: novograd,
  },
  {
    name: 'adan',
    package: PACKAGE,
    summary: 'Adaptive Nesterov momentum from moving averages of gradients and their differences.',
    reference:
      'Xie et al., 2022, "Adan: Adaptive Nesterov Momentum Algorithm for Faster Optimizing Deep Models", arXiv:2208.06677',
    typicalLearningRate: 1e-3,
    factory: adan,
  },
];
