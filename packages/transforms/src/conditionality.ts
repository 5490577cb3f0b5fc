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
