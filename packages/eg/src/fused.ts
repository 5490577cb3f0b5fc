// The fused forms of egGlobalScale and egCoordinateGains (see registerFusedLink
// in @tfopt/core). They follow globalScale.ts, coordinateGains.ts and
// alignment.ts step for step: the same first step (zero previous updates give
// alignment 0), the same NaN rule and the same float32 bounds, with the
// scalar work done in float32 arithmetic (Math.fround) where the composable
// path's float32 rounding decides an outcome (overflow, the zero-norm test).
// The tests in fused.test.ts hold both paths together. Internal: index.ts
// registers them.

import * as tf from '@tensorflow/tfjs-core';
import {
  type FusedLinkFactory,
  type FusedSums,
  isPlainRecord,
  isTensor,
  registerFusedLink,
  type Tree,
  treeFlatten,
  treeMap,
} from '@tfopt/core';

const f32 = Math.fround;

// As alignment.ts: below this the product of two norms counts as zero (float32's smallest normal).
const TINY_NORM_PRODUCT = 1.1754944e-38;
// As coordinateGains.ts: 1 + SATURATE·a saturates the sign factor for every normal float32 a.
const SATURATE = 1e38;

/** The options record of a spec argument, or a reason when it has a key the fused form does not know. */
function optionsOf(
  given: unknown,
  known: readonly string[],
): Readonly<Record<string, unknown>> | string {
  if (given === undefined) return {};
  if (!isPlainRecord(given)) return 'has options that are not a record';
  const unknown = Object.keys(given).find((key) => !known.includes(key));
  return unknown === undefined
    ? given
    : `has an option the fused form does not know ("${unknown}")`;
}

/** `x` (not NaN) clipped to float32 bounds as clipByValue of @tfopt/core does (equal bounds give the bound). */
function clipTo(x: number, lo: number, hi: number): number {
  return lo === hi ? hi : Math.min(Math.max(x, lo), hi);
}

const GLOBAL_SCALE_KEYS = ['scaleLearningRate', 'normalize', 'min', 'max', 'perTensor'];

/**
 * egGlobalScale: the alignment of the raw gradient with the previous updates
 * needs `<g, v>` (and with `normalize` both norms) over the whole tree, or
 * per tensor, before any update moves: a read-only pass of `g` and `v`. The
 * main pass then remembers the incoming updates and multiplies them by the
 * new scale.
 */
const egGlobalScale: FusedLinkFactory = (args) => {
  const o = optionsOf(args[0], GLOBAL_SCALE_KEYS);
  if (typeof o === 'string') return o;
  const {
    scaleLearningRate = 0.001,
    normalize = true,
    min = 0.1,
    max = 10,
    perTensor = false,
  } = o as {
    scaleLearningRate?: number;
    normalize?: boolean;
    min?: number;
    max?: number;
    perTensor?: boolean;
  };
  const rate = f32(scaleLearningRate);
  const lo = f32(min);
  const hi = f32(max);
  /** The alignment of one group from its sums, in float32 as alignment.ts computes it. */
  const alignmentOf = (sums: Readonly<Record<string, number>>): number => {
    const dot = f32(sums.dot as number);
    if (!normalize) return dot;
    const denom = f32(
      f32(Math.sqrt(f32(sums.gg as number))) * f32(Math.sqrt(f32(sums.vv as number))),
    );
    return denom > TINY_NORM_PRODUCT ? f32(dot / denom) : 0;
  };
  /** The next scale from the current one: the EG step, NaN keeps the current, then the bounds. */
  const moved = (current: number, a: number): number => {
    const grown = f32(current * f32(Math.exp(f32(a * rate))));
    return clipTo(Number.isNaN(grown) ? current : grown, lo, hi);
  };
  return {
    slots: ['previous'],
    writes: [],
    slotIsUpdate: 'previous',
    readsGradient: true,
    reduction: {
      readsUpdate: false,
      terms: ({ g, slot }): Record<string, string> => {
        const v = slot('previous');
        return normalize
          ? { dot: `${g} * ${v}`, gg: `${g} * ${g}`, vv: `${v} * ${v}` }
          : { dot: `${g} * ${v}` };
      },
    },
    prepare: ({ state, leaves, scalar }) => {
      if (!isPlainRecord(state)) return 'the state is not a record';
      const scale = state.scale as Tree;
      let current: number[];
      if (!perTensor) {
        if (!isTensor(scale) || scale.rank !== 0) return 'the scale is not a scalar tensor';
        current = [scalar(scale)];
      } else {
        let flat: ReturnType<typeof treeFlatten>;
        try {
          flat = treeFlatten(scale, '', 'state.scale');
        } catch (e) {
          return (e as Error).message;
        }
        if (
          flat.length !== leaves.length ||
          flat.some((l, i) => l.path !== leaves[i]?.path || l.tensor.rank !== 0)
        ) {
          return "the per-tensor scale does not have the params' paths";
        }
        current = flat.map((l) => scalar(l.tensor));
      }
      let next: number[] = current;
      return {
        afterSums: ({ total, perLeaf }: FusedSums) => {
          if (!perTensor) {
            next = [moved(current[0] as number, alignmentOf(total))];
            return { constants: { s: next[0] as number } };
          }
          next = current.map((s, i) => moved(s, alignmentOf(perLeaf[i] ?? {})));
          return { leafConstants: next.map((s) => ({ s })) };
        },
        next: ({ previous }) => {
          let i = 0;
          const newScale = perTensor
            ? treeMap(() => tf.scalar(next[i++] as number), scale)
            : tf.scalar(next[0] as number);
          return { scale: newScale, previous };
        },
      };
    },
    code: ({ u, constant: k }) => `${u} = ${u} * ${k('s')};`,
  };
};

