// The fused forms of this package's transforms (see registerFusedLink in
// @tfopt/core): each link's per-element update as JavaScript over its state
// slots, with its per-step numbers computed in float64 before the pass. They
// follow the composable updates of adam.ts, trace.ts, scale.ts, rms.ts,
// adagrad.ts, clip.ts and weightDecay.ts operation for operation; the tests
// in fused.test.ts hold both paths together. Internal: index.ts registers them.
import {
  evaluateSchedule,
  type FusedLink,
  type FusedLinkFactory,
  isPlainRecord,
  isTensor,
  registerFusedLink,
  type Tree,
  treeFlatten,
  treeKeys,
} from '@tfopt/core';
import { ADAGRAD_DEFAULTS } from './adagrad.js';
import { ADAM_DEFAULTS } from './adam.js';
import { RMS_DEFAULTS } from './rms.js';
import { assertMask, type MaskTree } from './weightDecay.js';

/**
 * The options record of a spec argument with `defaults` filled in, or a
 * reason when it holds a key the fused form does not know (a newer option
 * then keeps the step on the composable path rather than being ignored).
 */
function optionsOf<D extends Record<string, unknown>>(
  given: unknown,
  defaults: D,
  known: readonly string[],
): D | string {
  if (given === undefined) return { ...defaults };
  if (!isPlainRecord(given)) return 'has options that are not a record';
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(given)) {
    if (!known.includes(key)) return `has an option the fused form does not know ("${key}")`;
    if (value !== undefined) out[key] = value;
  }
  return out as D;
}

const defined = new Map<string, FusedLinkFactory>();

/** Add the fused form of the transform whose spec is named `name`. */
function define(name: string, factory: FusedLinkFactory): void {
  defined.set(name, factory);
}

/** The `count` of a state record, or a reason. */
function countOf(state: unknown): number | string {
  if (!isPlainRecord(state) || typeof state.count !== 'number') return 'the state has no count';
  return state.count;
}

/** `x` clipped to `[lo, hi]` as tfjs's clipByValue does (NaN stays NaN), as JavaScript. */
function clipped(x: string, lo: string, hi: string): string {
  return `(${x} > ${hi} ? ${hi} : ${x} < ${lo} ? ${lo} : ${x})`;
}

const ADAM_KEYS = ['b1', 'b2', 'eps', 'epsRoot', 'nesterov'];

// scaleByAdam: mu, nu and the update with the bias corrections folded into three numbers.
define('scaleByAdam', (args) => {
  const o = optionsOf(args[0], ADAM_DEFAULTS as Record<string, unknown>, ADAM_KEYS);
  if (typeof o === 'string') return o;
  const { b1, b2, eps, epsRoot, nesterov } = o as {
    b1: number;
    b2: number;
    eps: number;
    epsRoot: number;
    nesterov: boolean;
  };
  return {
    slots: ['mu', 'nu'],
    prepare: ({ state }) => {
      const previous = countOf(state);
      if (typeof previous === 'string') return previous;
      const count = previous + 1;
      const c1 = 1 - b1 ** count;
      const rootC2 = Math.sqrt(1 - b2 ** count);
      return {
        constants: {
          b1,
          w1: 1 - b1,
          b2,
          w2: 1 - b2,
          factor: rootC2 / c1,
          epsHat: eps * rootC2,
          epsRootHat: epsRoot * rootC2 * rootC2,
          muAhead: (rootC2 * b1) / (1 - b1 ** (count + 1)),
          gAhead: (rootC2 * (1 - b1)) / c1,
        },
        next: ({ mu, nu }) => ({ count, mu, nu }),
      };
    },
    code: ({ u, slot, store, constant: k }) => {
      const root = epsRoot === 0 ? 'Math.sqrt(nu)' : `Math.sqrt(nu + ${k('epsRootHat')})`;
      const update = nesterov
        ? `(mu * ${k('muAhead')} + ${u} * ${k('gAhead')}) / d`
        : `(mu / d) * ${k('factor')}`;
      return `const mu = ${slot('mu')} * ${k('b1')} + ${u} * ${k('w1')};
        const nu = ${slot('nu')} * ${k('b2')} + ${u} * ${u} * ${k('w2')};
        ${store('mu', 'mu')} ${store('nu', 'nu')}
        const d = ${root} + ${k('epsHat')};
        ${u} = ${update};`;
    },
  };
});

