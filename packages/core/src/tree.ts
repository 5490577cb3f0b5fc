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

/** A short description of a node for messages: `a float32 tensor of shape [2, 3]`, `an array of length 2`, ... */
function describeNode(x: unknown): string {
  if (isTensor(x)) return `a ${x.dtype} tensor of shape [${x.shape.join(', ')}]`;
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (x === null) return 'null';
  if (isLayerVariable(x)) return 'a tfjs-layers LayerVariable';
  if (isPlainRecord(x)) return 'an object';
  if (typeof x === 'object') return `a ${x.constructor?.name ?? 'non-plain object'}`;
  return typeof x;
}

/**
 * True for plain records (`{...}` literals and `Object.create(null)`); false
 * for tensors, arrays and class instances (a `Map`, a tfjs-layers
 * `LayerVariable`). The object nodes of a {@link Tree} are plain records.
 *
 * @category Trees
 */
export function isPlainRecord(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** What `model.trainableWeights` holds: a wrapper with `read()` around a `tf.Variable`. */
function isLayerVariable(x: unknown): boolean {
  const v = x as { read?: unknown; write?: unknown; originalName?: unknown } | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.read === 'function' &&
    typeof v.write === 'function' &&
    typeof v.originalName === 'string'
  );
}

/**
 * The canonical order of an object's keys: sorted (by UTF-16 code unit, as
 * `Array.prototype.sort` does). This is the one rule by which tfopt orders
 * and pairs leaves, as JAX flattens dicts in sorted-key order:
 * {@link treeFlatten} lists leaves in it, {@link treeMap} visits them in it,
 * and every sum over a tree (inner products, norms) runs in it. Two trees
 * with the same keys in another insertion order are therefore the same tree,
 * leaf for leaf and bit for bit. Arrays are ordered by index.
 *
 * @category Trees
 * @example
 * ```ts
 * import { treeKeys } from '@tfopt/core';
 * console.log(treeKeys({ w: 1, b: 2 })); // ['b', 'w']
 * ```
 */
export function treeKeys(node: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(node).sort();
}

function notATree(name: string, path: string, node: unknown): TreeStructureError {
  const detail = isLayerVariable(node)
    ? 'is a tfjs-layers LayerVariable (from model.weights or model.trainableWeights), not a tensor; pass its tf.Variable (layerVariable.read()), or train the model through TransformOptimizer from @tfopt/layers'
    : `is ${describeNode(node)}; expected a tensor, or an array or plain object of them`;
  return new TreeStructureError(path, detail, `${name}${path} ${detail}`);
}

