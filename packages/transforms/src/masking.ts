import {
  detachState,
  type EmptyState,
  type GradientTransformation,
  InvalidOptionError,
  isPlainRecord,
  isTransform,
  specOf,
  TfoptError,
  type Tree,
  tidy,
  treeZerosLike,
  type UpdateContext,
  withSpec,
} from '@tfopt/core';
import { type PartitionState, partition } from './combining.js';
import {
  assertInnerOutput,
  assertPrefixTree,
  mergeByPrefix,
  type PrefixTree,
  selectSubtree,
} from './subtree.js';
import type { MaskTree } from './weightDecay.js';

/**
 * State of {@link masked}: the inner transform's state, over the masked
 * leaves only.
 *
 * @typeParam S - The inner transform's state.
 * @category Combinators
 */
export interface MaskedState<S = unknown> {
  /** State of the inner transform. */
  readonly inner: S;
}

const isFlag = (x: unknown): x is boolean => typeof x === 'boolean';

/** The checked mask for `tree`: the mask itself, or what the mask function returns for it. */
function maskResolver(owner: string, mask: unknown): (tree: Tree) => MaskTree {
  const check = (m: unknown, what: string): MaskTree => {
    assertPrefixTree(owner, what, m, isFlag, 'true or false');
    return m as MaskTree;
  };
  if (typeof mask === 'function') {
    return (tree) => check((mask as (t: Tree) => unknown)(tree), 'mask(params)');
  }
  check(mask, 'mask');
  return () => mask as MaskTree;
}

/**
 * Run `inner` on some leaves only and pass the others through unchanged
 * (Optax's `masked`): weight decay on kernels but not on biases, clipping
 * for one layer.
 *
 * `mask` is a tree of booleans shaped like the parameters or like a prefix
 * of them (`true`/`false` at an inner node covers its subtree), or a function
 * of the parameters returning one (called with the params at `init` and with
 * the updates at `update`, as in Optax). The inner transform sees the
 * updates, params and `context.grads` with every unmasked leaf replaced by
 * an empty subtree `{}` (Optax's `MaskedNode`): it holds state for the
 * masked leaves only, keyed like the parameters.
 *
 * ```
 * u ← inner.update(g where mask is true)     at the leaves where mask is true
 * u ← g                                        elsewhere
 * ```
 *
 * Errors name the path where the mask does not have the parameters'
 * structure or holds a non-boolean. The spec records the inner spec and the
 * mask: a mask tree saves as it is, a mask function only when it is
 * registered (`registerTransformFactory(name, fn)`) or carries a spec.
 *
 * @category Combinators
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { treeDispose } from '@tfopt/core';
 * import { clipByGlobalNorm, masked } from '@tfopt/transforms';
 * // Clip the kernel's gradient only; the bias's passes through.
 * const tx = masked(clipByGlobalNorm(1), { kernel: true, bias: false });
 * const g = { kernel: tf.tensor([3, 4]), bias: tf.tensor([30]) };
 * const state = tx.init(g);
 * const [u] = tx.update(g, state);
 * (u as typeof g).kernel.print(); // [0.6, 0.8]
 * (u as typeof g).bias.print(); // [30]
 * treeDispose([g, state, u]);
 * ```
 */
export function masked<S>(
  inner: GradientTransformation<S>,
  mask: MaskTree | ((params: Tree) => MaskTree),
): GradientTransformation<MaskedState<S>> {
  const owner = 'masked';
  assertInner(owner, 'inner', inner);
  const maskFor = maskResolver(owner, mask);
  const transform = maskedTransform(owner, inner, maskFor);
  const innerSpec = specOf(inner);
  return innerSpec === undefined ? transform : withSpec(transform, owner, [innerSpec, mask]);
}

function maskedTransform<S>(
  owner: string,
  inner: GradientTransformation<S>,
  maskFor: (tree: Tree) => MaskTree,
): GradientTransformation<MaskedState<S>> {
  const select = (m: MaskTree, tree: Tree, name: string): Tree =>
    selectSubtree(owner, m as PrefixTree<boolean>, tree, (v) => v, isFlag, ['mask', name]);
  return {
    init: (params) =>
      tidy(() => ({
        inner: detachState(inner.init(select(maskFor(params), params, 'params')), [params]),
      })),
    update: (updates, state, params, context) => {
      if (!isPlainRecord(state) || !('inner' in state)) {
        throw new TfoptError(
          `${owner}: expected a state { inner }, got ${
            state === null ? 'null' : Array.isArray(state) ? 'an array' : typeof state
          }; was it built by this transform's init?`,
        );
      }
      return tidy(() => {
        const m = maskFor(updates);
        const sub = select(m, updates, 'updates');
        const ctx: UpdateContext = {
          ...context,
          grads: select(m, context?.grads ?? updates, 'context.grads'),
        };
        const p = params === undefined ? undefined : select(m, params, 'params');
        const [out, next] = inner.update(sub, state.inner, p, ctx);
        assertInnerOutput(owner, 'the inner transform', sub, out);
        const sources = new Map<boolean, Tree>([
          [true, out],
          [false, updates],
        ]);
        return [
          mergeByPrefix(m as PrefixTree<boolean>, updates, sources, isFlag),
          { inner: detachState(next, [updates, params, context]) },
        ] as const;
      });
    },
  };
}

