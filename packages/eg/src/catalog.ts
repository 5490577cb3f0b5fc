import type { OptimizerEntry } from '@tfopt/core';
import { egAdagrad, egAdam, egSgdm } from './aliases.js';

const PACKAGE = '@tfopt/eg';
const PAPER =
  'Amid, Anil, Fifty & Warmuth, 2022, "Step-size Adaptation Using Exponentiated Gradient Updates", arXiv:2202.00145';

/** @internal The aliases of this package, for the catalog of every optimizer. */
export const OPTIMIZERS: readonly OptimizerEntry[] = [
  {
    name: 'egSgdm',
    package: PACKAGE,
    summary: 'SGD with momentum under a learned global step-size scale and per-coordinate gains.',
    reference: PAPER,
    typicalLearningRate: 1e-2,
    factory: egSgdm,
  },
  {
    name: 'egAdam',
    package: PACKAGE,
    summary: 'Adam under a learned global step-size scale and per-coordinate gains.',
    reference: PAPER,
    typicalLearningRate: 1e-3,
    factory: egAdam,
  },
  {
    name: 'egAdagrad',
    package: PACKAGE,
    summary: 'Adagrad under a learned global step-size scale and per-coordinate gains.',
    reference: PAPER,
    typicalLearningRate: 1e-1,
    factory: egAdagrad,
  },
];
