import {
  detachState,
  type GradientTransformation,
  InvalidOptionError,
  isPlainRecord,
  isTransform,
  joinPath,
  type StateOf,
  specOf,
  TfoptError,
  type TransformSpec,
  type Tree,
  TreeStructureError,
  tidy,
  type UpdateContext,
  withSpec,
} from '@tfopt/core';
import {
  assertInnerOutput,
  assertPrefixTree,
  mergeByPrefix,
  type PrefixTree,
  selectSubtree,
} from './subtree.js';

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

/** One link of a {@link namedChain}: its name and the transform. @category Combinators */
export type NamedLink = readonly [name: string, transform: GradientTransformation<any>];

/**
 * The state of a {@link namedChain} given as `[name, transform]` pairs: each
 * link's state under its name.
 *
 * @category Combinators
 */
export type NamedChainStateOfPairs<T extends readonly NamedLink[]> = {
  readonly [E in T[number] as E[0]]: StateOf<E[1]>;
};

/**
 * The state of a {@link namedChain} given as a record of transforms: each
 * link's state under its name.
 *
 * @category Combinators
 */
export type NamedChainStateOfRecord<
  T extends Readonly<Record<string, GradientTransformation<any>>>,
> = { readonly [K in keyof T]: StateOf<T[K]> };

/**
 * {@link @tfopt/core!index.chain | chain} with a name for every link: the updates flow through the
 * links in order, and the state is a record of the links' states keyed by
 * name (Optax's `named_chain`), so a link's state is `state[name]` and a
 * state is paired with the links by name, never by position: a state whose
 * keys were inserted in another order (say, read back from a checkpoint)
 * works the same.
 *
 * ```
 * u₀ ← g;  uᵢ, sᵢ ← linkᵢ.update(uᵢ₋₁, state[nameᵢ])     for the links in order
 * ```
 *
 * Give the links as `[name, transform]` pairs, or as a record `{ name:
 * transform }`, applied in its key order. JavaScript lists integer-like keys
 * (`"0"`, `"12"`) first whatever the insertion order, so the record form
 * rejects them; use pairs for such names. As in `chain`, every link sees the
 * step's raw gradient in `context.grads`.
 *
 * The spec records every link's spec, so the chain can be saved with a
 * model when every link can; without a spec on some link it has none.
 *
 * @category Combinators
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { treeDispose } from '@tfopt/core';
 * import { clipByGlobalNorm, namedChain, scaleByAdam, scaleByLearningRate } from '@tfopt/transforms';
 * const tx = namedChain([
 *   ['clip', clipByGlobalNorm(1)],
 *   ['adam', scaleByAdam()],
 *   ['lr', scaleByLearningRate(1e-3)],
 * ]);
 * const params = { w: tf.zeros([2]) };
 * const state = tx.init(params);
 * const [updates, next] = tx.update({ w: tf.ones([2]) }, state, params);
 * console.log(next.adam.count); // 1
 * treeDispose([params, state, updates, next]);
 * ```
 */
export function namedChain<const T extends readonly NamedLink[]>(
  transforms: T,
): GradientTransformation<NamedChainStateOfPairs<T>>;
export function namedChain<const T extends Readonly<Record<string, GradientTransformation<any>>>>(
  transforms: T,
): GradientTransformation<NamedChainStateOfRecord<T>>;
export function namedChain(
  transforms: readonly NamedLink[] | Readonly<Record<string, GradientTransformation<any>>>,
): GradientTransformation<Record<string, unknown>> {
  const owner = 'namedChain';
  const links = readLinks(owner, transforms);
  const names = links.map(([name]) => name);
  const transform: GradientTransformation<Record<string, unknown>> = {
    init: (params) =>
      tidy(() => Object.fromEntries(links.map(([name, tx]) => [name, tx.init(params)]))),
    update: (updates, state, params, context) => {
      assertStateRecord(owner, state, names, 'link');
      const ctx: UpdateContext =
        context?.grads !== undefined ? context : { ...context, grads: updates };
      return tidy(() => {
        let current = updates;
        const next: [string, unknown][] = [];
        for (const [name, tx] of links) {
          const [out, s] = tx.update(current, state[name], params, ctx);
          current = out;
          next.push([name, s]);
        }
        return [current, Object.fromEntries(next)] as const;
      });
    },
  };
  const specs = links.map(([, tx]) => specOf(tx));
  if (specs.some((s) => s === undefined)) return transform;
  const args = Array.isArray(transforms)
    ? links.map(([name], i) => [name, specs[i] as TransformSpec])
    : Object.fromEntries(links.map(([name], i) => [name, specs[i] as TransformSpec]));
  return withSpec(transform, owner, [args]);
}