function assertInner(owner: string, option: string, inner: unknown): void {
  if (!isTransform(inner)) {
    throw new InvalidOptionError(
      owner,
      option,
      inner,
      'a gradient transformation (an object with init and update)',
    );
  }
}

const EMPTY: EmptyState = Object.freeze({}) as EmptyState;

/**
 * Replace every update by zeros of its shape and dtype (Optax's
 * `set_to_zero`): the parameters it reaches do not move. Mostly used
 * through {@link freeze} or as a group of {@link partition}.
 *
 * @category Combinators
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { setToZero } from '@tfopt/transforms';
 * const tx = setToZero();
 * const [u] = tx.update({ w: tf.tensor([1, -2]) }, tx.init({}));
 * (u as { w: tf.Tensor }).w.print(); // [0, 0]
 * ```
 */
export function setToZero(): GradientTransformation<EmptyState> {
  return withSpec(
    {
      init: () => EMPTY,
      update: (updates) => [tidy(() => treeZerosLike(updates)), EMPTY],
    },
    'setToZero',
    [],
  );
}

/**
 * Freeze the leaves where `mask` is true: their updates become zeros; the
 * others pass through unchanged (Optax's `freeze`, `masked(setToZero(),
 * mask)`). `mask` is a boolean tree or prefix tree of the parameters, or a
 * function of them (see {@link masked}).
 *
 * Put it last in a chain: a link after it (Adam, weight decay) would turn
 * the zeros into a step again. To keep frozen leaves out of the optimizer
 * altogether, so that it holds no state for them, use
 * {@link selectiveTransform}.
 *
 * @category Combinators
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { chain, treeDispose } from '@tfopt/core';
 * import { adam, freeze } from '@tfopt/transforms';
 * const tx = chain(adam(1e-2), freeze({ encoder: true, head: false }));
 * const params = { encoder: tf.ones([2]), head: tf.ones([2]) };
 * const state = tx.init(params);
 * const [u] = tx.update({ encoder: tf.ones([2]), head: tf.ones([2]) }, state, params);
 * (u as typeof params).encoder.print(); // [0, 0]
 * treeDispose([params, state, u]);
 * ```
 */
export function freeze(
  mask: MaskTree | ((params: Tree) => MaskTree),
): GradientTransformation<MaskedState<EmptyState>> {
  const owner = 'freeze';
  const maskFor = maskResolver(owner, mask);
  return withSpec(maskedTransform(owner, setToZero(), maskFor), owner, [mask]);
}

/** Options of {@link selectiveTransform}. @category Combinators */
export interface SelectiveTransformOptions {
  /**
   * Leaves to freeze (`true`) or train (`false`): a boolean tree or prefix
   * tree of the parameters, or a function of them. Required.
   */
  readonly freezeMask: MaskTree | ((params: Tree) => MaskTree);
}

/** State of {@link selectiveTransform}. @category Combinators */
export type SelectiveTransformState<S> = PartitionState<{
  readonly train: S;
  readonly freeze: EmptyState;
}>;

/**
 * Train only the leaves that `freezeMask` leaves out (Optax's
 * `selective_transform`): `partition({ train: optimizer, freeze: setToZero()
 * }, ...)`. The optimizer sees and keeps state for the trained leaves only;
 * frozen leaves get zero updates. Unlike {@link freeze}, it is safe with
 * transforms that move parameters on a zero gradient (momentum, weight decay).
 *
 * @category Combinators
 * @example
 * ```ts
 * import { adamw, selectiveTransform } from '@tfopt/transforms';
 * const tx = selectiveTransform(adamw(1e-3), { freezeMask: { encoder: true, head: false } });
 * ```
 */
export function selectiveTransform<S>(
  optimizer: GradientTransformation<S>,
  options: SelectiveTransformOptions,
): GradientTransformation<SelectiveTransformState<S>> {
  const owner = 'selectiveTransform';
  assertInner(owner, 'optimizer', optimizer);
  if (!isPlainRecord(options) || !('freezeMask' in options)) {
    throw new InvalidOptionError(
      owner,
      'freezeMask',
      isPlainRecord(options) ? undefined : options,
      'a boolean tree or a function of the params (it has no default)',
    );
  }
  const extra = Object.keys(options).find((k) => k !== 'freezeMask');
  if (extra !== undefined) {
    throw new InvalidOptionError(
      owner,
      extra,
      (options as unknown as Record<string, unknown>)[extra],
      `absent (${owner} takes freezeMask)`,
    );
  }
  const { freezeMask } = options;
  const maskFor = maskResolver(owner, freezeMask);
  const toLabels = (m: MaskTree): PrefixTree<string> =>
    typeof m === 'boolean'
      ? m
        ? 'freeze'
        : 'train'
      : Array.isArray(m)
        ? m.map(toLabels)
        : Object.fromEntries(
            Object.entries(m as Record<string, MaskTree>).map(([k, v]) => [k, toLabels(v)]),
          );
  const labels =
    typeof freezeMask === 'function'
      ? (params: Tree) => toLabels(maskFor(params))
      : toLabels(maskFor({}));
  const inner = partition({ train: optimizer, freeze: setToZero() }, labels as never);
  const optimizerSpec = specOf(optimizer);
  const typed = inner as unknown as GradientTransformation<SelectiveTransformState<S>>;
  return optimizerSpec === undefined
    ? typed
    : withSpec(typed, owner, [optimizerSpec, { freezeMask }]);
}
