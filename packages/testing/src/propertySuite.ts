// Property-based tests with fast-check for any table of transforms: random
// trees (see arbitraries.ts), random hyperparameters, random gradients.
import * as tf from '@tensorflow/tfjs-core';
import {
  chain,
  collectTensors,
  disposeReplaced,
  type GradientTransformation,
  identity,
  isTensor,
  joinPath,
  step,
  stepVariables,
  type Tree,
  treeDispose,
  type UpdateContext,
} from '@tfopt/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildTree,
  finiteFloat32,
  type Layout,
  type LayoutOptions,
  layoutArb,
  leafValuesArb,
  shuffledKeysArb,
  withKeyOrder,
} from './arbitraries.js';
import { describeEachBackend } from './backends.js';

/** One row of a {@link propertySuite} table: a transform built from random hyperparameters. */
export interface PropertyRow<H = any> {
  /** Name shown in the test titles. */
  readonly name: string;
  /** The hyperparameters to draw. */
  readonly hyper: fc.Arbitrary<H>;
  /** Build the transform for one draw. */
  readonly build: (hyper: H) => GradientTransformation<any>;
}

/** A {@link PropertyRow} with its hyperparameter type inferred from `hyper`. */
export function propertyRow<H>(row: PropertyRow<H>): PropertyRow<H> {
  return row;
}

/** Options of {@link propertySuite}. */
export interface PropertySuiteOptions {
  /**
   * Runs per property and row. Default 20; the environment variable
   * `TFOPT_FC_RUNS` overrides it (e.g. for a long soak).
   */
  readonly numRuns?: number;
  /** Optimizer steps per run. Default 3. */
  readonly steps?: number;
  /** The tree layouts to draw. */
  readonly layout?: LayoutOptions;
  /** Values of params and gradients. Default finite float32 in [-10, 10]. */
  readonly element?: fc.Arbitrary<number>;
}

/**
 * fast-check parameters: `TFOPT_FC_SEED` replays a reported failure (with
 * `TFOPT_FC_PATH` for its shrink path), `TFOPT_FC_RUNS` overrides the number
 * of runs.
 */
export function fcParameters(numRuns: number): fc.Parameters<unknown> {
  const env = typeof process === 'undefined' ? {} : process.env;
  const runs = env.TFOPT_FC_RUNS === undefined ? numRuns : Number(env.TFOPT_FC_RUNS);
  return {
    numRuns: runs,
    ...(env.TFOPT_FC_SEED === undefined ? {} : { seed: Number(env.TFOPT_FC_SEED) }),
    ...(env.TFOPT_FC_PATH === undefined ? {} : { path: env.TFOPT_FC_PATH }),
  };
}

/** A layout with the values of its params and of one gradient per step. */
export interface Problem {
  readonly layout: Layout;
  readonly params: Float32Array[];
  readonly grads: Float32Array[][];
}

/** Problems: a layout, params values and `steps` gradient values on it. */
export function problemArb(
  steps: number,
  layout: fc.Arbitrary<Layout> = layoutArb(),
  element: fc.Arbitrary<number> = finiteFloat32(),
): fc.Arbitrary<Problem> {
  return layout.chain((l) =>
    fc.record({
      layout: fc.constant(l),
      params: leafValuesArb(l, element),
      grads: fc.array(leafValuesArb(l, element), { minLength: steps, maxLength: steps }),
    }),
  );
}

/** The bits of one tensor's values (NaNs of any payload written as one `nan`). */
function tensorBits(t: tf.Tensor): string {
  const data = t.dataSync();
  if (!(data instanceof Float32Array)) return Array.from(data as ArrayLike<unknown>).join(',');
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  return Array.from(data, (x, i) =>
    Number.isNaN(x) ? 'nan' : (bits[i] as number).toString(16).padStart(8, '0'),
  ).join(',');
}

/**
 * A bit-exact picture of any value (a tree, a state, a tuple of them), keyed
 * by path in canonical order (object keys sorted): every tensor as its dtype,
 * shape and the bit pattern of each float32 (so `-0` differs from `0`), every
 * number exactly, and every container with its size. Two values with equal
 * snapshots are the same bit for bit, whatever the key insertion order.
 */
