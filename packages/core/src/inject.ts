import * as tf from '@tensorflow/tfjs-core';
import { recordInjection } from './chainLinks.js';
import { InvalidOptionError, TfoptError } from './errors.js';
import { evaluateSchedule, type ScalarOrSchedule } from './schedule.js';
import { withSpec } from './spec.js';
import { type GradientTransformation, isTransform } from './transform.js';
import { isPlainRecord } from './tree.js';

/**
 * The state of {@link injectHyperparams}: the current value of every
 * hyperparameter, the number of updates done so far, and the inner
 * transform's state.
 *
 * @typeParam S - The inner transform's state.
 * @category Hyperparameters
 */
export interface InjectHyperparamsState<S = unknown> {
  /** Current hyperparameter values; the inner transform is rebuilt from them at every update. */
  readonly hyperparams: Readonly<Record<string, number>>;
  /** Updates done so far (0 before the first); scheduled hyperparameters are evaluated at it. */
  readonly count: number;
  /** State of the inner transform. */
  readonly inner: S;
}

/**
 * Keep a transform's numeric hyperparameters in its state, so they can be
 * read and changed between steps (by a callback, a logger, a plateau rule)
 * without rebuilding the optimizer.
 *
 * At every update the inner transform is rebuilt by
 * `factory({ ...staticArgs, ...currentHyperparams })` and run on the inner
 * state. A hyperparameter given as a number keeps its value until changed
 * with {@link setHyperparams}; one given as a schedule is evaluated at the
 * update count before each update, so a value set by hand lasts only until
 * the next update. `staticArgs` are passed unchanged (strings, booleans,
 * nested options). The factory must be pure and cheap: it runs once per
 * update.
 *
 * The spec records `factory` itself; to save the transform with a model,
 * the factory must be registered by name (`registerTransformFactory` in
 * `@tfopt/layers`).
 *
 * @category Hyperparameters
 * @example
 * ```ts
 * import { getHyperparams, injectHyperparams, setHyperparams } from '@tfopt/core';
 * import { adam } from '@tfopt/transforms';
 * const tx = injectHyperparams(({ learningRate }) => adam(learningRate), { learningRate: 1e-3 });
 * // let state = tx.init(params);
 * // state = setHyperparams(state, { learningRate: 1e-4 });
 * // getHyperparams(state); // { learningRate: 1e-4 }
 * ```
 */
export function injectHyperparams<
  K extends string,
  S = unknown,
  O extends Record<string, unknown> = Record<never, never>,
