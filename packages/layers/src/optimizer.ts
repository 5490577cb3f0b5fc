import * as tf from '@tensorflow/tfjs-core';
import { scheduleFreeEvalParams } from '@tfopt/contrib';
import {
  collectTensors,
  detachState,
  disposeReplaced,
  type GradientTransformation,
  getHyperparams,
  InvalidOptionError,
  isPlainRecord,
  setHyperparams,
  stepVariables,
  TfoptError,
  treeDispose,
  type UpdateContext,
} from '@tfopt/core';
import { assertKnownOptions } from '@tfopt/core/options';
import {
  assertStateFits,
  copyTensors,
  encodeValue,
  type NamedTensor,
  readValue,
  resolveVariables,
} from './checkpoint.js';
import { type SpecJson, transformFromJson, transformToJson } from './registry.js';
import { type DormantState, rekeyState } from './rekey.js';

/**
 * Options of {@link TransformOptimizer}.
 *
 * @category Optimizer
 */
export interface TransformOptimizerOptions {
  /**
   * Before applying a step, check that every update is finite and throw
   * (leaving variables and state as they were) if not. Costs one read-back
   * from the device per step. Default `false`.
   */
  readonly checkFinite?: boolean;
  /**
   * Run each step as one fused pass over each variable's data (see the
   * `fused` option of `stepVariables` in `@tfopt/core`). Default: fuse when
   * possible (cpu and wasm backends, float32 variables, a transform whose
   * every link has a fused form), else the composable path. `false`: always
   * the composable path. `true`: a step that cannot be fused throws, saying
   * why. Both paths keep the same state, so checkpoints move between them.
   */
  readonly fused?: boolean;
}

/** What the optimizer keeps between steps; replaced as a whole at each step. */
interface Held {
  /** Names of the variables of the last step, in the order the state's trees use. */
  readonly names: readonly string[];
  /** The transform's state over `names`, or undefined before the first step. */
  readonly state: unknown;
  /** Entries of variables that took no part in the last step. */
  readonly dormant: DormantState;
  /** Hyperparameters set before the first step, applied to the first state. */
  readonly pending: Readonly<Record<string, number>>;
}

const EMPTY: Held = Object.freeze({ names: [], state: undefined, dormant: {}, pending: {} });

/** The uniquifying suffix tfjs-layers appends to a reused weight name (`kernel_1`). */
const UNIQUE_SUFFIX = /_\d+$/;

/**
 * Any tfopt transform as a `tf.Optimizer`: pass it to `model.compile` and
 * train with `model.fit`, `model.fitDataset` or `model.trainOnBatch`, or call
 * `minimize` with free `tf.Variable`s.
 *
 * Each step runs `transform.update(grads, state, variables, { grads, loss })`
 * with the gradients and the variables as trees keyed by variable name (the
 * loss is there when the step comes from `minimize`, as in `fit`), and adds
 * the updates to the variables in place.
 *
 * State is keyed by variable name, never by position. When the set of
 * variables changes between steps (a layer frozen or unfrozen and the model
 * recompiled with this optimizer, another `varList`), variables seen before
 * keep their state; new ones start from `init`; the entries of variables that
 * took no part in a step are kept aside, unchanged, and restored if the
 * variable comes back (their moments do not decay while away; shared entries
 * such as step counts keep counting). {@link TransformOptimizer.pruneState}
 * frees them. This holds for every entry of the state that is keyed like the
 * variables, such as the per-tensor EG scale of `egGlobalScale({ perTensor:
 * true })`, a tree of one scalar per variable: each variable keeps its own.
 *
 * Checkpoints: `getWeights` returns the whole state (each tensor as a
 * weight named after its path; numbers exactly, in the layout) and `getConfig` the
 * transform's spec, so `model.save(handler, { includeOptimizer: true })` and
 * `tf.loadLayersModel` resume training where it stopped. Loaded state is
 * matched to variables by name; a variable whose name differs from the saved
 * one only by tfjs-layers' uniquifying suffix (`dense_Dense1/kernel_1`, as
 * when a model is loaded twice in one program) takes that state.
 *
 * A step that throws (in the transform, in the finiteness check, or because
 * the updates do not match the variables) leaves variables and state as they
 * were.
 *
 * Ownership: the optimizer owns its state; `dispose()` frees it. Tensors
 * returned by `getWeights` stay valid until the next step, `getWeights`,
 * `setWeights` or `dispose`.
 *
 * @category Optimizer
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { egAdam } from '@tfopt/eg';
 * import { TransformOptimizer } from '@tfopt/layers';
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [3] })] });
 * model.compile({ optimizer: new TransformOptimizer(egAdam(1e-2)), loss: 'meanSquaredError' });
 * // await model.fit(xs, ys, { epochs: 10 });
 * ```
 */