function readLinks(
  owner: string,
  transforms: unknown,
): (readonly [string, GradientTransformation<unknown>])[] {
  let links: [unknown, unknown, string][];
  if (Array.isArray(transforms)) {
    links = transforms.map((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new InvalidOptionError(owner, `transforms[${i}]`, pair, 'a [name, transform] pair');
      }
      return [pair[0], pair[1], `transforms[${i}][1]`];
    });
  } else if (isPlainRecord(transforms)) {
    links = Object.keys(transforms).map((name) => {
      if (ARRAY_INDEX.test(name)) {
        throw new InvalidOptionError(
          owner,
          `transforms${joinPath('', name)}`,
          transforms[name],
          'under a name that is not an array index (JavaScript lists such keys first, whatever the insertion order); give the links as [name, transform] pairs to use it',
        );
      }
      return [name, transforms[name], `transforms${joinPath('', name)}`];
    });
  } else {
    throw new InvalidOptionError(
      owner,
      'transforms',
      transforms,
      'an array of [name, transform] pairs or an object of transforms',
    );
  }
  const seen = new Set<string>();
  return links.map(([name, tx, where]) => {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidOptionError(owner, where.replace(/\[1\]$/, '[0]'), name, 'a non-empty name');
    }
    if (seen.has(name)) {
      throw new InvalidOptionError(owner, where.replace(/\[1\]$/, '[0]'), name, 'a name used once');
    }
    seen.add(name);
    if (!isTransform(tx)) {
      throw new InvalidOptionError(
        owner,
        where,
        tx,
        'a gradient transformation (an object with init and update)',
      );
    }
    return [name, tx] as const;
  });
}

/** Throw unless `state` is a record with an entry for every name. */
function assertStateRecord(
  owner: string,
  state: unknown,
  names: readonly string[],
  what: string,
): asserts state is Readonly<Record<string, unknown>> {
  if (!isPlainRecord(state)) {
    throw new TfoptError(
      `${owner}: expected a state record keyed by ${what} name, got ${
        Array.isArray(state) ? 'an array' : state === null ? 'null' : typeof state
      }; was it built by this transform's init?`,
    );
  }
  const missing = names.find((n) => !Object.hasOwn(state, n));
  if (missing !== undefined) {
    throw new TfoptError(
      `${owner}: the state has no entry for ${what} ${JSON.stringify(missing)}; was it built by this transform's init?`,
    );
  }
}

/**
 * Labels of a {@link partition}: a label (a string, one of the keys of the
 * transforms) for each parameter leaf, or for a whole subtree when given at
 * an inner node (a prefix of the parameter tree).
 *
 * @category Combinators
 * @example
 * ```ts
 * import type { LabelTree } from '@tfopt/transforms';
 * const labels: LabelTree = { encoder: 'frozen', head: { kernel: 'decay', bias: 'noDecay' } };
 * ```
 */
export type LabelTree = string | readonly LabelTree[] | { readonly [key: string]: LabelTree };

/**
 * State of {@link partition}: each group's inner state under its label.
 *
 * @typeParam S - The record of the groups' states.
 * @category Combinators
 */
export interface PartitionState<S = Readonly<Record<string, unknown>>> {
  /** Each group's state, keyed by label. */
  readonly innerStates: S;
}

