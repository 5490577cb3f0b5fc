import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  type Tree,
  tidy,
  treeFull,
  treeMapN,
  treeZerosLike,
  withSpec,
} from '@tfopt/core';
import { nonNegative } from '@tfopt/core/options';
import { type OptionRules, readOptions } from './options.js';

/** Options of {@link scaleByAdagrad}. @category Transforms */
export interface ScaleByAdagradOptions {
  /** Starting value of the sum of squares, `>= 0`. Default `0.1`. */
  readonly initialAccumulatorValue?: number;
  /** Added to the sum of squares inside the square root, `>= 0`. Default `1e-7`. */
  readonly eps?: number;
}

/** @internal */
export const ADAGRAD_RULES: OptionRules<ScaleByAdagradOptions> = {
  initialAccumulatorValue: nonNegative,
  eps: nonNegative,
};
/** @internal */
export const ADAGRAD_DEFAULTS = { initialAccumulatorValue: 0.1, eps: 1e-7 } as const;

/**
 * State of {@link scaleByAdagrad}.
 *
 * @category Transforms
 */
export interface ScaleByAdagradState {
  /** Running sum of the squared updates, started at `initialAccumulatorValue`. */
  readonly sumOfSquares: Tree;
}

/**
 * Divide the updates by the root of the running sum of their squares
 * (Duchi et al., 2011), the core of AdaGrad:
 *
 * ```
 * s ← s + g²
 * u ← g / sqrt(s + eps)
 * ```
 *
 * Where `s` is still zero (only possible with `initialAccumulatorValue = 0`
 * and `eps = 0`) the update is zero instead of `0 / 0`.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scaleByAdagrad, scaleByLearningRate } from '@tfopt/transforms';
 * const tx = chain(scaleByAdagrad({ initialAccumulatorValue: 0 }), scaleByLearningRate(0.1));
 * ```
 */
export function scaleByAdagrad(
  options?: ScaleByAdagradOptions,
): GradientTransformation<ScaleByAdagradState> {
  const { initialAccumulatorValue, eps } = readOptions(
    'scaleByAdagrad',
    options,
    ADAGRAD_RULES,
    ADAGRAD_DEFAULTS,
  );
  // With eps or the initial value positive, s + eps > 0 everywhere: no guard needed.
  const guarded = eps === 0 && initialAccumulatorValue === 0;
  return withSpec(
    {
      init: (params) =>
        tidy(() => ({
          sumOfSquares:
            initialAccumulatorValue === 0
              ? treeZerosLike(params)
              : treeFull(params, initialAccumulatorValue),
        })),
      update: (updates, state) =>
        tidy(() => {
          const e = eps === 0 ? undefined : tf.scalar(eps);
          const zero = guarded ? tf.scalar(0) : undefined;
          const [u, sumOfSquares] = treeMapN(
            2,
            (g, s) => {
              const sum = tf.add(s, tf.square(g));
              const root = tf.sqrt(e === undefined ? sum : tf.add(sum, e));
              const u =
                zero === undefined
                  ? tf.div(g, root)
                  : tf.where(tf.greater(sum, zero), tf.div(g, root), tf.zerosLike(g));
              return [u, sum];
            },
            updates,
            state.sumOfSquares,
          ) as [Tree, Tree];
          return [u, { sumOfSquares }] as const;
        }),
    },
    'scaleByAdagrad',
    [options],
  );
}