export class TransformOptimizer<S = unknown> extends tf.Optimizer {
  /** Name under which the class is registered with `tf.serialization`. */
  static className = 'TransformOptimizer';

  /** The transform this optimizer runs. */
  readonly transform: GradientTransformation<S>;
  private readonly checkFinite: boolean;
  private readonly fused: boolean | undefined;
  private held: Held = EMPTY;
  /** Saved names not yet matched to a variable since the last `setWeights`. */
  private unclaimed = new Set<string>();
  /** Whether the held state has been checked against the transform's layout. */
  private verified = true;
  /** Tensors made by the last `getWeights` (number scalars, the layout). */
  private exported: tf.Tensor[] = [];

  /**
   * @param transform - Any tfopt transform (or chain); its spec, when it has
   *   one, is what `model.save` records.
   * @param options - See {@link TransformOptimizerOptions}.
   */
  constructor(transform: GradientTransformation<S>, options: TransformOptimizerOptions = {}) {
    super();
    if (
      typeof transform !== 'object' ||
      transform === null ||
      typeof transform.init !== 'function' ||
      typeof transform.update !== 'function'
    ) {
      throw new InvalidOptionError(
        'TransformOptimizer',
        'transform',
        transform,
        'a gradient transformation (an object with init and update)',
      );
    }
    assertKnownOptions('TransformOptimizer', options ?? undefined, ['checkFinite', 'fused']);
    const { checkFinite = false, fused } = options ?? {};
    if (typeof checkFinite !== 'boolean') {
      throw new InvalidOptionError(
        'TransformOptimizer',
        'checkFinite',
        checkFinite,
        'true or false',
      );
    }
    if (fused !== undefined && typeof fused !== 'boolean') {
      throw new InvalidOptionError('TransformOptimizer', 'fused', fused, 'true, false or absent');
    }
    this.transform = transform;
    this.checkFinite = checkFinite;
    this.fused = fused;
  }

  /**
   * Minimise `f()` over `varList` (default: every trainable variable), passing
   * the loss to the transform as `context.loss`.
   */
  override minimize(
    f: () => tf.Scalar,
    returnCost = false,
    varList?: tf.Variable[],
  ): tf.Scalar | null {
    const { value, grads } = this.computeGradients(f, varList);
    try {
      const named: NamedTensor[] | tf.NamedTensorMap =
        varList != null
          ? varList.flatMap((v) => {
              const g = grads[v.name];
              return g === undefined ? [] : [{ name: v.name, tensor: g }];
            })
          : grads;
      this.step(named, value);
    } catch (e) {
      tf.dispose([value, grads]);
      throw e;
    }
    tf.dispose(grads);
    if (returnCost) return value;
    value.dispose();
    return null;
  }