/** The state of a {@link partition} of the transforms `T`. @category Combinators */
export type PartitionStateOf<T extends Readonly<Record<string, GradientTransformation<any>>>> =
  PartitionState<{ readonly [K in keyof T]: StateOf<T[K]> }>;

const isLabel = (x: unknown): x is string => typeof x === 'string';

/**
 * Apply a different transform to each group of parameters (Optax's
 * `partition`, formerly `multi_transform`): per-group learning rates, Adam on
 * the weights and SGD on the biases, weight decay on kernels only.
 *
 * `labels` gives each parameter leaf a label, a key of `transforms`: a tree
 * shaped like the parameters, or like a prefix of them (a label at an inner
 * node covers its whole subtree), or a function of the parameters that
 * returns one (called with the params at `init` and with the updates at
 * `update`, as in Optax). Each group's transform sees only its leaves: the
 * updates, params and `context.grads` (the raw gradient, so EG links inside
 * a group see their own gradient) with every leaf of another group replaced
 * by an empty subtree `{}` (Optax's `MaskedNode`), so keys and array
 * positions stay where they are and the group's state stays keyed like the
 * parameters. The groups' updates are merged back by key.
 *
 * ```
 * for each label l:   uₗ, sₗ ← transforms[l].update(g restricted to the leaves labelled l, sₗ)
 * u ← the leaves of every uₗ, each at its own place
 * ```
 *
 * Errors name the path: a label tree that does not have the parameters'
 * structure (`partition: params.dense has no key "bias", but labels.dense.bias
 * is given`), a label that names no transform, a label that is not a string.
 * A transform whose label no leaf carries is allowed; it runs on `{}`.
 *
 * Saving: the spec records every group's spec and `labels`. A label tree
 * saves as it is; a label function only when it is registered
 * (`registerTransformFactory(name, fn)`, in the programs that save and load)
 * or carries a spec. Inside `TransformOptimizer` the parameters are keyed by
 * variable name (`dense_Dense1/kernel`), and a model loaded a second time in
 * one program gets new names (`dense_Dense3/kernel`), so there a registered
 * function of the parameters (say, by name suffix) is the label that
 * survives save and load.
 *
 * @category Combinators
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applyUpdates, treeDispose } from '@tfopt/core';
 * import { adam, partition, sgd } from '@tfopt/transforms';
 * const tx = partition(
 *   { weights: adam(1e-2), biases: sgd(1e-1) },
 *   { dense: { kernel: 'weights', bias: 'biases' } },
 * );
 * const params = { dense: { kernel: tf.ones([2, 2]), bias: tf.zeros([2]) } };
 * const grads = { dense: { kernel: tf.ones([2, 2]), bias: tf.ones([2]) } };
 * const state = tx.init(params);
 * const [updates, next] = tx.update(grads, state, params);
 * const moved = applyUpdates(params, updates) as typeof params;
 * moved.dense.bias.print(); // [-0.1, -0.1]
 * console.log(next.innerStates.weights[0].count); // 1
 * treeDispose([params, grads, state, updates, next, moved]);
 * ```
 */
