import * as tf from '@tensorflow/tfjs-core';
import {
  disposeReplaced,
  type GradientTransformation,
  isPlainRecord,
  joinPath,
  TfoptError,
} from '@tfopt/core';
import { assertDormantFits, type DormantState, rekeyState } from './rekey.js';

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
/** The version {@link encodeValue} writes. Version 1 is still read. */
export const VERSION = 2;
const WHERE = 'TransformOptimizer.setWeights';

/** Numbers JSON cannot hold, written as these strings in a version-2 skeleton. */
const SPECIAL_NUMBERS: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
  '-0': -0,
};
const DTYPES: readonly string[] = ['float32', 'int32', 'bool', 'complex64', 'string'];

/**
 * The layout of a saved value, with its tensors replaced by the names of
 * the weights that carry them.
 *
 * Version 2: `{ t, s, d }` a tensor (weight name, shape, dtype), `{ n }` a
 * number written inline (a JSON number, or `"NaN"`, `"Infinity"`,
 * `"-Infinity"`, `"-0"`), `{ v }` a string, boolean or null, `{ u: 1 }`
 * undefined, `{ a }` an array, `{ o }` an object.
 *
 * Version 1 differs in two nodes: `{ t }` a tensor (no shape or dtype) and
 * `{ n }` the name of a scalar weight holding the number.
 */
type Skeleton =
  | { t: string; s?: number[]; d?: string }
  | { n: number | string }
  | { v: string | boolean | null }
  | { u: 1 }
  | { a: Skeleton[] }
  | { o: Record<string, Skeleton> };

/** Weights that encode one value, and the tensors created for it (owned by the caller). */
export interface EncodedValue {
  /** The skeleton string tensor first, then one weight per tensor of the value. */
  readonly weights: NamedTensor[];
  /** Tensors made here (the skeleton), to be disposed by the caller. */
  readonly created: tf.Tensor[];
}

/**
 * Encode `value` (records, arrays, tensors, numbers, strings, booleans, null,
 * undefined) as named weights: a string tensor holding the layout (format
 * version 2) and one weight per tensor. Tensors are returned as they are,
 * not copied, and their shape and dtype are recorded in the layout so that
 * {@link readValue} can tell a truncated or altered weight. Numbers are
 * written into the layout itself, exactly (NaN, ±Infinity and -0
 * included), so they come back bit for bit. Names are derived from the
 * value's paths, e.g. `tfopt.state[0].mu["dense/kernel"]`.
 */
