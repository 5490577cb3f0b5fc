// How `step` and `stepVariables` reach the fused engine (fusedRun.ts). The Node entry
// (index.ts) installs it at import, so under Node every step sees it from the first one. The
// entry bundlers get (exports.ts) does not: there the engine and the packages' fused links are
// chunks of their own, loaded by `loadFusedSteps` on the first step on cpu or wasm, so a
// program that trains on webgl never fetches them.
import { TfoptError } from './errors.js';
import type { runFusedStep } from './fusedRun.js';

/** The fused engine: one fused step, or a string saying why it cannot run fused. */
export type FusedEngine = typeof runFusedStep;

let engine: FusedEngine | undefined;
let installedAtImport = false;
const loaders: (() => unknown)[] = [];
let loading: Promise<void> | undefined;
let requested = false;

/** Install the engine now (the Node entry does, at import). */
export function installFusedEngine(run: FusedEngine): void {
  engine = run;
  installedAtImport = true;
}

/** The engine, when it is loaded. */
export function fusedEngine(): FusedEngine | undefined {
  return engine;
}

/**
 * Called by a step on cpu or wasm: start `loadFusedSteps` in the background (once at a time)
 * when the engine was not installed at import and it or a fused-link loader is pending.
 */
export function requestFusedSteps(): void {
  if (installedAtImport || requested) return;
  if (engine !== undefined && loaders.length === 0) return;
  requested = true;
  // A failed fetch leaves the composable path running; loadFusedSteps() retries and reports it.
  loadFusedSteps().then(
    () => {
      requested = false;
    },
    () => undefined,
  );
}

/**
 * Make transforms fusable on demand: `load` imports the module that
 * defines their fused forms and registers them with
 * {@link registerFusedLink}, so that a bundler splits that module off into
 * a chunk of its own. It runs at the next {@link loadFusedSteps}, which in
 * a bundle starts by itself at the first step on the cpu or wasm backend.
 * tfopt's packages register their fused links this way in the entry
 * bundlers get; their Node entries register them at import.
 *
 * @category Fused steps
 * @example
 * ```ts
 * import { loadFusedSteps, registerFusedLink, registerFusedLinkLoader } from '@tfopt/core';
 * // In an app, `load` would be () => import('./myFusedLinks.js').
 * registerFusedLinkLoader(async () => {
 *   registerFusedLink('halve', () => ({
 *     prepare: ({ state }) => ({ next: () => state }),
 *     code: ({ u }) => `${u} = ${u} * 0.5;`,
 *   }));
 * });
 * await loadFusedSteps();
 * ```
 */
export function registerFusedLinkLoader(load: () => unknown): void {
  if (typeof load !== 'function') {
    throw new TfoptError('registerFusedLinkLoader: load must be a function');
  }
  loaders.push(load);
}

/**
 * Load the fused path: the engine, when it is not loaded yet, and the
 * fused links of every loader registered with
 * {@link registerFusedLinkLoader} that has not run. Under Node the engine
 * and tfopt's links are there from the import on, and this resolves at
 * once. In a browser bundle they are chunks of their own: the first step on
 * the cpu or wasm backend starts loading them and runs the composable path
 * (as every step on webgl does) until they arrive; await this before the
 * first step to fuse from that step on, or to use `fused: true`. Rejects
 * when a chunk cannot be fetched; calling again retries.
 *
 * @category Fused steps
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { loadFusedSteps, stepVariables } from '@tfopt/core';
 * import { sgd } from '@tfopt/transforms';
 * await tf.setBackend('cpu');
 * await loadFusedSteps(); // then `fused: true` cannot fail for want of the engine
 * const tx = sgd(0.1);
 * const vars = { w: tf.variable(tf.tensor([1, 2])) };
 * const grads = { w: tf.tensor([1, -1]) };
 * stepVariables(tx, vars, grads, tx.init(vars), undefined, { fused: true });
 * console.log(vars.w.arraySync()); // [0.9, 2.1]
 * ```
 */
export function loadFusedSteps(): Promise<void> {
  if (loading !== undefined) return loading;
  const pending = loaders.splice(0);
  if (engine !== undefined && pending.length === 0) return Promise.resolve();
  const current = (async () => {
    try {
      // The links first: a step fuses only once the engine is there, and by then every link is.
      await Promise.all(pending.map((load) => load()));
    } catch (e) {
      loaders.unshift(...pending);
      throw e;
    }
    if (engine === undefined) engine = (await import('./fusedRun.js')).runFusedStep;
  })();
  loading = current;
  const settle = () => {
    loading = undefined;
  };
  current.then(settle, settle);
  return current;
}