// trace: momentum; without Nesterov the update is the new trace itself.
define('trace', (args) => {
  const o = optionsOf(args[0], { nesterov: false } as Record<string, unknown>, [
    'decay',
    'nesterov',
  ]);
  if (typeof o === 'string') return o;
  const { decay, nesterov } = o as { decay: number; nesterov: boolean };
  if (typeof decay !== 'number') return 'has no decay';
  return {
    slots: ['trace'],
    ...(nesterov ? {} : { updateIsSlot: 'trace' }),
    prepare: () => ({ constants: { decay }, next: ({ trace }) => ({ trace }) }),
    code: ({ u, slot, store, constant: k }) =>
      `const t = ${slot('trace')} * ${k('decay')} + ${u}; ${store('trace', 't')}
       ${u} = ${nesterov ? `${u} + t * ${k('decay')}` : 't'};`,
  };
});

// ema: a moving average of the updates, optionally debiased.
define('ema', (args) => {
  const o = optionsOf(args[0], { debias: true } as Record<string, unknown>, ['decay', 'debias']);
  if (typeof o === 'string') return o;
  const { decay, debias } = o as { decay: number; debias: boolean };
  if (typeof decay !== 'number') return 'has no decay';
  return {
    slots: ['ema'],
    ...(debias ? {} : { updateIsSlot: 'ema' }),
    prepare: ({ state }) => {
      const previous = countOf(state);
      if (typeof previous === 'string') return previous;
      const count = previous + 1;
      return {
        constants: { decay, w: 1 - decay, correction: 1 / (1 - decay ** count) },
        next: ({ ema }) => ({ count, ema }),
      };
    },
    code: ({ u, slot, store, constant: k }) =>
      `const e = ${slot('ema')} * ${k('decay')} + ${u} * ${k('w')}; ${store('ema', 'e')}
       ${u} = ${debias ? `e * ${k('correction')}` : 'e'};`,
  };
});

/** A link multiplying the updates by a number of the step count (`scaleBySchedule`, `scaleByLearningRate`). */
function scheduledLink(value: unknown, sign: 1 | -1, owner: string): FusedLink | string {
  if (typeof value !== 'number' && typeof value !== 'function') {
    return 'has a learning rate that is neither a number nor a schedule';
  }
  return {
    prepare: ({ state }) => {
      const count = countOf(state);
      if (typeof count === 'string') return count;
      const factor =
        sign *
        evaluateSchedule(value as number | ((c: number) => number), count, `${owner}: schedule`);
      return { constants: { factor }, next: () => ({ count: count + 1 }) };
    },
    code: ({ u, constant: k }) => `${u} = ${u} * ${k('factor')};`,
  };
}

define('scaleBySchedule', (args) => scheduledLink(args[0], 1, 'scaleBySchedule'));

define('scaleByLearningRate', (args) => {
  const o = optionsOf(args[1], { flipSign: true } as Record<string, unknown>, ['flipSign']);
  if (typeof o === 'string') return o;
  return scheduledLink(args[0], o.flipSign === false ? 1 : -1, 'scaleByLearningRate');
});

define('scale', (args) => {
  const factor = args[0];
  if (typeof factor !== 'number') return 'has no factor';
  return {
    prepare: ({ state }) => ({ constants: { factor }, next: () => state }),
    code: ({ u, constant: k }) => (factor === 1 ? '' : `${u} = ${u} * ${k('factor')};`),
  };
});

