// fast-check arbitraries for property-based tests over trees of tensors.
//
// A tree is generated in two parts: its *layout* (the containers, their keys
// and the leaf shapes, plain data that fast-check can shrink and print) and
// the float32 values of its leaves (also drawn by fast-check, so a failing
// case is reproducible from fast-check's seed and shrinks to small numbers).
// `buildTree` turns the two into tensors; the caller owns and disposes them.
import * as tf from '@tensorflow/tfjs-core';
import { joinPath, type Tree, treeKeys } from '@tfopt/core';
import fc from 'fast-check';

/** A leaf of a layout: a float32 tensor of this shape (`[]` is a scalar, `[0]` an empty tensor). */
export interface LeafLayout {
  readonly kind: 'leaf';
  readonly shape: readonly number[];
}

/** An array of subtrees. */
export interface ArrayLayout {
  readonly kind: 'array';
  readonly items: readonly Layout[];
}

/**
 * A plain object of subtrees. `entries` is the order in which the keys are
 * inserted when the tree is built (not necessarily sorted).
 */
export interface ObjectLayout {
  readonly kind: 'object';
  readonly entries: readonly (readonly [string, Layout])[];
}

/** The structure of a tree without its values. */
export type Layout = LeafLayout | ArrayLayout | ObjectLayout;

/**
 * Keys the object nodes draw from: names as tfjs-layers writes them
 * ("dense/kernel"), integer-like keys (which JS objects always list first, in
 * numeric order, whatever the insertion order: "10" comes after "2" in
 * `Object.keys` but before it in the canonical sorted order), keys that are
 * not identifiers, the empty key, and names of `Object.prototype` members.
 * `"__proto__"` is left out: as a literal key it is not an own property.
 */
export const KEY_POOL: readonly string[] = [
  'w',
  'b',
  'kernel',
  'bias',
  'dense/kernel',
  'dense/bias',
  'conv2d_1/kernel',
  '0',
  '1',
  '2',
  '10',
  'Z',
  'a',
  'a.b',
  'a b',
  '',
  'é',
  '$',
  'constructor',
  'toString',
];

/** Options of {@link layoutArb}. */
export interface LayoutOptions {
  /** Keys of object nodes. Default {@link KEY_POOL}. */
  readonly keys?: readonly string[];
  /** Nesting depth of containers below the root. Default `2`. */
  readonly maxDepth?: number;
  /** Most keys in one object. Default `4`. */
  readonly maxKeys?: number;
  /** Most items in one array. Default `3`. */
  readonly maxItems?: number;
  /** Most leaves in the whole tree (layouts with more are not generated). Default `8`. */
  readonly maxLeaves?: number;
  /** Largest size of one dimension. Default `3`. */
  readonly maxDim?: number;
  /** Largest rank of a leaf. Default `3`. */
  readonly maxRank?: number;
  /** Allow a bare tensor as the root (`true`, default) or require a container. */
  readonly leafRoot?: boolean;
}

/**
 * Leaf shapes: scalars `[]`, the empty `[0]`, shapes of rank 1 to `maxRank`
 * with dimensions in `1..maxDim`, and sometimes a zero dimension anywhere
 * (`[2, 0, 3]`).
 */
export function shapeArb(maxRank = 3, maxDim = 3): fc.Arbitrary<number[]> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant<number[]>([]) },
    { weight: 1, arbitrary: fc.constant<number[]>([0]) },
    {
      weight: 6,
      arbitrary: fc.array(fc.integer({ min: 1, max: maxDim }), {
        minLength: 1,
        maxLength: maxRank,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.array(fc.integer({ min: 0, max: maxDim }), {
        minLength: 1,
        maxLength: maxRank,
      }),
    },
  );
}

/** The leaves of a layout in canonical order (object keys sorted, as `treeFlatten`), with paths. */
export function layoutLeaves(
  layout: Layout,
): { readonly path: string; readonly shape: readonly number[]; readonly size: number }[] {
  const out: { path: string; shape: readonly number[]; size: number }[] = [];
  const walk = (node: Layout, path: string): void => {
    if (node.kind === 'leaf') {
      out.push({ path, shape: node.shape, size: node.shape.reduce((a, b) => a * b, 1) });
    } else if (node.kind === 'array') {
      node.items.forEach((item, i) => {
        walk(item, joinPath(path, i));
      });
    } else {
      const byKey = new Map(node.entries);
      for (const key of treeKeys(Object.fromEntries(node.entries))) {
        walk(byKey.get(key) as Layout, joinPath(path, key));
      }
    }
  };
  walk(layout, '');
  return out;
}

/** Total number of float32 elements of a layout. */
export function layoutSize(layout: Layout): number {
  return layoutLeaves(layout).reduce((n, leaf) => n + leaf.size, 0);
}

/**
 * Tree layouts: nested objects (keys from `keys`, possibly empty), arrays
 * (possibly empty), and leaves of {@link shapeArb} shapes, up to `maxDepth`
 * levels of containers and `maxLeaves` leaves.
 */
