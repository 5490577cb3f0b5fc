// Internal: compiling a chain of fused links into JavaScript passes. Not exported from the package.
import { chainLinksOf, injectionOf } from './chainLinks.js';
import { TfoptError } from './errors.js';
import type { FusedLink, FusedLinkFactory, FusedNames, FusedReduction } from './fused.js';
import { specOf } from './spec.js';
import type { GradientTransformation } from './transform.js';

const factories = new Map<string, FusedLinkFactory>([
  // The identity has nothing to do and an empty state.
  ['identity', () => ({ prepare: ({ state }) => ({ next: () => state }), code: () => '' })],
]);

let compiled = new WeakMap<object, Program | string>();

/** Bind `name` to `factory` (see `registerFusedLink`). */
export function setFusedLinkFactory(name: string, factory: FusedLinkFactory): void {
  factories.set(name, factory);
  // Transforms compiled before may now have a fused form (or another one).
  compiled = new WeakMap();
}

/** The nested tuple layout of a chain's state: a link's index, or a tuple of layouts. */
export type StateShape = number | readonly StateShape[];

export interface Link {
  readonly fused: FusedLink;
  /** Indices into the nested state tuple. */
  readonly path: readonly number[];
  readonly name: string;
  readonly slots: readonly string[];
  readonly writes: readonly string[];
  /** A slot of an earlier link whose tensor this link's `slotIsUpdate` slot shares. */
  readonly shares?: { readonly link: number; readonly slot: string };
}

export interface Program {
  readonly links: readonly Link[];
  readonly shape: StateShape;
  readonly readsGradient: boolean;
  /** Reduction stages, in order: the reducing links of each and the prefix they need. */
  readonly stages: readonly { readonly reducers: readonly number[]; readonly prefix: number }[];
  /** Index in the constants array of `${link}:${name}`. */
  readonly constants: Map<string, number>;
  /** Position in the array list of `${link}:in:${slot}` / `${link}:out:${slot}`. */
  readonly arrays: Map<string, number>;
  readonly functions: Map<string, Generated>;
}

export type GeneratedFunction = (
  n: number,
  arrays: readonly Float32Array[],
  constants: Float64Array,
  sums: Float64Array,
) => number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Why `transform` has no fused form, or the compiled program. Cached per transform. */
export function compileFused(transform: GradientTransformation<unknown>): Program | string {
  const cached = compiled.get(transform);
  if (cached !== undefined) return cached;
  const out = build(transform);
  compiled.set(transform, out);
  return out;
}

function build(transform: GradientTransformation<unknown>): Program | string {
  const links: Link[] = [];
  const flatten = (tx: GradientTransformation<unknown>, path: number[]): StateShape | string => {
    const children = chainLinksOf(tx);
    if (children !== undefined) {
      const shapes: StateShape[] = [];
      for (let i = 0; i < children.length; i++) {
        const s = flatten(children[i] as GradientTransformation<unknown>, [...path, i]);
        if (typeof s === 'string') return s;
        shapes.push(s);
      }
      return shapes;
    }
    if (injectionOf(tx) !== undefined) {
      return 'injectHyperparams fuses as the whole transform only, not as a link of a chain';
    }
    const spec = specOf(tx);
    if (spec === undefined) return 'a link has no spec (built by stateless() or by hand)';
    const factory = factories.get(spec.name);
    if (factory === undefined) return `"${spec.name}" has no fused form`;
    const fused = factory(spec.args);
    if (typeof fused === 'string') return `"${spec.name}" ${fused}`;
    const slots = fused.slots ?? [];
    const writes = fused.writes ?? slots;
    for (const name of slots) {
      if (!IDENTIFIER.test(name)) return `"${spec.name}" has a slot name that is not an identifier`;
    }
    links.push({ fused, path, name: spec.name, slots, writes });
    return links.length - 1;
  };
  const shape = flatten(transform, []);
  if (typeof shape === 'string') return shape;

  // Stage of a reduction: 0 when its terms need no update; else one after every earlier reduction.
  const stageOf: number[] = [];
  let latest = -1;
  links.forEach((link, i) => {
    const r = link.fused.reduction;
    if (r === undefined) return;
    stageOf[i] = r.readsUpdate ? latest + 1 : 0;
    latest = Math.max(latest, stageOf[i] as number);
  });
  const stages = Array.from({ length: latest + 1 }, (_, s) => {
    const reducers = links.flatMap((_, i) => (stageOf[i] === s ? [i] : []));
    const prefix = Math.max(
      0,
      ...reducers.filter((i) => links[i]?.fused.reduction?.readsUpdate === true),
    );
    return { reducers, prefix };
  });

  // A slot storing the incoming update shares an earlier slot's tensor when the update is exactly it.
  let source: { link: number; slot: string } | undefined;
  const shared = links.map((link, i) => {
    const out: Link =
      link.fused.slotIsUpdate !== undefined && source !== undefined
        ? { ...link, shares: source }
        : link;
    if (link.fused.updateIsSlot !== undefined) source = { link: i, slot: link.fused.updateIsSlot };
    else if (generatesCode(link.fused)) source = undefined;
    return out;
  });

  const arrays = new Map<string, number>();
  let next = 4; // grads, raw grads, params, new params
  shared.forEach((link, i) => {
    for (const slot of link.slots) arrays.set(`${i}:in:${slot}`, next++);
    for (const slot of link.writes) arrays.set(`${i}:out:${slot}`, next++);
    const own = link.fused.slotIsUpdate;
    if (own !== undefined && link.shares === undefined) arrays.set(`${i}:out:${own}`, next++);
  });
  return {
    links: shared,
    shape,
    readsGradient: shared.some((l) => l.fused.readsGradient === true),
    stages,
    constants: new Map(),
    arrays,
    functions: new Map(),
  };
}