export function partition<const T extends Readonly<Record<string, GradientTransformation<any>>>>(
  transforms: T,
  labels: LabelTree | ((params: Tree) => LabelTree),
): GradientTransformation<PartitionStateOf<T>> {
  const owner = 'partition';
  if (!isPlainRecord(transforms) || Object.keys(transforms).length === 0) {
    throw new InvalidOptionError(
      owner,
      'transforms',
      transforms,
      'a non-empty object of transforms keyed by label',
    );
  }
  const groups = Object.keys(transforms).sort();
  for (const label of groups) {
    if (!isTransform(transforms[label])) {
      throw new InvalidOptionError(
        owner,
        `transforms${joinPath('', label)}`,
        transforms[label],
        'a gradient transformation (an object with init and update)',
      );
    }
  }
  const known = new Set(groups);
  const check = (tree: unknown): LabelTree => {
    assertPrefixTree(owner, 'labels', tree, isLabel, `a label (one of ${quoted(groups)})`);
    assertKnownLabels(owner, tree, known, groups);
    return tree;
  };
  if (typeof labels !== 'function') check(labels);
  const labelsFor = (tree: Tree): LabelTree =>
    typeof labels === 'function' ? check(labels(tree)) : labels;

  const select = (l: LabelTree, tree: Tree, group: string, name: string): Tree =>
    selectSubtree(owner, l as PrefixTree<string>, tree, (v) => v === group, isLabel, [
      'labels',
      name,
    ]);
  const txOf = (group: string) => transforms[group] as GradientTransformation<unknown>;

  const transform: GradientTransformation<PartitionState<Record<string, unknown>>> = {
    init: (params) =>
      tidy(() => {
        const l = labelsFor(params);
        const innerStates = Object.fromEntries(
          groups.map((g) => [
            g,
            detachState(txOf(g).init(select(l, params, g, 'params')), [params]),
          ]),
        );
        return { innerStates };
      }),
    update: (updates, state, params, context) => {
      if (!isPlainRecord(state) || !isPlainRecord(state.innerStates)) {
        throw new TfoptError(
          `${owner}: expected a state { innerStates }, got ${describeState(state)}; was it built by this transform's init?`,
        );
      }
      assertStateRecord(owner, state.innerStates, groups, 'group');
      const innerStates = state.innerStates;
      return tidy(() => {
        const l = labelsFor(updates);
        const grads = context?.grads ?? updates;
        const outputs = new Map<string, Tree>();
        const next: [string, unknown][] = [];
        for (const g of groups) {
          const sub = select(l, updates, g, 'updates');
          const ctx: UpdateContext = { ...context, grads: select(l, grads, g, 'context.grads') };
          const p = params === undefined ? undefined : select(l, params, g, 'params');
          const [out, s] = txOf(g).update(sub, innerStates[g], p, ctx);
          assertInnerOutput(owner, `the "${g}" transform`, sub, out);
          outputs.set(g, out);
          next.push([g, detachState(s, [updates, params, context])]);
        }
        const merged = mergeByPrefix(l as PrefixTree<string>, updates, outputs, isLabel);
        return [merged, { innerStates: Object.fromEntries(next) }] as const;
      });
    },
  };
  const specs = groups.map((g) => specOf(transforms[g]));
  const typed = transform as unknown as GradientTransformation<PartitionStateOf<T>>;
  if (specs.some((s) => s === undefined)) return typed;
  const args = Object.fromEntries(Object.keys(transforms).map((g) => [g, specOf(transforms[g])]));
  return withSpec(typed, owner, [args, labels]);
}

/** Throw, naming the path, at the first label that is not one of `known`. */
function assertKnownLabels(
  owner: string,
  labels: LabelTree,
  known: ReadonlySet<string>,
  groups: readonly string[],
): void {
  const walk = (node: LabelTree, path: string): void => {
    if (typeof node === 'string') {
      if (!known.has(node)) {
        const detail = `is ${JSON.stringify(node)}, which names no transform (the transforms are ${quoted(groups)})`;
        throw new TreeStructureError(path, detail, `${owner}: labels${path} ${detail}`);
      }
    } else if (Array.isArray(node)) {
      node.forEach((child, i) => {
        walk(child as LabelTree, joinPath(path, i));
      });
    } else {
      const record = node as Readonly<Record<string, LabelTree>>;
      for (const key of Object.keys(record)) walk(record[key] as LabelTree, joinPath(path, key));
    }
  };
  walk(labels, '');
}

function quoted(names: readonly string[]): string {
  return names.map((n) => JSON.stringify(n)).join(', ');
}

function describeState(state: unknown): string {
  if (state === null) return 'null';
  if (Array.isArray(state)) return 'an array';
  return typeof state === 'object' ? 'an object without innerStates' : typeof state;
}
