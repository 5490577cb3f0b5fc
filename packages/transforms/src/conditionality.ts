import {
  detachState,
  type GradientTransformation,
  InvalidOptionError,
  isPlainRecord,
  isTransform,
  specOf,
  TfoptError,
  tidy,
  treeAllFinite,
  treeZerosLike,
  type UpdateContext,
  withSpec,
} from '@tfopt/core';
import { assertKnownOptions, assertOptions, nonNegativeInteger } from '@tfopt/core/options';

/** Options of {@link applyIfFinite}. @category Transforms */
export interface ApplyIfFiniteOptions {
  /**
   * How many non-finite steps in a row are skipped before they are let
   * through to the inner transform. An integer `>= 0`; required (`0` lets
   * every step through and only counts the bad ones).
   */
  readonly maxConsecutiveErrors: number;
}

/**
 * State of {@link applyIfFinite}. The counters are plain numbers, so they
 * can be read between steps (e.g. from `TransformOptimizer.getState()`) and
 * are saved with a checkpoint.
 *
 * @typeParam S - The inner transform's state.
 * @category Transforms
 */
export interface ApplyIfFiniteState<S = unknown> {
  /** Non-finite steps in a row up to this one; `0` after a finite step. */
  readonly notfiniteCount: number;
  /** Whether the incoming updates of the last step were all finite (`true` before the first). */
  readonly lastFinite: boolean;
  /** Non-finite steps since `init`; never reset. */
  readonly totalNotfinite: number;
  /** State of the inner transform; left as it was on a skipped step. */
  readonly inner: S;
}

const OWNER = 'applyIfFinite';

/**
 * Skip steps whose updates hold a NaN or an infinity, so one bad batch does
 * not poison the inner transform's moments (as in Optax's `apply_if_finite`).
 *
 * Every step checks the incoming updates, all leaves at once with a single
 * read-back from the device. A finite step runs the inner transform. A
 * non-finite one returns zero updates and keeps the inner state as it was
 * (the same object), unless more than `maxConsecutiveErrors` non-finite
 * steps have come in a row: then it gives up and runs the inner transform
 * on the bad updates. Either way it is counted:
 *
 * ```
 * finite  ← every element of every leaf of g is finite
 * finite:      n ← 0;  (u, s) ← inner.update(g, s)
 * otherwise:   n ← n + 1;  total ← total + 1
 *              n ≤ maxConsecutiveErrors:  u ← 0, s unchanged
 *              n > maxConsecutiveErrors:  (u, s) ← inner.update(g, s)
 * lastFinite ← finite
 * ```
 *
 * `params` and `context` reach the inner transform unchanged, so it works
 * around a whole `chain` as well as inside one. Placed in a chain, it checks
 * what the links before it produce; the links after it see the zeros of a
 * skipped step. The returned state holds none of the caller's tensors: a
 * tensor of `updates`, `params` or `context` that the inner transform keeps
 * in its state is replaced by its own handle (`tf.clone`, which copies no
 * data).
 *
 * The transform has a spec, and can be saved with a model, whenever `inner`
 * has one.
 *
 * @category Transforms
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { adam, applyIfFinite } from '@tfopt/transforms';
 *
 * const tx = applyIfFinite(adam(1e-3), { maxConsecutiveErrors: 5 });
 * const params = { w: tf.zeros([2]) };
 * const state = tx.init(params);
 * const [updates, next] = tx.update({ w: tf.tensor([Number.NaN, 1]) }, state, params);
 * (updates as { w: tf.Tensor }).w.print(); // [0, 0]
 * console.log(next.inner === state.inner, next.notfiniteCount, next.lastFinite); // true 1 false
 * ```
 */
