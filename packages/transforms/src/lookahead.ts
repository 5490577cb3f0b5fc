import * as tf from '@tensorflow/tfjs-core';
import {
  detachState,
  type GradientTransformation,
  InvalidOptionError,
  isPlainRecord,
  isTransform,
  specOf,
  TfoptError,
  type Tree,
  tidy,
  treeGetAll,
  treeMap,
  treeMapN,
  withSpec,
} from '@tfopt/core';
import { boolean, fraction, positiveInteger } from '@tfopt/core/options';
import { type OptionRules, readOptions, requireOption } from './options.js';

/** Options of {@link lookahead}. @category Combinators */
export interface LookaheadOptions {
  /** Fast steps between two synchronisations (`k` in the paper), an integer `>= 1`. Required. */
  readonly syncPeriod: number;
  /** How far the slow parameters move toward the fast ones at a synchronisation (`α`), in `[0, 1]`. Required. */
  readonly slowStepSize: number;
  /** Re-initialise the fast optimizer's state at every synchronisation. Default `false`. */
  readonly resetState?: boolean;
}

const LOOKAHEAD_RULES: OptionRules<LookaheadOptions> = {
  syncPeriod: positiveInteger,
  slowStepSize: fraction,
  resetState: boolean,
};

/**
 * State of {@link lookahead}.
 *
 * @typeParam S - The fast optimizer's state.
 * @category Combinators
 */
export interface LookaheadState<S = unknown> {
  /** State of the fast optimizer. */
  readonly fastState: S;
  /** Fast steps since the last synchronisation, in `[0, syncPeriod)`. */
  readonly stepsSinceSync: number;
  /**
   * The slow parameters, shaped like the parameters: the ones to evaluate
   * and run inference with (see {@link lookaheadEvalParams}).
   */
  readonly slow: Tree;
}

/**
 * Lookahead (Zhang, Lucas, Hinton & Ba, 2019, "Lookahead Optimizer: k steps
 * forward, 1 step back", arXiv:1907.08610): take `syncPeriod` steps with the
 * fast optimizer, then move a slow copy of the parameters a fraction
 * `slowStepSize` of the way toward the fast ones and restart the fast
 * parameters from there. With `φ` the slow and `θ` the fast parameters,
 * `u` the fast optimizer's update and `α = slowStepSize`:
 *
 * ```
 * steps 1 … k − 1 of a period:   θ ← θ + u
 * step k (synchronisation):      d ← θ + u − φ
 *                                φ ← φ + α·d
 *                                θ ← θ + u − (1 − α)·d        (= the new φ)
 * ```
 *
 * The tfjs adaptation: Optax passes a `LookaheadParams { fast, slow }` pair
 * as the parameters and returns updates for both. Here the parameters are
 * the fast ones, the model's own variables (so `lookahead` works inside
 * `TransformOptimizer` and `model.fit` like any transform), and the slow
 * parameters live in the state, initialised to a copy of the parameters,
 * saved with a checkpoint, and read with {@link lookaheadEvalParams} for
 * evaluation and inference. The returned updates are for the fast
 * parameters and must be applied unchanged, so put `lookahead` outermost,
 * and pass the params to `update` (`step`, `stepVariables` and
 * `TransformOptimizer` do).
 *
 * The spec records the fast optimizer's spec and the options.
 *
 * @category Combinators
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { type StepResult, step, treeDispose, type Tree } from '@tfopt/core';
 * import { lookahead, lookaheadEvalParams, sgd } from '@tfopt/transforms';
 * const tx = lookahead(sgd(0.1), { syncPeriod: 5, slowStepSize: 0.5 });
 * let params: Tree = { w: tf.tensor([1, -1]) };
 * let state = tx.init(params);
 * for (let i = 0; i < 10; i++) {
 *   const grads = { w: tf.mul((params as { w: tf.Tensor }).w, 2) }; // loss = |w|²
 *   const next: StepResult<typeof state> = step(tx, params, grads, state);
 *   treeDispose([params, grads]);
 *   ({ params, state } = next);
 * }
 * (lookaheadEvalParams(state) as { w: tf.Tensor }).w.print(); // the slow weights, for evaluation
 * treeDispose([params, state]);
 * ```
 */