export function encodeValue(value: unknown): EncodedValue {
  const weights: NamedTensor[] = [];
  const walk = (node: unknown, path: string): Skeleton => {
    if (node instanceof tf.Tensor) {
      if (node.isDisposed)
        throw new TfoptError(`optimizer state at ${path}: the tensor is disposed`);
      const name = PREFIX + path;
      weights.push({ name, tensor: node });
      return { t: name, s: [...node.shape], d: node.dtype };
    }
    switch (typeof node) {
      case 'number':
        return { n: encodeNumber(node) };
      case 'string':
      case 'boolean':
        return { v: node };
      case 'undefined':
        return { u: 1 };
    }
    if (node === null) return { v: null };
    if (Array.isArray(node)) return { a: node.map((child, i) => walk(child, joinPath(path, i))) };
    if (isPlainRecord(node)) {
      const o: Record<string, Skeleton> = {};
      for (const [k, child] of Object.entries(node)) {
        Object.defineProperty(o, k, {
          value: walk(child, joinPath(path, k)),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return { o };
    }
    throw new TfoptError(
      `optimizer state at ${path || '(root)'} holds a ${typeof node === 'object' ? node.constructor?.name : typeof node}, which cannot be saved (states are records of tensors, numbers, strings, arrays and objects)`,
    );
  };
  const skeleton = walk(value, '');
  const text = tf.scalar(JSON.stringify({ format: FORMAT, version: VERSION, root: skeleton }));
  return { weights: [{ name: SKELETON_NAME, tensor: text }, ...weights], created: [text] };
}

function encodeNumber(x: number): number | string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return 'Infinity';
  if (x === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (Object.is(x, -0)) return '-0';
  return x;
}

/**
 * Read and check a value written by {@link encodeValue} (format version 2)
 * or by the version-1 writer (numbers as scalar weights, so fractions read
 * from version 1 are float32-rounded). Tensors in the result are the given
 * weights themselves, not copies; nothing is created.
 *
 * Throws a `TfoptError` naming the problem, before anything is built, when
 * the skeleton weight is missing or not valid JSON, the format or version
 * is unknown, the skeleton is malformed, two weights share a name, a weight
 * the skeleton references is missing, a tensor weight's shape or dtype
 * differs from what was recorded, or there are weights the skeleton does
 * not mention.
 */
export async function readValue(weights: readonly NamedTensor[]): Promise<unknown> {
  const byName = new Map<string, tf.Tensor>();
  for (const w of weights) {
    if (byName.has(w.name)) throw new TfoptError(`${WHERE}: two weights are named "${w.name}"`);
    if (!(w.tensor instanceof tf.Tensor) || w.tensor.isDisposed) {
      throw new TfoptError(`${WHERE}: the weight "${w.name}" is not a live tensor`);
    }
    byName.set(w.name, w.tensor);
  }
  const text = byName.get(SKELETON_NAME);
  if (text === undefined) {
    throw new TfoptError(
      `${WHERE}: no "${SKELETON_NAME}" weight; these optimizer weights were not written by TransformOptimizer`,
    );
  }
  if (text.dtype !== 'string' || text.size !== 1) {
    throw new TfoptError(
      `${WHERE}: the "${SKELETON_NAME}" weight must be a string scalar, got a ${text.dtype} tensor of shape [${text.shape.join(', ')}]`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(((await text.data()) as unknown as string[])[0] as string);
  } catch (e) {
    throw new TfoptError(
      `${WHERE}: the "${SKELETON_NAME}" weight is not valid JSON (${(e as Error).message}); the checkpoint is corrupted`,
    );
  }
  const header = isPlainRecord(parsed) ? parsed : {};
  const { format, version } = header;
  if (format !== FORMAT || (version !== 1 && version !== 2) || !('root' in header)) {
    throw new TfoptError(
      `${WHERE}: unknown state format ${JSON.stringify(format)} version ${String(version)} (this version reads "${FORMAT}" versions 1 and 2)`,
    );
  }
  const root = header.root;

  // Check the whole skeleton and what it references before reading any number or building anything.
  const referenced = new Set<string>();
  const numberWeights: string[] = [];
  const check = (node: unknown, path: string): void => {
    const bad = (detail: string): TfoptError =>
      new TfoptError(`${WHERE}: the skeleton is malformed at ${path || '(root)'}: ${detail}`);
    if (!isPlainRecord(node)) throw bad('expected a node object');
    const keys = Object.keys(node).sort().join(',');
    const reference = (name: unknown): tf.Tensor => {
      if (typeof name !== 'string') throw bad('a weight name must be a string');
      if (referenced.has(name)) throw bad(`the weight "${name}" is referenced twice`);
      referenced.add(name);
      const t = byName.get(name);
      if (t === undefined) {
        throw new TfoptError(
          `${WHERE}: the weight "${name}" is missing (the skeleton references it; the checkpoint is truncated or incomplete)`,
        );
      }
      return t;
    };
    if ('t' in node) {
      if (version === 1 ? keys !== 't' : keys !== 'd,s,t') throw bad(`unexpected keys ${keys}`);
      const t = reference(node.t);
      if (version === 1) return;
      const { s, d } = node;
      if (!Array.isArray(s) || !s.every((x) => Number.isInteger(x) && x >= 0)) {
        throw bad('the recorded shape must be an array of integers >= 0');
      }
      if (typeof d !== 'string' || !DTYPES.includes(d)) throw bad('unknown recorded dtype');
      if (!sameShape(t.shape, s)) {
        throw new TfoptError(
          `${WHERE}: weight "${node.t}" has shape [${t.shape.join(', ')}] but the checkpoint recorded [${s.join(', ')}]`,
        );
      }
      if (t.dtype !== d) {
        throw new TfoptError(
          `${WHERE}: weight "${node.t}" has dtype ${t.dtype} but the checkpoint recorded ${d}`,
        );
      }
    } else if ('n' in node) {
      if (keys !== 'n') throw bad(`unexpected keys ${keys}`);
      if (version === 1) {
        const t = reference(node.n);
        if (t.size !== 1 || t.dtype === 'string' || t.dtype === 'complex64') {
          throw new TfoptError(`${WHERE}: "${String(node.n)}" should be a numeric scalar`);
        }
        numberWeights.push(node.n as string);
      } else if (
        typeof node.n !== 'number' &&
        !(typeof node.n === 'string' && Object.hasOwn(SPECIAL_NUMBERS, node.n))
      ) {
        throw bad('a number must be a JSON number or one of "NaN", "Infinity", "-Infinity", "-0"');
      }
    } else if ('v' in node) {
      const v = node.v;
      if (keys !== 'v' || !(v === null || typeof v === 'string' || typeof v === 'boolean')) {
        throw bad('a value must be a string, a boolean or null');
      }
    } else if ('u' in node) {
      if (keys !== 'u' || node.u !== 1) throw bad('expected { "u": 1 }');
    } else if ('a' in node) {
      if (keys !== 'a' || !Array.isArray(node.a)) throw bad('expected an array of nodes');
      node.a.forEach((child, i) => {
        check(child, joinPath(path, i));
      });
    } else if ('o' in node) {
      if (keys !== 'o' || !isPlainRecord(node.o)) throw bad('expected an object of nodes');
      for (const [k, child] of Object.entries(node.o)) check(child, joinPath(path, k));
    } else {
      throw bad(`unknown node with keys ${keys || '(none)'}`);
    }
  };
  check(root, '');
  const unknown = [...byName.keys()].filter((n) => n !== SKELETON_NAME && !referenced.has(n));
  if (unknown.length > 0) {
    throw new TfoptError(
      `${WHERE}: the checkpoint has weights its skeleton does not mention: ${unknown
        .map((n) => `"${n}"`)
        .join(', ')}`,
    );
  }

  const numbers = new Map<string, number>();
  for (const name of numberWeights) {
    numbers.set(name, ((await (byName.get(name) as tf.Tensor).data()) as ArrayLike<number>)[0]!);
  }
  const build = (node: Skeleton): unknown => {
    if ('t' in node) return byName.get(node.t);
    if ('n' in node) {
      if (version === 1) return numbers.get(node.n as string);
      return typeof node.n === 'number' ? node.n : SPECIAL_NUMBERS[node.n];
    }
    if ('v' in node) return node.v;
    if ('u' in node) return undefined;
    if ('a' in node) return node.a.map(build);
    // fromEntries defines own keys, so a saved "__proto__" key stays a key.
    return Object.fromEntries(Object.entries(node.o).map(([k, child]) => [k, build(child)]));
  };
  return build(root as Skeleton);
}

/**
 * `value` with every tensor replaced by a copy kept out of any enclosing
 * `tf.tidy`; the result owns the copies. Nothing is left behind on a throw.
 */
export function copyTensors(value: unknown): unknown {
  const made: tf.Tensor[] = [];
  const copy = (node: unknown): unknown => {
    if (node instanceof tf.Tensor) {
      const c = tf.keep(tf.clone(node));
      made.push(c);
      return c;
    }
    if (Array.isArray(node)) return node.map(copy);
    if (isPlainRecord(node))
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, copy(v)]));
    return node;
  };
  try {
    return copy(value);
  } catch (e) {
    tf.dispose(made);
    throw e;
  }
}

/**
 * Rebuild a value from {@link encodeValue}'s weights, after the checks of
 * {@link readValue}. Tensors are cloned (the caller may dispose the weights
 * afterwards) and kept out of any enclosing `tf.tidy`; the result owns them.
 */
export async function decodeValue(weights: readonly NamedTensor[]): Promise<unknown> {
  return copyTensors(await readValue(weights));
}

/** The uniquifying suffix tfjs-layers appends to a reused weight name (`kernel_1`). */
const UNIQUE_SUFFIX = /_\d+$/;

/**
 * The registered `tf.Variable`s named `names`, or undefined when a name is
 * not registered or is ambiguous: another registered variable has the same
 * name up to tfjs-layers' `_<n>` suffix (a model loaded a second time in one
 * program), so the saved state may belong to that one instead.
 */
export function resolveVariables(
  names: readonly string[],
): Record<string, tf.Variable> | undefined {
  const registered = tf.engine().registeredVariables;
  const stem = (n: string) => n.replace(UNIQUE_SUFFIX, '');
  const stems = new Map<string, number>();
  for (const n of Object.keys(registered)) stems.set(stem(n), (stems.get(stem(n)) ?? 0) + 1);
  const out: Record<string, tf.Variable> = {};
  for (const name of names) {
    const v = Object.hasOwn(registered, name) ? registered[name] : undefined;
    if (v === undefined || stems.get(stem(name)) !== 1) return undefined;
    Object.defineProperty(out, name, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * Check a restored state against `transform`'s layout for the variables it
 * was saved for: `transform.init` over `variables` (the record's names and
 * the dormant ones), then the check {@link rekeyState} makes at a step for
 * the state over `names`, and the same check for each dormant entry. Throws
 * a `TfoptError` naming the state path and variable on a misfit. Pure for
 * the caller: the tensors of `init` are freed, nothing else is touched.
 */
export function assertStateFits(
  transform: GradientTransformation<unknown>,
  variables: Readonly<Record<string, tf.Variable>>,
  restored: { names: readonly string[]; state: unknown; dormant: DormantState },
): void {
  const { names, state, dormant } = restored;
  const rethrow = (e: unknown): never => {
    if (!(e instanceof TfoptError)) throw e;
    throw new TfoptError(
      `${WHERE}: the checkpoint does not fit this optimizer's transform: ${e.message.replace(/^TransformOptimizer: /, '')}`,
    );
  };
  const initOver = (keys: readonly string[]): unknown =>
    transform.init(Object.fromEntries(keys.map((n) => [n, variables[n] as tf.Variable])));

  let fresh: unknown = initOver(names);
  try {
    rekeyState(fresh, { names, state, dormant: {} }, names);
  } catch (e) {
    rethrow(e);
  } finally {
    disposeReplaced(fresh, undefined, variables, state, dormant);
  }
  const dormantNames = Object.keys(dormant);
  if (dormantNames.length === 0) return;
  const all = [...new Set([...names, ...dormantNames])];
  fresh = initOver(all);
  try {
    assertDormantFits(fresh, all, dormant);
  } catch (e) {
    rethrow(e);
  } finally {
    disposeReplaced(fresh, undefined, variables, state, dormant);
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