function generatesCode(link: FusedLink): boolean {
  const probe: FusedNames = {
    u: 'u',
    g: 'g',
    p: 'p',
    slot: (n) => n,
    store: () => 'x;',
    constant: (n) => n,
  };
  return link.code(probe).trim() !== '';
}

/** JavaScript for one pass: the main pass (`stage` undefined) or a reduction stage. */
function generate(
  program: Program,
  stage: number | undefined,
  options: Variant,
): { body: string; loop: string; terms: string[]; arrays: number[]; constants: number[] } {
  const lines: string[] = [];
  const usedArrays = new Set<number>();
  const usedConstants = new Set<number>();
  const arrayName = (key: string): string => {
    const at = program.arrays.get(key);
    if (at === undefined) throw new TfoptError(`fused: internal error, no array ${key}`);
    usedArrays.add(at);
    return `A${at}`;
  };
  const constantName = (link: number, name: string): string => {
    if (!IDENTIFIER.test(name)) {
      throw new TfoptError(`fused: constant name "${name}" is not an identifier`);
    }
    const key = `${link}:${name}`;
    let at = program.constants.get(key);
    if (at === undefined) {
      at = program.constants.size;
      program.constants.set(key, at);
    }
    usedConstants.add(at);
    return `K${at}`;
  };
  const readOnly = stage !== undefined;
  const namesFor = (i: number, loads: string[]): FusedNames => {
    const link = program.links[i] as Link;
    const loaded = new Set<string>();
    return {
      u: 'u',
      g: 'g',
      p: 'p',
      slot: (name) => {
        if (!link.slots.includes(name)) {
          throw new TfoptError(`fused: "${link.name}" reads slot "${name}" it does not declare`);
        }
        const local = `s${i}_${name}`;
        if (!loaded.has(name)) {
          loaded.add(name);
          loads.push(`const ${local} = ${arrayName(`${i}:in:${name}`)}[i];`);
        }
        return local;
      },
      store: (name, expression) => {
        if (!link.writes.includes(name)) {
          throw new TfoptError(`fused: "${link.name}" writes slot "${name}" it does not declare`);
        }
        return readOnly ? '' : `${arrayName(`${i}:out:${name}`)}[i] = ${expression};`;
      },
      constant: (name) => constantName(i, name),
    };
  };
  const linkBlock = (i: number): string => {
    const link = program.links[i] as Link;
    const loads: string[] = [];
    const own = link.fused.slotIsUpdate;
    const keep = own !== undefined && link.shares === undefined && !readOnly;
    const pre = keep ? `${arrayName(`${i}:out:${own}`)}[i] = u;` : '';
    const body = link.fused.code(namesFor(i, loads));
    if (pre === '' && body.trim() === '' && loads.length === 0) return '';
    return `{ ${loads.join(' ')} ${pre} ${body} }`;
  };
  const accumulators: string[] = [];
  const termBlock = (i: number): string => {
    const link = program.links[i] as Link;
    const reduction = link.fused.reduction as FusedReduction;
    const loads: string[] = [];
    const terms = reduction.terms(namesFor(i, loads));
    const adds = Object.entries(terms).map(([name, expression]) => {
      const at = accumulators.length;
      accumulators.push(`${i}:${name}`);
      return `r${at} += ${expression};`;
    });
    return `{ ${loads.join(' ')} ${adds.join(' ')} }`;
  };

  if (stage === undefined) {
    program.links.forEach((_, i) => {
      lines.push(linkBlock(i));
    });
    lines.push('A3[i] = p + u;');
    usedArrays.add(3);
    if (options.checkFinite) {
      // The update as the float32 it stands for: NaN or ±Infinity ends the pass.
      lines.push('{ const f = Math.fround(u); if (f - f !== 0) return 1; }');
    }
  } else {
    const { reducers, prefix } = program.stages[stage] as { reducers: number[]; prefix: number };
    for (const i of reducers) {
      if (program.links[i]?.fused.reduction?.readsUpdate !== true) lines.push(termBlock(i));
    }
    for (let i = 0; i <= prefix; i++) {
      if (reducers.includes(i) && program.links[i]?.fused.reduction?.readsUpdate === true) {
        lines.push(termBlock(i));
      }
      if (i < prefix) lines.push(linkBlock(i));
    }
  }
  // Load the update, gradient and parameter only where the pass reads them (a reduction of
  // g and a slot then reads two arrays, not four).
  const text = lines.join('\n');
  const mentions = (name: string) => new RegExp(`\\b${name}\\b`).test(text);
  const readsG = mentions('g');
  const readsU = mentions('u') || (readsG && !options.rawDistinct);
  const preamble: string[] = [];
  if (readsU) {
    preamble.push('let u = A0[i];');
    usedArrays.add(0);
  }
  if (readsG) {
    preamble.push(options.rawDistinct ? 'const g = A1[i];' : 'const g = u;');
    if (options.rawDistinct) usedArrays.add(1);
  }
  if (mentions('p')) {
    preamble.push('const p = A2[i];');
    usedArrays.add(2);
  }
  lines.unshift(...preamble);
  const head = [
    ...[...usedArrays].sort((a, b) => a - b).map((a) => `const A${a} = arrays[${a}];`),
    ...[...usedConstants].sort((a, b) => a - b).map((k) => `const K${k} = constants[${k}];`),
    ...accumulators.map((_, k) => `let r${k} = 0;`),
  ];
  const tail = accumulators.map((_, k) => `sums[${k}] = r${k};`);
  const loop = lines.filter((l) => l !== '');
  const body = [
    '"use strict";',
    ...head,
    'for (let i = 0; i < n; i++) {',
    ...loop,
    '}',
    ...tail,
    'return 0;',
  ].join('\n');
  return {
    body,
    loop: loop.join('\n'),
    terms: accumulators,
    arrays: [...usedArrays].sort((a, b) => a - b),
    constants: [...usedConstants].sort((a, b) => a - b),
  };
}