function disposedLeaf(name: string, path: string): TreeStructureError {
  return new TreeStructureError(path, 'was disposed', `${name}${path} was disposed`);
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
 * The leaves of a tree in canonical order (object keys sorted, see
 * {@link treeKeys}; arrays by index), each with its path. Throws a
 * {@link TreeStructureError} naming the path of a node that is not a tree,
 * or of a tensor that was disposed; `name` is the tree's name in that message.
 *
 * @category Trees
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { treeFlatten } from '@tfopt/core';
 * const paths = treeFlatten({ w: tf.zeros([2]), b: [tf.scalar(1)] }).map((l) => l.path);
 * console.log(paths); // ['.b[0]', '.w']
 * ```
 */
export function treeFlatten(tree: Tree, path = '', name = 'tree'): TreeLeaf[] {
  const out: TreeLeaf[] = [];
  const walk = (node: unknown, at: string): void => {
    if (isTensor(node)) {
      if (node.isDisposed) throw disposedLeaf(name, at);
      out.push({ path: at, tensor: node });
    } else if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) walk(node[i], joinPath(at, i));
    } else if (isPlainRecord(node)) {
      for (const key of treeKeys(node)) walk(node[key], joinPath(at, key));
    } else {
      throw notATree(name, at, node);
    }
  };
  walk(tree, path);
  return out;
}

/** The tensors of a tree, in canonical ({@link treeFlatten}) order. @category Trees */
export function treeLeaves(tree: Tree): tf.Tensor[] {
  return treeFlatten(tree).map((leaf) => leaf.tensor);
}

/**
 * Options of {@link assertSameStructure}.
 *
 * @category Trees
 */
export interface StructureCheck {
  /** Also require each leaf of the second tree to have the first tree's dtype. Default `false`. */
  readonly dtype?: boolean;
}

/**
 * Map `fn` over the leaves of one or more trees of the same structure,
 * building a tree of the results. Leaves are paired by key, never by
 * position, and `fn` is called in canonical order (see {@link treeKeys}); the
 * result's objects list their keys as the first tree does. A structure,
 * shape or disposed-leaf problem throws a {@link TreeStructureError} naming
 * the path (the trees are called `trees[0]`, `trees[1]`, ... in its message).
 *
 * @category Trees
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { treeMap } from '@tfopt/core';
 * // The same keys in another order are the same tree: w pairs with w, b with b.
 * const a = { w: tf.ones([2]), b: tf.zeros([1]) };
 * const b = { b: tf.ones([1]), w: tf.ones([2]) };
 * const sum = treeMap((x, y) => tf.add(x, y), a, b) as { w: tf.Tensor; b: tf.Tensor };
 * console.log(sum.w.arraySync(), sum.b.arraySync()); // [2, 2] [1]
 * ```
 */
export function treeMap(
  fn: (...leaves: tf.Tensor[]) => tf.Tensor,
  tree: Tree,
  ...rest: Tree[]
): Tree {
  return mapAt(fn, tree, rest, '', defaultNames(rest.length), {});
}

function defaultNames(restCount: number): string[] {
  return Array.from({ length: restCount + 1 }, (_, i) => `trees[${i}]`);
}

function mapAt(
  fn: (...leaves: tf.Tensor[]) => tf.Tensor,
  tree: unknown,
  rest: readonly unknown[],
  path: string,
  names: readonly string[],
  check: StructureCheck,
): Tree {
  const first = `${names[0] as string}${path}`;
  const otherAt = (i: number) => `${names[i + 1] as string}${path}`;
  // "<other> <what> but <first> <firstWhat>", from the second tree's side.
  const contrast = (i: number, what: string, firstWhat: string): TreeStructureError => {
    const detail = `${what} but ${first} ${firstWhat}`;
    return new TreeStructureError(path, detail, `${otherAt(i)} ${detail}`);
  };
  const kindMismatch = (i: number, other: unknown): TreeStructureError =>
    isTensor(other) || Array.isArray(other) || isPlainRecord(other)
      ? contrast(i, `is ${describeNode(other)}`, `is ${describeNode(tree)}`)
      : notATree(names[i + 1] as string, path, other);

  if (isTensor(tree)) {
    if (tree.isDisposed) throw disposedLeaf(names[0] as string, path);
    rest.forEach((other, i) => {
      if (!isTensor(other)) throw kindMismatch(i, other);
      if (other.isDisposed) throw disposedLeaf(names[i + 1] as string, path);
      if (!shapesEqual(tree.shape, other.shape)) {
        throw contrast(
          i,
          `has shape [${other.shape.join(', ')}]`,
          `has [${tree.shape.join(', ')}]`,
        );
      }
      if (check.dtype === true && other.dtype !== tree.dtype) {
        const detail = `is ${other.dtype}; expected ${tree.dtype} (the dtype of ${first})`;
        throw new TreeStructureError(path, detail, `${otherAt(i)} ${detail}`);
      }
    });
    return fn(tree, ...(rest as tf.Tensor[]));
  }
  if (Array.isArray(tree)) {
    rest.forEach((other, i) => {
      if (!Array.isArray(other) || other.length !== tree.length) throw kindMismatch(i, other);
    });
    return tree.map((child, i) =>
      mapAt(
        fn,
        child,
        rest.map((other) => (other as unknown[])[i]),
        joinPath(path, i),
        names,
        check,
      ),
    );
  }
  if (isPlainRecord(tree)) {
    const keys = treeKeys(tree);
    rest.forEach((other, i) => {
      if (!isPlainRecord(other)) throw kindMismatch(i, other);
      for (const key of keys) {
        if (!Object.hasOwn(other, key)) {
          const detail = `is missing key ${JSON.stringify(key)} that ${first} has`;
          throw new TreeStructureError(joinPath(path, key), detail, `${otherAt(i)} ${detail}`);
        }
      }
      for (const key of treeKeys(other)) {
        if (!Object.hasOwn(tree, key)) {
          const detail = `has key ${JSON.stringify(key)} that ${first} does not have`;
          throw new TreeStructureError(joinPath(path, key), detail, `${otherAt(i)} ${detail}`);
        }
      }
    });
    const mapped = new Map<string, Tree>();
    for (const key of keys) {
      mapped.set(
        key,
        mapAt(
          fn,
          tree[key],
          rest.map((other) => (other as Record<string, unknown>)[key]),
          joinPath(path, key),
          names,
          check,
        ),
      );
    }
    // The first tree's own key order; fromEntries keeps a key such as "__proto__" a key.
    return Object.fromEntries(Object.keys(tree).map((key) => [key, mapped.get(key) as Tree]));
  }
  throw notATree(names[0] as string, path, tree);
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
      // A placeholder leaf; the walks below visit leaves in the same canonical order.
      return leaves[0] as tf.Tensor;
    },
    tree,
    rest,
    '',
    defaultNames(rest.length),
    {},
  );
  const trees: Tree[] = [];
  for (let k = 0; k < n; k++) {
    let i = 0;
    trees.push(
      mapAt(() => (results[i++] as tf.Tensor[])[k] as tf.Tensor, indexTree, [], '', ['tree'], {}),
    );
  }
  return trees;
}

