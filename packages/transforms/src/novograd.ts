import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  TfoptError,
  type Tree,
  TreeStructureError,
  tidy,
  treeFlatten,
  treeMap,
  treeMapN,
  treeZerosLike,
  withSpec,
} from '@tfopt/core';
import { decayRate, nonNegative } from '@tfopt/core/options';
import { type OptionRules, readOptions } from './options.js';

/** Options of {@link scaleByNovograd}. @category Transforms */
export interface ScaleByNovogradOptions {
  /** Decay of the first moment, in `[0, 1)`. Default `0.9`. */
  readonly b1?: number;
  /** Decay of each leaf's squared gradient norm, in `[0, 1)`. Default `0.25`. */
  readonly b2?: number;
  /** Added to the square root of the second moment, `>= 0`. Default `1e-8`. */
  readonly eps?: number;
  /** Added to the second moment inside the square root, `>= 0`. Default `0`. */
  readonly epsRoot?: number;
  /** Weight decay added to the normalised gradient, `>= 0`. Default `0`; needs the params when set. */
  readonly weightDecay?: number;
}

/** @internal */
export const NOVOGRAD_RULES: OptionRules<ScaleByNovogradOptions> = {
  b1: decayRate,
  b2: decayRate,
  eps: nonNegative,
  epsRoot: nonNegative,
  weightDecay: nonNegative,
};
/** @internal */
export const NOVOGRAD_DEFAULTS = {
  b1: 0.9,
  b2: 0.25,
  eps: 1e-8,
  epsRoot: 0,
  weightDecay: 0,
} as const;

/**
 * State of {@link scaleByNovograd}.
 *
 * @category Transforms
 */
export interface ScaleByNovogradState {
  /** Updates done so far. */
  readonly count: number;
  /** First moment: the momentum of the normalised gradients. */
  readonly mu: Tree;
  /** One scalar per leaf: the moving average of the leaf's squared gradient norm. */
  readonly nu: Tree;
}

/** `‖g‖²` as a scalar; an empty leaf has norm 0 (the wasm backend's sum over nothing is not 0). */
function squaredNorm(g: tf.Tensor): tf.Tensor {
  return g.size === 0 ? tf.scalar(0) : tf.sum(tf.square(g));
}

/**
 * Rescale the updates by NovoGrad (Ginsburg et al., 2019): a momentum of
 * gradients normalised layer by layer, each leaf divided by the root of a
 * moving average of its squared norm (one number per leaf, not per
 * coordinate), with the weight decay added to the normalised gradient. At the
 * first step (`t = 1`) the averages start from the first values:
 *
 * ```
 * n  ← ‖g‖²                                 (t > 1: n ← b2·n + (1 − b2)·‖g‖²)
 * a  = g / (sqrt(n + epsRoot) + eps) + weightDecay·θ
 * mu ← a                                    (t > 1: mu ← b1·mu + a)
 * u  ← mu
 * ```
 *
 * The momentum adds `a` undamped (no `1 − b1`), as in the paper and Optax.
 * The update is the new `mu` itself (the same tensor as in the state).
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scaleByLearningRate, scaleByNovograd } from '@tfopt/transforms';
 * const tx = chain(scaleByNovograd({ weightDecay: 1e-3 }), scaleByLearningRate(1e-2));
 * ```
 */
export function scaleByNovograd(
  options?: ScaleByNovogradOptions,
): GradientTransformation<ScaleByNovogradState> {
  const { b1, b2, eps, epsRoot, weightDecay } = readOptions(
    'scaleByNovograd',
    options,
    NOVOGRAD_RULES,
    NOVOGRAD_DEFAULTS,
  );
  return withSpec(
    {
      init: (params) =>
        tidy(() => ({
          count: 0,
          mu: treeZerosLike(params),
          nu: treeMap(() => tf.scalar(0), params),
        })),
      update: (updates, state, params) => {
        if (weightDecay !== 0 && params === undefined) {
          throw new TfoptError(
            'scaleByNovograd: a weightDecay needs the parameters; pass them as the third argument of update ' +
              '(step and stepVariables do)',
          );
        }
        // nu has a scalar per leaf, so it cannot go through treeMapN with the
        // full-shaped trees; its leaves are taken in the same canonical order.
        const nuLeaves = treeFlatten(state.nu, '', 'state.nu');
        const paths = treeFlatten(updates, '', 'updates').map((leaf) => leaf.path);
        if (nuLeaves.length !== paths.length || nuLeaves.some((l, i) => l.path !== paths[i])) {
          const at = paths.find((p, i) => nuLeaves[i]?.path !== p) ?? nuLeaves[paths.length]?.path;
          throw new TreeStructureError(
            at ?? '',
            'does not match the state (nu)',
            `scaleByNovograd: updates${at ?? ''} does not match the state's nu tree; was the state built by this transform's init?`,
          );
        }
        return tidy(() => {
          const count = state.count + 1;
          const first = count === 1;
          const b1Scalar = tf.scalar(b1);
          const b2Scalar = tf.scalar(b2);
          const b2Complement = tf.scalar(1 - b2);
          const e = tf.scalar(eps);
          const er = epsRoot === 0 ? undefined : tf.scalar(epsRoot);
          const wd = weightDecay === 0 ? undefined : tf.scalar(weightDecay);
          let i = 0;
          const normalised = (g: tf.Tensor, n: tf.Tensor, p: tf.Tensor | undefined): tf.Tensor => {
            const scaled = tf.div(g, tf.add(tf.sqrt(er === undefined ? n : tf.add(n, er)), e));
            return wd === undefined || p === undefined ? scaled : tf.add(scaled, tf.mul(p, wd));
          };
          const step = (g: tf.Tensor, m: tf.Tensor, p?: tf.Tensor): tf.Tensor[] => {
            const previous = (nuLeaves[i++] as { tensor: tf.Tensor }).tensor;
            const norm = squaredNorm(g);
            const n = first ? norm : tf.add(tf.mul(previous, b2Scalar), tf.mul(norm, b2Complement));
            const a = normalised(g, n, p);
            return [first ? a : tf.add(tf.mul(m, b1Scalar), a), n];
          };
          const [mu, nu] = (
            wd === undefined
              ? treeMapN(2, (g, m) => step(g, m), updates, state.mu)
              : treeMapN(2, step, updates, state.mu, params as Tree)
          ) as [Tree, Tree];
          return [mu, { count, mu, nu }] as const;
        });
      },
    },
    'scaleByNovograd',
    [options],
  );
}