define('clip', (args) => {
  const maxDelta = args[0];
  if (typeof maxDelta !== 'number') return 'has no maxDelta';
  // Bounds as float32, as clipByValue of @tfopt/core takes them; equal bounds fill.
  const lo = Math.fround(-maxDelta);
  const hi = Math.fround(maxDelta);
  return {
    prepare: ({ state }) => ({ constants: { lo, hi }, next: () => state }),
    code: ({ u, constant: k }) =>
      lo === hi ? `${u} = ${k('hi')};` : `${u} = ${clipped(u, k('lo'), k('hi'))};`,
  };
});

// clipByGlobalNorm: the squared norm of the updates arriving here, in a read-only pass.
define('clipByGlobalNorm', (args) => {
  const maxNorm = args[0];
  if (typeof maxNorm !== 'number') return 'has no maxNorm';
  const bound = Math.fround(maxNorm);
  return {
    reduction: { readsUpdate: true, terms: ({ u }) => ({ squares: `${u} * ${u}` }) },
    prepare: ({ state }) => ({
      // As the composable path: the float32 sum, its root, then maxNorm / max(norm, maxNorm).
      afterSums: ({ total }) => {
        const norm = Math.fround(Math.sqrt(Math.fround(total.squares as number)));
        return { constants: { factor: Math.fround(bound / Math.max(norm, bound)) } };
      },
      next: () => state,
    }),
    code: ({ u, constant: k }) => `${u} = ${u} * ${k('factor')};`,
  };
});

const RMS_KEYS = ['decay', 'eps', 'initialScale', 'epsInSqrt'];

/** `g / sqrt(variance + eps)` or `g / (sqrt(variance) + eps)` (no eps when it is 0), as JavaScript. */
function normalised(
  g: string,
  variance: string,
  eps: number,
  epsInSqrt: boolean,
  k: (name: string) => string,
): string {
  if (eps === 0) return `${g} / Math.sqrt(${variance})`;
  return epsInSqrt
    ? `${g} / Math.sqrt(${variance} + ${k('eps')})`
    : `${g} / (Math.sqrt(${variance}) + ${k('eps')})`;
}

define('scaleByRms', (args) => {
  const o = optionsOf(args[0], RMS_DEFAULTS as Record<string, unknown>, RMS_KEYS);
  if (typeof o === 'string') return o;
  const { decay, eps, epsInSqrt } = o as { decay: number; eps: number; epsInSqrt: boolean };
  return {
    slots: ['nu'],
    prepare: () => ({ constants: { decay, w: 1 - decay, eps }, next: ({ nu }) => ({ nu }) }),
    code: ({ u, slot, store, constant: k }) =>
      `const nu = ${slot('nu')} * ${k('decay')} + ${u} * ${u} * ${k('w')}; ${store('nu', 'nu')}
       ${u} = ${normalised(u, 'nu', eps, epsInSqrt, k)};`,
  };
});

define('scaleByStddev', (args) => {
  const o = optionsOf(args[0], RMS_DEFAULTS as Record<string, unknown>, RMS_KEYS);
  if (typeof o === 'string') return o;
  const { decay, eps, epsInSqrt } = o as { decay: number; eps: number; epsInSqrt: boolean };
  return {
    slots: ['mu', 'nu'],
    prepare: () => ({
      constants: { decay, w: 1 - decay, eps },
      next: ({ mu, nu }) => ({ mu, nu }),
    }),
    code: ({ u, slot, store, constant: k }) =>
      `const mu = ${slot('mu')} * ${k('decay')} + ${u} * ${k('w')};
       const nu = ${slot('nu')} * ${k('decay')} + ${u} * ${u} * ${k('w')};
       ${store('mu', 'mu')} ${store('nu', 'nu')}
       ${u} = ${normalised(u, '(nu - mu * mu)', eps, epsInSqrt, k)};`,
  };
});

