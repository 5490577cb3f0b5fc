import * as tf from '@tensorflow/tfjs-core';
import type { Monoid } from 'fp-ts/lib/Monoid.js';
import { recordChainLinks } from './chainLinks.js';
import { TfoptError } from './errors.js';
import { specOf, type TransformSpec } from './spec.js';
import type { Tree } from './tree.js';

/**
 * Per-step extras handed to every transform alongside the updates.
 *
 * `chain` fills in `grads` with the raw gradient of the step when the context
 * has none, so links deep in a chain (the EG transforms) can still see the
 * gradient after earlier links rescaled the updates. Other entries (`loss`,
 * or anything a custom transform needs) pass through unchanged.
 *
 * @category Transforms
 */
export interface UpdateContext {
  /** The raw gradient of this step, before any transform touched it. */
  readonly grads?: Tree;
  /** The loss at the current parameters, when the caller has it. */
  readonly loss?: number | tf.Scalar;
  /** Further extras for custom transforms. */
  readonly [extra: string]: unknown;
}

/**
 * A pure gradient transformation: an `init` that builds the state from the
 * parameters, and an `update` that turns incoming updates (at the head of a
 * chain: gradients) into outgoing updates and a new state.
 *
 * Ownership, the one rule: `init` and `update` never dispose or mutate their
 * inputs, and the same inputs give the same outputs. The caller owns every
 * tensor in what they return. The returned *updates* may alias the inputs or
 * the state (`identity` returns its input; a momentum transform returns its
 * new buffer both as the update and in the state), so release old states
 * with `disposeReplaced` rather than leaf by leaf. The returned *state* never
 * holds a tensor the caller passed in (updates, params, context): the caller
 * may dispose those after the step. tfopt's transforms keep this themselves;
 * `step`, `stepVariables` and `TransformOptimizer` also enforce it for any
 * transform through `detachState`.
 *
 * Pairing: trees are matched by key, never by position (see `treeKeys`).
 *
 * @typeParam S - The state record.
 * @category Transforms
 */
export interface GradientTransformation<S = unknown> {
  /** Build the initial state for parameters shaped like `params`. */
  readonly init: (params: Tree) => S;
  /** Transform `updates` given `state`, the current `params` and per-step `context`. */
  readonly update: (
    updates: Tree,
    state: S,
    params?: Tree,
    context?: UpdateContext,
  ) => readonly [Tree, S];
  /** How the transform was built, when its factory records it (see `withSpec`). */
  readonly spec?: TransformSpec;
}

/**
 * True for anything with an `init` and an `update` function: what every
 * factory that takes a transform (`chain` links, `injectHyperparams`'s
 * factory result, `applyIfFinite`'s inner transform) accepts.
 *
 * @category Transforms
 */
export function isTransform(x: unknown): x is GradientTransformation<any> {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as GradientTransformation).init === 'function' &&
    typeof (x as GradientTransformation).update === 'function'
  );
}

/** The state type of a transform. @category Transforms */
export type StateOf<T> = T extends GradientTransformation<infer S> ? S : never;

/** The state of a {@link chain}: one entry per link, in order. @category Transforms */
export type ChainState<T extends readonly GradientTransformation<any>[]> = {
  readonly [K in keyof T]: StateOf<T[K]>;
};

/** The state of a stateless transform. @category Transforms */
export type EmptyState = Record<string, never>;

const EMPTY: EmptyState = Object.freeze({}) as EmptyState;

/**
 * The transform that returns its updates unchanged; the unit of {@link chain}.
 *
 * @category Transforms
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { identity } from '@tfopt/core';
 * const tx = identity();
 * const g = { w: tf.ones([2]) };
 * const [u] = tx.update(g, tx.init(g)); // u === g
 * ```
 */
export function identity(): GradientTransformation<EmptyState> {
  return {
    init: () => EMPTY,
    update: (updates) => [updates, EMPTY],
    spec: { name: 'identity', args: [] },
  };
}

/**
 * A transform without state from a function of the updates (and optionally
 * the parameters and context). The function runs inside `tf.tidy`.
 *
 * @category Transforms
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { stateless, treeMap } from '@tfopt/core';
 * const negate = stateless((u) => treeMap((x) => tf.neg(x), u));
 * ```
 */
export function stateless(
  fn: (updates: Tree, params?: Tree, context?: UpdateContext) => Tree,
): GradientTransformation<EmptyState> {
  return {
    init: () => EMPTY,
    update: (updates, _state, params, context) => [
      tf.tidy(() => fn(updates, params, context) as tf.TensorContainer) as Tree,
      EMPTY,
    ],
  };
}

/**
 * Run `body` inside `tf.tidy` and return its result: every tensor created
 * inside and not returned is released. Transforms wrap their `update` in it.
 *
 * @category Transforms
 */
export function tidy<T>(body: () => T): T {
  return tf.tidy(() => body() as unknown as tf.TensorContainer) as unknown as T;
}

/**
 * Compose transforms left to right: the updates flow through each link in
 * turn and the state is the tuple of the links' states.
 *
 * Every link sees the step's raw gradient in `context.grads` (set from the
 * incoming updates when the context has none; an outer chain's value is kept).
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { clipByGlobalNorm, scaleByAdam, scaleByLearningRate } from '@tfopt/transforms';
 * const tx = chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(1e-3));
 * ```
 */
export function chain<const T extends readonly GradientTransformation<any>[]>(
  ...transforms: T
): GradientTransformation<ChainState<T>> {
  const childSpecs = transforms.map(specOf);
  const spec = childSpecs.every((s) => s !== undefined)
    ? { spec: { name: 'chain', args: childSpecs } as TransformSpec }
    : {};
  const update: GradientTransformation<ChainState<T>>['update'] = (
    updates,
    state,
    params,
    context,
  ) => {
    if (!Array.isArray(state) || state.length !== transforms.length) {
      throw new TfoptError(
        `chain: expected a state tuple of ${transforms.length} entries (one per link), got ${
          Array.isArray(state) ? `${state.length} entries` : typeof state
        }; was the state built by this chain's init?`,
      );
    }
    const ctx: UpdateContext =
      context?.grads !== undefined ? context : { ...context, grads: updates };
    return tidy(() => {
      let current = updates;
      const next: unknown[] = [];
      for (let i = 0; i < transforms.length; i++) {
        const [out, s] = (transforms[i] as GradientTransformation<unknown>).update(
          current,
          state[i],
          params,
          ctx,
        );
        current = out;
        next.push(s);
      }
      return [current, next as unknown as ChainState<T>] as const;
    });
  };
  // The fused path (fused.ts) compiles a chain from its links.
  recordChainLinks(update as GradientTransformation<unknown>['update'], transforms);
  return {
    ...spec,
    init: (params) => tidy(() => transforms.map((t) => t.init(params))) as unknown as ChainState<T>,
    update,
  };
}

/**
 * Transforms form a monoid under {@link chain}, with {@link identity} as the
 * unit: `concat(a, b)` applies `a` then `b`. Use it with fp-ts's `concatAll`
 * to fold a list of transforms.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { concatAll } from 'fp-ts/lib/Monoid.js';
 * import { transformMonoid } from '@tfopt/core';
 * import { scale, trace } from '@tfopt/transforms';
 * const tx = concatAll(transformMonoid)([trace({ decay: 0.9 }), scale(-0.1)]);
 * ```
 */
export const transformMonoid: Monoid<GradientTransformation<any>> = {
  concat: (first, second) => chain(first, second),
  empty: identity(),
};