export function layoutArb(options: LayoutOptions = {}): fc.Arbitrary<Layout> {
  const {
    keys = KEY_POOL,
    maxDepth = 2,
    maxKeys = 4,
    maxItems = 3,
    maxLeaves = 8,
    maxDim = 3,
    maxRank = 3,
    leafRoot = true,
  } = options;
  const leaf: fc.Arbitrary<Layout> = shapeArb(maxRank, maxDim).map(
    (shape): Layout => ({ kind: 'leaf', shape }),
  );
  const node = (depth: number): fc.Arbitrary<Layout> => {
    if (depth > maxDepth) return leaf;
    const child = node(depth + 1);
    const array = fc
      .array(child, { minLength: 1, maxLength: maxItems })
      .map((items): Layout => ({ kind: 'array', items }));
    const object = fc
      .uniqueArray(fc.tuple(fc.constantFrom(...keys), child), {
        minLength: 1,
        maxLength: maxKeys,
        selector: (entry) => entry[0],
      })
      .map((entries): Layout => ({ kind: 'object', entries }));
    // Empty containers on their own, rarely: with them as often as fast-check
    // makes short arrays, a quarter of all trees would have no leaf at all.
    const empty = fc.constantFrom<Layout>(
      { kind: 'object', entries: [] },
      { kind: 'array', items: [] },
    );
    const containers = [
      { weight: 20, arbitrary: array },
      { weight: depth === 0 ? 50 : 30, arbitrary: object },
      { weight: depth === 0 ? 3 : 6, arbitrary: empty },
    ];
    // The leaf first, so that shrinking goes towards smaller trees.
    if (depth === 0 && !leafRoot) return fc.oneof({ withCrossShrink: true }, ...containers);
    return fc.oneof(
      { withCrossShrink: true },
      { weight: depth === 0 ? 10 : 30, arbitrary: leaf },
      ...containers,
    );
  };
  return node(0).filter((layout) => layoutLeaves(layout).length <= maxLeaves);
}

/**
 * Finite float32 values in `[-bound, bound]`. fast-check's `float` draws over
 * the bit patterns, so zeros of both signs, denormals and values at the
 * bounds come up often.
 */
export function finiteFloat32(bound = 10): fc.Arbitrary<number> {
  return fc.float({ min: Math.fround(-bound), max: Math.fround(bound), noNaN: true });
}

/** One `Float32Array` of `size` values from `element`. */
export function float32ArrayArb(
  size: number,
  element: fc.Arbitrary<number> = finiteFloat32(),
): fc.Arbitrary<Float32Array> {
  return fc.array(element, { minLength: size, maxLength: size }).map((xs) => Float32Array.from(xs));
}

/**
 * Values for every leaf of `layout`, one `Float32Array` per leaf in canonical
 * order (as {@link layoutLeaves}).
 */
export function leafValuesArb(
  layout: Layout,
  element: fc.Arbitrary<number> = finiteFloat32(),
): fc.Arbitrary<Float32Array[]> {
  const arbs = layoutLeaves(layout).map((leaf) => float32ArrayArb(leaf.size, element));
  return fc.tuple(...arbs).map((xs) => [...xs]);
}

/**
 * The same values as {@link leafValuesArb} for one fixed seed, without a
 * property around it (drawn by fast-check's own generator, not
 * `Math.random`): the same `(layout, seed)` always gives the same values.
 */
export function seededLeafValues(
  layout: Layout,
  seed: number,
  element: fc.Arbitrary<number> = finiteFloat32(),
): Float32Array[] {
  return fc.sample(leafValuesArb(layout, element), { seed, numRuns: 1 })[0] as Float32Array[];
}

/** Options of {@link buildTree}. */
export interface BuildOptions {
  /** Make every leaf a `tf.Variable` (for `stepVariables`). Default `false`. */
  readonly variables?: boolean;
}

/**
 * Materialise a layout as a tree of float32 tensors, with the values of
 * {@link leafValuesArb} (or {@link seededLeafValues}). Values are matched to
 * leaves by path, so a layout whose objects list their entries in another
 * order (see {@link shuffledKeysArb}) gets the same value at every path.
 * Object keys are inserted in the order of the layout's entries. The caller
 * owns every tensor.
 */
export function buildTree(
  layout: Layout,
  values: readonly Float32Array[],
  options: BuildOptions = {},
): Tree {
  const leaves = layoutLeaves(layout);
  if (values.length !== leaves.length) {
    throw new Error(`buildTree: ${values.length} value arrays for ${leaves.length} leaves`);
  }
  const byPath = new Map(leaves.map((leaf, i) => [leaf.path, values[i] as Float32Array]));
  const walk = (node: Layout, path: string): Tree => {
    if (node.kind === 'leaf') {
      const data = byPath.get(path) as Float32Array;
      const t = tf.tensor(data, [...node.shape], 'float32');
      if (options.variables !== true) return t;
      const v = tf.variable(t);
      t.dispose();
      return v;
    }
    if (node.kind === 'array') return node.items.map((item, i) => walk(item, joinPath(path, i)));
    return Object.fromEntries(
      node.entries.map(([k, child]) => [k, walk(child, joinPath(path, k))]),
    );
  };
  return walk(layout, '');
}

