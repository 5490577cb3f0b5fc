import * as tf from '@tensorflow/tfjs-core';
import { TreeStructureError } from './errors.js';

/**
 * A tree of tensors: a tensor, or arrays and plain objects of trees.
 * `tf.NamedTensorMap` (what `tf.variableGrads` returns) is a tree.
 *
 * @category Trees
 */
export type Tree = tf.Tensor | readonly Tree[] | { readonly [key: string]: Tree };

/**
 * True for `tf.Tensor` and its subclasses (including `tf.Variable`).
 *
 * @category Trees
 */
export function isTensor(x: unknown): x is tf.Tensor {
  return x instanceof tf.Tensor;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Extend a tree path by one key: `.name` for identifier-like keys,
 * `["odd/key"]` for others and `[i]` for array positions.
 *
 * @category Trees
 * @example
 * ```ts
 * import { joinPath } from '@tfopt/core';
 * joinPath(joinPath('', 'dense/kernel'), 0); // '["dense/kernel"][0]'
 * ```
 */
export function joinPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function describe(x: unknown): string {
  if (isTensor(x)) return `a tensor of shape [${x.shape.join(', ')}]`;
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (x === null) return 'null';
  if (typeof x === 'object') return 'an object';
  return typeof x;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !isTensor(x);
}

/**
 * One leaf of a flattened tree with its path.
 *
 * @category Trees
 */
export interface TreeLeaf {
  /** Path from the root, as produced by {@link joinPath}; `''` for a bare tensor. */
  readonly path: string;
  /** The tensor at that path. */
  readonly tensor: tf.Tensor;
}

/**
 * The leaves of a tree in a deterministic order (object keys in insertion
 * order, arrays by index), each with its path.
 *
 * @category Trees
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { treeFlatten } from '@tfopt/core';
 * treeFlatten({ w: tf.zeros([2]), b: [tf.scalar(1)] }).map((l) => l.path); // ['.w', '.b[0]']
 * ```
 */
export function treeFlatten(tree: Tree, path = ''): TreeLeaf[] {
  const out: TreeLeaf[] = [];
  const walk = (node: unknown, at: string): void => {
    if (isTensor(node)) {
      out.push({ path: at, tensor: node });
    } else if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) walk(node[i], joinPath(at, i));
    } else if (isPlainObject(node)) {
      for (const key of Object.keys(node)) walk(node[key], joinPath(at, key));
    } else {
      throw new TreeStructureError(at, `expected a tensor, array or object, got ${describe(node)}`);
    }
  };
  walk(tree, path);
  return out;
}

/** The tensors of a tree, in {@link treeFlatten} order. @category Trees */
export function treeLeaves(tree: Tree): tf.Tensor[] {
  return treeFlatten(tree).map((leaf) => leaf.tensor);
}

/**
 * Map `fn` over the leaves of one or more trees of the same structure,
 * building a tree of the results. Structures are checked as the walk goes;
 * a mismatch throws a {@link TreeStructureError} naming the path.
 *
 * @category Trees
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { treeMap } from '@tfopt/core';
 * const sum = treeMap((a, b) => tf.add(a, b), { w: tf.ones([2]) }, { w: tf.ones([2]) });
 * ```
 */
export function treeMap(
  fn: (...leaves: tf.Tensor[]) => tf.Tensor,
  tree: Tree,
  ...rest: Tree[]
): Tree {
  return mapAt(fn, tree, rest, '');
}

function mapAt(
  fn: (...leaves: tf.Tensor[]) => tf.Tensor,
  tree: unknown,
  rest: readonly unknown[],
  path: string,
): Tree {
  if (isTensor(tree)) {
    for (const other of rest) {
      if (!isTensor(other)) {
        throw new TreeStructureError(path, `expected a tensor, got ${describe(other)}`);
      }
      if (!shapesEqual(tree.shape, other.shape)) {
        throw new TreeStructureError(
          path,
          `expected shape [${tree.shape.join(', ')}], got [${other.shape.join(', ')}]`,
        );
      }
    }
    return fn(tree, ...(rest as tf.Tensor[]));
  }
  if (Array.isArray(tree)) {
    for (const other of rest) {
      if (!Array.isArray(other) || other.length !== tree.length) {
        throw new TreeStructureError(
          path,
          `expected an array of length ${tree.length}, got ${describe(other)}`,
        );
      }
    }
    return tree.map((child, i) =>
      mapAt(
        fn,
        child,
        rest.map((other) => (other as unknown[])[i]),
        joinPath(path, i),
      ),
    );
  }
  if (isPlainObject(tree)) {
    const keys = Object.keys(tree);
    for (const other of rest) {
      if (!isPlainObject(other)) {
        throw new TreeStructureError(path, `expected an object, got ${describe(other)}`);
      }
      for (const key of keys) {
        if (!Object.hasOwn(other, key)) {
          throw new TreeStructureError(joinPath(path, key), 'missing in one of the trees');
        }
      }
      const otherKeys = Object.keys(other);
      if (otherKeys.length !== keys.length) {
        const extra = otherKeys.find((k) => !Object.hasOwn(tree, k));
        throw new TreeStructureError(
          joinPath(path, extra ?? '?'),
          'present in one tree but not in the first',
        );
      }
    }
    // fromEntries defines own properties, so a key such as "__proto__" stays a key.
    return Object.fromEntries(
      keys.map((key) => [
        key,
        mapAt(
          fn,
          tree[key],
          rest.map((other) => (other as Record<string, unknown>)[key]),
          joinPath(path, key),
        ),
      ]),
    );
  }
  throw new TreeStructureError(path, `expected a tensor, array or object, got ${describe(tree)}`);
}

