// Shared by the step-size scale transforms (egGlobalScale, hypergradientScale):
// the alignment signal between the raw gradient and the previous updates, and
// the bookkeeping around it. Internal; not exported from the package.
import * as tf from '@tensorflow/tfjs-core';
import {
  assertSameStructure,
  isTensor,
  type Tree,
  TreeStructureError,
  treeFlatten,
  treeLeaves,
  treeMap,
} from '@tfopt/core';

// Below this the product of two norms counts as zero (float32's smallest
// normal number): the cosine with a zero (or underflowed) vector is 0.
const TINY_NORM_PRODUCT = 1.1754944e-38;

/** `<a, b>` as a [1, 1] matrix product of flat views (no copy): one fused multiply-add pass. */
function vdot(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  // An empty leaf contributes 0 (a reduction over zero elements is not reliable on every backend).
  if (a.size === 0) return tf.zeros([1, 1]);
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

/**
 * The multipliers of a state at their start: one scalar `value` for the tree,
 * or (`perTensor`) a tree shaped like `params` with a scalar `value` at every
 * leaf, so that each parameter tensor's multiplier sits at that tensor's path
 * (and follows it by name when the set of parameters changes).
 */
export function initMultipliers(params: Tree, value: number, perTensor: boolean): Tree {
  return perTensor ? treeMap(() => tf.scalar(value), params) : tf.scalar(value);
}

/**
 * The multipliers as one tensor for the vectorised update: the scalar itself,
 * or the per-tensor scalars stacked into shape `[n]` in canonical order (the
 * order of {@link alignment}'s entries).
 */
export function stackMultipliers(multipliers: Tree, perTensor: boolean): tf.Tensor {
  if (!perTensor) return multipliers as tf.Tensor;
  const leaves = treeLeaves(multipliers);
  return leaves.length === 0 ? tf.zeros([0]) : tf.stack(leaves);
}

/**
 * The inverse of {@link stackMultipliers}: the entries of `stacked` as a tree
 * of scalars with the layout of `like` (the previous multipliers).
 */
export function unstackMultipliers(stacked: tf.Tensor, like: Tree, perTensor: boolean): Tree {
  if (!perTensor) return stacked;
  const parts = stacked.size === 0 ? [] : tf.unstack(stacked);
  let i = 0;
  return treeMap(() => parts[i++] as tf.Tensor, like);
}

/**
 * Multiply each leaf by the global multiplier, or by its own scalar of a
 * per-tensor tree (checked by {@link checkMultipliers} to have the leaves'
 * paths, so canonical order pairs them by key).
 */
export function applyScale(updates: Tree, multipliers: Tree, perTensor: boolean): Tree {
  if (!perTensor) return treeMap((u) => tf.mul(u, multipliers as tf.Tensor), updates);
  const parts = treeLeaves(multipliers);
  let i = 0;
  return treeMap((u) => tf.mul(u, parts[i++] as tf.Tensor), updates);
}

/**
 * The updates to remember for the next step, as handles of this transform's
 * own that share the data. The incoming updates may belong to the caller, who
 * may dispose them after the step; a state never holds a tensor the caller
 * passed in. A same-shape `tf.reshape` is such a handle on every backend,
 * where `tf.clone` copies the whole tensor on wasm (its Identity kernel).
 */
export function rememberUpdates(updates: Tree): Tree {
  return treeMap((u) => tf.reshape(u, u.shape), updates);
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

/**
 * Check the multipliers of a state before any op runs: a scalar tensor, or
 * (`perTensor`) a tree of scalar tensors whose leaves sit at the paths of the
 * leaves of `like` (the state's remembered updates, already checked against
 * the incoming updates). The message names the transform and the path.
 */
export function checkMultipliers(
  owner: string,
  multipliers: Tree,
  like: Tree,
  stateName: string,
  perTensor: boolean,
): void {
  const fail = (path: string, detail: string): never => {
    throw new TreeStructureError(
      path,
      detail,
      `${stateName}${path} ${detail} (in ${owner}.update; the state must come from init over params shaped like the updates, with the same perTensor)`,
    );
  };
  if (!perTensor) {
    if (!isTensor(multipliers) || multipliers.rank !== 0) {
      fail('', 'is not a scalar tensor');
    }
    return;
  }
  const got = treeFlatten(multipliers, '', stateName);
  const want = treeFlatten(like).map((leaf) => leaf.path);
  const wanted = new Set(want);
  const have = new Set(got.map((leaf) => leaf.path));
  for (const path of want)
    if (!have.has(path)) fail(path, 'is missing (the updates have a tensor there)');
  for (const { path, tensor } of got) {
    if (!wanted.has(path)) fail(path, 'has no tensor of the updates at its path');
    if (tensor.rank !== 0) fail(path, `has shape [${tensor.shape.join(', ')}]; expected a scalar`);
  }
}
