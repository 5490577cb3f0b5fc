import * as tf from '@tensorflow/tfjs-core';
import {
  assertSameStructure,
  type EmptyState,
  evaluateSchedule,
  type GradientTransformation,
  InvalidOptionError,
  isPlainRecord,
  type ScalarOrSchedule,
  TfoptError,
  type Tree,
  TreeStructureError,
  tidy,
  treeMap,
  treeMapN,
  treeZerosLike,
  withSpec,
} from '@tfopt/core';
import {
  assertKnownOptions,
  assertOptions,
  nonNegative,
  numberOrFunction,
  type OptionRule,
  positive,
} from '@tfopt/core/options';
import { addDecayedWeights, type MaskTree } from '@tfopt/transforms';
import { requireParams } from './common.js';

/** Options of {@link cocob}. @category Learning-rate-free */
export interface CocobOptions {
  /**
   * The bet fraction: the denominator is at least `alpha·L`, which keeps the
   * first bets small (about `alpha` steps of warm-up), `>= 0`. Default `100`.
   */
  readonly alpha?: number;
  /** The starting value of `L`, the max abs gradient (avoids dividing by 0), `> 0`. Default `1e-8`. */
  readonly eps?: number;
  /** Weight decay added to the gradient first, `g + weightDecay·x`, `>= 0`. Default `0`. */
  readonly weightDecay?: number;
  /** Leaves to decay (see `addDecayedWeights`). Default: every leaf. */
  readonly mask?: MaskTree | ((params: Tree) => MaskTree);
}

/**
 * State of {@link cocob}: per coordinate, trees shaped like the params.
 *
 * @category Learning-rate-free
 */
export interface CocobState {
  /** Updates done so far (0 before the first); the learning-rate schedule is evaluated at it. */
  readonly count: number;
  /** The params `init` was given (the starting point of the bets): the state's own copy. */
  readonly x0: Tree;
  /** `θ`: the sum of the negated gradients, `−Σ g`. */
  readonly negGradSum: Tree;
  /** `L`: the largest `|g|` seen, starting at `eps`. */
  readonly maxAbsGrad: Tree;
  /** `G`: the sum of `|g|`. */
  readonly absGradSum: Tree;
  /** `R`: the reward (wealth won), `max(R − g·(x − x0), 0)`. */
  readonly reward: Tree;
}

const COCOB_KEYS = ['absGradSum', 'count', 'maxAbsGrad', 'negGradSum', 'reward', 'x0'];
const COCOB_OPTIONS = ['alpha', 'eps', 'weightDecay', 'mask'] as const;

/**
 * COCOB-Backprop, continuous coin betting (Orabona & Tommasi, *Training Deep
 * Networks without Learning Rates Through Coin Betting*, NeurIPS 2017,
 * arXiv 1705.07795, Algorithm 2), as `optax.contrib.cocob` defines it. Per
 * coordinate, with `g` the gradient times the learning rate (after the weight
 * decay, when set):
 *
 * ```
 * L ← max(L, |g|)            G ← G + |g|          L_0 = eps, G_0 = 0
 * R ← max(R − g·(x − x0), 0)                      R_0 = 0
 * θ ← θ − g                                       θ_0 = 0
 * x_new = x0 + θ / (L·max(G + L, alpha·L)) · (L + R)
 * update = x_new − x
 * ```
 *
 * The update is the whole move to the new bet, not a scaled gradient, so
 * nothing may follow COCOB in a chain that rescales it. The learning rate
 * multiplies the gradients *before* the bet (optax's
 * `scale_by_learning_rate(lr, flip_sign=False)` link): a positive factor on
 * every gradient scales `θ`, `L`, `G` and `R` alike and cancels out, so once
 * `learningRate·|g|` is well above `eps` it hardly changes the trajectory.
 *
 * Differences from the authors' code: their PyTorch `COCOB`
 * (bremen79/parameterfree) has the same update, `weight_decay` (also added
 * to the gradient) and no learning rate; it creates `x0` at the first step of
 * each parameter and sets the parameters to `x_new` directly, where this
 * returns `x_new − x` (the same up to float rounding). Their original
 * TensorFlow `COCOB` has no `eps` or weight decay (`L` starts at `1e-8`) and
 * tracks its own offset `x − x0` instead of reading the parameters, so
 * changes made to the parameters from outside are kept rather than undone.
 *
 * @param learningRate - Multiplies the gradients before the bet, a number
 *   `>= 0` or a schedule of the update count. Default `1`.
 * @param options - See {@link CocobOptions}.
 * @category Learning-rate-free
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { cocob } from '@tfopt/contrib';
 * const w = { x: tf.variable(tf.tensor([1, 2, 3])) };
 * const tx = cocob();
 * let state = tx.init(w);
 * for (let i = 0; i < 200; i++) {
 *   const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tf.sub(w.x, 0.5))));
 *   state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 *   tf.dispose([value, grads]);
 * }
 * ```
 */
