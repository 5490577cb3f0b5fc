import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  type Tree,
  tidy,
  treeMapN,
  treeZerosLike,
  withSpec,
} from '@tfopt/core';
import { decayRate, oneOf, positive } from '@tfopt/core/options';
import { momentWeights, updateMoment } from './moments.js';
import { type OptionRules, readOptions } from './options.js';

/** How {@link scaleByLion} turns the interpolated direction into a step. @category Transforms */
export type LionMode = 'hard' | 'smooth' | 'refined';

/** Options of {@link scaleByLion}. @category Transforms */
export interface ScaleByLionOptions {
  /** Weight of the momentum in the step's direction, in `[0, 1)`. Default `0.9`. */
  readonly b1?: number;
  /** Decay of the momentum, in `[0, 1)`. Default `0.99`. */
  readonly b2?: number;
  /**
   * `'hard'` (default) takes the sign, as in the paper; `'smooth'` takes
   * `tanh(smoothBeta·c)`; `'refined'` keeps `c` where `|c| < 1` and its sign elsewhere.
   */
  readonly mode?: LionMode;
  /** The slope of `'smooth'` mode, `> 0`. Default `1`. */
  readonly smoothBeta?: number;
}

/** @internal */
export const LION_RULES: OptionRules<ScaleByLionOptions> = {
  b1: decayRate,
  b2: decayRate,
  mode: oneOf('hard', 'smooth', 'refined'),
  smoothBeta: positive,
};
/** @internal */
export const LION_DEFAULTS = { b1: 0.9, b2: 0.99, mode: 'hard', smoothBeta: 1 } as const;

/**
 * State of {@link scaleByLion}.
 *
 * @category Transforms
 */
export interface ScaleByLionState {
  /** Updates done so far. */
  readonly count: number;
  /** The momentum: a moving average of the updates with decay `b2`. */
  readonly mu: Tree;
}

/**
 * Rescale the updates by Lion (Chen et al., 2023), the sign of an
 * interpolation between the momentum and the gradient; the momentum is
 * updated afterwards with a slower decay:
 *
 * ```
 * c  = b1·mu + (1 − b1)·g
 * u  ← sign(c)                    ('smooth': tanh(smoothBeta·c); 'refined': c where |c| < 1)
 * mu ← b2·mu + (1 − b2)·g
 * ```
 *
 * Every coordinate of a `'hard'` step is `±1` (or `0`), so the learning rate
 * is the step length itself: Lion's rates are typically 3–10 times smaller
 * than AdamW's, with a weight decay 3–10 times larger.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scaleByLearningRate, scaleByLion } from '@tfopt/transforms';
 * const tx = chain(scaleByLion({ b2: 0.98 }), scaleByLearningRate(1e-4));
 * ```
 */
export function scaleByLion(
  options?: ScaleByLionOptions,
): GradientTransformation<ScaleByLionState> {
  const { b1, b2, mode, smoothBeta } = readOptions(
    'scaleByLion',
    options,
    LION_RULES,
    LION_DEFAULTS,
  );
  return withSpec(
    {
      init: (params) => tidy(() => ({ count: 0, mu: treeZerosLike(params) })),
      update: (updates, state) =>
        tidy(() => {
          const w1 = momentWeights(b1);
          const w2 = momentWeights(b2);
          const beta = mode === 'smooth' ? tf.scalar(smoothBeta) : undefined;
          const one = mode === 'refined' ? tf.scalar(1) : undefined;
          const direction = (c: tf.Tensor): tf.Tensor => {
            if (beta !== undefined) return tf.tanh(tf.mul(c, beta));
            if (one !== undefined) return tf.where(tf.less(tf.abs(c), one), c, tf.sign(c));
            return tf.sign(c);
          };
          const [u, mu] = treeMapN(
            2,
            (g, m) => [direction(updateMoment(g, m, w1)), updateMoment(g, m, w2)],
            updates,
            state.mu,
          ) as [Tree, Tree];
          return [u, { count: state.count + 1, mu }] as const;
        }),
    },
    'scaleByLion',
    [options],
  );
}
