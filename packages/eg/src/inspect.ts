import * as tf from '@tensorflow/tfjs-core';
import {
  findInState,
  isPlainRecord,
  isTensor,
  type Tree,
  treeFlatten,
  treeLeaves,
} from '@tfopt/core';
import type { EgCoordinateGainsState } from './coordinateGains.js';
import type { EgGlobalScaleState } from './globalScale.js';
import type { HypergradientScaleState } from './hypergradient.js';

// These helpers read states between steps (for logging and plots). They read
// tensor data back, so keep them off the training hot path.

function hasExactKeys(value: unknown, keys: readonly string[]): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || isTensor(value)) {
    return false;
  }
  const own = Object.keys(value);
  return own.length === keys.length && keys.every((k) => own.includes(k));
}

/** A tensor, or an array or plain record (a tree of per-tensor multipliers). */
function isMultipliers(value: unknown): boolean {
  return isTensor(value) || Array.isArray(value) || isPlainRecord(value);
}

/** True for a state record built by {@link egGlobalScale}. @category State */
export function isEgGlobalScaleState(value: unknown): value is EgGlobalScaleState {
  return hasExactKeys(value, ['scale', 'previous']) && isMultipliers(value.scale);
}

/** True for a state record built by {@link egCoordinateGains}. @category State */
export function isEgCoordinateGainsState(value: unknown): value is EgCoordinateGainsState {
  return hasExactKeys(value, ['count', 'gains', 'gradTrace']) && typeof value.count === 'number';
}

/** True for a state record built by {@link hypergradientScale}. @category State */
export function isHypergradientScaleState(value: unknown): value is HypergradientScaleState {
  return hasExactKeys(value, ['alpha', 'previous']) && isMultipliers(value.alpha);
}

/**
 * The first {@link egGlobalScale} state inside any optimizer state (a chain's
 * tuple, nested chains, wrapper records), depth first; `undefined` if none.
 *
 * @category State
 */
export function findEgGlobalScaleState(state: unknown): EgGlobalScaleState | undefined {
  return findInState(state, isEgGlobalScaleState)[0];
}

/**
 * The first {@link egCoordinateGains} state inside any optimizer state, depth
 * first; `undefined` if none.
 *
 * @category State
 */
export function findEgCoordinateGainsState(state: unknown): EgCoordinateGainsState | undefined {
  return findInState(state, isEgCoordinateGainsState)[0];
}

/**
 * The first {@link hypergradientScale} state inside any optimizer state, depth
 * first; `undefined` if none.
 *
 * @category State
 */
export function findHypergradientScaleState(state: unknown): HypergradientScaleState | undefined {
  return findInState(state, isHypergradientScaleState)[0];
}

/** The scalars of a multiplier tree in canonical order, with one read-back. */
function readMultipliers(multipliers: Tree): number[] {
  const leaves = treeLeaves(multipliers);
  if (leaves.length === 0) return [];
  if (leaves.length === 1) return Array.from((leaves[0] as tf.Tensor).dataSync());
  return Array.from(tf.tidy(() => tf.concat(leaves.map((t) => tf.reshape(t, [-1]))).dataSync()));
}

/** The scalars of a multiplier tree by path, as {@link readEgScaleByPath} describes. */
function readMultipliersByPath(multipliers: Tree): Record<string, number> {
  const paths = treeFlatten(multipliers).map((leaf) => leaf.path);
  const read = readMultipliers(multipliers);
  // fromEntries keeps a path such as "__proto__" a key.
  return Object.fromEntries(paths.map((path, i) => [path, read[i] as number]));
}

/**
 * The current scale of the first {@link egGlobalScale} in an optimizer state:
 * one number for a global scale, one per parameter tensor in canonical
 * (`treeFlatten`, sorted-key) order with `perTensor`, and `[]` when the state
 * holds no such transform. {@link readEgScaleByPath} gives the same numbers
 * keyed by parameter path. Reads tensor data: use it between steps, not
 * inside one.
 *
 * @category State
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { egAdam, readEgScale } from '@tfopt/eg';
 * const tx = egAdam(1e-3);
 * const state = tx.init({ w: tf.zeros([3]) });
 * readEgScale(state); // [1]
 * ```
 */
