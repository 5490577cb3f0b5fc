import * as tf from '@tensorflow/tfjs-core';
import {
  assertSameStructure,
  type EmptyState,
  evaluateSchedule,
  findInState,
  type GradientTransformation,
  InvalidOptionError,
  isPlainRecord,
  isTensor,
  type ScalarOrSchedule,
  TfoptError,
  type Tree,
  TreeStructureError,
  tidy,
  treeFlatten,
  treeMap,
  withSpec,
} from '@tfopt/core';
import {
  assertKnownOptions,
  assertOptions,
  boolean,
  nonNegative,
  numberOrFunction,
  type OptionRule,
  positive,
} from '@tfopt/core/options';
import { addDecayedWeights, type MaskTree } from '@tfopt/transforms';
import { requireParams } from './common.js';

// ---------------------------------------------------------------------------
// Helpers shared by dog and dowg (not exported).

/**
 * Which parameters weight decay applies to: a boolean tree shaped like the
 * params, or a function of the params returning one (as `addDecayedWeights`).
 *
 * @category Learning-rate-free
 */
export type WeightDecayMask = MaskTree | ((params: Tree) => MaskTree);

/** Check updates and params against the state's x0, naming the transform. */
function checkTrees(owner: string, x0: Tree, updates: Tree, params: Tree): void {
  try {
    assertSameStructure(x0, updates, ['state.x0', 'updates']);
    assertSameStructure(x0, params, ['state.x0', 'params']);
  } catch (e) {
    if (e instanceof TreeStructureError) {
      throw new TreeStructureError(
        e.path,
        e.detail,
        `${e.message} (in ${owner}.update; the state must come from init over params shaped like the updates)`,
      );
    }
    throw e;
  }
}

/** The optional coupled weight decay, `g + weightDecay·x`, built once; owner-named errors. */
function weightDecayLink(
  owner: string,
  weightDecay: number | undefined,
  mask: WeightDecayMask | undefined,
): GradientTransformation<EmptyState> | undefined {
  if (mask !== undefined && weightDecay === undefined) {
    throw new InvalidOptionError(owner, 'mask', mask, 'absent unless "weightDecay" is set');
  }
  if (weightDecay === undefined) return undefined;
  try {
    return addDecayedWeights(mask === undefined ? { weightDecay } : { weightDecay, mask });
  } catch (e) {
    if (e instanceof InvalidOptionError) {
      throw new InvalidOptionError(owner, e.option, e.value, e.expected);
    }
    throw e;
  }
}

/** A copy of every leaf, held by the state alone (the caller may dispose its params). */
function ownCopy(params: Tree): Tree {
  return treeMap((p) => tf.clone(p), params);
}

/**
 * `sum(x²)` of one leaf, `0` for an empty one: on the wasm backend `tf.sum`
 * of a size-0 tensor returns whatever is in memory (about 3.6e-41, not 0).
 */
function leafSquares(x: tf.Tensor): tf.Scalar {
  return x.size === 0 ? tf.scalar(0) : tf.sum(tf.square(x));
}

/** `||tree||²`, summed over the leaves in canonical order (empty leaves count 0). */
function squaredNorm(tree: Tree): tf.Scalar {
  return tidy(() => {
    const parts = treeFlatten(tree)
      .map((l) => l.tensor)
      .filter((t) => t.size > 0)
      .map((t) => tf.sum(tf.square(t)) as tf.Scalar);
    if (parts.length === 0) return tf.scalar(0);
    return (parts.length === 1 ? parts[0] : tf.addN(parts)) as tf.Scalar;
  });
}

/** `||x0 - x||²` over the whole tree. */
function squaredDistance(x0: Tree, params: Tree): tf.Scalar {
  return tidy(() => squaredNorm(treeMap((a, b) => tf.sub(a, b), x0, params)));
}

/** Leaves of a tree of per-leaf scalars, in canonical order, checked against x0's count. */
function scalarLeaves(owner: string, name: string, tree: Tree, count: number): tf.Tensor[] {
  const leaves = treeFlatten(tree, '', `state.${name}`).map((l) => l.tensor);
  if (leaves.length !== count) {
    throw new TfoptError(
      `${owner}: state.${name} has ${leaves.length} leaves but state.x0 has ${count}; was the state built by this transform's init?`,
    );
  }
  return leaves;
}

