import * as tf from '@tensorflow/tfjs-core';
import {
  type EmptyState,
  type GradientTransformation,
  isTensor,
  TfoptError,
  tidy,
  treeScale,
  treeSquaredNorm,
  type UpdateContext,
  withSpec,
} from '@tfopt/core';
import { finite, nonNegative, oneOf } from '@tfopt/core/options';
import { type OptionRules, readOptions } from './options.js';

const EMPTY: EmptyState = Object.freeze({}) as EmptyState;

/** Which Polyak step size: the plain one, or the one on the positive part of the gap. @category Transforms */
export type PolyakVariant = 'sps' | 'sps+';

/** Options of {@link scaleByPolyakStepSize}. @category Transforms */
export interface ScaleByPolyakStepSizeOptions {
  /** A lower bound on the loss, `f*` below. Default `0`. */
  readonly fMin?: number;
  /** Cap on the step size, `>= 0`. Default `1`. */
  readonly maxLearningRate?: number;
  /** Added to the squared norm in the denominator, `>= 0`. Default `0`. */
  readonly eps?: number;
  /** `'sps'` (Loizou et al.) or `'sps+'` (Garrigos et al.: the gap clipped at 0). Default `'sps'`. */
  readonly variant?: PolyakVariant;
}

/** @internal */
export const POLYAK_RULES: OptionRules<ScaleByPolyakStepSizeOptions> = {
  fMin: finite,
  maxLearningRate: nonNegative,
  eps: nonNegative,
  variant: oneOf('sps', 'sps+'),
};
/** @internal */
export const POLYAK_DEFAULTS = {
  fMin: 0,
  maxLearningRate: 1,
  eps: 0,
  variant: 'sps',
} as const;

// Optax's guard against a zero denominator: the float64 machine epsilon.
const TINY = Number.EPSILON;

/**
 * Multiply the updates by the Polyak step size (Loizou et al., 2021,
 * "Stochastic Polyak Step-size for SGD", arXiv:2002.10542), as Optax's
 * `scale_by_polyak`. It needs the loss at the current parameters, from
 * `context.loss`:
 *
 * ```
 * gap  ← loss − fMin                         ('sps+': max(gap, 0))
 * step ← min(gap / (‖u‖² + eps), maxLearningRate)
 * step ← 0                                   when ‖u‖² + eps <= 2.2e-16
 * u    ← step · u
 * ```
 *
 * `‖u‖²` is over the whole tree. The loss may be a number or a scalar tensor
 * (as `TransformOptimizer` passes it); the step stays on the device.
 * `step`, `stepVariables` and `TransformOptimizer.minimize` (so `model.fit`)
 * pass it through their `context` argument. Stateless.
 *
 * @category Transforms
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { scaleByPolyakStepSize } from '@tfopt/transforms';
 * const tx = scaleByPolyakStepSize({ maxLearningRate: 10 });
 * // f(w) = ‖w‖² at w = [1, 2]: loss 5, gradient [2, 4], ‖g‖² = 20, step 5 / 20.
 * const g = { w: tf.tensor([2, 4]) };
 * const [u] = tx.update(g, tx.init(g), undefined, { loss: 5 });
 * console.log((u as { w: tf.Tensor }).w.arraySync()); // [0.5, 1]
 * ```
 */
export function scaleByPolyakStepSize(
  options?: ScaleByPolyakStepSizeOptions,
): GradientTransformation<EmptyState> {
  const owner = 'scaleByPolyakStepSize';
  const { fMin, maxLearningRate, eps, variant } = readOptions(
    owner,
    options,
    POLYAK_RULES,
    POLYAK_DEFAULTS,
  );
  return withSpec(
    {
      init: () => EMPTY,
      update: (updates, _state, _params, context) => {
        const loss = readLoss(owner, context);
        const u = tidy(() => {
          const squaredNorm = treeSquaredNorm(updates);
          const value = typeof loss === 'number' ? tf.scalar(loss) : tf.cast(loss, 'float32');
          let gap = tf.sub(tf.reshape(value, []), fMin);
          if (variant === 'sps+') gap = tf.relu(gap);
          const denominator = tf.add(squaredNorm, eps);
          const stepSize = tf.where(
            tf.lessEqual(denominator, TINY),
            tf.scalar(0),
            tf.minimum(tf.div(gap, denominator), maxLearningRate),
          ) as tf.Scalar;
          return treeScale(updates, stepSize);
        });
        return [u, EMPTY];
      },
    },
    owner,
    [options],
  );
}

function readLoss(owner: string, context: UpdateContext | undefined): number | tf.Tensor {
  const loss = context?.loss;
  if (typeof loss === 'number') return loss;
  if (isTensor(loss) && loss.size === 1 && !loss.isDisposed) return loss;
  const got =
    loss === undefined
      ? 'none'
      : isTensor(loss)
        ? `a tensor of shape [${loss.shape.join(', ')}]${loss.isDisposed ? ' (disposed)' : ''}`
        : typeof loss;
  throw new TfoptError(
    `${owner}: update needs the loss at the current params as context.loss (a number or a scalar tensor), got ${got}; ` +
      'pass it as the fourth argument of update, or of step / stepVariables ({ loss }); TransformOptimizer.minimize passes it',
  );
}