  /** Apply one step from gradients keyed by variable name. */
  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    this.step(variableGradients, undefined);
  }

  private step(
    variableGradients: tf.NamedTensorMap | NamedTensor[],
    loss: tf.Scalar | undefined,
  ): void {
    const entries = Array.isArray(variableGradients)
      ? variableGradients.filter((e) => e.tensor != null).map((e) => [e.name, e.tensor] as const)
      : Object.entries(variableGradients).filter(([, g]) => g != null);
    if (entries.length === 0) return;

    const variables: Record<string, tf.Variable> = {};
    const gradByName: Record<string, tf.Tensor> = {};
    for (const [name, grad] of entries) {
      const variable = tf.engine().registeredVariables[name];
      if (variable === undefined) {
        throw new TfoptError(
          `TransformOptimizer: no tf.Variable named "${name}"; gradients must be keyed by variable name`,
        );
      }
      if (name in gradByName)
        throw new TfoptError(`TransformOptimizer: two gradients for variable "${name}"`);
      if (!sameShape(grad.shape, variable.shape)) {
        throw new TfoptError(
          `TransformOptimizer: the gradient for variable "${name}" has shape [${grad.shape.join(', ')}], the variable [${variable.shape.join(', ')}]`,
        );
      }
      variables[name] = variable;
      gradByName[name] = grad;
    }

    const before = this.held;
    // A known set keeps its order, so the state's trees and the order of sums over them stay put.
    const names = sameMembers(before.names, entries.length, gradByName)
      ? before.names
      : entries.map(([name]) => name);
    const params: Record<string, tf.Variable> = {};
    const grads: Record<string, tf.Tensor> = {};
    for (const name of names) {
      params[name] = variables[name] as tf.Variable;
      grads[name] = gradByName[name] as tf.Tensor;
    }

    const plan = this.plan(names, params);
    const context: UpdateContext = loss === undefined ? { grads } : { grads, loss };
    let next: unknown;
    try {
      // Checks gradients and updates, keeps the state off the caller's tensors, applies all or nothing.
      next = stepVariables(this.transform, params, grads, plan.state as S, context, {
        checkFinite: this.checkFinite,
        ...(this.fused === undefined ? {} : { fused: this.fused }),
      });
    } catch (e) {
      disposeReplaced(
        [plan.state, plan.dormant],
        undefined,
        before.state,
        before.dormant,
        params,
        grads,
      );
      throw e;
    }
    disposeReplaced(
      [before.state, before.dormant, plan.state],
      [next, plan.dormant],
      params,
      grads,
    );
    // Steps run inside the tf.tidy of model.fit; the state must outlive it.
    for (const t of collectTensors([next, plan.dormant])) tf.keep(t);
    for (const name of plan.claimed) this.unclaimed.delete(name);
    this.held = { names, state: next, dormant: plan.dormant, pending: {} };
    this.verified = true;
    this.incrementIterations();
  }

  /**
   * The state to update for `names`: the held one when the variable set is
   * unchanged, else the held state re-keyed to the new set (see
   * {@link rekeyState}). Creates tensors only in the second case; on a throw
   * they are freed here.
   */
  private plan(
    names: readonly string[],
    params: Record<string, tf.Variable>,
  ): { state: unknown; dormant: DormantState; claimed: string[] } {
    const held = this.held;
    if (held.state !== undefined && this.verified && held.names === names) {
      return { state: held.state, dormant: held.dormant, claimed: [] };
    }
    let fresh: unknown = this.transform.init(params);
    try {
      fresh = detachState(fresh, [params]);
      if (held.state === undefined) {
        const state =
          Object.keys(held.pending).length > 0 ? setHyperparams(fresh, held.pending) : fresh;
        return { state, dormant: held.dormant, claimed: [] };
      }
      const sources = this.matchSavedNames(names);
      const { state, dormant } = rekeyState(
        fresh,
        { names: held.names, state: held.state, dormant: held.dormant },
        names,
        (n) => sources.get(n) ?? n,
      );
      disposeReplaced(fresh, state, params);
      const claimed = names.map((n) => sources.get(n) ?? n).filter((n) => this.unclaimed.has(n));
      return { state, dormant, claimed };
    } catch (e) {
      disposeReplaced(fresh, undefined, params, held.state, held.dormant);
      throw e;
    }
  }

  /**
   * Saved names for variables that match none exactly: a saved, not yet
   * claimed name equal up to tfjs-layers' uniquifying `_<n>` suffix, when
   * exactly one variable and one saved name share that stem.
   */
  private matchSavedNames(names: readonly string[]): Map<string, string> {
    const out = new Map<string, string>();
    if (this.unclaimed.size === 0) return out;
    const current = new Set(names);
    const known = new Set([...this.held.names, ...Object.keys(this.held.dormant)]);
    const stem = (n: string) => n.replace(UNIQUE_SUFFIX, '');
    const pool = [...this.unclaimed].filter((n) => !current.has(n));
    const unmatched = names.filter((n) => !known.has(n));
    for (const name of unmatched) {
      const candidates = pool.filter((p) => stem(p) === stem(name));
      if (candidates.length === 0) continue;
      const rivals = unmatched.filter((n) => stem(n) === stem(name));
      if (candidates.length > 1 || rivals.length > 1) {
        throw new TfoptError(
          `TransformOptimizer: cannot tell which saved state belongs to variable "${name}": saved ${candidates
            .map((c) => `"${c}"`)
            .join(
              ', ',
            )} and current ${rivals.map((r) => `"${r}"`).join(', ')} differ only by a "_<n>" suffix`,
        );
      }
      out.set(name, candidates[0] as string);
    }
    return out;
  }

  /**
   * The injected hyperparameters (see `injectHyperparams`) as they stand:
   * those the next step will use, unless a schedule drives them. Empty when
   * the transform has none.
   */
  getHyperparams(): Record<string, number> {
    const { state, pending } = this.held;
    if (state !== undefined) return getHyperparams(state);
    return { ...this.withInitialState(getHyperparams), ...pending };
  }

  /**
   * Change injected hyperparameters for the following steps. Throws when a
   * name is not injected anywhere in the transform.
   */
  setHyperparams(values: Readonly<Record<string, number>>): void {
    const { state, pending } = this.held;
    if (state !== undefined) {
      this.held = { ...this.held, state: setHyperparams(state, values) };
    } else {
      // Validate against the layout the first step will have.
      this.withInitialState((s) => setHyperparams(s, values));
      this.held = { ...this.held, pending: { ...pending, ...values } };
    }
  }

  /** The injected `learningRate`, or undefined when the transform has none. */
  get learningRate(): number | undefined {
    return this.getHyperparams().learningRate;
  }

  /** Set the injected `learningRate` (throws when the transform has none). */
  set learningRate(value: number) {
    this.setHyperparams({ learningRate: value });
  }

  private withInitialState<T>(read: (state: unknown) => T): T {
    let state: unknown;
    try {
      state = this.transform.init({});
    } catch (e) {
      throw new TfoptError(
        `TransformOptimizer: before the first step, hyperparameters are read from the transform's init({}), which failed: ${
          (e as Error).message
        }`,
      );
    }
    try {
      return read(state);
    } finally {
      treeDispose(state);
    }
  }

  /**
   * The transform's current state, keyed by variable name (undefined before
   * the first step). Owned by the optimizer and valid until the next step:
   * read it, e.g. with `readEgScale` from `@tfopt/eg`, but do not dispose it.
   */
  getState(): S | undefined {
    return this.held.state as S | undefined;
  }

  /**
   * For Schedule-Free transforms (`scheduleFree`, `scheduleFreeSgd`,
   * `scheduleFreeAdamw` from `@tfopt/contrib`, alone or inside a chain): run
   * `fn` with the trained variables set to the evaluation parameters
   * `x = (y − (1 − b1)·z) / b1` (see `scheduleFreeEvalParams`), then put the
   * training parameters `y` back, bit for bit, even when `fn` throws or its
   * promise rejects. Use it around `model.evaluate`, `model.predict` or a
   * `model.save` meant for inference. A checkpoint meant to resume training
   * must be saved outside it, at `y`.
   *
   * The variables swapped are those of the last step; variables whose state
   * is set aside (see {@link TransformOptimizer.inactiveVariables}) keep their
   * values. Before the first step there is nothing to swap (`x` equals `y`)
   * and `fn` runs as is. Do not train inside `fn`. Read the results you need
   * inside `fn`: tensors computed there hold values at `x`.
   *
   * @param fn - Work to do at the evaluation parameters; may be async.
   * @returns What `fn` returns (awaited).
   * @throws When the transform's state holds no Schedule-Free state (or more than one).
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { scheduleFreeAdamw } from '@tfopt/contrib';
   * import { TransformOptimizer } from '@tfopt/layers';
   * const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [3] })] });
   * const optimizer = new TransformOptimizer(scheduleFreeAdamw(0.01));
   * model.compile({ optimizer, loss: 'meanSquaredError' });
   * const xs = tf.randomNormal([32, 3]);
   * const ys = tf.randomNormal([32, 1]);
   * await model.fit(xs, ys, {
   *   epochs: 3,
   *   callbacks: {
   *     onEpochEnd: async () => {
   *       const loss = await optimizer.withEvaluationParams(async () => {
   *         const l = model.evaluate(xs, ys) as tf.Scalar;
   *         const value = (await l.data())[0];
   *         l.dispose();
   *         return value;
   *       });
   *       console.log('loss at x', loss);
   *     },
   *   },
   * });
   * ```
   */
  async withEvaluationParams<T>(fn: () => T | Promise<T>): Promise<T> {
    const { names, state } = this.held;
    if (state === undefined) return await fn();
    const variables: Record<string, tf.Variable> = {};
    for (const name of names) {
      const v = tf.engine().registeredVariables[name];
      if (v === undefined) {
        throw new TfoptError(
          `TransformOptimizer.withEvaluationParams: no tf.Variable named "${name}"`,
        );
      }
      variables[name] = v;
    }
    const evaluation = scheduleFreeEvalParams(state, variables) as Record<string, tf.Tensor>;
    // Handles of the training values: they share the data, so restoring is exact.
    const training = names.map((name) => tf.keep(tf.clone(variables[name] as tf.Variable)));
    try {
      names.forEach((name) => {
        (variables[name] as tf.Variable).assign(evaluation[name] as tf.Tensor);
      });
      return await fn();
    } finally {
      names.forEach((name, i) => {
        (variables[name] as tf.Variable).assign(training[i] as tf.Tensor);
      });
      tf.dispose([training, evaluation]);
    }
  }

  /** Names of the variables whose state is set aside (not in the last step). */
  get inactiveVariables(): string[] {
    return Object.keys(this.held.dormant);
  }

  /** Free the state kept for variables that took no part in the last step. */
  pruneState(): void {
    const { dormant, state } = this.held;
    this.held = { ...this.held, dormant: {} };
    disposeReplaced(dormant, state);
    for (const name of Object.keys(dormant)) this.unclaimed.delete(name);
  }

  /** Free every tensor the optimizer holds. */
  override dispose(): void {
    const { state, dormant } = this.held;
    this.held = EMPTY;
    this.unclaimed = new Set();
    this.verified = true;
    treeDispose([state, dormant, this.exported]);
    this.exported = [];
    super.dispose();
  }

  /**
   * The whole optimizer state as named tensors: the iteration count (`iter`),
   * a string tensor describing the layout (`tfopt/skeleton`, format version
   * 2), then one tensor per state tensor, named after its path in the state.
   * The layout records each tensor's shape and dtype, and holds the state's
   * numbers (step counts, hyperparameters) itself, exactly: NaN, ±Infinity,
   * -0 and fractions such as a learning rate of 1e-3 come back bit for bit.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    tf.dispose(this.exported);
    this.exported = [];
    const { names, state, dormant, pending } = this.held;
    const encoded = encodeValue({ names: [...names], state, dormant, pending });
    const iter = await this.saveIterations();
    this.exported = [iter.tensor, ...encoded.created];
    return [iter, ...encoded.weights];
  }

  /**
   * Restore a state written by {@link TransformOptimizer.getWeights} (format
   * version 2, or version 1 from earlier releases, whose fractional numbers
   * were saved as float32 scalars and so come back float32-rounded). The
   * weights are copied (the caller may dispose them).
   *
   * The whole checkpoint is checked before anything is replaced; it is
   * rejected with a `TfoptError` saying what is wrong when `iter` is not
   * first or not a count, the `tfopt/skeleton` weight is missing or not
   * valid JSON, the format or version is unknown, a weight the skeleton
   * references is missing, a tensor weight's shape or dtype differs from
   * the one recorded when saving, or there are weights the skeleton does not
   * mention. Then, when every saved variable name (those of the last step
   * and of the dormant entries) is a registered `tf.Variable` and no other
   * registered variable has the same name up to tfjs-layers' `_<n>` suffix,
   * the state is checked against the transform's layout over those
   * variables right away: another transform's state, a state tensor of the
   * wrong shape for its variable or missing per-variable entries are
   * rejected here, naming the state path and variable. Otherwise (a model
   * loaded a second time in one program has `_1`-suffixed variable names,
   * matched to the saved ones at the first step) that check happens at the
   * first step, which throws on a misfit and changes nothing. A checkpoint
   * written before the first step has its hyperparameters checked against
   * the transform here.
   *
   * On a throw the optimizer keeps its previous state and iteration count,
   * and no tensor is left behind.
   */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const first = Array.isArray(weightValues) ? weightValues[0] : undefined;
    if (first === undefined || first.name !== 'iter') {
      throw new TfoptError(
        'TransformOptimizer.setWeights: expected the weights written by getWeights, starting with "iter"',
      );
    }
    const iter = first.tensor;
    if (
      !(iter instanceof tf.Tensor) ||
      iter.isDisposed ||
      iter.size !== 1 ||
      (iter.dtype !== 'int32' && iter.dtype !== 'float32')
    ) {
      throw new TfoptError('TransformOptimizer.setWeights: "iter" must be a numeric scalar');
    }
    const iterations = ((await iter.data()) as ArrayLike<number>)[0] as number;
    if (!Number.isInteger(iterations) || iterations < 0) {
      throw new TfoptError(
        `TransformOptimizer.setWeights: "iter" must hold an integer >= 0, got ${iterations}`,
      );
    }
    // Read and check everything on the given weights; nothing is copied until all of it passes.
    const restored = readRecord(await readValue(weightValues.slice(1)));
    if (restored.state !== undefined) {
      const variables = resolveVariables([...restored.names, ...Object.keys(restored.dormant)]);
      if (variables !== undefined) {
        assertStateFits(this.transform as GradientTransformation<unknown>, variables, restored);
      }
    } else if (Object.keys(restored.pending).length > 0) {
      try {
        this.withInitialState((s) => setHyperparams(s, restored.pending));
      } catch (e) {
        throw new TfoptError(
          `TransformOptimizer.setWeights: the checkpoint's hyperparameters do not fit this optimizer's transform: ${(e as Error).message}`,
        );
      }
    }
    const copied = copyTensors(restored) as Held;
    const old = this.held;
    this.held = copied;
    this.iterations_ = iterations;
    this.unclaimed = new Set([...copied.names, ...Object.keys(copied.dormant)]);
    this.verified = copied.state === undefined;
    disposeReplaced([old.state, old.dormant], [copied.state, copied.dormant]);
  }

  /** The transform's spec, for `model.save` (see `registerTransformFactory`). */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      version: 1,
      // tfjs-layers camel-cases every string in a loaded config; escaping "_" keeps the JSON intact.
      transform: JSON.stringify(transformToJson(this.transform)).replace(/_/g, '\\u005f'),
      checkFinite: this.checkFinite,
      ...(this.fused === undefined ? {} : { fused: this.fused }),
    };
  }

  /** Rebuild an optimizer from {@link TransformOptimizer.getConfig}'s output. */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    if (typeof config.transform !== 'string') {
      throw new TfoptError('TransformOptimizer.fromConfig: the config has no "transform" spec');
    }
    const transform = transformFromJson(JSON.parse(config.transform) as SpecJson);
    const fused = typeof config.fused === 'boolean' ? { fused: config.fused } : {};
    return new cls(transform, { checkFinite: config.checkFinite === true, ...fused });
  }
}