/** A tree shaped like `like` whose leaves are `values`, in canonical order. */
function fromLeaves(like: Tree, values: readonly tf.Tensor[]): Tree {
  let i = 0;
  return treeMap(() => values[i++] as tf.Tensor, like);
}

function checkLearningRate(owner: string, learningRate: unknown): void {
  assertOptions(owner, { learningRate: [learningRate, numberOrFunction(nonNegative)] });
}

function checkPresent(
  owner: string,
  options: object | undefined,
  rules: Record<string, OptionRule<unknown>>,
): void {
  const given = (options ?? {}) as Record<string, unknown>;
  const checks: Record<string, readonly [unknown, OptionRule<unknown>]> = {};
  for (const [key, rule] of Object.entries(rules)) {
    if (given[key] !== undefined) checks[key] = [given[key], rule];
  }
  assertOptions(owner, checks);
}

// ---------------------------------------------------------------------------
// DoG

/** Options of {@link dog}. @category Learning-rate-free */
export interface DogOptions {
  /**
   * The `heuristic` initial distance (optax's `init_step = ('heuristic', repsRel)`,
   * PyTorch's `reps_rel`): `r_eps = repsRel·(1 + ||x0||)`, `> 0`. Default `1e-6`
   * when neither `initDistance` nor `initEta` is given; the authors suggest
   * `1e-4` for models with batch normalization.
   */
  readonly repsRel?: number;
  /** The initial distance `r_eps` itself, `> 0` (optax's `('distance', value)`). */
  readonly initDistance?: number;
  /**
   * The first step size `eta_0`, `> 0` (optax's `('learning_rate', value)`,
   * PyTorch's `init_eta`): `r_eps = 0` and the first update uses this eta.
   */
  readonly initEta?: number;
  /** Added to the sum of squared gradient norms under the square root, `>= 0`. Default `1e-8`. */
  readonly eps?: number;
  /**
   * One eta per leaf (layer) instead of one for the whole tree: optax's
   * `scale_by_l_dog`, the authors' `LDoG`. Default `false`.
   */
  readonly layerWise?: boolean;
  /**
   * Weight decay added to the gradient before DoG sees it, `g + weightDecay·x`
   * (coupled: it counts in the gradient norms). Default: none.
   */
  readonly weightDecay?: number;
  /** Leaves to decay (see `addDecayedWeights`); needs `weightDecay`. Default: every leaf. */
  readonly mask?: WeightDecayMask;
}

/**
 * State of {@link dog}. With `layerWise`, `maxDist`, `sumSqNormGrads` and
 * `eta` are trees shaped like the params whose leaves are scalars (one per
 * leaf); otherwise they are single scalars.
 *
 * @category Learning-rate-free
 */
export interface DogState {
  /** Updates done so far (0 before the first); the learning-rate schedule is evaluated at it. */
  readonly count: number;
  /** The params `init` was given: the state's own copy. */
  readonly x0: Tree;
  /** `r̄`: the largest distance `||x - x0||` seen, starting at `r_eps`. */
  readonly maxDist: tf.Scalar | Tree;
  /** `G`: the sum of the squared gradient norms so far. */
  readonly sumSqNormGrads: tf.Scalar | Tree;
  /** The step size `eta` of the last update, before the learning rate (0 before the first). */
  readonly eta: tf.Scalar | Tree;
}

const DOG_KEYS = ['count', 'eta', 'maxDist', 'sumSqNormGrads', 'x0'];
const DOG_OPTIONS = [
  'repsRel',
  'initDistance',
  'initEta',
  'eps',
  'layerWise',
  'weightDecay',
  'mask',
] as const;