export function applyIfFinite<S>(
  inner: GradientTransformation<S>,
  options: ApplyIfFiniteOptions,
): GradientTransformation<ApplyIfFiniteState<S>> {
  if (!isTransform(inner)) {
    throw new InvalidOptionError(
      OWNER,
      'inner',
      inner,
      'a gradient transformation (an object with init and update)',
    );
  }
  assertKnownOptions(OWNER, options, ['maxConsecutiveErrors'], { required: true });
  const { maxConsecutiveErrors } = options;
  if (maxConsecutiveErrors === undefined) {
    throw new InvalidOptionError(
      OWNER,
      'maxConsecutiveErrors',
      undefined,
      'an integer >= 0 (it has no default)',
    );
  }
  assertOptions(OWNER, { maxConsecutiveErrors: [maxConsecutiveErrors, nonNegativeInteger] });

  const transform: GradientTransformation<ApplyIfFiniteState<S>> = {
    init: (params) =>
      tidy(() => ({
        notfiniteCount: 0,
        lastFinite: true,
        totalNotfinite: 0,
        inner: detachState(inner.init(params), [params]),
      })),
    update: (updates, state, params, context) => {
      if (!isApplyIfFiniteState(state)) {
        throw new TfoptError(
          `${OWNER}: expected a state { notfiniteCount, lastFinite, totalNotfinite, inner }, got ${
            state === null ? 'null' : Array.isArray(state) ? 'an array' : typeof state
          }; was it built by this transform's init?`,
        );
      }
      return tidy(() => {
        const finite = treeAllFinite(updates);
        const notfiniteCount = finite ? 0 : state.notfiniteCount + 1;
        const counts = {
          notfiniteCount,
          lastFinite: finite,
          totalNotfinite: finite ? state.totalNotfinite : state.totalNotfinite + 1,
        };
        if (!finite && notfiniteCount <= maxConsecutiveErrors) {
          return [treeZerosLike(updates), { ...counts, inner: state.inner }] as const;
        }
        const [out, next] = inner.update(updates, state.inner, params, context);
        return [out, { ...counts, inner: detachState(next, [updates, params, context]) }] as const;
      });
    },
  };
  const innerSpec = specOf(inner);
  return innerSpec === undefined
    ? transform
    : withSpec(transform, OWNER, [innerSpec, { maxConsecutiveErrors }]);
}

function isApplyIfFiniteState(value: unknown): value is ApplyIfFiniteState<any> {
  if (!isPlainRecord(value)) return false;
  return (
    typeof value.notfiniteCount === 'number' &&
    typeof value.totalNotfinite === 'number' &&
    typeof value.lastFinite === 'boolean' &&
    'inner' in value
  );
}

/**
 * Whether a conditional transform runs its inner transform at this update:
 * called with the number of updates done before this one (0 at the first)
 * and the step's context; must return `true` or `false`.
 *
 * @category Transforms
 */
export type ConditionFn = (step: number, context?: UpdateContext) => boolean;

/**
 * State of {@link conditionallyTransform} and {@link conditionallyMask}.
 *
 * @typeParam S - The inner transform's state.
 * @category Transforms
 */
export interface ConditionallyTransformState<S = unknown> {
  /** State of the inner transform; unchanged on a step it did not run. */
  readonly inner: S;
  /** Updates done so far, run or not (0 before the first). */
  readonly step: number;
}

/** State of {@link conditionallyMask}. @category Transforms */
export type ConditionallyMaskState<S = unknown> = ConditionallyTransformState<S>;

function conditional<S>(
  owner: string,
  inner: GradientTransformation<S>,
  shouldTransform: ConditionFn,
  onSkip: 'pass' | 'zero',
): GradientTransformation<ConditionallyTransformState<S>> {
  if (!isTransform(inner)) {
    throw new InvalidOptionError(
      owner,
      'inner',
      inner,
      'a gradient transformation (an object with init and update)',
    );
  }
  if (typeof shouldTransform !== 'function') {
    throw new InvalidOptionError(
      owner,
      'shouldTransform',
      shouldTransform,
      'a function of the step count returning true or false',
    );
  }
  const transform: GradientTransformation<ConditionallyTransformState<S>> = {
    init: (params) => tidy(() => ({ inner: detachState(inner.init(params), [params]), step: 0 })),
    update: (updates, state, params, context) => {
      if (!isPlainRecord(state) || typeof state.step !== 'number' || !('inner' in state)) {
        throw new TfoptError(
          `${owner}: expected a state { inner, step }, got ${
            state === null ? 'null' : Array.isArray(state) ? 'an array' : typeof state
          }; was it built by this transform's init?`,
        );
      }
      const run = shouldTransform(state.step, context);
      if (typeof run !== 'boolean') {
        throw new TfoptError(
          `${owner}: shouldTransform returned ${String(run)} at step ${state.step}; expected true or false`,
        );
      }
      const step = state.step + 1;
      if (!run) {
        const out = onSkip === 'zero' ? tidy(() => treeZerosLike(updates)) : updates;
        return [out, { inner: state.inner, step }];
      }
      return tidy(() => {
        const [out, next] = inner.update(updates, state.inner, params, context);
        return [out, { inner: detachState(next, [updates, params, context]), step }] as const;
      });
    },
  };
  const innerSpec = specOf(inner);
  return innerSpec === undefined
    ? transform
    : withSpec(transform, owner, [innerSpec, shouldTransform]);
}

