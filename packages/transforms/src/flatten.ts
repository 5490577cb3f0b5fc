import * as tf from '@tensorflow/tfjs-core';
import {
  detachState,
  type GradientTransformation,
  InvalidOptionError,
  isTensor,
  isTransform,
  specOf,
  TfoptError,
  type Tree,
  tidy,
  treeFlatten,
  treeMap,
  type UpdateContext,
  withSpec,
} from '@tfopt/core';

/** Every leaf of `tree`, reshaped to a vector and concatenated in canonical (sorted-key) order. */
function concatenate(owner: string, tree: Tree, name: string): tf.Tensor1D {
  const leaves = treeFlatten(tree, '', name);
  if (leaves.length === 0) return tf.zeros([0]);
  const dtype = (leaves[0] as { tensor: tf.Tensor }).tensor.dtype;
  const other = leaves.find((l) => l.tensor.dtype !== dtype);
  if (other !== undefined) {
    throw new TfoptError(
      `${owner}: ${name}${other.path} is ${other.tensor.dtype} but ${name}${
        (leaves[0] as { path: string }).path
      } is ${dtype}; flatten concatenates the leaves into one vector, so they must share a dtype`,
    );
  }
  return tf.concat(leaves.map((l) => tf.reshape(l.tensor, [-1])));
}

/** Split a vector back into the leaves of `like` (canonical order), each in its shape. */
function split(owner: string, flat: Tree, like: Tree): Tree {
  const size = treeFlatten(like).reduce((n, l) => n + l.tensor.size, 0);
  if (!isTensor(flat) || flat.rank !== 1 || flat.size !== size) {
    throw new TfoptError(
      `${owner}: the inner transform must return one vector of ${size} elements, like the one it was given; got ${
        isTensor(flat) ? `a tensor of shape [${flat.shape.join(', ')}]` : 'a tree'
      }`,
    );
  }
  let offset = 0;
  return treeMap((leaf) => {
    const part = tf.reshape(tf.slice(flat, [offset], [leaf.size]), leaf.shape);
    offset += leaf.size;
    return part;
  }, like);
}

/**
 * Run `inner` on one vector: every leaf of the updates (and of the params
 * and `context.grads`) reshaped and concatenated in canonical (sorted-key)
 * order, and its output split back into the leaves' shapes (Optax's
 * `flatten`). Many small tensors then cost one kernel launch per operation
 * instead of one per tensor, at the price of a copy in and out; and a
 * transform that reduces over a tensor (a norm, a factored moment) sees the
 * whole model as one tensor.
 *
 * ```
 * v ← concat(reshape(leaf, [−1]) for every leaf, in sorted-key order)
 * (w, s) ← inner.update(v, s)
 * u ← w split back into the shapes of the leaves
 * ```
 *
 * The state is the inner transform's, over the vector. All leaves must
 * share a dtype. Inside `TransformOptimizer`, the state is not keyed by
 * variable, so it cannot follow a change in the set of trainable variables
 * (it does follow the renaming of a model loaded again).
 *
 * @category Combinators
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { treeDispose } from '@tfopt/core';
 * import { adam, flatten } from '@tfopt/transforms';
 * const tx = flatten(adam(1e-3));
 * const params = { b: tf.zeros([2]), w: tf.zeros([2, 2]) };
 * const state = tx.init(params);
 * console.log((state[0].mu as tf.Tensor).shape); // [6]: b's 2 elements, then w's 4
 * treeDispose([params, state]);
 * ```
 */
export function flatten<S>(inner: GradientTransformation<S>): GradientTransformation<S> {
  const owner = 'flatten';
  if (!isTransform(inner)) {
    throw new InvalidOptionError(
      owner,
      'inner',
      inner,
      'a gradient transformation (an object with init and update)',
    );
  }
  const transform: GradientTransformation<S> = {
    init: (params) => tidy(() => inner.init(concatenate(owner, params, 'params'))),
    update: (updates, state, params, context) =>
      tidy(() => {
        const flat = concatenate(owner, updates, 'updates');
        const ctx: UpdateContext = {
          ...context,
          grads:
            context?.grads === undefined
              ? flat
              : concatenate(owner, context.grads, 'context.grads'),
        };
        const p = params === undefined ? undefined : concatenate(owner, params, 'params');
        const [out, next] = inner.update(flat, state, p, ctx);
        return [split(owner, out, updates), detachState(next, [updates, params, context])] as const;
      }),
  };
  const innerSpec = specOf(inner);
  return innerSpec === undefined ? transform : withSpec(transform, owner, [innerSpec]);
}