/**
 * DoG, Distance over Gradients (Ivgi, Hinder & Carmon, *DoG is SGD's Best
 * Friend: A Parameter-Free Dynamic Step Size Schedule*, ICML 2023,
 * arXiv 2302.12022), as `optax.contrib.dog` defines it. With `t` the step:
 *
 * ```
 * r_eps = repsRel·(1 + ||x0||)                  (or initDistance; 0 with initEta)
 * r̄_t   = max(r̄_{t-1}, ||x_t − x0||)            r̄_0 = r_eps
 * G_t   = G_{t-1} + ||g_t||²                     G_0 = 0
 * eta_t = r̄_t / sqrt(G_t + eps)                  (eta_1 = initEta when given)
 * x_{t+1} = x_t − learningRate·eta_t·g_t
 * ```
 *
 * Norms run over the whole tree, so there is one global eta, as in optax's
 * `scale_by_dog`; `layerWise: true` keeps one `r̄`, `G` and eta per leaf
 * (optax's `scale_by_l_dog`, the authors' `LDoG`). With `weightDecay`, `g`
 * is `g + weightDecay·x` (optax chains `add_decayed_weights` first). `init`
 * must get the real initial parameters: they are `x0`.
 *
 * Differences from the authors' PyTorch `DoG`/`LDoG` (formll/dog):
 * - PyTorch takes `reps_rel` and `init_eta` (which overrides `reps_rel`);
 *   optax takes one `init_step` pair, and adds a `distance` kind. Here the
 *   three are the options `repsRel`, `initEta` and `initDistance`, at most
 *   one of them given.
 * - PyTorch reads `x0` and `r_eps` at the first `step`, per parameter group
 *   (each group is its own DoG); here, as in optax, at `init`, over the
 *   whole tree (chain per-group transforms yourself for groups).
 * - PyTorch adds `eps` to `G` once at the first step and asserts `G > 0`;
 *   here `eps` is added under the root at every step (the same value).
 * - PyTorch's eta includes `lr`; `eta` in the state here (and
 *   {@link readDogEta}) is optax's, before the learning rate.
 * - In `LDoG`'s layer-wise heuristic each leaf's `r_eps` uses that leaf's
 *   norm; so does `layerWise: true` here, as optax's `scale_by_l_dog`.
 *   optax's layer-wise variant has only the heuristic; here `initDistance`
 *   and `initEta` apply per leaf too.
 *
 * The authors recommend iterate (polynomial-decay) averaging with DoG;
 * it is not part of this transform.
 *
 * @param learningRate - Multiplies eta (the paper's `c`), a number `>= 0` or
 *   a schedule of the update count. Default `1`; the authors advise against
 *   changing it.
 * @param options - See {@link DogOptions}.
 * @category Learning-rate-free
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { dog, readDogEta } from '@tfopt/contrib';
 * const w = { x: tf.variable(tf.tensor([1, 2, 3])) };
 * const tx = dog();
 * let state = tx.init(w);
 * for (let i = 0; i < 100; i++) {
 *   const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 *   state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 *   tf.dispose([value, grads]);
 * }
 * console.log(readDogEta(state)); // the step size DoG settled on
 * ```
 */
