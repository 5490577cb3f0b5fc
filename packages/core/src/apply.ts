import * as tf from '@tensorflow/tfjs-core';
import { TfoptError, TreeStructureError } from './errors.js';
import type { GradientTransformation, UpdateContext } from './transform.js';
import { tidy } from './transform.js';
import { assertSameStructure, collectTensors, type Tree, treeFlatten, treeMap } from './tree.js';

/**
 * `params + updates`, leaf by leaf, as new tensors. Pure: neither input is
 * disposed; the caller owns the result.
 *
 * @category Applying updates
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applyUpdates } from '@tfopt/core';
 * const next = applyUpdates({ w: tf.ones([2]) }, { w: tf.tensor([-0.1, 0.1]) }); // w = [0.9, 1.1]
 * ```
 */
export function applyUpdates(params: Tree, updates: Tree): Tree {
  assertSameStructure(params, updates, ['params', 'updates']);
  return tidy(() =>
    treeMap(
      (p, u) => (u.dtype === p.dtype ? tf.add(p, u) : tf.add(p, tf.cast(u, p.dtype))),
      params,
      updates,
    ),
  );
}

/**
 * Add `updates` to a tree of `tf.Variable`s in place (`v.assign(v + u)`).
 * Structures are checked before any variable changes, so a mismatch leaves
 * every variable as it was. `updates` is not disposed.
 *
 * @category Applying updates
 */
export function applyUpdatesToVariables(variables: Tree, updates: Tree): void {
  assertSameStructure(variables, updates, ['variables', 'updates']);
  const vars = treeFlatten(variables);
  for (const { path, tensor } of vars) {
    if (!(tensor instanceof tf.Variable)) {
      throw new TreeStructureError(
        path,
        'expected a tf.Variable (use applyUpdates for plain tensors)',
      );
    }
  }
  const deltas = treeFlatten(updates);
  tf.tidy(() => {
    vars.forEach(({ tensor }, i) => {
      const v = tensor as tf.Variable;
      const u = (deltas[i] as { tensor: tf.Tensor }).tensor;
      v.assign(tf.add(v, u.dtype === v.dtype ? u : tf.cast(u, v.dtype)));
    });
  });
}

/**
 * Release what a replaced value held: dispose every tensor reachable in
 * `previous` that is not also reachable in `next` or in any of `keep`.
 * This is the one way tfopt frees old optimizer states, because a new state
 * may share tensors with the old one (a transform that leaves part of its
 * state untouched returns the same tensor).
 *
 * @category Ownership
 * @example
 * ```ts
 * import { disposeReplaced } from '@tfopt/core';
 * // const [updates, next] = tx.update(grads, state, params);
 * // disposeReplaced(state, next);   // frees only what `next` no longer uses
 * ```
 */
export function disposeReplaced(previous: unknown, next: unknown, ...keep: unknown[]): void {
  const kept = new Set<tf.Tensor>(collectTensors([next, keep]));
  for (const t of collectTensors(previous)) {
    if (!kept.has(t) && !t.isDisposed) t.dispose();
  }
}

/**
 * The result of one {@link step}.
 *
 * @category Applying updates
 */
export interface StepResult<S> {
  /** The new parameters (owned by the caller). */
  readonly params: Tree;
  /** The new optimizer state (owned by the caller). */
  readonly state: S;
}

/**
 * One optimizer step on plain tensors: run the transform, apply its updates
 * and free what the step no longer needs (the updates and the parts of the old
 * state that the new state does not reuse). `params` and `grads` are left to
 * the caller. If anything throws, `params` and `state` are untouched and
 * nothing created by the step is left behind.
 *
 * @category Applying updates
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { step } from '@tfopt/core';
 * import { adam } from '@tfopt/transforms';
 * const tx = adam(0.1);
 * let params = { x: tf.tensor([3]) };
 * let state = tx.init(params);
 * const grads = tf.grads((x: tf.Tensor) => tf.sum(tf.square(x)))([params.x]);
 * const next = step(tx, params, { x: grads[0]! }, state);
 * ```
 */
export function step<S>(
  transform: GradientTransformation<S>,
  params: Tree,
  grads: Tree,
  state: S,
  context?: UpdateContext,
): StepResult<S> {
  const [updates, next] = transform.update(grads, state, params, context);
  let newParams: Tree;
  try {
    newParams = applyUpdates(params, updates);
  } catch (e) {
    disposeReplaced([updates, next], undefined, state, params, grads);
    throw e;
  }
  disposeReplaced(updates, next, params, grads, state);
  disposeReplaced(state, next, params, grads);
  return { params: newParams, state: next };
}

/**
 * One optimizer step on a tree of `tf.Variable`s: run the transform with the
 * variables as `params`, add the updates in place and return the new state,
 * disposing the updates and whatever of the old state the new state does not
 * reuse. `grads` stay with the caller. If the transform or the structure check
 * throws, no variable changes and `state` stays valid.
 *
 * @category Applying updates
 */
export function stepVariables<S>(
  transform: GradientTransformation<S>,
  variables: Tree,
  grads: Tree,
  state: S,
  context?: UpdateContext,
): S {
  const [updates, next] = transform.update(grads, state, variables, context);
  try {
    applyUpdatesToVariables(variables, updates);
  } catch (e) {
    disposeReplaced([updates, next], undefined, state, variables, grads);
    throw e;
  }
  disposeReplaced(updates, next, variables, grads, state);
  disposeReplaced(state, next, variables, grads);
  return next;
}

/**
 * Throw unless every leaf of `tree` holds only finite numbers. Reads the
 * data back (a sync point), so use it for debugging, not on the hot path.
 *
 * @category Applying updates
 */
export function assertFinite(tree: Tree, what = 'tree'): void {
  for (const { path, tensor } of treeFlatten(tree)) {
    const bad = tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(tensor))).dataSync()[0]);
    if (bad) throw new TfoptError(`${what}${path}: contains NaN or Infinity`);
  }
}
