// Shared by the step-size scale transforms (egGlobalScale, hypergradientScale):
// the alignment signal between the raw gradient and the previous updates, and
// the bookkeeping around it. Internal; not exported from the package.
import * as tf from '@tensorflow/tfjs-core';
import {
  assertSameStructure,
  type Tree,
  TreeStructureError,
  treeLeaves,
  treeMap,
} from '@tfopt/core';

// Below this the product of two norms counts as zero (float32's smallest
// normal number): the cosine with a zero (or underflowed) vector is 0.
const TINY_NORM_PRODUCT = 1.1754944e-38;

/** `<a, b>` as a [1, 1] matrix product of flat views (no copy): one fused multiply-add pass. */
function vdot(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const row = tf.reshape(a, [1, a.size]);
  return tf.matMul(row, a === b ? row : tf.reshape(b, [1, b.size]), false, true);
}

/** [1, 1] results, one per leaf: summed (one group, [1, 1]) or stacked (a group per tensor, [n, 1]). */
function combine(parts: tf.Tensor[], perTensor: boolean): tf.Tensor {
  if (parts.length === 0) return tf.zeros(perTensor ? [0, 1] : [1, 1]);
  if (parts.length === 1) return parts[0] as tf.Tensor;
  return perTensor ? tf.concat(parts) : tf.addN(parts);
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
  // matMul sums products in one pass, about twice as fast as sum(mul(a, b)) on
  // the cpu backend; scalar work stays in [1, 1] until one reshape at the end.
  const shape = perTensor ? [grads.length] : [];
  const dot = combine(
    grads.map((g, i) => vdot(g, previous[i] as tf.Tensor)),
    perTensor,
  );
  if (!normalize) return tf.reshape(dot, shape);
  // Separate square roots keep |g| |v| finite where |g|^2 |v|^2 would overflow.
  const gNorm = tf.sqrt(
    combine(
      grads.map((g) => vdot(g, g)),
      perTensor,
    ),
  );
  const vNorm = tf.sqrt(
    combine(
      previous.map((v) => vdot(v, v)),
      perTensor,
    ),
  );
  const denom = tf.mul(gNorm, vNorm);
  // A comparison, not max(denom, tiny): backends disagree on max(NaN, x).
  const cos = tf.where(tf.greater(denom, TINY_NORM_PRODUCT), tf.div(dot, denom), tf.zerosLike(dot));
  return tf.reshape(cos, shape);
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
 * The updates to remember for the next step, as handles of this transform's
 * own (`tf.clone` shares the data; nothing is copied). The incoming updates
 * may belong to the caller, who may dispose them after the step; a state
 * never holds a tensor the caller passed in.
 */
export function rememberUpdates(updates: Tree): Tree {
  return treeMap((u) => tf.clone(u), updates);
}

/**
 * Check that the incoming updates, the raw gradient and the state agree
 * before any op runs, with a message naming the transform and the tree path.
 */
export function checkStructures(
  owner: string,
  updates: Tree,
  raw: Tree,
  stateTree: Tree,
  stateName: string,
): void {
  try {
    assertSameStructure(stateTree, updates, [stateName, 'updates']);
    if (raw !== updates) assertSameStructure(updates, raw, ['updates', 'context.grads']);
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
}

/** Number of leaves in a tree, for sizing a per-tensor scale. */
export function leafCount(tree: Tree): number {
  return treeLeaves(tree).length;
}