export function dog(
  learningRate: ScalarOrSchedule = 1,
  options?: DogOptions,
): GradientTransformation<DogState> {
  const owner = 'dog';
  checkLearningRate(owner, learningRate);
  assertKnownOptions(owner, options, DOG_OPTIONS);
  checkPresent(owner, options, {
    repsRel: positive,
    initDistance: positive,
    initEta: positive,
    eps: nonNegative,
    layerWise: boolean,
    weightDecay: nonNegative,
  });
  const given = DOG_OPTIONS.slice(0, 3).filter((k) => options?.[k] !== undefined);
  if (given.length > 1) {
    const second = given[1] as 'initDistance' | 'initEta';
    throw new InvalidOptionError(
      owner,
      second,
      options?.[second],
      `absent when "${given[0]}" is given (give at most one of repsRel, initDistance, initEta)`,
    );
  }
  const eps = options?.eps ?? 1e-8;
  const layerWise = options?.layerWise ?? false;
  const initEta = options?.initEta;
  const initDistance = options?.initDistance;
  const repsRel = options?.repsRel ?? 1e-6;
  const decay = weightDecayLink(owner, options?.weightDecay, options?.mask);

  /** r_eps for a tree (global) or one leaf (layer-wise). */
  const rEps = (tree: Tree): tf.Scalar =>
    initEta !== undefined
      ? tf.scalar(0)
      : initDistance !== undefined
        ? tf.scalar(initDistance)
        : tidy(() => tf.mul(tf.add(tf.sqrt(squaredNorm(tree)), 1), repsRel) as tf.Scalar);

  const transform: GradientTransformation<DogState> = {
    init: (params) =>
      tidy(() => {
        const x0 = ownCopy(params);
        if (!layerWise) {
          return {
            count: 0,
            x0,
            maxDist: rEps(params),
            sumSqNormGrads: tf.scalar(0),
            eta: tf.scalar(0),
          };
        }
        return {
          count: 0,
          x0,
          maxDist: treeMap((p) => rEps(p), params),
          sumSqNormGrads: treeMap(() => tf.scalar(0), params),
          eta: treeMap(() => tf.scalar(0), params),
        };
      }),
    update: (updates, state, params) => {
      requireParams(owner, params, 'it measures their distance from the initial params x0');
      if (!isDogState(state)) {
        throw new TfoptError(
          `${owner}: expected a state { count, x0, maxDist, sumSqNormGrads, eta }; was it built by this transform's init?`,
        );
      }
      checkTrees(owner, state.x0, updates, params);
      const lr = evaluateSchedule(learningRate, state.count, `${owner}: learningRate`);
      return tidy(() => {
        const g = decay === undefined ? updates : decay.update(updates, {}, params)[0];
        const first = state.count === 0 && initEta !== undefined;
        if (!layerWise) {
          const dist = tf.sqrt(squaredDistance(state.x0, params));
          const maxDist = tf.maximum(state.maxDist as tf.Scalar, dist) as tf.Scalar;
          const sum = tf.add(state.sumSqNormGrads as tf.Scalar, squaredNorm(g)) as tf.Scalar;
          const eta = first
            ? tf.scalar(initEta)
            : (tf.div(maxDist, tf.sqrt(tf.add(sum, eps))) as tf.Scalar);
          const factor = tf.mul(eta, -lr);
          const out = treeMap((u) => tf.mul(u, factor), g);
          const next: DogState = {
            count: state.count + 1,
            x0: state.x0,
            maxDist,
            sumSqNormGrads: sum,
            eta,
          };
          return [out, next] as const;
        }
        const gs = treeFlatten(g).map((l) => l.tensor);
        const x0s = treeFlatten(state.x0).map((l) => l.tensor);
        const xs = treeFlatten(params).map((l) => l.tensor);
        const mds = scalarLeaves(owner, 'maxDist', state.maxDist, x0s.length);
        const ss = scalarLeaves(owner, 'sumSqNormGrads', state.sumSqNormGrads, x0s.length);
        const maxDist: tf.Tensor[] = [];
        const sums: tf.Tensor[] = [];
        const etas: tf.Tensor[] = [];
        const outs: tf.Tensor[] = [];
        gs.forEach((gi, i) => {
          const dist = tf.sqrt(leafSquares(tf.sub(x0s[i] as tf.Tensor, xs[i] as tf.Tensor)));
          const md = tf.maximum(mds[i] as tf.Tensor, dist);
          const s = tf.add(ss[i] as tf.Tensor, leafSquares(gi));
          const eta = first ? tf.scalar(initEta) : tf.div(md, tf.sqrt(tf.add(s, eps)));
          maxDist.push(md);
          sums.push(s);
          etas.push(eta);
          outs.push(tf.mul(gi, tf.mul(eta, -lr)));
        });
        const next: DogState = {
          count: state.count + 1,
          x0: state.x0,
          maxDist: fromLeaves(state.x0, maxDist),
          sumSqNormGrads: fromLeaves(state.x0, sums),
          eta: fromLeaves(state.x0, etas),
        };
        return [fromLeaves(g, outs), next] as const;
      });
    },
  };
  return withSpec(transform, 'dog', [learningRate, options]);
}

function hasKeys(x: unknown, keys: readonly string[]): x is Record<string, unknown> {
  if (!isPlainRecord(x)) return false;
  const own = Object.keys(x).sort();
  return own.length === keys.length && own.every((k, i) => k === keys[i]);
}

function isDogState(x: unknown): x is DogState {
  return hasKeys(x, DOG_KEYS) && typeof x.count === 'number';
}

/** The first state record anywhere in `value` (chains, injectHyperparams, optimizer states) that passes `test`. */

function scalarValue(t: tf.Tensor): number {
  return t.dataSync()[0] as number;
}

/**
 * DoG's current step size eta (the one its last update used, before the
 * learning rate; `0` before the first update), found anywhere in a nested
 * state: a {@link dog} state itself, or one inside a `chain`, an
 * `injectHyperparams` state or `TransformOptimizer.getState()`. `undefined`
 * when there is no DoG state in `state`. Reads one number back from the
 * device. Throws for a layer-wise DoG, which has one eta per leaf: read
 * those with {@link readDogEtas}.
 *
 * @category Learning-rate-free
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { dog, readDogEta } from '@tfopt/contrib';
 * const params = { w: tf.tensor([1, 2]) };
 * const tx = dog();
 * const [, state] = tx.update({ w: tf.tensor([0.5, 0.5]) }, tx.init(params), params);
 * readDogEta(state); // 1e-6 (1 + sqrt(5)) / sqrt(0.5 + 1e-8) ≈ 4.58e-6
 * ```
 */