export function bitSnapshot(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (node: unknown, path: string): void => {
    const at = path === '' ? '(root)' : path;
    if (isTensor(node)) {
      out[at] = node.isDisposed
        ? 'disposed tensor'
        : `${node.dtype}[${node.shape.join(',')}] ${tensorBits(node)}`;
    } else if (Array.isArray(node)) {
      out[at] = `array(${node.length})`;
      node.forEach((child, i) => {
        walk(child, joinPath(path, i));
      });
    } else if (node !== null && typeof node === 'object') {
      const keys = Object.keys(node).sort();
      out[at] = `object(${keys.length})`;
      for (const key of keys) walk((node as Record<string, unknown>)[key], joinPath(path, key));
    } else if (typeof node === 'number') {
      out[at] = `number ${Object.is(node, -0) ? '-0' : String(node)}`;
    } else {
      out[at] = `${typeof node} ${String(node)}`;
    }
  };
  walk(value, '');
  return out;
}

/** Paths (in `value`) of the tensors of `value` that are in `forbidden`. */
export function pathsOfTensors(value: unknown, forbidden: ReadonlySet<tf.Tensor>): string[] {
  const found: string[] = [];
  const seen = new Set<unknown>();
  const walk = (node: unknown, path: string): void => {
    if (node === null || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    if (isTensor(node)) {
      if (forbidden.has(node)) found.push(path === '' ? '(root)' : path);
    } else if (Array.isArray(node)) {
      node.forEach((child, i) => {
        walk(child, joinPath(path, i));
      });
    } else {
      for (const [k, child] of Object.entries(node)) walk(child, joinPath(path, k));
    }
  };
  walk(value, '');
  return found;
}

/**
 * `steps` optimizer steps with `step` (plain tensors; the intermediate params
 * are freed) or `stepVariables` (params updated in place). Returns the final
 * params and state; `params` itself stays with the caller.
 */
export function runSteps(
  tx: GradientTransformation<any>,
  params: Tree,
  grads: readonly Tree[],
  variables: boolean,
): { params: Tree; state: unknown } {
  let state: unknown = tx.init(params);
  let current = params;
  for (const g of grads) {
    if (variables) {
      state = stepVariables(tx, current, g, state);
    } else {
      const next = step(tx, current, g, state);
      if (current !== params) treeDispose(current);
      current = next.params;
      state = next.state;
    }
  }
  return { params: current, state };
}

/** Bit snapshots of the updates of `steps` raw `update` calls at fixed params. */
function updateTrace(
  tx: GradientTransformation<any>,
  params: Tree,
  grads: readonly Tree[],
): Record<string, string>[] {
  let state: unknown = tx.init(params);
  const out: Record<string, string>[] = [];
  for (const g of grads) {
    const [updates, next] = tx.update(g, state, params);
    out.push(bitSnapshot(updates));
    disposeReplaced(updates, next, params, g, state);
    disposeReplaced(state, next, params, g);
    state = next;
  }
  disposeReplaced(state, undefined, params, grads);
  return out;
}

/** A row with its hyperparameters drawn. */
const drawnRow = (table: readonly PropertyRow[]) =>
  fc
    .constantFrom(...table)
    .chain((row) => row.hyper.map((hyper) => ({ name: row.name, hyper, build: row.build })));

/**
 * The random property table: for every row, on every backend, with fast-check
 * over random tree layouts (nested objects with odd keys, arrays, scalar and
 * empty leaves, empty containers), random float32 values and the row's random
 * hyperparameters:
 *
 * 1. key order does not matter, bit for bit: `steps` steps (`step` or
 *    `stepVariables`) on a tree and on the same tree with every object's keys
 *    inserted in a shuffled order give bit-identical params and states;
 * 2. chain laws: `chain(identity(), tx)`, `chain(tx, identity())` and `tx`
 *    give bit-identical updates, and so do `chain(chain(tx, b), c)` and
 *    `chain(tx, chain(b, c))` for `b`, `c` drawn from the table;
 * 3. purity: `init` twice and `update` twice on the same inputs give the same
 *    results bit for bit, and params, gradients, state and context are
 *    neither disposed nor changed;
 * 4. ownership: no state returned by `init` or `update` holds a tensor of the
 *    params, the incoming updates or the context;
 * 5. no leaks: with `step` / `stepVariables` and the caller disposing what it
 *    owns, the live tensor count is the params' plus the state's after every
 *    step, the state's tensor count never changes, and after disposing the
 *    state and params everything is back where it started.
 */
export function propertySuite(
  title: string,
  table: readonly PropertyRow[],
  options: PropertySuiteOptions = {},
): void {
  const { numRuns = 20, steps = 3, element = finiteFloat32() } = options;
  const layouts = layoutArb(options.layout);
  const problems = problemArb(steps, layouts, element);
  const params = fcParameters(numRuns);

  describeEachBackend(title, () => {
    for (const row of table) {
      describe(row.name, () => {
        it('gives bit-identical params and states whatever the key insertion order', () => {
          const shuffled = problems.chain((p) =>
            fc.record({
              problem: fc.constant(p),
              paramsOrder: shuffledKeysArb(p.layout),
              gradsOrders: fc.array(shuffledKeysArb(p.layout), {
                minLength: steps,
                maxLength: steps,
              }),
            }),
          );
          fc.assert(
            fc.property(
              shuffled,
              row.hyper,
              fc.boolean(),
              ({ problem, paramsOrder, gradsOrders }, hyper, variables) => {
                const tx = row.build(hyper);
                const owned: unknown[] = [];
                try {
                  const paramsA = buildTree(problem.layout, problem.params, { variables });
                  owned.push(paramsA);
                  const paramsB = buildTree(paramsOrder, problem.params, { variables });
                  owned.push(paramsB);
                  const gradsA = problem.grads.map((g) => buildTree(problem.layout, g));
                  owned.push(gradsA);
                  // The same gradient tensors, in other containers.
                  const gradsB = gradsA.map((g, k) => withKeyOrder(g, gradsOrders[k] as Layout));
                  const a = runSteps(tx, paramsA, gradsA, variables);
                  owned.push(a);
                  const b = runSteps(tx, paramsB, gradsB, variables);
                  owned.push(b);
                  expect(bitSnapshot(b.params)).toEqual(bitSnapshot(a.params));
                  expect(bitSnapshot(b.state)).toEqual(bitSnapshot(a.state));
                } finally {
                  treeDispose(owned);
                }
              },
            ),
            params,
          );
        });

        it('obeys the chain laws bit for bit (identity is a unit, chain is associative)', () => {
          fc.assert(
            fc.property(
              problems,
              row.hyper,
              drawnRow(table),
              drawnRow(table),
              (problem, hyper, b, c) => {
                const tx = row.build(hyper);
                const txB = b.build(b.hyper);
                const txC = c.build(c.hyper);
                const owned: unknown[] = [];
                try {
                  const p = buildTree(problem.layout, problem.params);
                  owned.push(p);
                  const grads = problem.grads.map((g) => buildTree(problem.layout, g));
                  owned.push(grads);
                  const plain = updateTrace(tx, p, grads);
                  expect(
                    updateTrace(chain(identity(), tx), p, grads),
                    'chain(identity(), tx)',
                  ).toEqual(plain);
                  expect(
                    updateTrace(chain(tx, identity()), p, grads),
                    'chain(tx, identity())',
                  ).toEqual(plain);
                  expect(
                    updateTrace(chain(tx, chain(txB, txC)), p, grads),
                    `chain(tx, chain(${b.name}, ${c.name})) vs chain(chain(tx, ${b.name}), ${c.name})`,
                  ).toEqual(updateTrace(chain(chain(tx, txB), txC), p, grads));
                } finally {
                  treeDispose(owned);
                }
              },
            ),
            params,
          );
        });

        it('is pure: the same inputs give the same outputs and the inputs survive unchanged', () => {
          fc.assert(
            fc.property(
              problems,
              row.hyper,
              fc.integer({ min: 0, max: steps - 1 }),
              fc.boolean(),
              (problem, hyper, warmup, withContext) => {
                const tx = row.build(hyper);
                const owned: unknown[] = [];
                try {
                  const p = buildTree(problem.layout, problem.params);
                  owned.push(p);
                  const grads = problem.grads.map((g) => buildTree(problem.layout, g));
                  owned.push(grads);
                  const pBefore = bitSnapshot(p);
                  const s0 = tx.init(p);
                  owned.push(s0);
                  const s0Again = tx.init(p);
                  owned.push(s0Again);
                  expect(bitSnapshot(s0Again), 'init twice').toEqual(bitSnapshot(s0));
                  expect(bitSnapshot(p), 'params after init').toEqual(pBefore);
                  // Warm the state up with a few updates so that it is not all zeros.
                  let state: unknown = s0;
                  for (let k = 0; k < warmup; k++) {
                    const [u, next] = tx.update(grads[k] as Tree, state, p);
                    owned.push(u, next);
                    state = next;
                  }
                  const g = grads[warmup] as Tree;
                  const context: UpdateContext | undefined = withContext
                    ? { grads: buildTree(problem.layout, problem.params), loss: tf.scalar(1.5) }
                    : undefined;
                  owned.push(context);
                  const inputs = { params: p, grads: g, state, context };
                  const before = bitSnapshot(inputs);
                  const first = tx.update(g, state, p, context);
                  owned.push(first);
                  const second = tx.update(g, state, p, context);
                  owned.push(second);
                  const disposed = collectTensors(inputs).filter((t) => t.isDisposed);
                  expect(disposed.length, 'inputs disposed by update').toBe(0);
                  expect(bitSnapshot(inputs), 'inputs after two updates').toEqual(before);
                  expect(bitSnapshot(second), 'second update').toEqual(bitSnapshot(first));
                } finally {
                  treeDispose(owned);
                }
              },
            ),
            params,
          );
        });

        it('never keeps a tensor of the params, updates or context in its state', () => {
          fc.assert(
            fc.property(
              problems,
              row.hyper,
              fc.array(fc.constantFrom('none', 'loss', 'grads'), {
                minLength: steps,
                maxLength: steps,
              }),
              (problem, hyper, contexts) => {
                const tx = row.build(hyper);
                const owned: unknown[] = [];
                try {
                  const p = buildTree(problem.layout, problem.params);
                  owned.push(p);
                  let state: unknown = tx.init(p);
                  owned.push(state);
                  expect(pathsOfTensors(state, new Set(collectTensors(p))), 'init state').toEqual(
                    [],
                  );
                  problem.grads.forEach((values, k) => {
                    const g = buildTree(problem.layout, values);
                    owned.push(g);
                    const kind = contexts[k];
                    const context: UpdateContext | undefined =
                      kind === 'none'
                        ? undefined
                        : kind === 'loss'
                          ? { loss: tf.scalar(k) }
                          : { grads: buildTree(problem.layout, values), loss: tf.scalar(k) };
                    owned.push(context);
                    const [u, next] = tx.update(g, state, p, context);
                    owned.push(u, next);
                    const borrowed = new Set(collectTensors([p, g, context]));
                    expect(pathsOfTensors(next, borrowed), `state after update ${k + 1}`).toEqual(
                      [],
                    );
                    state = next;
                  });
                } finally {
                  treeDispose(owned);
                }
              },
            ),
            params,
          );
        });

        it('leaks no tensor through step / stepVariables', () => {
          fc.assert(
            fc.property(problems, row.hyper, fc.boolean(), (problem, hyper, variables) => {
              const tx = row.build(hyper);
              const owned: unknown[] = [];
              try {
                const start = tf.memory().numTensors;
                const startBuffers = tf.memory().numDataBuffers;
                let p = buildTree(problem.layout, problem.params, { variables });
                owned.push(p);
                const withParams = tf.memory().numTensors;
                let state: unknown = tx.init(p);
                owned.push(state);
                const stateTensors = collectTensors(state).length;
                expect(tf.memory().numTensors, 'after init').toBe(withParams + stateTensors);
                problem.grads.forEach((values, k) => {
                  const g = buildTree(problem.layout, values);
                  if (variables) {
                    state = stepVariables(tx, p, g, state);
                  } else {
                    const next = step(tx, p, g, state);
                    treeDispose(p);
                    p = next.params;
                    state = next.state;
                  }
                  owned.push(p, state);
                  treeDispose(g);
                  expect(collectTensors(state).length, `state tensors after step ${k + 1}`).toBe(
                    stateTensors,
                  );
                  expect(tf.memory().numTensors, `live tensors after step ${k + 1}`).toBe(
                    withParams + stateTensors,
                  );
                });
                treeDispose([state, p]);
                expect(tf.memory().numTensors, 'after disposing state and params').toBe(start);
                expect(tf.memory().numDataBuffers, 'data buffers at the end').toBe(startBuffers);
              } finally {
                treeDispose(owned);
              }
            }),
            params,
          );
        });
      });
    }
  });
}
