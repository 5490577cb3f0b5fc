import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  type Tree,
  tidy,
  treeMap,
  treeMapN,
  treeZerosLike,
  withSpec,
} from '@tfopt/core';
import { boolean, decayRate } from '@tfopt/core/options';
import { biasCorrection, momentWeights, updateMoment } from './moments.js';
import { type OptionRules, readOptions, requireOption } from './options.js';

/** Options of {@link trace}. @category Transforms */
export interface TraceOptions {
  /** Decay of the trace (the momentum), in `[0, 1)`. Required. */
  readonly decay: number;
  /** Return the Nesterov look-ahead `g + decay·t` instead of `t`. Default `false`. */
  readonly nesterov?: boolean;
}

const TRACE_RULES: OptionRules<TraceOptions> = { decay: decayRate, nesterov: boolean };

/**
 * State of {@link trace}.
 *
 * @category Transforms
 */
export interface TraceState {
  /** The decaying sum of past updates. */
  readonly trace: Tree;
}

/**
 * Momentum: keep a decaying sum of past updates (Polyak, 1964; Nesterov with
 * `nesterov: true`, as in Sutskever et al., 2013):
 *
 * ```
 * t ← decay·t + g
 * u ← t                      (nesterov: u ← g + decay·t)
 * ```
 *
 * Without Nesterov the returned update is the new trace itself (the same
 * tensor as in the state).
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { scaleByLearningRate, trace } from '@tfopt/transforms';
 * const momentum = chain(trace({ decay: 0.9, nesterov: true }), scaleByLearningRate(0.01));
 * ```
 */
export function trace(options: TraceOptions): GradientTransformation<TraceState> {
  const { decay, nesterov } = readOptions('trace', options, TRACE_RULES, { nesterov: false });
  requireOption('trace', 'decay', decay, 'a number in [0, 1)');
  return withSpec(
    {
      init: (params) => tidy(() => ({ trace: treeZerosLike(params) })),
      update: (updates, state) =>
        tidy(() => {
          const d = tf.scalar(decay);
          if (!nesterov) {
            const t = treeMap((g, t) => tf.add(tf.mul(t, d), g), updates, state.trace);
            return [t, { trace: t }] as const;
          }
          const [u, t] = treeMapN(
            2,
            (g, prev) => {
              const t = tf.add(tf.mul(prev, d), g);
              return [tf.add(g, tf.mul(t, d)), t];
            },
            updates,
            state.trace,
          ) as [Tree, Tree];
          return [u, { trace: t }] as const;
        }),
    },
    'trace',
    [options],
  );
}

/** Options of {@link ema}. @category Transforms */
export interface EmaOptions {
  /** Decay of the average, in `[0, 1)`. Required. */
  readonly decay: number;
  /** Divide by `1 − decay^count` to remove the bias towards zero. Default `true`. */
  readonly debias?: boolean;
}

const EMA_RULES: OptionRules<EmaOptions> = { decay: decayRate, debias: boolean };

/**
 * State of {@link ema}.
 *
 * @category Transforms
 */
export interface EmaState {
  /** Updates done so far. */
  readonly count: number;
  /** The average itself, without bias correction. */
  readonly ema: Tree;
}

/**
 * Replace the updates by their exponential moving average:
 *
 * ```
 * e ← decay·e + (1 − decay)·g
 * u ← e / (1 − decay^count)      (debias: false: u ← e)
 * ```
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { ema, scaleByLearningRate } from '@tfopt/transforms';
 * const averaged = chain(ema({ decay: 0.9 }), scaleByLearningRate(0.01));
 * ```
 */
export function ema(options: EmaOptions): GradientTransformation<EmaState> {
  const { decay, debias } = readOptions('ema', options, EMA_RULES, { debias: true });
  requireOption('ema', 'decay', decay, 'a number in [0, 1)');
  return withSpec(
    {
      init: (params) => tidy(() => ({ count: 0, ema: treeZerosLike(params) })),
      update: (updates, state) =>
        tidy(() => {
          const count = state.count + 1;
          const w = momentWeights(decay);
          if (!debias) {
            const e = treeMap((g, e) => updateMoment(g, e, w), updates, state.ema);
            return [e, { count, ema: e }] as const;
          }
          const correction = tf.scalar(1 / biasCorrection(decay, count));
          const [u, e] = treeMapN(
            2,
            (g, prev) => {
              const e = updateMoment(g, prev, w);
              return [tf.mul(e, correction), e];
            },
            updates,
            state.ema,
          ) as [Tree, Tree];
          return [u, { count, ema: e }] as const;
        }),
    },
    'ema',
    [options],
  );
}