const GAINS_KEYS = ['gainLearningRate', 'beta', 'signal', 'min', 'max'];

/**
 * egCoordinateGains: per element, the gain moves by the sign (or the
 * product) of the raw gradient and the decaying gradient sum, within its
 * bounds, and multiplies the update; then the sum takes in the gradient.
 */
const egCoordinateGains: FusedLinkFactory = (args) => {
  const o = optionsOf(args[0], GAINS_KEYS);
  if (typeof o === 'string') return o;
  const {
    gainLearningRate = 0.01,
    beta = 0.9,
    signal = 'sign',
    min = 0.01,
    max = 100,
  } = o as {
    gainLearningRate?: number;
    beta?: number;
    signal?: string;
    min?: number;
    max?: number;
  };
  if (signal !== 'sign' && signal !== 'product') return `has an unknown signal "${signal}"`;
  const frozen = gainLearningRate === 0;
  const up = f32(Math.exp(gainLearningRate));
  const down = f32(Math.exp(-gainLearningRate));
  const lo = f32(min);
  const hi = f32(max);
  return {
    slots: ['gains', 'gradTrace'],
    // With a zero rate the gains keep their tensors, as the composable update returns them.
    writes: frozen ? ['gradTrace'] : ['gains', 'gradTrace'],
    readsGradient: true,
    prepare: ({ state }) => {
      if (!isPlainRecord(state) || typeof state.count !== 'number') return 'the state has no count';
      const count = state.count + 1;
      const rate = (gainLearningRate * (1 - beta)) / (1 - beta ** Math.max(count - 1, 1));
      return {
        constants: { beta, up, down, lo, hi, rate: f32(rate), saturate: SATURATE },
        next: ({ gains, gradTrace }) => ({ count, gains, gradTrace }),
      };
    },
    code: ({ u, g, slot, store, constant: k }) => {
      const m = slot('gradTrace');
      const trace = store('gradTrace', `${m} * ${k('beta')} + ${g}`);
      if (frozen) return `${u} = ${u} * ${slot('gains')}; ${trace}`;
      // The product g·m as the float32 the composable path forms (its underflow gives no signal).
      const factor =
        signal === 'sign' ? (down === up ? k('up') : 'fc') : `Math.exp(a * ${k('rate')})`;
      const bounded = lo === hi ? k('hi') : 'gain';
      // `x` within [low, high] (NaN stays NaN) as two picks of one of two values, which the
      // WebAssembly SIMD compiler turns into one instruction each; with low > high (not from
      // validated options) as the nested ternary of clipByValue's order of tests.
      const clamp = (name: string, x: string, low: string, high: string, ordered: boolean) =>
        ordered
          ? `const ${name}_ = ${x} < ${low} ? ${low} : ${x};
             const ${name} = ${name}_ > ${high} ? ${high} : ${name}_;`
          : `const ${name} = ${x} > ${high} ? ${high} : ${x} < ${low} ? ${low} : ${x};`;
      const saturated =
        signal === 'sign' && down !== up
          ? `const f = 1 + a * ${k('saturate')}; ${clamp('fc', 'f', k('down'), k('up'), down < up)}`
          : '';
      const gain = lo === hi ? '' : clamp('gain', 'q', k('lo'), k('hi'), lo < hi);
      return `const a = Math.fround(${g} * ${m});
        ${saturated}
        const q = ${slot('gains')} * ${factor};
        ${gain}
        ${store('gains', bounded)}
        ${u} = ${u} * ${bounded};
        ${trace}`;
    },
  };
};

/** Register this package's fused links (called once by the package's entry module). */
export function registerFusedEg(): void {
  registerFusedLink('egGlobalScale', egGlobalScale);
  registerFusedLink('egCoordinateGains', egCoordinateGains);
}
