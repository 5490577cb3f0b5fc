import * as tf from '@tensorflow/tfjs-core';
import { isPlainRecord, joinPath, TfoptError } from '@tfopt/core';

/**
 * State set aside for variables that took no part in the latest step:
 * variable name → path of the per-variable node in the state → that
 * variable's entry there.
 *
 * @category Optimizer
 */
export type DormantState = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/**
 * The state of a transform for a named set of variables.
 *
 * @category Optimizer
 */
export interface KeyedState {
  /** The variable names the state's per-variable nodes are keyed by, in order. */
  readonly names: readonly string[];
  /** The transform's state. */
  readonly state: unknown;
  /** Entries of variables outside `names`, kept for when they come back. */
  readonly dormant: DormantState;
}

/**
 * Carry `previous` over to the variable set `names`. `fresh` is the
 * transform's `init` over the new variables: it supplies the layout and the
 * entries of variables never seen. A "per-variable node" is an object whose
 * keys are exactly the variable names (the transform's trees shaped like the
 * parameters); at such nodes entries are taken by name (through `sourceOf`,
 * which maps a variable to the name its state was saved under) from the
 * previous state, then from the dormant store, then from `fresh`; entries of
 * variables that left move to the dormant store. Everywhere else the previous
 * value is kept (step counts, a global scale), after checking that it has the
 * layout `fresh` has.
 *
 * Pure: nothing is disposed. Throws a `TfoptError` naming the state path
 * (and variable) where `previous` does not fit. {@link TransformOptimizer}
 * uses it whenever the set of trained variables changes; it works as well for
 * states driven by hand with `stepVariables`.
 *
 * @category Optimizer
 */
export function rekeyState(
  fresh: unknown,
  previous: KeyedState,
  names: readonly string[],
  sourceOf: (name: string) => string = (n) => n,
): { state: unknown; dormant: DormantState } {
  const newNames = new Set(names);
  const oldNames = new Set(previous.names);
  const setChanged = newNames.size !== oldNames.size || names.some((n) => !oldNames.has(n));
  const dormant: Record<string, Record<string, unknown>> = {};
  for (const [name, entries] of Object.entries(previous.dormant)) dormant[name] = { ...entries };

  const walk = (f: unknown, o: unknown, path: string): unknown => {
    if (isPlainRecord(f) && hasExactKeys(f, newNames)) {
      if (!isPlainRecord(o) || !hasExactKeys(o, oldNames)) {
        throw misfit(path, 'an object keyed by variable name', o, keyHint(o, previous.names));
      }
      const out: Record<string, unknown> = {};
      const taken = new Set<string>();
      for (const name of names) {
        const source = sourceOf(name);
        const parked = dormant[source];
        if (Object.hasOwn(o, source) && !taken.has(source)) {
          out[name] = checked(f[name], o[source], name, path);
          taken.add(source);
        } else if (parked !== undefined && Object.hasOwn(parked, path)) {
          out[name] = checked(f[name], parked[path], name, path);
          delete parked[path];
          if (Object.keys(parked).length === 0) delete dormant[source];
        } else {
          out[name] = f[name];
        }
      }
      for (const key of Object.keys(o)) {
        if (taken.has(key)) continue;
        dormant[key] ??= {};
        (dormant[key] as Record<string, unknown>)[path] = o[key];
      }
      return out;
    }
    if (f instanceof tf.Tensor) {
      if (!(o instanceof tf.Tensor) || !sameShape(f.shape, o.shape) || f.dtype !== o.dtype) {
        throw misfit(path, describe(f), o, setChanged ? sizeHint(f, o) : '');
      }
      return o;
    }
    if (Array.isArray(f)) {
      if (!Array.isArray(o) || o.length !== f.length) throw misfit(path, describe(f), o);
      return f.map((child, i) => walk(child, o[i], joinPath(path, i)));
    }
    if (isPlainRecord(f)) {
      if (!isPlainRecord(o) || !hasExactKeys(o, new Set(Object.keys(f))))
        throw misfit(path, describe(f), o);
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(f)) out[key] = walk(f[key], o[key], joinPath(path, key));
      return out;
    }
    if (typeof f !== typeof o || (f === null) !== (o === null)) throw misfit(path, describe(f), o);
    return o;
  };

  const state = walk(fresh, previous.state, '');
  return { state, dormant };
}

/**
 * Throw, naming the variable and state path, unless every entry of
 * `dormant` has the layout that `fresh` gives its variable at the same
 * path. `fresh` is the transform's `init` over variables that include the
 * dormant ones, keyed by `names`; its per-variable nodes are those whose
 * keys are exactly `names`. An entry at a path where `fresh` has no
 * per-variable node does not fit either. Pure: nothing is disposed.
 */