export function lookahead<S>(
  fast: GradientTransformation<S>,
  options: LookaheadOptions,
): GradientTransformation<LookaheadState<S>> {
  const owner = 'lookahead';
  if (!isTransform(fast)) {
    throw new InvalidOptionError(
      owner,
      'fast',
      fast,
      'a gradient transformation (an object with init and update)',
    );
  }
  if (options === undefined) {
    throw new InvalidOptionError(
      owner,
      'syncPeriod',
      undefined,
      'an integer >= 1 (it has no default)',
    );
  }
  const { syncPeriod, slowStepSize, resetState } = readOptions(owner, options, LOOKAHEAD_RULES, {
    resetState: false,
  });
  requireOption(owner, 'syncPeriod', syncPeriod, 'an integer >= 1 (it has no default)');
  requireOption(owner, 'slowStepSize', slowStepSize, 'a number in [0, 1] (it has no default)');

  const transform: GradientTransformation<LookaheadState<S>> = {
    init: (params) =>
      tidy(() => ({
        fastState: detachState(fast.init(params), [params]),
        stepsSinceSync: 0,
        slow: treeMap((p) => tf.clone(p), params),
      })),
    update: (updates, state, params, context) => {
      if (!isLookaheadState(state)) {
        throw new TfoptError(
          `${owner}: expected a state { fastState, stepsSinceSync, slow }, got ${
            state === null ? 'null' : Array.isArray(state) ? 'an array' : typeof state
          }; was it built by this transform's init?`,
        );
      }
      if (params === undefined) {
        throw new TfoptError(
          `${owner}: needs the (fast) parameters; pass them as the third argument of update (step, stepVariables and TransformOptimizer do)`,
        );
      }
      return tidy(() => {
        const [u, fastNext] = fast.update(updates, state.fastState, params, context);
        const inputs = [updates, params, context];
        if (state.stepsSinceSync + 1 < syncPeriod) {
          const next = {
            fastState: detachState(fastNext, inputs),
            stepsSinceSync: state.stepsSinceSync + 1,
            slow: state.slow,
          };
          return [u, next] as const;
        }
        const alpha = tf.scalar(slowStepSize);
        const rest = tf.scalar(1 - slowStepSize);
        const [fastUpdate, slow] = treeMapN(
          2,
          (theta, step, phi) => {
            const d = tf.sub(tf.add(theta, step), phi);
            return [tf.sub(step, tf.mul(rest, d)), tf.add(phi, tf.mul(alpha, d))];
          },
          params,
          u,
          state.slow,
        ) as [Tree, Tree];
        const fastState = resetState ? fast.init(params) : fastNext;
        return [
          fastUpdate,
          { fastState: detachState(fastState, inputs), stepsSinceSync: 0, slow },
        ] as const;
      });
    },
  };
  const fastSpec = specOf(fast);
  return fastSpec === undefined ? transform : withSpec(transform, owner, [fastSpec, options]);
}

/** True for a state built by {@link lookahead}. @category Combinators */
export function isLookaheadState(value: unknown): value is LookaheadState<unknown> {
  return (
    isPlainRecord(value) &&
    typeof value.stepsSinceSync === 'number' &&
    'fastState' in value &&
    'slow' in value
  );
}

/**
 * The slow parameters of the one {@link lookahead} in an optimizer state of
 * any nesting (inside a chain, `injectHyperparams`, the state a
 * `TransformOptimizer` holds, keyed by variable name there): the parameters
 * to evaluate and run inference with. They are the state's own tensors:
 * read or copy them, do not dispose them; they stay valid while the state
 * does (for `TransformOptimizer.getState()`, until the next step). Throws
 * when the state holds no lookahead state, or more than one.
 *
 * @category Combinators
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { treeDispose } from '@tfopt/core';
 * import { adam, lookahead, lookaheadEvalParams } from '@tfopt/transforms';
 * const tx = lookahead(adam(1e-3), { syncPeriod: 6, slowStepSize: 0.5 });
 * const state = tx.init({ w: tf.tensor([1, 2]) });
 * (lookaheadEvalParams(state) as { w: tf.Tensor }).w.print(); // [1, 2] before any step
 * treeDispose(state);
 * ```
 */
export function lookaheadEvalParams(state: unknown): Tree {
  const found = treeGetAll(state, 'slow', {
    filter: (_path, _value, holder) => isLookaheadState(holder),
  });
  if (found.length !== 1) {
    throw new TfoptError(
      found.length === 0
        ? 'lookaheadEvalParams: the state holds no lookahead state (build the optimizer with lookahead(fast, options))'
        : `lookaheadEvalParams: the state holds ${found.length} lookahead states (slow parameters at ${found
            .map((f) => f.path)
            .join(', ')}); read the one you mean from its state record`,
    );
  }
  return (found[0] as { value: Tree }).value;
}