export function readDogEta(state: unknown): number | undefined {
  const found = findInState(state, isDogState)[0];
  if (found === undefined) return undefined;
  if (!isTensor(found.eta)) {
    throw new TfoptError(
      'readDogEta: this DoG state is layer-wise (one eta per leaf); read them with readDogEtas',
    );
  }
  return scalarValue(found.eta);
}

/**
 * The step size eta each leaf of the params is updated with, by leaf path
 * (`treeFlatten` paths, `''` for a bare tensor): one value per leaf for a
 * layer-wise {@link dog}, the global eta at every path otherwise.
 * `undefined` when there is no DoG state in `state`.
 *
 * @category Learning-rate-free
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { dog, readDogEtas } from '@tfopt/contrib';
 * const params = { a: tf.tensor([1, 2]), b: tf.tensor([3]) };
 * const tx = dog(1, { layerWise: true });
 * const [, state] = tx.update({ a: tf.tensor([1, 1]), b: tf.tensor([1]) }, tx.init(params), params);
 * readDogEtas(state); // { '.a': …, '.b': … }
 * ```
 */
export function readDogEtas(state: unknown): Record<string, number> | undefined {
  const found = findInState(state, isDogState)[0];
  if (found === undefined) return undefined;
  const paths = treeFlatten(found.x0).map((l) => l.path);
  if (isTensor(found.eta)) {
    const eta = scalarValue(found.eta);
    return Object.fromEntries(paths.map((p) => [p, eta]));
  }
  const etas = treeFlatten(found.eta).map((l) => scalarValue(l.tensor));
  return Object.fromEntries(paths.map((p, i) => [p, etas[i] as number]));
}

// ---------------------------------------------------------------------------
// DoWG

/** Options of {@link dowg}. @category Learning-rate-free */
export interface DowgOptions {
  /**
   * The initial estimate of the squared distance to the solution, `r_eps²`,
   * `> 0` (optax's `init_estim_sq_dist`). Default: `eps`.
   */
  readonly initEstimSqDist?: number;
  /**
   * Added to the root in eta's denominator, and the default initial squared
   * distance, `> 0`. Default `1e-4` (optax's).
   */
  readonly eps?: number;
  /** Weight decay added to the gradient first, `g + weightDecay·x`. Default: none. */
  readonly weightDecay?: number;
  /** Leaves to decay (see `addDecayedWeights`); needs `weightDecay`. Default: every leaf. */
  readonly mask?: WeightDecayMask;
}

/**
 * State of {@link dowg}.
 *
 * @category Learning-rate-free
 */
export interface DowgState {
  /** Updates done so far (0 before the first); the learning-rate schedule is evaluated at it. */
  readonly count: number;
  /** The params `init` was given: the state's own copy. */
  readonly x0: Tree;
  /** `r̄²`: the largest squared distance `||x − x0||²` seen, starting at `initEstimSqDist`. */
  readonly estimSqDist: tf.Scalar;
  /** `v`: the sum of `r̄_t²·||g_t||²` so far. */
  readonly weightedSqNormGrads: tf.Scalar;
  /** The step size of the last update, before the learning rate (0 before the first). */
  readonly eta: tf.Scalar;
}

const DOWG_KEYS = ['count', 'estimSqDist', 'eta', 'weightedSqNormGrads', 'x0'];
const DOWG_OPTIONS = ['initEstimSqDist', 'eps', 'weightDecay', 'mask'] as const;