define('scaleByAdagrad', (args) => {
  const o = optionsOf(args[0], ADAGRAD_DEFAULTS as Record<string, unknown>, [
    'initialAccumulatorValue',
    'eps',
  ]);
  if (typeof o === 'string') return o;
  const { initialAccumulatorValue, eps } = o as { initialAccumulatorValue: number; eps: number };
  // Where the sum can be 0 (no eps, no initial value) the update is 0 instead of 0 / 0.
  const guarded = eps === 0 && initialAccumulatorValue === 0;
  return {
    slots: ['sumOfSquares'],
    prepare: () => ({
      constants: { eps },
      next: ({ sumOfSquares }) => ({ sumOfSquares }),
    }),
    code: ({ u, slot, store, constant: k }) => {
      const update = guarded
        ? `s > 0 ? ${u} / Math.sqrt(s) : 0`
        : eps === 0
          ? `${u} / Math.sqrt(s)`
          : `${u} / Math.sqrt(s + ${k('eps')})`;
      return `const s = ${slot('sumOfSquares')} + ${u} * ${u}; ${store('sumOfSquares', 's')}
        ${u} = ${update};`;
    },
  };
});

/**
 * Whether each leaf of `tree` (canonical order) is decayed under `mask`, or a
 * reason when the mask does not fit the tree (the composable path then
 * throws its error, naming the path).
 */
function maskedLeaves(mask: MaskTree, tree: Tree): boolean[] | string {
  const out: boolean[] = [];
  const walk = (m: MaskTree, node: Tree): string | undefined => {
    if (typeof m === 'boolean') {
      for (let i = treeFlatten(node).length; i > 0; i--) out.push(m);
      return undefined;
    }
    if (Array.isArray(m)) {
      if (!Array.isArray(node) || node.length !== m.length)
        return 'the mask does not fit the params';
      for (let i = 0; i < m.length; i++) {
        const bad = walk(m[i] as MaskTree, (node as readonly Tree[])[i] as Tree);
        if (bad !== undefined) return bad;
      }
      return undefined;
    }
    if (isTensor(node) || Array.isArray(node)) return 'the mask does not fit the params';
    const record = node as { readonly [key: string]: Tree };
    const maskRecord = m as { readonly [key: string]: MaskTree };
    const keys = treeKeys(record);
    if (keys.some((key) => maskRecord[key] === undefined))
      return 'the mask does not fit the params';
    if (Object.keys(maskRecord).some((key) => !(key in record))) {
      return 'the mask does not fit the params';
    }
    for (const key of keys) {
      const bad = walk(maskRecord[key] as MaskTree, record[key] as Tree);
      if (bad !== undefined) return bad;
    }
    return undefined;
  };
  const bad = walk(mask, tree);
  return bad ?? out;
}

// addDecayedWeights: u + weightDecay · p, where the mask says so.
define('addDecayedWeights', (args) => {
  const o = optionsOf(args[0], {}, ['weightDecay', 'mask']);
  if (typeof o === 'string') return o;
  const { weightDecay, mask } = o as {
    weightDecay?: number;
    mask?: MaskTree | ((params: Tree) => MaskTree);
  };
  if (typeof weightDecay !== 'number') return 'has no weightDecay';
  return {
    prepare: ({ state, params }) => {
      if (weightDecay === 0 || mask === undefined) {
        return { constants: { weightDecay }, next: () => state };
      }
      const m = typeof mask === 'function' ? mask(params) : mask;
      if (typeof mask === 'function') assertMask('addDecayedWeights', m);
      const decayed = maskedLeaves(m, params);
      if (typeof decayed === 'string') return decayed;
      return {
        constants: { weightDecay },
        leafConstants: decayed.map((on) => ({ on: on ? 1 : 0 })),
        next: () => state,
      };
    },
    code: ({ u, p, constant: k }) => {
      if (weightDecay === 0) return '';
      const add = `${u} = ${u} + ${p} * ${k('weightDecay')};`;
      return mask === undefined ? add : `if (${k('on')} !== 0) ${add}`;
    },
  };
});

/** Register this package's fused links (called once by the package's entry module). */
export function registerFusedTransforms(): void {
  for (const [name, factory] of defined) registerFusedLink(name, factory);
}
