import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, TfoptError, TreeStructureError } from './errors.js';
import { fusedEngine, requestFusedSteps } from './fusedLoad.js';
import type { GradientTransformation, UpdateContext } from './transform.js';
import { assertSameStructure, collectTensors, type Tree, treeFlatten, treeMap } from './tree.js';

/**
 * `params + updates`, leaf by leaf (paired by key), as new tensors. Pure:
 * neither input is disposed; the caller owns the result. The updates must
 * have the params' structure, shapes and dtypes.
 *
 * @category Applying updates
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applyUpdates } from '@tfopt/core';
 * const next = applyUpdates({ w: tf.ones([2]) }, { w: tf.tensor([-0.1, 0.1]) }) as { w: tf.Tensor };
 * console.log(next.w.arraySync()); // [0.9, 1.1]
 * ```
 */
export function applyUpdates(params: Tree, updates: Tree): Tree {
  assertSameStructure(params, updates, ['params', 'updates'], { dtype: true });
  return addLeaves(params, updates);
}

/** `params + updates` for trees already checked to match. */
function addLeaves(params: Tree, updates: Tree): Tree {
  return tf.tidy(
    () => treeMap((p, u) => tf.add(p, u), params, updates) as tf.TensorContainer,
  ) as Tree;
}

/**
 * Add `updates` to a tree of `tf.Variable`s in place (`v.assign(v + u)`),
 * pairing leaves by key. All or nothing: every leaf is checked (a live
 * `tf.Variable`; same structure, shape and dtype) and every sum computed
 * before the first variable is assigned, so a failure leaves every variable
 * as it was. `updates` is not disposed.
 *
 * @category Applying updates
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applyUpdatesToVariables } from '@tfopt/core';
 * const vars = { w: tf.variable(tf.ones([2])), b: tf.variable(tf.zeros([1])) };
 * applyUpdatesToVariables(vars, { b: tf.tensor([0.5]), w: tf.tensor([-0.1, 0.1]) });
 * console.log(vars.w.arraySync(), vars.b.arraySync()); // [0.9, 1.1] [0.5]
 * ```
 */
export function applyUpdatesToVariables(variables: Tree, updates: Tree): void {
  assertVariables(variables);
  assertSameStructure(variables, updates, ['variables', 'updates'], { dtype: true });
  addInPlace(variables, updates);
}

/** `v.assign(v + u)` for every pair of trees already checked to match; all sums first. */
function addInPlace(variables: Tree, updates: Tree): void {
  const vars = treeFlatten(variables).map((leaf) => leaf.tensor as tf.Variable);
  const deltas = treeFlatten(updates).map((leaf) => leaf.tensor);
  tf.tidy(() => {
    // Both lists are in canonical order, so the i-th update is the i-th variable's.
    const sums = vars.map((v, i) => tf.add(v, deltas[i] as tf.Tensor));
    sums.forEach((sum, i) => {
      (vars[i] as tf.Variable).assign(sum);
    });
  });
}

/** Throw, naming the path, unless every leaf of `variables` is a live `tf.Variable`. */
function assertVariables(variables: Tree): void {
  for (const { path, tensor } of treeFlatten(variables, '', 'variables')) {
    if (!(tensor instanceof tf.Variable)) {
      throw new TreeStructureError(
        path,
        'is a tensor, not a tf.Variable',
        `variables${path} is a tensor, not a tf.Variable (use step or applyUpdates for plain tensors)`,
      );
    }
  }
}

/**
 * Release what a replaced value held: dispose every tensor reachable in
 * `previous` that is not also reachable in `next` or in any of `keep`.
 * This is the one way tfopt frees old optimizer states, because a new state
 * may share tensors with the old one (a transform that leaves part of its
 * state untouched returns the same tensor).
 *
 * @category Ownership
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { disposeReplaced } from '@tfopt/core';
 * import { sgd } from '@tfopt/transforms';
 * const tx = sgd(0.1, { momentum: 0.9 });
 * const params = { w: tf.ones([2]) };
 * const grads = { w: tf.ones([2]) };
 * const state = tx.init(params);
 * const [updates, next] = tx.update(grads, state, params);
 * disposeReplaced(state, next); // frees only what `next` no longer uses
 * ```
 */