/**
 * Throws a {@link TreeStructureError} unless `b` has the structure and leaf
 * shapes of `a` (and, with `{ dtype: true }`, its dtypes), with no disposed
 * leaf. `names` label the trees; the message reads from the side of `b`,
 * e.g. `grads is missing key "b" that params has` or
 * `grads.w has shape [4] but params.w has [2, 2]`.
 *
 * @category Trees
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { assertSameStructure } from '@tfopt/core';
 * const params = { w: tf.zeros([2, 2]) };
 * try {
 *   assertSameStructure(params, { w: tf.zeros([4]) }, ['params', 'grads']);
 * } catch (e) {
 *   console.log((e as Error).message); // grads.w has shape [4] but params.w has [2, 2]
 * }
 * ```
 */
export function assertSameStructure(
  a: Tree,
  b: Tree,
  names: readonly [string, string] = ['a', 'b'],
  check: StructureCheck = {},
): void {
  mapAt((x) => x, a, [b], '', names, check);
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
    // Empty leaves add nothing; skipping them also avoids tfjs-backend-wasm's
    // sum over zero elements, which returns whatever the output buffer held.
    const at = leaves.flatMap((leaf, i) => (leaf.size === 0 ? [] : [i]));
    if (at.length === 0) return tf.scalar(0);
    const parts = at.map((i) => fn(leaves[i] as tf.Tensor, ...rest.map((r) => r[i] as tf.Tensor)));
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

/**
 * Every part of an optimizer state that `match` accepts, depth first through
 * arrays and plain records (object keys in canonical order), looking inside
 * accepted parts too, never inside tensors. This is the one way tfopt's
 * readers (`readEgScale`, `readProdigyD`, `scheduleFreeEvalParams`, ...) find
 * their transform's record in a state of any nesting: a chain's tuple,
 * `injectHyperparams`' `inner`, a wrapper's base state, or the state a
 * `TransformOptimizer` holds.
 *
 * @category Trees
 * @example
 * ```ts
 * import { findInState, isPlainRecord } from '@tfopt/core';
 * const state = [{ count: 3 }, { inner: [{ count: 7 }] }];
 * const isCounter = (x: unknown): x is { count: number } =>
 *   isPlainRecord(x) && typeof x.count === 'number';
 * console.log(findInState(state, isCounter).map((s) => s.count)); // [3, 7]
 * ```
 */
export function findInState<T>(state: unknown, match: (node: unknown) => node is T): T[] {
  const found: T[] = [];
  const seen = new Set<unknown>();
  const walk = (node: unknown): void => {
    if (typeof node !== 'object' || node === null || isTensor(node) || seen.has(node)) return;
    seen.add(node);
    if (match(node)) found.push(node);
    if (Array.isArray(node)) for (const child of node) walk(child);
    else if (isPlainRecord(node)) for (const key of treeKeys(node)) walk(node[key]);
  };
  walk(state);
  return found;
}
