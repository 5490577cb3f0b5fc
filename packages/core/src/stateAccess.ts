import { TfoptError } from './errors.js';
import { isPlainRecord, isTensor, joinPath, treeKeys } from './tree.js';

/**
 * One field found by {@link treeGetAll}: where it is, its value, and the
 * record that holds it.
 *
 * @category State access
 */
export interface FoundField {
  /** Path of the field from the root of the state, as `joinPath` writes it, e.g. `[0].count`. */
  readonly path: string;
  /** The field's value. */
  readonly value: unknown;
  /** The record that has the field (a transform's state record, say `{ count, mu, nu }`). */
  readonly holder: Readonly<Record<string, unknown>>;
}

/**
 * Which of the fields named `key` to keep: called with the field's path, its
 * value and the record holding it. Optax filters on the path, whose entries
 * name the state's class; tfopt's states are plain records, so the holder
 * stands in for the class: `(_, __, holder) => 'mu' in holder` keeps the
 * `count` of Adam's state and not the learning-rate schedule's.
 *
 * @category State access
 */
export type FieldFilter = (
  path: string,
  value: unknown,
  holder: Readonly<Record<string, unknown>>,
) => boolean;

/** Options of {@link treeGetAll}. @category State access */
export interface TreeGetAllOptions {
  /** Keep only the fields it accepts. Default: every field named `key`. */
  readonly filter?: FieldFilter;
}

/** Options of {@link treeGet}. @category State access */
export interface TreeGetOptions<D> extends TreeGetAllOptions {
  /** Returned when no field matches. Default `undefined`. */
  readonly default?: D;
}

/** Options of {@link treeSet}. @category State access */
export type TreeSetOptions = TreeGetAllOptions;

/**
 * Every field named `key` anywhere in a nested optimizer state (a chain's
 * tuple, a wrapper's `inner`, a partition's groups, a `namedChain`'s
 * record), with its path: the plain records and arrays of the state are
 * searched depth first, object keys in canonical (sorted) order, never
 * inside tensors, and the search goes on inside a matching value too (an
 * `inner` inside an `inner` is found twice). Optax's
 * `tree_utils.tree_get_all_with_path`.
 *
 * @category State access
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { treeDispose, treeGetAll } from '@tfopt/core';
 * import { adam } from '@tfopt/transforms';
 * const state = adam(1e-3).init({ w: tf.zeros([2]) });
 * console.log(treeGetAll(state, 'count').map((f) => f.path)); // ['[0].count', '[1].count']
 * treeDispose(state);
 * ```
 */
export function treeGetAll(
  state: unknown,
  key: string,
  options: TreeGetAllOptions = {},
): FoundField[] {
  assertKey('treeGetAll', key);
  const { filter } = options;
  const found: FoundField[] = [];
  const seen = new Set<unknown>();
  const walk = (node: unknown, path: string): void => {
    if (typeof node !== 'object' || node === null || isTensor(node) || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) {
      node.forEach((child, i) => {
        walk(child, joinPath(path, i));
      });
      return;
    }
    if (!isPlainRecord(node)) return;
    if (Object.hasOwn(node, key)) {
      const at = joinPath(path, key);
      const value = node[key];
      if (filter === undefined || filter(at, value, node))
        found.push({ path: at, value, holder: node });
    }
    for (const k of treeKeys(node)) walk(node[k], joinPath(path, k));
  };
  walk(state, '');
  return found;
}

/**
 * The value of the one field named `key` in a nested optimizer state, or
 * `options.default` (else `undefined`) when there is none; throws a
 * {@link TfoptError} listing the paths when there are several, since then
 * the caller must say which with `options.filter`. Optax's
 * `tree_utils.tree_get`.
 *
 * The value is the state's own (a tensor stays owned by the state): read it,
 * do not dispose it.
 *
 * @category State access
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { treeDispose, treeGet } from '@tfopt/core';
 * import { adam } from '@tfopt/transforms';
 * const state = adam(1e-3).init({ w: tf.zeros([2]) });
 * // adam is chain(scaleByAdam(), scaleByLearningRate(lr)): two counts, so say which.
 * const count = treeGet(state, 'count', { filter: (_path, _value, holder) => 'mu' in holder });
 * console.log(count); // 0
 * console.log(treeGet(state, 'learningRate', { default: 'none' })); // 'none'
 * treeDispose(state);
 * ```
 */