export function disposeReplaced(previous: unknown, next: unknown, ...keep: unknown[]): void {
  const kept = new Set<tf.Tensor>(collectTensors([next, keep]));
  for (const t of collectTensors(previous)) {
    if (!kept.has(t) && !t.isDisposed) t.dispose();
  }
}

/**
 * `state` with every tensor that is also reachable in `inputs` replaced by a
 * handle of its own (`tf.clone`: the data is shared, nothing is copied);
 * `state` itself when there is none. The step functions pass every new state
 * through it, so a state never holds a tensor the caller passed in (the
 * gradients, params, context) and stays valid when the caller disposes them.
 * Transform authors may call it too.
 *
 * @category Ownership
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { detachState } from '@tfopt/core';
 * const g = tf.ones([2]);
 * const state = detachState({ last: g }, [g]) as { last: tf.Tensor };
 * g.dispose();
 * console.log(state.last.arraySync()); // [1, 1]
 * ```
 */
export function detachState<S>(state: S, inputs: readonly unknown[]): S {
  const borrowed = new Set(collectTensors(inputs));
  if (borrowed.size === 0 || !collectTensors(state).some((t) => borrowed.has(t))) return state;
  // Only the containers on the way to a borrowed tensor are rebuilt.
  const copy = (node: unknown): unknown => {
    if (node instanceof tf.Tensor) return borrowed.has(node) ? tf.clone(node) : node;
    if (Array.isArray(node)) {
      const next = node.map(copy);
      return next.every((child, i) => child === node[i]) ? node : next;
    }
    if (node !== null && typeof node === 'object') {
      const entries = Object.entries(node).map(([k, v]) => [k, copy(v)] as const);
      const changed = entries.some(([k, v]) => v !== (node as Record<string, unknown>)[k]);
      return changed ? Object.fromEntries(entries) : node;
    }
    return node;
  };
  return copy(state) as S;
}

/**
 * Options of {@link step} and {@link stepVariables}.
 *
 * @category Applying updates
 */
export interface StepOptions {
  /**
   * Check that every update is finite before applying it, and throw (leaving
   * everything as it was) if not. One read-back from the device per step.
   * Default `false`.
   */
  readonly checkFinite?: boolean;
  /**
   * Run the whole transform as one fused pass over each parameter tensor's
   * data (plus one read-only pass where a link needs a global sum, as
   * `clipByGlobalNorm` and `egGlobalScale` do) instead of one tfjs op at a
   * time. Default: fuse when possible, that is on the cpu and wasm backends,
   * for float32 parameters, and for chains whose every link has a fused form
   * (see `whyNotFusable`); otherwise the composable path runs. `false`:
   * always the composable path. `true`: throw a `TfoptError` saying why when
   * the step cannot be fused.
   *
   * Both paths keep the same state layout, so a state moves between them;
   * they agree to float32 rounding. On wasm the pass is compiled to
   * WebAssembly SIMD (float32, as tfjs's kernels compute) and rewrites the
   * buffers of the variables and the state in place where no other tensor
   * refers to them (never with `checkFinite`); on cpu the same SIMD pass runs
   * over chunks copied through its own WebAssembly memory, and rewrites in
   * place only the buffers it made itself that nothing has read out since
   * (`dataSync`, `data`, a live slice).
   *
   * Under Node the fused path is there from the import on. In a bundle it is
   * a chunk of its own, fetched from the first step on cpu or wasm; steps run
   * the composable path until it arrives (`true` throws then), so await
   * `loadFusedSteps()` first to fuse from the first step.
   */
  readonly fused?: boolean;
}

/**
 * The result of one {@link step}.
 *
 * @category Applying updates
 */
export interface StepResult<S> {
  /** The new parameters (owned by the caller). */
  readonly params: Tree;
  /** The new optimizer state (owned by the caller). */
  readonly state: S;
}

