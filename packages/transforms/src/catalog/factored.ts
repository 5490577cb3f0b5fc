import type { OptimizerEntry } from '@tfopt/core';
import { adadelta, adafactor, fromage, lamb, lars, rprop, sm3 } from '../factoredAliases.js';

const PACKAGE = '@tfopt/transforms';

/** @internal Catalog entries of the aliases defined next to this file's namesake. */
export const ENTRIES: readonly OptimizerEntry[] = [
  {
    name: 'adadelta',
    package: PACKAGE,
    summary:
      'Steps of the RMS of past steps over the RMS of gradients, in the units of the params.',
    reference: 'Zeiler, 2012, "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701',
    typicalLearningRate: 1,
    factory: adadelta,
  },
  {
    name: 'adafactor',
    package: PACKAGE,
    summary:
      'Factored second moments (row and column statistics), clipped steps relative to the params.',
    reference:
      'Shazeer & Stern, 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost", arXiv:1804.04235',
    typicalLearningRate: 1e-2,
    factory: adafactor,
  },
  {
    name: 'fromage',
    package: PACKAGE,
    summary: 'Steps of a fixed size relative to each leaf, then a shrink that bounds its norm.',
    reference:
      'Bernstein, Vahdat, Yue & Liu, 2020, "On the distance between two neural networks and the stability of learning", arXiv:2002.03432',
    typicalLearningRate: 1e-2,
    factory: fromage,
  },
  {
    name: 'lamb',
    package: PACKAGE,
    summary: "Adam with decoupled weight decay, each leaf's step scaled by its trust ratio.",
    reference:
      'You et al., 2020, "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes", arXiv:1904.00962',
    typicalLearningRate: 1e-2,
    factory: lamb,
  },
  {
    name: 'lars',
    package: PACKAGE,
    summary: "Momentum SGD with each leaf's step scaled by its trust ratio.",
    reference:
      'You, Gitman & Ginsburg, 2017, "Large Batch Training of Convolutional Networks", arXiv:1708.03888',
    typicalLearningRate: 1,
    factory: lars,
  },
  {
    name: 'rprop',
    package: PACKAGE,
    summary:
      'Per-entry step sizes that grow while the gradient keeps its sign and shrink when it flips.',
    reference:
      'Riedmiller & Braun, 1993, "A direct adaptive method for faster backpropagation learning: the RPROP algorithm", IEEE ICNN',
    typicalLearningRate: 1e-2,
    factory: rprop,
  },
  {
    name: 'sm3',
    package: PACKAGE,
    summary: 'Adagrad with one accumulator per row, column, ... of each leaf, and momentum.',
    reference:
      'Anil, Gupta, Koren & Singer, 2019, "Memory-Efficient Adaptive Optimization", arXiv:1901.11150',
    typicalLearningRate: 1e-1,
    factory: sm3,
  },
];