/**
 * DoWG, Distance over Weighted Gradients (Khaled, Mishchenko & Jin, *DoWG
 * Unleashed: An Efficient Universal Parameter-Free Gradient Descent Method*,
 * NeurIPS 2023, arXiv 2305.16284), as `optax.contrib.dowg` defines it: DoG
 * whose gradient sum weights each step by the distance reached, and whose
 * step is the squared distance over the root of that sum. One global eta.
 *
 * ```
 * r̄²_t  = max(r̄²_{t-1}, ||x_t − x0||²)          r̄²_0 = initEstimSqDist (default eps)
 * v_t   = v_{t-1} + r̄²_t·||g_t||²                v_0 = 0
 * eta_t = r̄²_t / (sqrt(v_t) + eps)
 * x_{t+1} = x_t − learningRate·eta_t·g_t
 * ```
 *
 * With `weightDecay`, `g` is `g + weightDecay·x`.
 *
 * Differences: the paper starts from a distance `r_eps` and divides by
 * `sqrt(v_t)`; optax (and this) tracks the squared distance, starts it at
 * `eps = 1e-4` (so `r_eps = 1e-2`, absolute, unlike DoG's relative `1e-6`)
 * and adds `eps` outside the root. The authors published no reference
 * implementation to compare with.
 *
 * @param learningRate - Multiplies eta, a number `>= 0` or a schedule of the
 *   update count. Default `1`.
 * @param options - See {@link DowgOptions}.
 * @category Learning-rate-free
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stepVariables } from '@tfopt/core';
 * import { dowg } from '@tfopt/contrib';
 * const w = { x: tf.variable(tf.tensor([1, 2, 3])) };
 * const tx = dowg();
 * let state = tx.init(w);
 * for (let i = 0; i < 100; i++) {
 *   const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w.x)));
 *   state = stepVariables(tx, w, { x: grads[w.x.name]! }, state);
 *   tf.dispose([value, grads]);
 * }
 * ```
 */
export function dowg(
  learningRate: ScalarOrSchedule = 1,
  options?: DowgOptions,
): GradientTransformation<DowgState> {
  const owner = 'dowg';
  checkLearningRate(owner, learningRate);
  assertKnownOptions(owner, options, DOWG_OPTIONS);
  checkPresent(owner, options, {
    initEstimSqDist: positive,
    eps: positive,
    weightDecay: nonNegative,
  });
  const eps = options?.eps ?? 1e-4;
  const initSq = options?.initEstimSqDist ?? eps;
  const decay = weightDecayLink(owner, options?.weightDecay, options?.mask);

  const transform: GradientTransformation<DowgState> = {
    init: (params) =>
      tidy(() => ({
        count: 0,
        x0: ownCopy(params),
        estimSqDist: tf.scalar(initSq),
        weightedSqNormGrads: tf.scalar(0),
        eta: tf.scalar(0),
      })),
    update: (updates, state, params) => {
      requireParams(owner, params, 'it measures their distance from the initial params x0');
      if (!isDowgState(state)) {
        throw new TfoptError(
          `${owner}: expected a state { count, x0, estimSqDist, weightedSqNormGrads, eta }; was it built by this transform's init?`,
        );
      }
      checkTrees(owner, state.x0, updates, params);
      const lr = evaluateSchedule(learningRate, state.count, `${owner}: learningRate`);
      return tidy(() => {
        const g = decay === undefined ? updates : decay.update(updates, {}, params)[0];
        const sq = tf.maximum(state.estimSqDist, squaredDistance(state.x0, params)) as tf.Scalar;
        const v = tf.add(state.weightedSqNormGrads, tf.mul(sq, squaredNorm(g))) as tf.Scalar;
        const eta = tf.div(sq, tf.add(tf.sqrt(v), eps)) as tf.Scalar;
        const factor = tf.mul(eta, -lr);
        const out = treeMap((u) => tf.mul(u, factor), g);
        const next: DowgState = {
          count: state.count + 1,
          x0: state.x0,
          estimSqDist: sq,
          weightedSqNormGrads: v,
          eta,
        };
        return [out, next] as const;
      });
    },
  };
  return withSpec(transform, 'dowg', [learningRate, options]);
}

function isDowgState(x: unknown): x is DowgState {
  return hasKeys(x, DOWG_KEYS) && typeof x.count === 'number';
}

/**
 * DoWG's current step size (the one its last update used, before the
 * learning rate; `0` before the first update), found anywhere in a nested
 * state, as {@link readDogEta} does for DoG. `undefined` when there is no
 * {@link dowg} state in `state`.
 *
 * @category Learning-rate-free
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { dowg, readDowgEta } from '@tfopt/contrib';
 * const params = { w: tf.tensor([1, 2]) };
 * const tx = dowg();
 * const [, state] = tx.update({ w: tf.tensor([0.5, 0.5]) }, tx.init(params), params);
 * readDowgEta(state); // 1e-4 / (sqrt(1e-4 · 0.5) + 1e-4) ≈ 0.0139
 * ```
 */
export function readDowgEta(state: unknown): number | undefined {
  const found = findInState(state, isDowgState)[0];
  return found === undefined ? undefined : scalarValue(found.eta);
}