export interface Variant {
  readonly checkFinite: boolean;
  readonly rawDistinct: boolean;
}

export interface Generated {
  readonly fn: GeneratedFunction;
  /** The statements of the loop's body (over `i`), for the WebAssembly compiler. */
  readonly loop: string;
  /** `${link}:${term}` of each accumulator of a reduction pass. */
  readonly terms: readonly string[];
  /** Indices of the arrays the pass reads or writes, ascending. */
  readonly arrays: readonly number[];
  /** Indices of the constants the pass reads, ascending. */
  readonly constants: readonly number[];
}

// Programs with the same code share one function (and V8's optimised code for it).
const byBody = new Map<string, GeneratedFunction>();
const MAX_SHARED = 256;

/** The function of one pass, generated once per program and variant. */
export function passFunction(
  program: Program,
  stage: number | undefined,
  options: Variant,
): Generated | string {
  const key = `${stage ?? 'main'}:${options.checkFinite ? 1 : 0}${options.rawDistinct ? 1 : 0}`;
  let generated = program.functions.get(key);
  if (generated === undefined) {
    const { body, loop, terms, arrays, constants } = generate(program, stage, options);
    let fn = byBody.get(body);
    if (fn === undefined) {
      try {
        fn = new Function('n', 'arrays', 'constants', 'sums', body) as GeneratedFunction;
      } catch (e) {
        return `this environment does not allow generated code (${(e as Error).message})`;
      }
      if (byBody.size >= MAX_SHARED) byBody.clear();
      byBody.set(body, fn);
    }
    generated = { fn, loop, terms, arrays, constants };
    program.functions.set(key, generated);
  }
  return generated;
}
