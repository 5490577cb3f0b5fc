import * as tf from '@tensorflow/tfjs-core';
import { joinPath, TfoptError } from '@tfopt/core';
import { isPlainObject } from './rekey.js';

/**
 * A tensor with a name, as `tf.Optimizer.getWeights` returns them and
 * `model.save` writes them.
 *
 * @category Optimizer
 */
export interface NamedTensor {
  /** The weight's name. */
  name: string;
  /** Its value. */
  tensor: tf.Tensor;
}

/** Name of the string tensor that describes the layout of the saved state. */
export const SKELETON_NAME = 'tfopt/skeleton';
const PREFIX = 'tfopt';
const FORMAT = 'tfopt-optimizer-state';
const VERSION = 1;

/**
 * The layout of a saved value, with its tensors replaced by the names of
 * the weights that carry them: `{ t }` a tensor, `{ n }` a number (saved as
 * a scalar tensor), `{ v }` a string, boolean or null, `{ u }` undefined,
 * `{ a }` an array, `{ o }` an object.
 */
type Skeleton =
  | { t: string }
  | { n: string }
  | { v: string | boolean | null }
  | { u: 1 }
  | { a: Skeleton[] }
  | { o: Record<string, Skeleton> };

/** Weights that encode one value, and the tensors created for it (owned by the caller). */
export interface EncodedValue {
  /** The skeleton string tensor first, then one weight per tensor or number. */
  readonly weights: NamedTensor[];
  /** Tensors made here (number scalars and the skeleton), to be disposed by the caller. */
  readonly created: tf.Tensor[];
}

/**
 * Encode `value` (records, arrays, tensors, numbers, strings, booleans) as
 * named weights. Tensors are returned as they are, not copied; each number
 * becomes a scalar tensor (`int32` for integers that fit, else `float32`, so
 * a fractional number comes back rounded to float32). Names are derived from
 * the value's paths, e.g. `tfopt.state[0].mu["dense/kernel"]`.
 */
export function encodeValue(value: unknown): EncodedValue {
  const weights: NamedTensor[] = [];
  const created: tf.Tensor[] = [];
  const walk = (node: unknown, path: string): Skeleton => {
    const name = PREFIX + path;
    if (node instanceof tf.Tensor) {
      if (node.isDisposed)
        throw new TfoptError(`optimizer state at ${path}: the tensor is disposed`);
      weights.push({ name, tensor: node });
      return { t: name };
    }
    switch (typeof node) {
      case 'number': {
        const tensor =
          Number.isInteger(node) && Math.abs(node) < 2 ** 31
            ? tf.scalar(node, 'int32')
            : tf.scalar(node, 'float32');
        created.push(tensor);
        weights.push({ name, tensor });
        return { n: name };
      }
      case 'string':
      case 'boolean':
        return { v: node };
      case 'undefined':
        return { u: 1 };
    }
    if (node === null) return { v: null };
    if (Array.isArray(node)) return { a: node.map((child, i) => walk(child, joinPath(path, i))) };
    if (isPlainObject(node)) {
      const o: Record<string, Skeleton> = {};
      for (const [k, child] of Object.entries(node)) o[k] = walk(child, joinPath(path, k));
      return { o };
    }
    throw new TfoptError(
      `optimizer state at ${path || '(root)'} holds a ${typeof node === 'object' ? node.constructor?.name : typeof node}, which cannot be saved (states are records of tensors, numbers, strings, arrays and objects)`,
    );
  };
  try {
    const skeleton = walk(value, '');
    const text = tf.scalar(JSON.stringify({ format: FORMAT, version: VERSION, root: skeleton }));
    created.push(text);
    return { weights: [{ name: SKELETON_NAME, tensor: text }, ...weights], created };
  } catch (e) {
    tf.dispose(created);
    throw e;
  }
}

/**
 * Rebuild a value from {@link encodeValue}'s weights. Tensors are cloned (the
 * caller may dispose the weights afterwards) and kept out of any enclosing
 * `tf.tidy`; the result owns them.
 */
export async function decodeValue(weights: readonly NamedTensor[]): Promise<unknown> {
  const byName = new Map(weights.map((w) => [w.name, w.tensor]));
  const text = byName.get(SKELETON_NAME);
  if (text === undefined || text.dtype !== 'string') {
    throw new TfoptError(
      `TransformOptimizer.setWeights: no "${SKELETON_NAME}" weight; these optimizer weights were not written by TransformOptimizer`,
    );
  }
  const parsed = JSON.parse(((await text.data()) as unknown as string[])[0] as string) as {
    format?: string;
    version?: number;
    root?: Skeleton;
  };
  if (parsed.format !== FORMAT || parsed.version !== VERSION || parsed.root === undefined) {
    throw new TfoptError(
      `TransformOptimizer.setWeights: unknown state format ${JSON.stringify(parsed.format)} version ${String(parsed.version)}`,
    );
  }
  const need = (name: string): tf.Tensor => {
    const t = byName.get(name);
    if (t === undefined)
      throw new TfoptError(`TransformOptimizer.setWeights: the weight "${name}" is missing`);
    return t;
  };
  // Numbers are read first so that nothing is cloned if reading fails.
  const numbers = new Map<string, number>();
  const collect = (node: Skeleton): void => {
    if ('n' in node) numbers.set(node.n, Number.NaN);
    else if ('a' in node) node.a.forEach(collect);
    else if ('o' in node) Object.values(node.o).forEach(collect);
    else if ('t' in node) need(node.t);
  };
  collect(parsed.root);
  for (const name of numbers.keys()) {
    const t = need(name);
    if (t.size !== 1)
      throw new TfoptError(`TransformOptimizer.setWeights: "${name}" should be a scalar`);
    numbers.set(name, ((await t.data()) as ArrayLike<number>)[0] as number);
  }
  const build = (node: Skeleton): unknown => {
    if ('t' in node) return tf.keep(tf.clone(need(node.t)));
    if ('n' in node) return numbers.get(node.n);
    if ('v' in node) return node.v;
    if ('u' in node) return undefined;
    if ('a' in node) return node.a.map(build);
    const out: Record<string, unknown> = {};
    for (const [k, child] of Object.entries(node.o)) out[k] = build(child);
    return out;
  };
  return build(parsed.root);
}