function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Like {@link treeMap}, but `fn` returns `n` tensors per leaf and the result is
 * `n` trees of the same structure. This lets a transform compute, say, the new
 * first moment, second moment and update of each leaf in one pass.
 *
 * @category Trees
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { treeMapN } from '@tfopt/core';
 * const [doubled, squared] = treeMapN(2, (g) => [tf.mul(g, 2), tf.square(g)], { w: tf.ones([2]) });
 * ```
 */
export function treeMapN(
  n: number,
  fn: (...leaves: tf.Tensor[]) => tf.Tensor[],
  tree: Tree,
  ...rest: Tree[]
): Tree[] {
  const results: tf.Tensor[][] = [];
  const indexTree = mapAt(
    (...leaves) => {
      const outs = fn(...leaves);
      if (outs.length !== n) {
        throw new RangeError(`treeMapN: expected ${n} outputs per leaf, got ${outs.length}`);
      }
      results.push(outs);
      // A placeholder leaf carrying the result index; replaced below.
      return leaves[0] as tf.Tensor;
    },
    tree,
    rest,
    '',
  );
  const trees: Tree[] = [];
  for (let k = 0; k < n; k++) {
    let i = 0;
    trees.push(mapAt(() => (results[i++] as tf.Tensor[])[k] as tf.Tensor, indexTree, [], ''));
  }
  return trees;
}

/**
 * Throws a {@link TreeStructureError} unless `a` and `b` have the same
 * structure and leaf shapes. `names` label the trees in the message.
 *
 * @category Trees
 */
export function assertSameStructure(a: Tree, b: Tree, names: [string, string] = ['a', 'b']): void {
  try {
    mapAt((x) => x, a, [b], '');
  } catch (e) {
    if (e instanceof TreeStructureError) {
      throw new TreeStructureError(e.path, `${names[1]} does not match ${names[0]}: ${e.detail}`);
    }
    throw e;
  }
}

/** A tree of zeros with the structure, shapes and dtypes of `tree`. @category Trees */
export function treeZerosLike(tree: Tree): Tree {
  return treeMap((x) => tf.zerosLike(x), tree);
}

/** A tree of ones with the structure, shapes and dtypes of `tree`. @category Trees */
export function treeOnesLike(tree: Tree): Tree {
  return treeMap((x) => tf.onesLike(x), tree);
}

/** A tree of tensors filled with `value`, shaped like `tree`. @category Trees */
export function treeFull(tree: Tree, value: number): Tree {
  return treeMap((x) => tf.fill(x.shape, value, 'float32'), tree);
}

/** Multiply every leaf by a number or a scalar tensor. @category Trees */
export function treeScale(tree: Tree, factor: number | tf.Scalar): Tree {
  return treeMap((x) => tf.mul(x, factor), tree);
}

/**
 * Sum of `fn(leaf)` reduced to a scalar over all leaves, computed with one
 * `addN` rather than a chain of pairwise adds.
 */
function sumOverLeaves(
  leaves: tf.Tensor[],
  fn: (...xs: tf.Tensor[]) => tf.Scalar,
  rest: tf.Tensor[][] = [],
): tf.Scalar {
  return tf.tidy(() => {
    if (leaves.length === 0) return tf.scalar(0);
    const parts = leaves.map((leaf, i) => fn(leaf, ...rest.map((r) => r[i] as tf.Tensor)));
    return (parts.length === 1 ? parts[0] : tf.addN(parts)) as tf.Scalar;
  });
}

/**
 * Inner product of two trees of the same structure: the sum over all leaves
 * of `sum(a * b)`, as a scalar tensor.
 *
 * @category Trees
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { treeVdot } from '@tfopt/core';
 * treeVdot({ w: tf.tensor([1, 2]) }, { w: tf.tensor([3, 4]) }).dataSync(); // [11]
 * ```
 */
export function treeVdot(a: Tree, b: Tree): tf.Scalar {
  assertSameStructure(a, b);
  return sumOverLeaves(treeLeaves(a), (x, y) => tf.sum(tf.mul(x, y as tf.Tensor)), [treeLeaves(b)]);
}

/** Sum of squares of every element of every leaf, as a scalar tensor. @category Trees */
export function treeSquaredNorm(tree: Tree): tf.Scalar {
  return sumOverLeaves(treeLeaves(tree), (x) => tf.sum(tf.square(x)));
}

/**
 * The global L2 norm of a tree, `sqrt(sum over leaves of sum(leaf^2))`, as a
 * scalar tensor.
 *
 * @category Trees
 */
export function treeGlobalNorm(tree: Tree): tf.Scalar {
  return tf.tidy(() => tf.sqrt(treeSquaredNorm(tree)));
}

/**
 * Every tensor reachable in any value: trees, state records, tuples. Numbers,
 * strings and other non-tensor values are skipped. Each tensor appears once.
 *
 * @category Trees
 */
export function collectTensors(value: unknown): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  const seen = new Set<unknown>();
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    if (isTensor(node)) {
      out.push(node);
    } else if (Array.isArray(node)) {
      for (const child of node) walk(child);
    } else {
      for (const child of Object.values(node)) walk(child);
    }
  };
  walk(value);
  return out;
}

/**
 * Dispose every tensor reachable in `value` (see {@link collectTensors}).
 * Already-disposed tensors are skipped.
 *
 * @category Trees
 */
export function treeDispose(value: unknown): void {
  for (const t of collectTensors(value)) if (!t.isDisposed) t.dispose();
}
