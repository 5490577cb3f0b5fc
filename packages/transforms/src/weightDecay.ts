import * as tf from '@tensorflow/tfjs-core';
import {
  assertSameStructure,
  type EmptyState,
  type GradientTransformation,
  InvalidOptionError,
  isTensor,
  joinPath,
  TfoptError,
  type Tree,
  TreeStructureError,
  tidy,
  treeMap,
  withSpec,
} from '@tfopt/core';
import { nonNegative } from '@tfopt/core/options';
import { type OptionRules, readOptions, requireOption } from './options.js';

/**
 * Which leaves a transform applies to: `true`/`false` for a whole subtree, or
 * arrays and objects that mirror the parameter tree down to booleans.
 *
 * @category Transforms
 * @example
 * ```ts
 * import type { MaskTree } from '@tfopt/transforms';
 * const decayKernelsOnly: MaskTree = { dense: { kernel: true, bias: false } };
 * ```
 */
export type MaskTree = boolean | readonly MaskTree[] | { readonly [key: string]: MaskTree };

/** Options of {@link addDecayedWeights}. @category Transforms */
export interface AddDecayedWeightsOptions {
  /** The decay coefficient, `>= 0`. Required. */
  readonly weightDecay: number;
  /**
   * Leaves to decay: a {@link MaskTree} or a function of the parameters that
   * returns one. Default: every leaf.
   */
  readonly mask?: MaskTree | ((params: Tree) => MaskTree);
}

/** @internal */
export const WEIGHT_DECAY_RULES: OptionRules<AddDecayedWeightsOptions> = {
  weightDecay: nonNegative,
  mask: null,
};

/** @internal Throw unless `mask` is a boolean tree or a function. */
export function assertMask(owner: string, mask: unknown): void {
  if (mask === undefined || typeof mask === 'function') return;
  const bad = findNonBoolean(mask, '');
  if (bad !== undefined) {
    throw new InvalidOptionError(
      owner,
      'mask',
      bad.value,
      `a tree of booleans or a function of the params (at mask${bad.path})`,
    );
  }
}

function findNonBoolean(node: unknown, path: string): { path: string; value: unknown } | undefined {
  if (typeof node === 'boolean') return undefined;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const bad = findNonBoolean(node[i], joinPath(path, i));
      if (bad) return bad;
    }
    return undefined;
  }
  if (typeof node === 'object' && node !== null && !isTensor(node)) {
    for (const [key, child] of Object.entries(node)) {
      const bad = findNonBoolean(child, joinPath(path, key));
      if (bad) return bad;
    }
    return undefined;
  }
  return { path, value: node };
}

/**
 * Map `fn` over the leaves of `updates` (with the matching leaves of `params`)
 * where `mask` is true, keeping the other leaves as they are.
 */
function maskedMap(
  mask: MaskTree,
  fn: (u: tf.Tensor, p: tf.Tensor) => tf.Tensor,
  updates: Tree,
  params: Tree,
  path: string,
): Tree {
  if (mask === true) return treeMap(fn, updates, params);
  if (mask === false) return updates;
  if (Array.isArray(mask)) {
    if (!Array.isArray(updates) || updates.length !== mask.length) {
      throw new TreeStructureError(path, `the mask has an array of length ${mask.length} here`);
    }
    const ps = params as readonly Tree[];
    return updates.map((u, i) =>
      maskedMap(mask[i] as MaskTree, fn, u, ps[i] as Tree, joinPath(path, i)),
    );
  }
  if (isTensor(updates) || Array.isArray(updates)) {
    throw new TreeStructureError(path, 'the mask has an object here');
  }
  const out: Record<string, Tree> = {};
  const maskObject = mask as { readonly [key: string]: MaskTree };
  const ups = updates as { readonly [key: string]: Tree };
  const ps = params as { readonly [key: string]: Tree };
  for (const key of Object.keys(ups)) {
    const sub = maskObject[key];
    if (sub === undefined) {
      throw new TreeStructureError(joinPath(path, key), 'missing in the mask');
    }
    out[key] = maskedMap(sub, fn, ups[key] as Tree, ps[key] as Tree, joinPath(path, key));
  }
  for (const key of Object.keys(maskObject)) {
    if (!(key in ups))
      throw new TreeStructureError(joinPath(path, key), 'in the mask but not in the updates');
  }
  return out;
}

/**
 * Add decoupled weight decay (Loshchilov & Hutter, 2019): `u ← u + λ·θ`,
 * the `W` of AdamW. Place it before the learning rate so the decay is scaled
 * by it too. Needs the parameters: pass them as `update`'s third argument
 * (`step` and `stepVariables` do).
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { addDecayedWeights, scaleByAdam, scaleByLearningRate } from '@tfopt/transforms';
 * const tx = chain(
 *   scaleByAdam(),
 *   addDecayedWeights({ weightDecay: 1e-4, mask: { kernel: true, bias: false } }),
 *   scaleByLearningRate(1e-3),
 * );
 * ```
 */
export function addDecayedWeights(
  options: AddDecayedWeightsOptions,
): GradientTransformation<EmptyState> {
  const { weightDecay, mask } = readOptions('addDecayedWeights', options, WEIGHT_DECAY_RULES, {});
  requireOption('addDecayedWeights', 'weightDecay', weightDecay, 'a finite number >= 0');
  assertMask('addDecayedWeights', mask);
  const empty: EmptyState = Object.freeze({}) as EmptyState;
  return withSpec(
    {
      init: () => empty,
      update: (updates, _state, params) => {
        if (params === undefined) {
          throw new TfoptError(
            'addDecayedWeights: needs the parameters; pass them as the third argument of update ' +
              '(step and stepVariables do)',
          );
        }
        if (weightDecay === 0) return [updates, empty];
        return tidy(() => {
          const wd = tf.scalar(weightDecay);
          const decay = (u: tf.Tensor, p: tf.Tensor) => tf.add(u, tf.mul(p, wd));
          if (mask === undefined) return [treeMap(decay, updates, params), empty] as const;
          const m = typeof mask === 'function' ? mask(params) : mask;
          if (typeof mask === 'function') assertMask('addDecayedWeights', m);
          // Check updates against params first so every structure error names a path.
          assertSameStructure(params, updates, ['params', 'updates']);
          return [maskedMap(m, decay, updates, params, ''), empty] as const;
        });
      },
    },
    'addDecayedWeights',
    [options],
  );
}