/**
 * Run `inner` only at the steps where `shouldTransform(step)` is true, and
 * pass the updates through unchanged (and the inner state as it was) at the
 * others (Optax's `conditionally_transform`). `step` counts the updates
 * before this one, run or not: `(step) => step >= 1000` switches a transform
 * on after a warm-up, `(step) => step % 10 === 0` runs it every tenth step.
 *
 * ```
 * run ← shouldTransform(step, context)
 * run:        (u, s) ← inner.update(g, s)
 * otherwise:  u ← g, s unchanged
 * step ← step + 1
 * ```
 *
 * The predicate gets the step's context as its second argument (Optax
 * forwards the extra arguments only with `forward_extra_args=True`). To save
 * the transform with a model, the predicate must be registered
 * (`registerTransformFactory(name, fn)`, in the programs that save and load)
 * or carry a spec (`withFunctionSpec`); the inner transform must have a spec.
 * To zero the updates on skipped steps instead, use {@link conditionallyMask}.
 *
 * @category Transforms
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { treeDispose } from '@tfopt/core';
 * import { clipByGlobalNorm, conditionallyTransform } from '@tfopt/transforms';
 * // Clip only during the first 100 steps.
 * const tx = conditionallyTransform(clipByGlobalNorm(1), (step) => step < 100);
 * const g = { w: tf.tensor([3, 4]) };
 * const state = tx.init(g);
 * const [u, next] = tx.update(g, state);
 * (u as typeof g).w.print(); // [0.6, 0.8]
 * console.log(next.step); // 1
 * treeDispose([g, state, u, next]);
 * ```
 */
export function conditionallyTransform<S>(
  inner: GradientTransformation<S>,
  shouldTransform: ConditionFn,
): GradientTransformation<ConditionallyTransformState<S>> {
  return conditional('conditionallyTransform', inner, shouldTransform, 'pass');
}

/**
 * Run `inner` only at the steps where `shouldTransform(step)` is true, and
 * return zero updates (keeping the inner state as it was) at the others
 * (Optax's `conditionally_mask`). See {@link conditionallyTransform} for the
 * predicate and for saving.
 *
 * ```
 * run ← shouldTransform(step, context)
 * run:        (u, s) ← inner.update(g, s)
 * otherwise:  u ← 0, s unchanged
 * step ← step + 1
 * ```
 *
 * @category Transforms
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { treeDispose } from '@tfopt/core';
 * import { conditionallyMask, sgd } from '@tfopt/transforms';
 * // Train every other step only.
 * const tx = conditionallyMask(sgd(0.1), (step) => step % 2 === 0);
 * const g = { w: tf.tensor([1, 2]) };
 * const s0 = tx.init(g);
 * const [u1, s1] = tx.update(g, s0);
 * const [u2, s2] = tx.update(g, s1);
 * (u1 as typeof g).w.print(); // [-0.1, -0.2]
 * (u2 as typeof g).w.print(); // [0, 0]
 * treeDispose([g, s0, u1, s1, u2, s2]);
 * ```
 */
export function conditionallyMask<S>(
  inner: GradientTransformation<S>,
  shouldTransform: ConditionFn,
): GradientTransformation<ConditionallyMaskState<S>> {
  return conditional('conditionallyMask', inner, shouldTransform, 'zero');
}