/**
 * Run `transform.update` with everything a step needs around it (the caller
 * has checked the gradients against the params): the update in its own `tf.tidy` (a throw inside leaves no
 * tensor behind), the new state detached from the inputs, the updates
 * checked against the params (and, with `checkFinite`, for NaN and
 * Infinity), then `apply` on the checked trees. On any throw, whatever the step
 * created is freed and the caller's values are untouched. On success the
 * updates and the parts of the old state the new state does not reuse are
 * freed. Returns what `apply` returned and the new state.
 */
function runStep<S, R>(
  transform: GradientTransformation<S>,
  params: Tree,
  grads: Tree,
  state: S,
  context: UpdateContext | undefined,
  options: StepOptions,
  paramsName: string,
  apply: (updates: Tree) => R,
): [R, S] {
  const inputs = [params, grads, context];
  const [updates, produced] = tf.tidy(
    () => transform.update(grads, state, params, context) as unknown as tf.TensorContainer,
  ) as unknown as readonly [Tree, S];
  let next = produced;
  let result: R;
  try {
    next = detachState(produced, inputs);
    assertSameStructure(params, updates, [paramsName, 'updates'], { dtype: true });
    if (options.checkFinite === true) {
      const bad = firstNonFinite(treeFlatten(updates, '', 'updates'));
      if (bad !== undefined) {
        throw new TfoptError(`updates${bad} contains NaN or Infinity; the step was not applied`);
      }
    }
    result = apply(updates);
  } catch (e) {
    disposeReplaced([updates, next], undefined, inputs, state);
    throw e;
  }
  disposeReplaced(updates, [next, result], inputs, state);
  disposeReplaced(state, next, inputs);
  return [result, next];
}

/** Throw unless `fused` is a boolean or absent. */
function checkFusedOption(owner: string, options: StepOptions): void {
  const { fused } = options;
  if (fused !== undefined && typeof fused !== 'boolean') {
    throw new InvalidOptionError(owner, 'fused', fused, 'true, false or absent');
  }
}

/**
 * The fused step's outcome, or undefined when the composable path must run
 * (with `fused: true`, a `TfoptError` saying why instead).
 */
function tryFused<S>(
  owner: string,
  transform: GradientTransformation<S>,
  params: Tree,
  grads: Tree,
  state: S,
  context: UpdateContext | undefined,
  options: StepOptions,
  variables: boolean,
): { readonly state: S; readonly params?: Tree } | undefined {
  if (options.fused === false) return undefined;
  const backend = tf.getBackend();
  const fusable = backend === 'cpu' || backend === 'wasm';
  // In a bundle the engine is a chunk of its own, fetched from the first step on cpu or wasm.
  if (fusable) requestFusedSteps();
  const run = fusedEngine();
  const outcome =
    run === undefined
      ? fusable
        ? 'the fused path is still loading (await loadFusedSteps() before the first step)'
        : `the ${backend} backend has no fused path (cpu and wasm do)`
      : run(
          transform as GradientTransformation<unknown>,
          params,
          grads,
          state,
          context,
          variables,
          options.checkFinite === true,
        );
  if (typeof outcome !== 'string') {
    const next = detachState(outcome.state as S, [params, grads, context]);
    disposeReplaced(state, next, params, grads, context, outcome.params);
    return { state: next, ...(outcome.params === undefined ? {} : { params: outcome.params }) };
  }
  if (options.fused === true) {
    throw new TfoptError(`${owner}: cannot fuse this step (fused: true): ${outcome}`);
  }
  return undefined;
}

/**
 * One optimizer step on plain tensors: run the transform, apply its updates
 * and free what the step no longer needs (the updates and the parts of the old
 * state that the new state does not reuse). `params`, `grads` and `context`
 * stay with the caller, and the new state never holds any of their tensors.
 *
 * Checked before anything runs: `grads` must have the params' keys, shapes
 * and dtypes, with no disposed tensor (`grads is missing key "b" that params
 * has`, `grads.w has shape [4] but params.w has [2, 2]`, `grads.w was
 * disposed`). If anything throws, `params`, `state` and the number of live
 * tensors are exactly as they were.
 *
 * @category Applying updates
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { step } from '@tfopt/core';
 * import { adam } from '@tfopt/transforms';
 * const tx = adam(0.1);
 * const params = { x: tf.tensor([3]) };
 * const state = tx.init(params);
 * const [g] = tf.grads((x: tf.Tensor) => tf.sum(tf.square(x)))([params.x]);
 * const next = step(tx, params, { x: g! }, state);
 * console.log((next.params as { x: tf.Tensor }).x.arraySync()); // [2.9000000953674316]
 * ```
 */