export function treeGet<D = undefined>(
  state: unknown,
  key: string,
  options: TreeGetOptions<D> = {},
): unknown {
  const found = treeGetAll(state, key, options);
  if (found.length > 1) {
    throw new TfoptError(
      `treeGet: found ${found.length} fields named "${key}"${
        options.filter === undefined ? '' : ' that pass the filter'
      }, at ${found.map((f) => f.path).join(', ')}; pass a filter to pick one`,
    );
  }
  return found.length === 0 ? options.default : (found[0] as FoundField).value;
}

/**
 * A copy of a nested optimizer state in which every field named by a key of
 * `values` (and accepted by `options.filter`) holds the new value. Throws a
 * {@link TfoptError} when a key matches no field, naming it. Optax's
 * `tree_utils.tree_set`: every match is replaced, not only one (use the
 * filter to narrow), and the search does not go inside a replaced value.
 *
 * Pure: only the records and arrays on the way to a replaced field are
 * copied; everything else, tensors included, is shared with `state`, and
 * nothing is disposed. A tensor given in `values` becomes part of the new
 * state; release the old state with `disposeReplaced(state, next)`, which
 * frees only the tensors the new state no longer holds.
 *
 * @category State access
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { treeDispose, treeGetAll, treeSet } from '@tfopt/core';
 * import { adam } from '@tfopt/transforms';
 * const state = adam(1e-3).init({ w: tf.zeros([2]) });
 * const warm = treeSet(state, { count: 100 });
 * console.log(treeGetAll(warm, 'count').map((f) => f.value)); // [100, 100]
 * console.log(treeGetAll(state, 'count').map((f) => f.value)); // [0, 0]: unchanged
 * treeDispose(state); // warm shares its tensors
 * ```
 */
export function treeSet<S>(
  state: S,
  values: Readonly<Record<string, unknown>>,
  options: TreeSetOptions = {},
): S {
  if (!isPlainRecord(values)) {
    throw new TfoptError(
      'treeSet: values must be an object of field names to new values, such as { count: 0 }',
    );
  }
  const { filter } = options;
  const keys = Object.keys(values);
  for (const key of keys) {
    if (treeGetAll(state, key, options).length === 0) {
      throw new TfoptError(
        `treeSet: the state has no field named "${key}"${
          filter === undefined ? '' : ' that passes the filter'
        }`,
      );
    }
  }
  const replace = (node: unknown, path: string): unknown => {
    if (typeof node !== 'object' || node === null || isTensor(node)) return node;
    if (Array.isArray(node)) {
      const next = node.map((child, i) => replace(child, joinPath(path, i)));
      return next.every((child, i) => child === node[i]) ? node : next;
    }
    if (!isPlainRecord(node)) return node;
    let changed = false;
    const entries = Object.keys(node).map((k): [string, unknown] => {
      const child = node[k];
      const at = joinPath(path, k);
      const nextChild =
        Object.hasOwn(values, k) && (filter === undefined || filter(at, child, node))
          ? values[k]
          : replace(child, at);
      if (nextChild !== child) changed = true;
      return [k, nextChild];
    });
    // fromEntries keeps a key such as "__proto__" a key.
    return changed ? Object.fromEntries(entries) : node;
  };
  return replace(state, '') as S;
}

function assertKey(owner: string, key: unknown): void {
  if (typeof key !== 'string') {
    throw new TfoptError(`${owner}: the key must be a field name (a string), got ${typeof key}`);
  }
}