export function readEgScale(state: unknown): number[] {
  const found = findEgGlobalScaleState(state);
  return found === undefined ? [] : readMultipliers(found.scale);
}

/**
 * The current scale of the first {@link egGlobalScale} in an optimizer state,
 * keyed by the path of its parameter tensor as `treeFlatten` writes it
 * (`.w`, `.layers[0].b`, `["dense_Dense1/kernel"]` for a variable name): with
 * `perTensor` one entry per parameter tensor; a global scale is the single
 * entry `''` (the root). `{}` when the state holds no such transform. Reads
 * tensor data: use it between steps, not inside one.
 *
 * @category State
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { egSgdm, readEgScaleByPath } from '@tfopt/eg';
 * const tx = egSgdm(0.1, { scale: { perTensor: true } });
 * const state = tx.init({ w: tf.zeros([3]), b: tf.zeros([1]) });
 * readEgScaleByPath(state); // { '.b': 1, '.w': 1 }
 * readEgScaleByPath(egSgdm(0.1).init({ w: tf.zeros([3]) })); // { '': 1 }
 * ```
 */
export function readEgScaleByPath(state: unknown): Record<string, number> {
  const found = findEgGlobalScaleState(state);
  return found === undefined ? {} : readMultipliersByPath(found.scale);
}

/**
 * The current multiplier of the first {@link hypergradientScale} in an
 * optimizer state, like {@link readEgScale}; `[]` when there is none.
 *
 * @category State
 */
export function readHypergradientScale(state: unknown): number[] {
  const found = findHypergradientScaleState(state);
  return found === undefined ? [] : readMultipliers(found.alpha);
}

/**
 * The current multiplier of the first {@link hypergradientScale} in an
 * optimizer state keyed by parameter path, like {@link readEgScaleByPath};
 * `{}` when there is none.
 *
 * @category State
 */
export function readHypergradientScaleByPath(state: unknown): Record<string, number> {
  const found = findHypergradientScaleState(state);
  return found === undefined ? {} : readMultipliersByPath(found.alpha);
}

/**
 * Summary of the per-coordinate gains of {@link egCoordinateGains}.
 *
 * @category State
 */
export interface EgGainsSummary {
  /** Mean gain over every coordinate of every tensor. */
  readonly mean: number;
  /** Smallest gain. */
  readonly min: number;
  /** Largest gain. */
  readonly max: number;
  /** Number of coordinates. */
  readonly size: number;
  /** Step count of the gains transform. */
  readonly count: number;
}

/**
 * Mean, minimum and maximum of the gains of the first
 * {@link egCoordinateGains} in an optimizer state, over all coordinates;
 * `undefined` when the state holds no such transform. Reads tensor data:
 * use it between steps, not inside one.
 *
 * @category State
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { egSgdm, readEgGains } from '@tfopt/eg';
 * const state = egSgdm(0.1).init({ w: tf.zeros([3]) });
 * readEgGains(state); // { mean: 1, min: 1, max: 1, size: 3, count: 0 }
 * ```
 */
export function readEgGains(state: unknown): EgGainsSummary | undefined {
  const found = findEgCoordinateGainsState(state);
  if (found === undefined) return undefined;
  const leaves = treeLeaves(found.gains);
  const size = leaves.reduce((n, t) => n + t.size, 0);
  if (size === 0)
    return { mean: Number.NaN, min: Number.NaN, max: Number.NaN, size, count: found.count };
  // One read of three numbers instead of copying every gain to JS.
  const stats = tf.tidy(() => {
    const flat = tf.concat(leaves.map((t) => tf.reshape(t, [-1])));
    return tf.stack([tf.sum(flat), tf.min(flat), tf.max(flat)]).dataSync();
  });
  return {
    mean: (stats[0] as number) / size,
    min: stats[1] as number,
    max: stats[2] as number,
    size,
    count: found.count,
  };
}
