// Shared by the step-size scale transforms (egGlobalScale, hypergradientScale):
// the alignment signal between the raw gradient and the previous updates, and
// the bookkeeping around it. Internal; not exported from the package.
import * as tf from '@tensorflow/tfjs-core';
import { assertSameStructure, type Tree, TreeStructureError, treeLeaves, treeMap } from '@tfopt/core';

// Below this the product of two norms counts as zero (float32's smallest
// normal number): the cosine with a zero (or underflowed) vector is 0.
const TINY_NORM_PRODUCT = 1.1754944e-38;

/** One scalar per leaf, summed (one group) or stacked (a group per tensor). */
function combine(parts: tf.Tensor[], perTensor: boolean): tf.Tensor {
  if (parts.length === 0) return tf.zeros(perTensor ? [0] : []);
  if (perTensor) return tf.stack(parts);
  return parts.length === 1 ? (parts[0] as tf.Tensor) : tf.addN(parts);
}

/**
 * `<g, v>` per group, or the cosine `<g, v> / (|g| |v|)` when `normalize`
 * (0 when a norm is 0). Shape `[]` for one global group, `[n]` per tensor.
 */
export function alignment(
  grads: readonly tf.Tensor[],
  previous: readonly tf.Tensor[],
  normalize: boolean,
  perTensor: boolean,
): tf.Tensor {
  const dot = combine(
    grads.map((g, i) => tf.sum(tf.mul(g, previous[i] as tf.Tensor))),
    perTensor,
  );
  if (!normalize) return dot;
  // Separate square roots keep |g| |v| finite where |g|^2 |v|^2 would overflow.
  const gNorm = tf.sqrt(combine(grads.map((g) => tf.sum(tf.square(g))), perTensor));
  const vNorm = tf.sqrt(combine(previous.map((v) => tf.sum(tf.square(v))), perTensor));
  const denom = tf.mul(gNorm, vNorm);
  // A comparison, not max(denom, tiny): backends disagree on max(NaN, x).
  return tf.where(tf.greater(denom, TINY_NORM_PRODUCT), tf.div(dot, denom), tf.zerosLike(dot));
}

/**
 * Keep `previous` where `next` is NaN (or, with `finiteOnly`, also infinite).
 * Float32 overflow in the signal (e.g. `inf - inf` inside a sum) then leaves
 * the multiplier unchanged instead of poisoning every later step. This must
 * run before any clip: backends differ in what `clipByValue` makes of NaN.
 */
export function keepPrevious(next: tf.Tensor, previous: tf.Tensor, finiteOnly: boolean): tf.Tensor {
  return finiteOnly
    ? tf.where(tf.isFinite(next), next, previous)
    : tf.where(tf.isNaN(next), previous, next);
}

/** Multiply each leaf by the global scale, or by its own entry of a per-tensor scale. */
export function applyScale(updates: Tree, scale: tf.Tensor, perTensor: boolean): Tree {
  if (!perTensor) return treeMap((u) => tf.mul(u, scale), updates);
  const parts = scale.size === 0 ? [] : tf.unstack(scale);
  let i = 0;
  return treeMap((u) => tf.mul(u, parts[i++] as tf.Tensor), updates);
}

/**
 * The updates to remember for the next step. They are kept by reference,
 * except leaves that are the step's raw gradient: those belong to the caller,
 * who may dispose them after the step, so the state holds its own handle
 * (`tf.clone` shares the data; no copy is made).
 */
export function rememberUpdates(updates: Tree, raw: Tree): Tree {
  const callerOwned = new Set(treeLeaves(raw));
  return treeMap((u) => (callerOwned.has(u) ? tf.clone(u) : u), updates);
}

/**
 * Check that the incoming updates, the raw gradient and the state agree
 * before any op runs, with a message naming the transform and the tree path.
 */
export function checkStructures(owner: string, updates: Tree, raw: Tree, stateTree: Tree): void {
  try {
    assertSameStructure(stateTree, updates, [`the state built by ${owner}.init`, 'updates']);
    if (raw !== updates) assertSameStructure(updates, raw, ['updates', 'context.grads']);
  } catch (e) {
    if (e instanceof TreeStructureError) {
      throw new TreeStructureError(e.path, `${e.detail} (in ${owner}.update)`);
    }
    throw e;
  }
}

/** Number of leaves in a tree, for sizing a per-tensor scale. */
export function leafCount(tree: Tree): number {
  return treeLeaves(tree).length;
}