>(
  factory: (args: Readonly<Record<K, number>> & O) => GradientTransformation<S>,
  hyperparams: Readonly<Record<K, ScalarOrSchedule>>,
  staticArgs?: O,
): GradientTransformation<InjectHyperparamsState<S>> {
  const owner = 'injectHyperparams';
  if (typeof factory !== 'function') {
    throw new InvalidOptionError(
      owner,
      'factory',
      factory,
      'a function from hyperparameters to a transform',
    );
  }
  if (!isPlainRecord(hyperparams) || Object.keys(hyperparams).length === 0) {
    throw new InvalidOptionError(
      owner,
      'hyperparams',
      hyperparams,
      'a non-empty object of numbers or schedules',
    );
  }
  for (const [key, value] of Object.entries(hyperparams)) {
    const ok = typeof value === 'function' || (typeof value === 'number' && Number.isFinite(value));
    if (!ok) {
      throw new InvalidOptionError(
        owner,
        `hyperparams.${key}`,
        value,
        'a finite number or a schedule',
      );
    }
  }
  if (staticArgs !== undefined) {
    if (!isPlainRecord(staticArgs)) {
      throw new InvalidOptionError(owner, 'staticArgs', staticArgs, 'an object');
    }
    const clash = Object.keys(staticArgs).find((k) => k in hyperparams);
    if (clash !== undefined) {
      throw new InvalidOptionError(
        owner,
        `staticArgs.${clash}`,
        staticArgs[clash],
        'absent: it is already a hyperparameter',
      );
    }
  }

  const entries = Object.entries(hyperparams) as [string, ScalarOrSchedule][];
  const valuesAt = (count: number): Record<string, number> =>
    Object.fromEntries(
      entries.map(([k, v]) => [k, evaluateSchedule(v, count, `${owner}: hyperparameter "${k}"`)]),
    );
  const build = (values: Readonly<Record<string, number>>): GradientTransformation<S> => {
    const inner = factory({ ...staticArgs, ...values } as Readonly<Record<K, number>> & O);
    if (!isTransform(inner)) {
      throw new TfoptError(
        `${owner}: the factory returned ${describe(inner)}; expected a transform with init and update`,
      );
    }
    return inner;
  };
  // Building once now reports bad hyperparameter values where they are given.
  build(valuesAt(0));

  const transform: GradientTransformation<InjectHyperparamsState<S>> = {
    init: (params) => {
      const values = valuesAt(0);
      return { hyperparams: values, count: 0, inner: build(values).init(params) };
    },
    update: (updates, state, params, context) => {
      const values = valuesFor(state);
      const [out, inner] = build(values).update(updates, state.inner, params, context);
      return [out, { hyperparams: values, count: state.count + 1, inner }] as const;
    },
  };
  /** This update's hyperparameter values (the state's, schedules evaluated at its count). */
  function valuesFor(state: unknown): Record<string, number> {
    if (!isInjectHyperparamsState(state)) {
      throw new TfoptError(
        `${owner}: expected a state { hyperparams, count, inner }, got ${describe(state)}; was it built by this transform's init?`,
      );
    }
    const values: Record<string, number> = { ...state.hyperparams };
    for (const [key, value] of entries) {
      if (typeof value === 'function') {
        values[key] = evaluateSchedule(value, state.count, `${owner}: hyperparameter "${key}"`);
      } else if (!(key in values)) {
        throw new TfoptError(`${owner}: the state has no value for hyperparameter "${key}"`);
      }
    }
    return values;
  }
  // The fused path (fusedRun.ts) runs the inner transform of each update.
  recordInjection(transform.update as GradientTransformation<unknown>['update'], {
    forState: (state) => {
      const values = valuesFor(state);
      return { values, inner: build(values) as GradientTransformation<unknown> };
    },
    initial: () => build(valuesAt(0)) as GradientTransformation<unknown>,
  });
  return withSpec(transform, owner, [factory, hyperparams, staticArgs]);
}

/**
 * {@link injectHyperparams} for the common case: an optimizer alias called
 * as `alias(learningRate, options)` (every tfopt alias: `adam`, `sgd`,
 * `egAdam`, ...), with the learning rate as the one injected hyperparameter.
 * The spec records the alias itself, so the result can be saved with a model
 * whenever the alias is a registered factory.
 *
 * @category Hyperparameters
 * @example
 * ```ts
 * import { getHyperparams, injectLearningRate } from '@tfopt/core';
 * import { egAdam } from '@tfopt/eg';
 * const tx = injectLearningRate(egAdam, 1e-3, { b1: 0.9 });
 * // getHyperparams(state).learningRate, setHyperparams(state, { learningRate: 1e-4 })
 * ```
 */
export function injectLearningRate<O, S = unknown>(
  alias: (learningRate: ScalarOrSchedule, options?: O) => GradientTransformation<S>,
  learningRate: ScalarOrSchedule,
  options?: O,
): GradientTransformation<InjectHyperparamsState<S>> {
  if (typeof alias !== 'function') {
    throw new InvalidOptionError(
      'injectLearningRate',
      'alias',
      alias,
      'an optimizer factory called as alias(learningRate, options)',
    );
  }
  const injected = injectHyperparams(
    ({ learningRate: lr }) => (options === undefined ? alias(lr) : alias(lr, options)),
    { learningRate },
  );
  return withSpec(injected, 'injectLearningRate', [alias, learningRate, options]);
}

