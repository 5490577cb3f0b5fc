// Internal: the subtrees that masked and partition hand to their inner
// transforms, and the merge of the inner outputs back by key. Not exported
// from the package.
import {
  assertSameStructure,
  isPlainRecord,
  isTensor,
  joinPath,
  TfoptError,
  type Tree,
  TreeStructureError,
} from '@tfopt/core';

/**
 * A tree of values (booleans of a mask, labels of a partition) shaped like
 * the parameters or like a prefix of them: a value at a node applies to the
 * whole subtree below it.
 */
export type PrefixTree<V> =
  | V
  | readonly PrefixTree<V>[]
  | { readonly [key: string]: PrefixTree<V> };

function describe(x: unknown): string {
  if (isTensor(x)) return `a tensor of shape [${x.shape.join(', ')}]`;
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (isPlainRecord(x)) return 'an object';
  if (typeof x === 'string') return JSON.stringify(x);
  if (typeof x === 'function') return 'a function';
  return typeof x === 'object' ? `a ${x.constructor?.name ?? 'non-plain object'}` : String(x);
}

/**
 * Throw, naming the path, unless `prefix` is a tree of arrays and plain
 * objects whose leaves pass `isValue`. `name` is the prefix tree's name in
 * the message (`partition: labels.dense.kernel is 3; expected a label ...`).
 */
export function assertPrefixTree<V>(
  owner: string,
  name: string,
  prefix: unknown,
  isValue: (x: unknown) => x is V,
  expected: string,
): asserts prefix is PrefixTree<V> {
  const walk = (node: unknown, path: string): void => {
    if (isValue(node)) return;
    if (Array.isArray(node)) {
      node.forEach((child, i) => {
        walk(child, joinPath(path, i));
      });
    } else if (isPlainRecord(node)) {
      for (const key of Object.keys(node)) walk(node[key], joinPath(path, key));
    } else {
      const detail = `is ${describe(node)}; expected ${expected}, or an array or object of them`;
      throw new TreeStructureError(path, detail, `${owner}: ${name}${path} ${detail}`);
    }
  };
  walk(prefix, '');
}

/**
 * `tree` with every subtree under a prefix value that `keep` rejects
 * replaced by `{}`, an empty subtree (Optax's `MaskedNode`): the inner
 * transform sees none of those tensors, while object keys and array
 * positions stay where they are, so the result still pairs with the full
 * tree by key. Throws a {@link TreeStructureError} naming the path where
 * `tree` (called `treeName`) does not have the prefix's structure.
 */
export function selectSubtree<V>(
  owner: string,
  prefix: PrefixTree<V>,
  tree: Tree,
  keep: (value: V) => boolean,
  isValue: (x: unknown) => x is V,
  names: readonly [prefixName: string, treeName: string],
): Tree {
  const [prefixName, treeName] = names;
  const mismatch = (path: string, detail: string): TreeStructureError =>
    new TreeStructureError(path, detail, `${owner}: ${treeName}${path} ${detail}`);
  const walk = (p: unknown, t: unknown, path: string): Tree => {
    if (isValue(p)) return keep(p) ? (t as Tree) : {};
    if (Array.isArray(p)) {
      if (!Array.isArray(t) || t.length !== p.length) {
        throw mismatch(
          path,
          `is ${describe(t)} but ${prefixName}${path} is ${describe(p)}; they must have the same structure`,
        );
      }
      return p.map((child, i) => walk(child, t[i], joinPath(path, i)));
    }
    const pr = p as Readonly<Record<string, unknown>>;
    if (!isPlainRecord(t)) {
      throw mismatch(
        path,
        `is ${describe(t)} but ${prefixName}${path} is an object; they must have the same structure`,
      );
    }
    for (const key of Object.keys(t)) {
      if (!Object.hasOwn(pr, key)) {
        throw mismatch(
          joinPath(path, key),
          `has no entry in ${prefixName} (${prefixName}${path} has no key ${JSON.stringify(key)})`,
        );
      }
    }
    for (const key of Object.keys(pr)) {
      if (!Object.hasOwn(t, key)) {
        throw mismatch(
          path,
          `has no key ${JSON.stringify(key)}, but ${prefixName}${joinPath(path, key)} is given`,
        );
      }
    }
    // fromEntries keeps a key such as "__proto__" a key; the tree's own key order.
    return Object.fromEntries(
      Object.keys(t).map((key) => [key, walk(pr[key], t[key], joinPath(path, key))]),
    );
  };
  return walk(prefix, tree, '');
}

/**
 * Put a tree back together from the outputs of several groups: under each
 * prefix value `v`, the subtree at the same place in `sources.get(v)`. Every
 * source has the structure `original` had when the prefix was checked
 * against it, with `{}` where the source's group has no leaves.
 */
export function mergeByPrefix<V>(
  prefix: PrefixTree<V>,
  original: Tree,
  sources: ReadonlyMap<V, Tree>,
  isValue: (x: unknown) => x is V,
): Tree {
  const walk = (p: unknown, t: unknown, at: ReadonlyMap<V, unknown>): Tree => {
    if (isValue(p)) return at.get(p) as Tree;
    const step = (key: string | number) =>
      new Map(
        [...at].map(([v, node]) => [
          v,
          (node as Record<string | number, unknown> | undefined)?.[key],
        ]),
      );
    if (Array.isArray(p)) return p.map((child, i) => walk(child, (t as Tree[])[i], step(i)));
    const pr = p as Readonly<Record<string, unknown>>;
    const tr = t as Readonly<Record<string, unknown>>;
    return Object.fromEntries(
      Object.keys(tr).map((key) => [key, walk(pr[key], tr[key], step(key))]),
    );
  };
  return walk(prefix, original, sources);
}

/** Throw unless an inner transform returned updates with the structure it was given. */
export function assertInnerOutput(owner: string, what: string, given: Tree, returned: Tree): void {
  try {
    assertSameStructure(given, returned, [`the updates given to ${what}`, `${what}'s updates`]);
  } catch (e) {
    throw new TfoptError(`${owner}: ${(e as Error).message}`);
  }
}
