import * as tf from '@tensorflow/tfjs-core';
import {
  detachState,
  evaluateSchedule,
  type GradientTransformation,
  InvalidOptionError,
  isPlainRecord,
  isTransform,
  type Schedule,
  specOf,
  TfoptError,
  type Tree,
  tidy,
  treeMap,
  treeZerosLike,
  withSpec,
} from '@tfopt/core';
import { numberOrFunction, oneOf, positiveInteger } from '@tfopt/core/options';
import { type OptionRules, readOptions, requireOption } from './options.js';

/** Options of {@link multiSteps}. @category Combinators */
export interface MultiStepsOptions {
  /**
   * Mini-steps accumulated per step of the inner transform: an integer
   * `>= 1`, or a schedule of the inner step count (`gradientStep`) returning
   * one, to grow the effective batch during training. Required.
   */
  readonly everyK: number | Schedule;
  /** Average (`'mean'`, default) or add (`'sum'`) the accumulated gradients. */
  readonly accumulation?: 'mean' | 'sum';
}

const MULTI_STEPS_RULES: OptionRules<MultiStepsOptions> = {
  everyK: numberOrFunction(positiveInteger),
  accumulation: oneOf('mean', 'sum'),
};

/**
 * State of {@link multiSteps}.
 *
 * @typeParam S - The inner transform's state.
 * @category Combinators
 */
export interface MultiStepsState<S = unknown> {
  /** Mini-steps accumulated since the inner transform last ran, in `[0, k)`. */
  readonly miniStep: number;
  /** Times the inner transform has run. */
  readonly gradientStep: number;
  /** State of the inner transform. */
  readonly inner: S;
  /** The mean (or sum) of the gradients of the current mini-steps; zeros after the inner step. */
  readonly accGrads: Tree;
}

/**
 * Accumulate gradients over `everyK` mini-steps and run `inner` once on
 * their mean (or sum), emitting zero updates in between (Optax's
 * `MultiSteps`): a batch `k` times larger than fits in memory, for any
 * optimizer. With `n = miniStep`, `k = everyK(gradientStep)`:
 *
 * ```
 * acc ← acc + (g − acc) / (n + 1)          ('mean', Welford's running mean; 'sum': acc ← acc + g)
 * n + 1 < k:   u ← 0;  n ← n + 1
 * n + 1 = k:   (u, s) ← inner.update(acc, s);  acc ← 0;  n ← 0;  gradientStep ← gradientStep + 1
 * ```
 *
 * The inner transform runs only on the last mini-step of each group, with
 * `context.grads` set to the accumulated gradient (so EG links inside see
 * it as their raw gradient) and the rest of the context (the loss) of that
 * mini-step; on the other mini-steps it does not run at all. Put
 * `multiSteps` outermost, around the whole optimizer.
 *
 * Inside `TransformOptimizer` (`model.fit`), each batch is a mini-step: the
 * variables move every `k` batches, and the accumulated gradients are part
 * of the state, so a checkpoint taken mid-accumulation resumes exactly.
 * The spec records the inner spec and the options (a schedule for `everyK`
 * must carry a spec or be registered to be saved).
 *
 * Differences from Optax: the inner transform is not evaluated on the
 * mini-steps that do not emit (JAX computes and discards it); there is no
 * `should_skip_update_fn` (wrap the inner transform in `applyIfFinite`).
 *
 * @category Combinators
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { treeDispose } from '@tfopt/core';
 * import { multiSteps, sgd } from '@tfopt/transforms';
 * const tx = multiSteps(sgd(0.1), { everyK: 2 });
 * const params = { w: tf.zeros([1]) };
 * const s0 = tx.init(params);
 * const [u1, s1] = tx.update({ w: tf.tensor([1]) }, s0, params);
 * const [u2, s2] = tx.update({ w: tf.tensor([3]) }, s1, params);
 * (u1 as typeof params).w.print(); // [0]: accumulating
 * (u2 as typeof params).w.print(); // [-0.2]: sgd on the mean gradient 2
 * treeDispose([params, s0, u1, s1, u2, s2]);
 * ```
 */
export function multiSteps<S>(
  inner: GradientTransformation<S>,
  options: MultiStepsOptions,
): GradientTransformation<MultiStepsState<S>> {
  const owner = 'multiSteps';
  if (!isTransform(inner)) {
    throw new InvalidOptionError(
      owner,
      'inner',
      inner,
      'a gradient transformation (an object with init and update)',
    );
  }
  if (options === undefined) {
    throw new InvalidOptionError(
      owner,
      'everyK',
      undefined,
      'an integer >= 1 or a schedule (it has no default)',
    );
  }
  const { everyK, accumulation } = readOptions(owner, options, MULTI_STEPS_RULES, {
    accumulation: 'mean',
  });
  requireOption(owner, 'everyK', everyK, 'an integer >= 1 or a schedule (it has no default)');
  const kAt = (gradientStep: number): number => {
    const k = evaluateSchedule(everyK as number | Schedule, gradientStep, `${owner}: everyK`);
    if (!Number.isInteger(k) || k < 1) {
      throw new TfoptError(
        `${owner}: everyK returned ${k} at gradient step ${gradientStep}; expected an integer >= 1`,
      );
    }
    return k;
  };
  kAt(0);

  const transform: GradientTransformation<MultiStepsState<S>> = {
    init: (params) =>
      tidy(() => ({
        miniStep: 0,
        gradientStep: 0,
        inner: detachState(inner.init(params), [params]),
        accGrads: treeZerosLike(params),
      })),
    update: (updates, state, params, context) => {
      if (!isMultiStepsState(state)) {
        throw new TfoptError(
          `${owner}: expected a state { miniStep, gradientStep, inner, accGrads }, got ${
            state === null ? 'null' : Array.isArray(state) ? 'an array' : typeof state
          }; was it built by this transform's init?`,
        );
      }
      const k = kAt(state.gradientStep);
      const n = state.miniStep;
      return tidy(() => {
        const count = tf.scalar(n + 1);
        const acc =
          accumulation === 'mean'
            ? treeMap((a, g) => tf.add(a, tf.div(tf.sub(g, a), count)), state.accGrads, updates)
            : treeMap((a, g) => tf.add(a, g), state.accGrads, updates);
        if (n + 1 < k) {
          const next = { ...state, miniStep: n + 1, accGrads: acc };
          return [treeZerosLike(updates), next] as const;
        }
        const [out, innerNext] = inner.update(acc, state.inner, params, { ...context, grads: acc });
        return [
          out,
          {
            miniStep: 0,
            gradientStep: state.gradientStep + 1,
            inner: detachState(innerNext, [updates, params, context]),
            accGrads: treeZerosLike(acc),
          },
        ] as const;
      });
    },
  };
  const innerSpec = specOf(inner);
  return innerSpec === undefined ? transform : withSpec(transform, owner, [innerSpec, options]);
}

function isMultiStepsState(value: unknown): value is MultiStepsState<unknown> {
  return (
    isPlainRecord(value) &&
    typeof value.miniStep === 'number' &&
    typeof value.gradientStep === 'number' &&
    'inner' in value &&
    'accGrads' in value
  );
}