export function assertDormantFits(
  fresh: unknown,
  names: readonly string[],
  dormant: DormantState,
): void {
  const keys = new Set(names);
  const nodes = new Map<string, Record<string, unknown>>();
  const walk = (f: unknown, path: string): void => {
    if (isPlainRecord(f) && hasExactKeys(f, keys)) {
      nodes.set(path, f);
    } else if (Array.isArray(f)) {
      f.forEach((child, i) => {
        walk(child, joinPath(path, i));
      });
    } else if (isPlainRecord(f)) {
      for (const [k, child] of Object.entries(f)) walk(child, joinPath(path, k));
    }
  };
  walk(fresh, '');
  for (const [name, entries] of Object.entries(dormant)) {
    for (const [path, entry] of Object.entries(entries)) {
      const node = nodes.get(path);
      if (node === undefined || !Object.hasOwn(node, name)) {
        throw new TfoptError(
          `TransformOptimizer: the state kept for variable "${name}" at state path ${path || '(root)'} does not fit the transform, which keeps no per-variable entries there`,
        );
      }
      checked(node[name], entry, name, path);
    }
  }
}

/** `saved`, if it has the layout `fresh` has for variable `name`. */
function checked(fresh: unknown, saved: unknown, name: string, path: string): unknown {
  const problem = layoutDifference(fresh, saved, '');
  if (problem !== undefined) {
    throw new TfoptError(
      `TransformOptimizer: the state kept for variable "${name}" at state path ${path || '(root)'} does not fit the variable: ${problem}`,
    );
  }
  return saved;
}

function layoutDifference(f: unknown, o: unknown, path: string): string | undefined {
  const here = path || '(entry)';
  if (f instanceof tf.Tensor) {
    return o instanceof tf.Tensor && sameShape(f.shape, o.shape) && f.dtype === o.dtype
      ? undefined
      : `${here} needs ${describe(f)}, found ${describe(o)}`;
  }
  if (Array.isArray(f)) {
    if (!Array.isArray(o) || o.length !== f.length)
      return `${here} needs ${describe(f)}, found ${describe(o)}`;
    for (let i = 0; i < f.length; i++) {
      const p = layoutDifference(f[i], o[i], joinPath(path, i));
      if (p !== undefined) return p;
    }
    return undefined;
  }
  if (isPlainRecord(f)) {
    if (!isPlainRecord(o) || !hasExactKeys(o, new Set(Object.keys(f)))) {
      return `${here} needs ${describe(f)}, found ${describe(o)}`;
    }
    for (const key of Object.keys(f)) {
      const p = layoutDifference(f[key], o[key], joinPath(path, key));
      if (p !== undefined) return p;
    }
    return undefined;
  }
  return typeof f === typeof o ? undefined : `${here} needs ${describe(f)}, found ${describe(o)}`;
}

function misfit(path: string, expected: string, found: unknown, hint = ''): TfoptError {
  return new TfoptError(
    `TransformOptimizer: the optimizer state does not fit the transform at state path ${
      path || '(root)'
    }: expected ${expected}, found ${describe(found)}${hint}`,
  );
}

function keyHint(o: unknown, names: readonly string[]): string {
  if (!isPlainRecord(o)) return '';
  const missing = names.filter((n) => !Object.hasOwn(o, n));
  const extra = Object.keys(o).filter((k) => !names.includes(k));
  const list = (xs: string[]) => xs.map((x) => JSON.stringify(x)).join(', ');
  return [
    missing.length > 0 ? `; no entry for variable ${list(missing)}` : '',
    extra.length > 0 ? `; entries for ${list(extra)}, not among the state's variables` : '',
  ].join('');
}

function sizeHint(f: tf.Tensor, o: unknown): string {
  return o instanceof tf.Tensor && f.rank === 1 && o.rank === 1
    ? '. A state entry whose size follows the number of variables (one value per variable, by position) cannot follow a change in the set of trainable variables'
    : '';
}

function describe(x: unknown): string {
  if (x instanceof tf.Tensor) return `a ${x.dtype} tensor of shape [${x.shape.join(', ')}]`;
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (x === null) return 'null';
  if (isPlainRecord(x)) {
    const keys = Object.keys(x);
    return keys.length === 0
      ? 'an empty object'
      : `an object with keys ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', ...' : ''}`;
  }
  return typeof x;
}

function hasExactKeys(x: Record<string, unknown>, keys: ReadonlySet<string>): boolean {
  const own = Object.keys(x);
  if (own.length !== keys.size) return false;
  for (const k of own) if (!keys.has(k)) return false;
  return true;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
