import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  InvalidOptionError,
  isTensor,
  TfoptError,
  tidy,
  treeMap,
  withSpec,
} from '@tfopt/core';
import {
  assertKnownOptions,
  assertOptions,
  inRange,
  nonNegative,
  nonNegativeInteger,
  positiveInteger,
} from '@tfopt/core/options';

/** Options of {@link reduceOnPlateau}. @category Learning-rate-free */
export interface ReduceOnPlateauOptions {
  /** Multiply the scale by this on a plateau, in `(0, 1)`. Default `0.1`. */
  readonly factor?: number;
  /** Accumulations without improvement before the scale drops, integer `>= 0`. Default `10`. */
  readonly patience?: number;
  /** Relative tolerance of an improvement, in `[0, 1]`. Default `1e-4`. */
  readonly rtol?: number;
  /** Absolute tolerance of an improvement, `>= 0`. Default `0`. */
  readonly atol?: number;
  /** Accumulations to wait after a drop before counting again, integer `>= 0`. Default `0`. */
  readonly cooldown?: number;
  /** Losses averaged into one value before the plateau logic runs, integer `>= 1`. Default `1`. */
  readonly accumulationSize?: number;
  /** The scale never drops below this, `>= 0`. Default `0`. */
  readonly minScale?: number;
}

/**
 * State of {@link reduceOnPlateau}: plain numbers.
 *
 * @category Learning-rate-free
 */
export interface ReduceOnPlateauState {
  /** The factor the updates are multiplied by. */
  readonly scale: number;
  /** The best averaged loss so far (`Infinity` at first). */
  readonly bestValue: number;
  /** Accumulations since the last improvement. */
  readonly plateauCount: number;
  /** Accumulations left in the cooldown. */
  readonly cooldownCount: number;
  /** Losses in the current accumulation. */
  readonly count: number;
  /** Their average. */
  readonly avgValue: number;
}

const OWNER = 'reduceOnPlateau';
const KNOWN = [
  'factor',
  'patience',
  'rtol',
  'atol',
  'cooldown',
  'accumulationSize',
  'minScale',
] as const;

/** The loss of the step as a number: one read-back when it is a tensor. */
function readLoss(loss: unknown): number {
  if (typeof loss === 'number') return loss;
  if (isTensor(loss)) {
    if (loss.isDisposed) throw new TfoptError(`${OWNER}: context.loss was disposed`);
    if (loss.size !== 1) {
      throw new TfoptError(
        `${OWNER}: context.loss must be a number or a scalar tensor, got a tensor of shape [${loss.shape.join(', ')}]`,
      );
    }
    return loss.dataSync()[0] as number;
  }
  throw new TfoptError(
    `${OWNER}: update needs the loss in context.loss (a number or a scalar tensor), got ${
      loss === undefined ? 'none' : typeof loss
    }; TransformOptimizer passes it in minimize and model.fit, not in applyGradients; with step or stepVariables pass { loss } as the context`,
  );
}