tf.serialization.registerClass(TransformOptimizer);

/**
 * The held state a decoded checkpoint record describes (its tensors still
 * the checkpoint's own). Throws a `TfoptError` saying what is wrong when the
 * record is not one.
 */
function readRecord(record: unknown): Held {
  const bad = (what: string) =>
    new TfoptError(`TransformOptimizer.setWeights: the saved record is malformed: ${what}`);
  const keys = ['names', 'state', 'dormant', 'pending'];
  if (!isPlainRecord(record)) throw bad(`expected an object with ${keys.join(', ')}`);
  const unexpected = Object.keys(record).filter((k) => !keys.includes(k));
  if (unexpected.length > 0) throw bad(`unexpected entries ${unexpected.join(', ')}`);
  const { names, state, dormant, pending } = record;
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
    throw bad('names must be an array of variable names');
  }
  if (new Set(names).size !== names.length) throw bad('names lists a variable twice');
  if (state === undefined && names.length > 0) throw bad('names are given but no state');
  if (!isPlainRecord(dormant) || !Object.values(dormant).every(isPlainRecord)) {
    throw bad('dormant must map variable names to records of state entries');
  }
  if (!isPlainRecord(pending) || !Object.values(pending).every((v) => typeof v === 'number')) {
    throw bad('pending must map hyperparameter names to numbers');
  }
  return {
    names,
    state,
    dormant: dormant as DormantState,
    pending: pending as Record<string, number>,
  };
}

function sameMembers(
  names: readonly string[],
  count: number,
  lookup: Readonly<Record<string, unknown>>,
): boolean {
  return names.length === count && names.every((n) => n in lookup);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