export function cocob(
  learningRate: ScalarOrSchedule = 1,
  options?: CocobOptions,
): GradientTransformation<CocobState> {
  const owner = 'cocob';
  assertOptions(owner, { learningRate: [learningRate, numberOrFunction(nonNegative)] });
  assertKnownOptions(owner, options, COCOB_OPTIONS);
  const rules: Record<string, OptionRule<unknown>> = {
    alpha: nonNegative,
    eps: positive,
    weightDecay: nonNegative,
  };
  const checks: Record<string, readonly [unknown, OptionRule<unknown>]> = {};
  for (const [key, rule] of Object.entries(rules)) {
    const value = (options as Record<string, unknown> | undefined)?.[key];
    if (value !== undefined) checks[key] = [value, rule];
  }
  assertOptions(owner, checks);
  const alpha = options?.alpha ?? 100;
  const eps = options?.eps ?? 1e-8;
  const weightDecay = options?.weightDecay ?? 0;
  let decay: GradientTransformation<EmptyState>;
  try {
    decay = addDecayedWeights(
      options?.mask === undefined ? { weightDecay } : { weightDecay, mask: options.mask },
    );
  } catch (e) {
    if (e instanceof InvalidOptionError) {
      throw new InvalidOptionError(owner, e.option, e.value, e.expected);
    }
    throw e;
  }

  const transform: GradientTransformation<CocobState> = {
    init: (params) =>
      tidy(() => ({
        count: 0,
        x0: treeMap((p) => tf.clone(p), params),
        negGradSum: treeZerosLike(params),
        maxAbsGrad: treeMap((p) => tf.fill(p.shape, eps, 'float32'), params),
        absGradSum: treeZerosLike(params),
        reward: treeZerosLike(params),
      })),
    update: (updates, state, params) => {
      requireParams(owner, params, 'it bets on their distance from the initial params x0');
      if (!isCocobState(state)) {
        throw new TfoptError(
          `${owner}: expected a state { count, x0, negGradSum, maxAbsGrad, absGradSum, reward }; was it built by this transform's init?`,
        );
      }
      try {
        assertSameStructure(state.x0, updates, ['state.x0', 'updates']);
        assertSameStructure(state.x0, params, ['state.x0', 'params']);
      } catch (e) {
        if (e instanceof TreeStructureError) {
          throw new TreeStructureError(
            e.path,
            e.detail,
            `${e.message} (in ${owner}.update; the state must come from init over params shaped like the updates)`,
          );
        }
        throw e;
      }
      const lr = evaluateSchedule(learningRate, state.count, `${owner}: learningRate`);
      return tidy(() => {
        const decayed = decay.update(updates, {}, params)[0];
        const k = tf.scalar(lr);
        const a = tf.scalar(alpha);
        const [out, negGradSum, maxAbsGrad, absGradSum, reward] = treeMapN(
          5,
          (u, x, x0, theta, l, gsum, r) => {
            const g = tf.mul(u, k);
            const absG = tf.abs(g);
            const lNew = tf.maximum(l, absG);
            const gNew = tf.add(gsum, absG);
            const rNew = tf.relu(tf.sub(r, tf.mul(g, tf.sub(x, x0))));
            const thetaNew = tf.sub(theta, g);
            const denom = tf.mul(lNew, tf.maximum(tf.add(gNew, lNew), tf.mul(a, lNew)));
            const bet = tf.mul(tf.div(thetaNew, denom), tf.add(lNew, rNew));
            const update = tf.sub(tf.add(x0, bet), x);
            return [update, thetaNew, lNew, gNew, rNew];
          },
          decayed,
          params,
          state.x0,
          state.negGradSum,
          state.maxAbsGrad,
          state.absGradSum,
          state.reward,
        ) as [Tree, Tree, Tree, Tree, Tree];
        const next: CocobState = {
          count: state.count + 1,
          x0: state.x0,
          negGradSum,
          maxAbsGrad,
          absGradSum,
          reward,
        };
        return [out, next] as const;
      });
    },
  };
  return withSpec(transform, 'cocob', [learningRate, options]);
}

function isCocobState(x: unknown): x is CocobState {
  if (!isPlainRecord(x)) return false;
  const own = Object.keys(x).sort();
  return (
    own.length === COCOB_KEYS.length &&
    own.every((k, i) => k === COCOB_KEYS[i]) &&
    typeof x.count === 'number'
  );
}