/**
 * Scale the updates down when the loss stops improving, as
 * `optax.contrib.reduce_on_plateau`: the loss of each step (read from
 * `context.loss`) is averaged over `accumulationSize` steps; at the end of
 * each accumulation, with `avg` that average:
 *
 * ```
 * improved  = avg < (1 − rtol)·best − atol          (then best ← avg)
 * plateau   = improved ? 0 : plateau + 1
 * in cooldown (cooldownCount > 0): plateau ← 0, cooldownCount ← cooldownCount − 1
 * otherwise, if plateau == patience: scale ← max(scale·factor, minScale),
 *                                    plateau ← 0, cooldownCount ← cooldown
 * u ← scale · u
 * ```
 *
 * Put it after the learning rate in a chain, e.g.
 * `chain(adam(1e-3), reduceOnPlateau({ patience: 5 }))`: it then scales the
 * step, like a learning-rate multiplier. The state is plain numbers (float64;
 * optax keeps the scale and the average as arrays of the params' dtype), so a
 * tensor loss costs one read-back per step. The scale applies to the step on
 * which it changed, as in optax. As in optax, `patience: 0` reduces the scale
 * at the end of every accumulation outside a cooldown, even one that
 * improved (the comparison is `plateau == patience`).
 *
 * Differences from PyTorch's `torch.optim.lr_scheduler.ReduceLROnPlateau`:
 * that one is called once per epoch with a metric and changes the learning
 * rate (mode, threshold mode and `eps` options, patience counted as "more
 * than `patience` bad epochs"); here the value is the step's loss (average
 * several with `accumulationSize`) and the updates are rescaled.
 *
 * @param options - See {@link ReduceOnPlateauOptions}.
 * @category Learning-rate-free
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { chain, step } from '@tfopt/core';
 * import { reduceOnPlateau } from '@tfopt/contrib';
 * import { sgd } from '@tfopt/transforms';
 * const tx = chain(sgd(0.1), reduceOnPlateau({ patience: 2, factor: 0.5 }));
 * let params = { w: tf.tensor([1, 2]) };
 * let state = tx.init(params);
 * const grads = { w: tf.tensor([0.1, 0.1]) };
 * for (let i = 0; i < 5; i++) {
 *   const next = step(tx, params, grads, state, { loss: 3 }); // a flat loss: the scale halves
 *   tf.dispose(params);
 *   params = next.params as typeof params;
 *   state = next.state;
 * }
 * console.log(state[1].scale); // 0.5
 * ```
 */
export function reduceOnPlateau(
  options?: ReduceOnPlateauOptions,
): GradientTransformation<ReduceOnPlateauState> {
  assertKnownOptions(OWNER, options, KNOWN);
  const {
    factor = 0.1,
    patience = 10,
    rtol = 1e-4,
    atol = 0,
    cooldown = 0,
    accumulationSize = 1,
    minScale = 0,
  } = options ?? {};
  assertOptions(OWNER, {
    factor: [factor, inRange(0, 1, { lowerOpen: true, upperOpen: true })],
    patience: [patience, nonNegativeInteger],
    rtol: [rtol, inRange(0, 1)],
    atol: [atol, nonNegative],
    cooldown: [cooldown, nonNegativeInteger],
    accumulationSize: [accumulationSize, positiveInteger],
    minScale: [minScale, nonNegative],
  });
  if (rtol === 0 && atol === 0) {
    throw new InvalidOptionError(OWNER, 'atol', atol, '> 0 when rtol is 0 (one must be positive)');
  }

  const decide = (s: ReduceOnPlateauState): ReduceOnPlateauState => {
    const improved = s.avgValue < (1 - rtol) * s.bestValue - atol;
    const bestValue = improved ? s.avgValue : s.bestValue;
    const plateau = improved ? 0 : s.plateauCount + 1;
    const reset = { count: 0, avgValue: 0, bestValue };
    if (s.cooldownCount > 0) {
      return { ...reset, scale: s.scale, plateauCount: 0, cooldownCount: s.cooldownCount - 1 };
    }
    const hit = plateau === patience;
    return {
      ...reset,
      scale: Math.max(hit ? s.scale * factor : s.scale, minScale),
      plateauCount: hit ? 0 : plateau,
      cooldownCount: hit ? cooldown : 0,
    };
  };

  return withSpec(
    {
      init: () => ({
        scale: 1,
        bestValue: Number.POSITIVE_INFINITY,
        plateauCount: 0,
        cooldownCount: 0,
        count: 0,
        avgValue: 0,
      }),
      update: (updates, state, _params, context) => {
        const value = readLoss(context?.loss);
        const count = state.count + 1;
        const averaged: ReduceOnPlateauState = {
          ...state,
          count,
          avgValue: (state.count * state.avgValue + value) / count,
        };
        const next = count === accumulationSize ? decide(averaged) : averaged;
        const out = tidy(() => {
          const factorT = tf.scalar(next.scale);
          return treeMap((u) => tf.mul(factorT, u), updates);
        });
        return [out, next];
      },
    },
    OWNER,
    [options],
  );
}
