import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  InvalidOptionError,
  type Tree,
  tidy,
  treeFull,
  treeMapN,
  treeZerosLike,
  withSpec,
} from '@tfopt/core';
import { assertOptions, inRange, nonNegative, positive } from '@tfopt/core/options';
import { type OptionRules, readOptions } from './options.js';

/** Options of {@link scaleByRprop}. @category Transforms */
export interface ScaleByRpropOptions {
  /** Factor of a step size after a sign change, in `(0, 1]`. Default `0.5`. */
  readonly etaMinus?: number;
  /** Factor of a step size while the sign holds, `>= 1`. Default `1.2`. */
  readonly etaPlus?: number;
  /** Smallest step size, `>= 0`. Default `1e-6`. */
  readonly minStepSize?: number;
  /** Largest step size, `>= minStepSize`. Default `50`. */
  readonly maxStepSize?: number;
}

/** @internal */
export const RPROP_RULES: OptionRules<ScaleByRpropOptions> = {
  etaMinus: inRange(0, 1, { lowerOpen: true }),
  etaPlus: positive,
  minStepSize: nonNegative,
  maxStepSize: positive,
};
/** @internal */
export const RPROP_DEFAULTS = {
  etaMinus: 0.5,
  etaPlus: 1.2,
  minStepSize: 1e-6,
  maxStepSize: 50,
} as const;

/** @internal Read and check the options of `owner` (scaleByRprop or rprop). */
export function readRpropOptions(
  owner: string,
  learningRate: unknown,
  options: ScaleByRpropOptions | undefined,
): Required<ScaleByRpropOptions> {
  assertOptions(owner, { learningRate: [learningRate, nonNegative] });
  const resolved = readOptions(owner, options, RPROP_RULES, RPROP_DEFAULTS);
  if (resolved.etaPlus < 1) {
    throw new InvalidOptionError(owner, 'etaPlus', resolved.etaPlus, 'a finite number >= 1');
  }
  if (resolved.maxStepSize < resolved.minStepSize) {
    throw new InvalidOptionError(
      owner,
      'maxStepSize',
      resolved.maxStepSize,
      `a number >= minStepSize (${resolved.minStepSize})`,
    );
  }
  return resolved;
}

/**
 * State of {@link scaleByRprop}.
 *
 * @category Transforms
 */
export interface ScaleByRpropState {
  /** The step size of every entry. */
  readonly stepSizes: Tree;
  /** The previous update (`0` where the sign had just changed). */
  readonly prevUpdates: Tree;
}

/**
 * Resilient backpropagation (Riedmiller & Braun, 1993), in the iRprop⁻ form
 * of Igel & Hüsken (2003) as Optax and PyTorch use: every entry has its own
 * step size, which grows while the gradient keeps its sign and shrinks when
 * it flips; the gradient's magnitude is ignored.
 *
 * ```
 * s ← g · prev
 * step ← clip(step·etaPlus,  minStepSize, maxStepSize)   if s > 0
 *        clip(step·etaMinus, minStepSize, maxStepSize)   if s < 0
 *        step                                            if s = 0
 * u ← 0 if s < 0, else step·sign(g);   prev ← u
 * ```
 *
 * Step sizes start at `learningRate`. The update points along the gradient;
 * follow it with `scale(-1)` to descend (as {@link rprop} does).
 *
 * Difference from Optax's `scale_by_rprop`: Optax returns the previous
 * step's `u` rather than this step's (so its first update is zero and every
 * later one lags a step; Optax pull request #1725). Here the update is this
 * step's, as in the paper and in PyTorch's `Rprop`.
 *
 * @param learningRate - The initial step size, `>= 0`.
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scale, scaleByRprop } from '@tfopt/transforms';
 * const tx = chain(scaleByRprop(1e-3, { etaPlus: 1.1 }), scale(-1));
 * ```
 */
export function scaleByRprop(
  learningRate: number,
  options?: ScaleByRpropOptions,
): GradientTransformation<ScaleByRpropState> {
  const { etaMinus, etaPlus, minStepSize, maxStepSize } = readRpropOptions(
    'scaleByRprop',
    learningRate,
    options,
  );
  return withSpec(
    {
      init: (params) =>
        tidy(() => ({
          stepSizes: treeFull(params, learningRate),
          prevUpdates: treeZerosLike(params),
        })),
      update: (updates, state) =>
        tidy(() => {
          const plus = tf.scalar(etaPlus);
          const minus = tf.scalar(etaMinus);
          const zero = tf.scalar(0);
          const [u, stepSizes] = treeMapN(
            2,
            (g, step, prev) => {
              const s = tf.mul(g, prev);
              const grown = tf.clipByValue(tf.mul(step, plus), minStepSize, maxStepSize);
              const shrunk = tf.clipByValue(tf.mul(step, minus), minStepSize, maxStepSize);
              const flipped = tf.less(s, zero);
              const next = tf.where(tf.greater(s, zero), grown, tf.where(flipped, shrunk, step));
              const u = tf.where(flipped, tf.zerosLike(g), tf.mul(next, tf.sign(g)));
              return [u, next];
            },
            updates,
            state.stepSizes,
            state.prevUpdates,
          ) as [Tree, Tree];
          return [u, { stepSizes, prevUpdates: u }] as const;
        }),
    },
    'scaleByRprop',
    [learningRate, options],
  );
}