/**
 * The layout of an existing tree: its containers, keys in `Object.keys`
 * order (integer-like keys first, whatever order they were inserted in) and
 * leaf shapes.
 */
export function layoutOf(tree: Tree): Layout {
  if (tree instanceof tf.Tensor) return { kind: 'leaf', shape: [...tree.shape] };
  if (Array.isArray(tree)) return { kind: 'array', items: tree.map(layoutOf) };
  return {
    kind: 'object',
    entries: Object.entries(tree as Record<string, Tree>).map(([k, v]) => [k, layoutOf(v)]),
  };
}

/**
 * The same layout with the entries of every object in a fast-check-driven
 * shuffled order (at every depth); arrays keep their order. Shrinks towards
 * the original order.
 */
export function shuffledKeysArb(layout: Layout): fc.Arbitrary<Layout> {
  if (layout.kind === 'leaf') return fc.constant(layout);
  if (layout.kind === 'array') {
    return fc
      .tuple(...layout.items.map(shuffledKeysArb))
      .map((items): Layout => ({ kind: 'array', items }));
  }
  const n = layout.entries.length;
  const children = fc.tuple(
    ...layout.entries.map(([k, child]) =>
      shuffledKeysArb(child).map((c) => [k, c] as readonly [string, Layout]),
    ),
  );
  const order = fc.shuffledSubarray(
    Array.from({ length: n }, (_, i) => i),
    { minLength: n, maxLength: n },
  );
  return fc.tuple(children, order).map(
    ([entries, perm]): Layout => ({
      kind: 'object',
      entries: perm.map((i) => entries[i] as readonly [string, Layout]),
    }),
  );
}

/**
 * Rebuild the containers of `tree` with every object's keys inserted in the
 * order of `order`'s entries (a layout of the same tree, typically from
 * {@link shuffledKeysArb}). Leaves are passed through `leaf` (default: the
 * same tensor, shared with `tree`). Integer-like keys ("0", "10") are listed
 * first by every JS object whatever their insertion order; only the other
 * keys really move.
 */
export function withKeyOrder(
  tree: Tree,
  order: Layout,
  leaf: (t: tf.Tensor, path: string) => tf.Tensor = (t) => t,
): Tree {
  const walk = (node: Tree, at: Layout, path: string): Tree => {
    if (node instanceof tf.Tensor) {
      if (at.kind !== 'leaf') throw new Error(`withKeyOrder: ${path || '(root)'} is not a leaf`);
      return leaf(node, path);
    }
    if (Array.isArray(node)) {
      if (at.kind !== 'array' || at.items.length !== node.length) {
        throw new Error(`withKeyOrder: ${path || '(root)'} does not match the order's array`);
      }
      return node.map((child, i) => walk(child, at.items[i] as Layout, joinPath(path, i)));
    }
    const record = node as Record<string, Tree>;
    if (at.kind !== 'object' || at.entries.length !== Object.keys(record).length) {
      throw new Error(`withKeyOrder: ${path || '(root)'} does not match the order's object`);
    }
    return Object.fromEntries(
      at.entries.map(([k, child]) => {
        if (!Object.hasOwn(record, k)) throw new Error(`withKeyOrder: no key ${JSON.stringify(k)}`);
        return [k, walk(record[k] as Tree, child, joinPath(path, k))];
      }),
    );
  };
  return walk(tree, order, '');
}

/** Log-uniform numbers in `[min, max]` (`min > 0`), e.g. learning rates. */
export function logUniform(min: number, max: number): fc.Arbitrary<number> {
  return fc
    .double({ min: Math.log10(min), max: Math.log10(max), noNaN: true })
    .map((e) => Math.min(max, Math.max(min, 10 ** e)));
}

/**
 * Float32 numbers of any magnitude from `1e-30` to `1e30` with either sign
 * (log-uniform), plus zeros of both signs, float32 denormals (around `1e-40`
 * and down to the smallest, `1.4e-45`) and plain values in `[-1, 1]`.
 */
export function extremeFloat32(): fc.Arbitrary<number> {
  const magnitude = logUniform(1e-30, 1e30);
  const signed = fc.tuple(fc.boolean(), magnitude).map(([neg, m]) => Math.fround(neg ? -m : m));
  const denormal = fc
    .tuple(fc.boolean(), fc.integer({ min: 1, max: 2 ** 23 - 1 }))
    .map(([neg, bits]) => {
      // A float32 with a zero exponent field: bits * 2^-149.
      const x = bits * 2 ** -149;
      return Math.fround(neg ? -x : x);
    });
  return fc.oneof(
    { weight: 6, arbitrary: signed },
    { weight: 1, arbitrary: fc.constantFrom(0, -0) },
    { weight: 1, arbitrary: fc.constantFrom(1e-40, -1e-40, 1.4e-45, -1.4e-45) },
    { weight: 1, arbitrary: denormal },
    { weight: 2, arbitrary: finiteFloat32(1) },
  );
}