/**
 * True for a state built by {@link injectHyperparams}.
 *
 * @category Hyperparameters
 */
export function isInjectHyperparamsState(value: unknown): value is InjectHyperparamsState {
  if (!isPlainRecord(value)) return false;
  const { hyperparams, count } = value;
  return (
    'inner' in value &&
    typeof count === 'number' &&
    isPlainRecord(hyperparams) &&
    Object.values(hyperparams).every((v) => typeof v === 'number')
  );
}

/**
 * The current hyperparameters in a state that is, or contains (in a chain,
 * or nested in another injected transform), an {@link injectHyperparams}
 * state. When several injected states declare the same name, the first one
 * found (outermost, then left to right) wins. Empty when there is none.
 *
 * @category Hyperparameters
 * @example
 * ```ts
 * import { getHyperparams } from '@tfopt/core';
 * // getHyperparams(state).learningRate
 * ```
 */
export function getHyperparams(state: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  walkInjected(state, (injected) => {
    for (const [k, v] of Object.entries(injected.hyperparams)) if (!(k in out)) out[k] = v;
  });
  return out;
}

/**
 * A copy of `state` in which every injected state that declares one of the
 * names in `values` holds the new value. Pure: tensors are shared with
 * `state`, nothing is disposed, and `state` itself is unchanged. Throws when
 * a name is declared nowhere or a value is not a finite number.
 *
 * @category Hyperparameters
 * @example
 * ```ts
 * import { setHyperparams } from '@tfopt/core';
 * // state = setHyperparams(state, { learningRate: 0.5 * getHyperparams(state).learningRate! });
 * ```
 */
export function setHyperparams<S>(state: S, values: Readonly<Record<string, number>>): S {
  const known = getHyperparams(state);
  for (const [key, value] of Object.entries(values)) {
    if (!(key in known)) {
      const names = Object.keys(known);
      throw new TfoptError(
        `setHyperparams: no injected hyperparameter "${key}"; ${
          names.length === 0
            ? 'the state holds none (build the transform with injectHyperparams)'
            : `known: ${names.join(', ')}`
        }`,
      );
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new InvalidOptionError('setHyperparams', key, value, 'a finite number');
    }
  }
  return replaceInjected(state, (injected) => {
    const touched = Object.keys(values).filter((k) => k in injected.hyperparams);
    if (touched.length === 0) return injected;
    const hyperparams = { ...injected.hyperparams };
    for (const k of touched) hyperparams[k] = values[k] as number;
    return { ...injected, hyperparams };
  }) as S;
}

function walkInjected(node: unknown, visit: (s: InjectHyperparamsState) => void): void {
  if (node instanceof tf.Tensor || node === null || typeof node !== 'object') return;
  if (isInjectHyperparamsState(node)) {
    visit(node);
    walkInjected(node.inner, visit);
    return;
  }
  for (const child of Array.isArray(node) ? node : Object.values(node)) walkInjected(child, visit);
}

/** Rebuild only the containers on the way to changed injected states; share the rest. */
function replaceInjected(
  node: unknown,
  change: (s: InjectHyperparamsState) => InjectHyperparamsState,
): unknown {
  if (node instanceof tf.Tensor || node === null || typeof node !== 'object') return node;
  if (isInjectHyperparamsState(node)) {
    const changed = change(node);
    const inner = replaceInjected(node.inner, change);
    return inner === node.inner ? changed : { ...changed, inner };
  }
  if (Array.isArray(node)) {
    const next = node.map((child) => replaceInjected(child, change));
    return next.every((child, i) => child === node[i]) ? node : next;
  }
  let changed = false;
  const next: Record<string, unknown> = {};
  for (const [k, child] of Object.entries(node)) {
    next[k] = replaceInjected(child, change);
    if (next[k] !== child) changed = true;
  }
  return changed ? next : node;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x === 'object' ? 'an object without the expected fields' : typeof x;
}