export function step<S>(
  transform: GradientTransformation<S>,
  params: Tree,
  grads: Tree,
  state: S,
  context?: UpdateContext,
  options: StepOptions = {},
): StepResult<S> {
  checkFusedOption('step', options);
  assertSameStructure(params, grads, ['params', 'grads'], { dtype: true });
  const fused = tryFused('step', transform, params, grads, state, context, options, false);
  if (fused !== undefined) return { params: fused.params as Tree, state: fused.state };
  const [newParams, next] = runStep(
    transform,
    params,
    grads,
    state,
    context,
    options,
    'params',
    (u) => addLeaves(params, u),
  );
  return { params: newParams, state: next };
}

/**
 * One optimizer step on a tree of `tf.Variable`s: run the transform with the
 * variables as `params`, add the updates in place and return the new state,
 * disposing the updates and whatever of the old state the new state does not
 * reuse. `grads` and `context` stay with the caller, and the new state never
 * holds any of their tensors or the variables.
 *
 * All or nothing: the gradients are checked against the variables (keys,
 * shapes, dtypes, disposed tensors) before the transform runs, and the
 * updates before any variable is assigned (see
 * {@link applyUpdatesToVariables}). If anything throws, every variable,
 * `state` and the number of live tensors are exactly as they were.
 *
 * @category Applying updates
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { stepVariables } from '@tfopt/core';
 * import { sgd } from '@tfopt/transforms';
 * const tx = sgd(0.1);
 * const vars = { w: tf.variable(tf.tensor([1, 2])) };
 * let state = tx.init(vars);
 * const grads = { w: tf.tensor([1, -1]) };
 * state = stepVariables(tx, vars, grads, state);
 * console.log(vars.w.arraySync()); // [0.9, 2.1]
 * ```
 */
export function stepVariables<S>(
  transform: GradientTransformation<S>,
  variables: Tree,
  grads: Tree,
  state: S,
  context?: UpdateContext,
  options: StepOptions = {},
): S {
  checkFusedOption('stepVariables', options);
  assertVariables(variables);
  assertSameStructure(variables, grads, ['variables', 'grads'], { dtype: true });
  const fused = tryFused(
    'stepVariables',
    transform,
    variables,
    grads,
    state,
    context,
    options,
    true,
  );
  if (fused !== undefined) return fused.state;
  const [, next] = runStep(transform, variables, grads, state, context, options, 'variables', (u) =>
    addInPlace(variables, u),
  );
  return next;
}

/**
 * True when every leaf of `tree` holds only finite numbers. One read-back
 * from the device for the whole tree.
 *
 * @category Applying updates
 */
export function treeAllFinite(tree: Tree): boolean {
  return firstNonFinite(treeFlatten(tree)) === undefined;
}

/** Path of the first leaf (in canonical order) holding NaN or Infinity, with one read-back. */
function firstNonFinite(leaves: ReturnType<typeof treeFlatten>): string | undefined {
  if (leaves.length === 0) return undefined;
  const flags = tf.tidy(() => tf.stack(leaves.map(({ tensor }) => tf.all(tf.isFinite(tensor)))));
  const ok = flags.dataSync();
  flags.dispose();
  const bad = leaves.findIndex((_, i) => !ok[i]);
  return bad < 0 ? undefined : (leaves[bad] as { path: string }).path;
}

/**
 * Throw, naming the first offending leaf, unless every leaf of `tree` holds
 * only finite numbers. One read-back from the device (a sync point), so use
 * it for debugging or guarded steps (`checkFinite`), not on every hot path.
 *
 * @category Applying updates
 */
export function assertFinite(tree: Tree, what = 'tree'): void {
  const path = firstNonFinite(treeFlatten(tree, '', what));
  if (path !== undefined) {
    throw new TfoptError(`${what}${path} contains NaN or Infinity`);
  }
}
