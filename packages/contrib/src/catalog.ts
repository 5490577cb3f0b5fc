import type { OptimizerEntry } from '@tfopt/core';
import { cocob } from './cocob.js';
import { dadaptAdamw } from './dadapt.js';
import { dog, dowg } from './dog.js';
import { prodigy } from './prodigy.js';
import { scheduleFreeAdamw, scheduleFreeSgd } from './scheduleFree.js';

const PACKAGE = '@tfopt/contrib';

/** @internal The aliases of this package, for the catalog of every optimizer. */
export const OPTIMIZERS: readonly OptimizerEntry[] = [
  {
    name: 'prodigy',
    package: PACKAGE,
    summary:
      'Adam whose step size d is estimated from the distance to the start, grown monotonically.',
    reference:
      'Mishchenko & Defazio, 2024, "Prodigy: An Expeditiously Adaptive Parameter-Free Learner", arXiv:2306.06101',
    typicalLearningRate: 1,
    factory: prodigy,
  },
  {
    name: 'dadaptAdamw',
    package: PACKAGE,
    summary:
      'AdamW with its step size set by D-Adaptation’s lower bound on the distance to the solution.',
    reference:
      'Defazio & Mishchenko, 2023, "Learning-Rate-Free Learning by D-Adaptation", arXiv:2301.07733',
    typicalLearningRate: 1,
    factory: dadaptAdamw,
  },
  {
    name: 'dog',
    package: PACKAGE,
    summary:
      'Distance over Gradients: SGD with step max distance / sqrt(sum of squared gradient norms).',
    reference: 'Ivgi, Hinder & Carmon, 2023, "DoG is SGD’s Best Friend", arXiv:2302.12022',
    typicalLearningRate: 1,
    factory: dog,
  },
  {
    name: 'dowg',
    package: PACKAGE,
    summary: 'Distance over Weighted Gradients: DoG with distance-weighted gradient sums.',
    reference: 'Khaled, Mishchenko & Jin, 2023, "DoWG Unleashed", arXiv:2305.16284',
    typicalLearningRate: 1,
    factory: dowg,
  },
  {
    name: 'cocob',
    package: PACKAGE,
    summary: 'Continuous Coin Betting: per-coordinate bets on the gradient sign, no learning rate.',
    reference:
      'Orabona & Tommasi, 2017, "Training Deep Networks without Learning Rates Through Coin Betting", arXiv:1705.07795',
    typicalLearningRate: 1,
    factory: cocob,
  },
  {
    name: 'scheduleFreeSgd',
    package: PACKAGE,
    summary: 'Schedule-Free SGD: interpolation and averaging replace the learning-rate schedule.',
    reference: 'Defazio et al., 2024, "The Road Less Scheduled", arXiv:2405.15682',
    typicalLearningRate: 1,
    factory: scheduleFreeSgd,
  },
  {
    name: 'scheduleFreeAdamw',
    package: PACKAGE,
    summary: 'Schedule-Free AdamW: interpolation and averaging replace the learning-rate schedule.',
    reference: 'Defazio et al., 2024, "The Road Less Scheduled", arXiv:2405.15682',
    typicalLearningRate: 2.5e-3,
    factory: scheduleFreeAdamw,
  },
];
