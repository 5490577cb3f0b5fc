import type * as tf from '@tensorflow/tfjs-core';
import { injectionOf } from './chainLinks.js';
import { TfoptError } from './errors.js';
import { compileFused, setFusedLinkFactory } from './fusedCompile.js';
import type { GradientTransformation } from './transform.js';
import type { Tree } from './tree.js';

/**
 * One parameter tensor of a fused step, as {@link FusedLink.prepare} sees it.
 *
 * @category Fused steps
 */
export interface FusedLeaf {
  /** Path of the tensor in the parameter tree (canonical order, as `treeFlatten` lists it). */
  readonly path: string;
  /** Its shape. */
  readonly shape: readonly number[];
  /** Its number of elements. */
  readonly size: number;
}

/**
 * The names a {@link FusedLink}'s code uses for the values of one element.
 * Each link's code runs in a block of its own, so `const` locals of one link
 * do not clash with another's.
 *
 * @category Fused steps
 */
export interface FusedNames {
  /** The update flowing through the chain at this link (assign to it to change it). */
  readonly u: string;
  /** The raw gradient of the step (`context.grads`, or the gradients). */
  readonly g: string;
  /** The parameter before the step. */
  readonly p: string;
  /** The value of the state slot `name` before this step. */
  slot(name: string): string;
  /** A statement storing `expression` as the new value of the slot `name`. */
  store(name: string, expression: string): string;
  /** The per-step number `name`, from {@link FusedLink.prepare}. */
  constant(name: string): string;
}

/**
 * Sums over the elements that a link needs before the main pass, by term
 * name: over each leaf, and over the whole tree (the leaves' sums added in
 * canonical order). Computed in float64.
 *
 * @category Fused steps
 */
export interface FusedSums {
  /** The sums over all leaves. */
  readonly total: Readonly<Record<string, number>>;
  /** The sums over each leaf, in canonical order. */
  readonly perLeaf: readonly Readonly<Record<string, number>>[];
}

/**
 * A global (or per-leaf) reduction a link needs before any parameter moves,
 * as `clipByGlobalNorm`'s norm or `egGlobalScale`'s alignment.
 *
 * @category Fused steps
 */
export interface FusedReduction {
  /**
   * Whether a term reads the update `u` (the links before this one then run
   * in the reduction pass too, read-only). Terms of only `g`, `p` and the
   * link's own slots need no such prefix.
   */
  readonly readsUpdate: boolean;
  /** The expressions to sum over every element, by name. */
  readonly terms: (names: FusedNames) => Readonly<Record<string, string>>;
}

/**
 * Numbers for a link's code: the same for every leaf (`constants`) or one
 * record per leaf in canonical order (`leafConstants`, which win).
 *
 * @category Fused steps
 */
export interface FusedConstants {
  /** Numbers shared by every leaf. */
  readonly constants?: Readonly<Record<string, number>>;
  /** Numbers of each leaf, in canonical order. */
  readonly leafConstants?: readonly Readonly<Record<string, number>>[];
}

/**
 * What {@link FusedLink.prepare} returns for one step.
 *
 * @category Fused steps
 */
export interface FusedPrepared extends FusedConstants {
  /** For a link with a {@link FusedReduction}: the numbers that depend on its sums. */
  readonly afterSums?: (sums: FusedSums) => FusedConstants;
  /**
   * The link's next state record, given its new slot trees (shaped like the
   * gradients; an unwritten slot keeps its old tree). It must have the
   * layout the composable `update` returns.
   */
  readonly next: (slots: Readonly<Record<string, Tree>>) => unknown;
}

/**
 * What {@link FusedLink.prepare} receives for one step.
 *
 * @category Fused steps
 */
export interface FusedStepInput {
  /** This link's own state record. */
  readonly state: unknown;
  /** The parameter tensors, in canonical order. */
  readonly leaves: readonly FusedLeaf[];
  /** The parameters (for options that are functions of them, such as a mask). */
  readonly params: Tree;
  /** The value of a scalar tensor of the state, as a number. */
  readonly scalar: (t: tf.Tensor) => number;
}

/**
 * The fused form of one transform: its per-element update as JavaScript
 * statements over named state slots, its per-step numbers (computed in
 * float64 before the pass, from the state record) and optionally a
 * reduction. The engine compiles a chain of links into one loop per
 * parameter tensor. Register one with {@link registerFusedLink} under the
 * spec name of the transform's factory.
 *
 * @category Fused steps
 */
export interface FusedLink {
  /** The state record's per-element entries the code reads (trees shaped like the params). */
  readonly slots?: readonly string[];
  /** The slots it writes; default: all of `slots`. */
  readonly writes?: readonly string[];
  /** Whether the code reads the raw gradient `g`. */
  readonly readsGradient?: boolean;
  /** A reduction over the elements, computed in a read-only pass before the main one. */
  readonly reduction?: FusedReduction;
  /**
   * The slot that, after this link's code, holds exactly the update `u`;
   * lets a later {@link FusedLink.slotIsUpdate} share its tensor.
   */
  readonly updateIsSlot?: string;
  /**
   * A slot whose new value is the incoming update, unchanged; the engine
   * stores it (the code must not), sharing an earlier slot's tensor when the
   * update is exactly that slot (as the composable path's `tf.clone` does).
   */
  readonly slotIsUpdate?: string;
  /**
   * Validate the state and compute this step's numbers. Return a string
   * saying why this state cannot be fused (the composable path then runs).
   * Must not change anything: it may run for a step that then is not fused.
   */
  readonly prepare: (input: FusedStepInput) => FusedPrepared | string;
  /** The per-element statements. */
  readonly code: (names: FusedNames) => string;
}

/**
 * Builds the {@link FusedLink} of a transform from its spec's arguments, or
 * returns a string saying why these arguments have none.
 *
 * @category Fused steps
 */
export type FusedLinkFactory = (args: readonly unknown[]) => FusedLink | string;

/**
 * Make transforms whose spec is named `name` fusable: `stepVariables`,
 * `step` and `TransformOptimizer` then run a chain of such links as one
 * pass over each parameter's data on the cpu and wasm backends. tfopt's
 * packages register their transforms when imported under Node, and with
 * the fused path (see {@link registerFusedLinkLoader}) in a bundle; a later
 * registration under the same name replaces the earlier one.
 *
 * @category Fused steps
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { registerFusedLink, stateless, treeMap, withSpec } from '@tfopt/core';
 * // A transform that halves the updates, and its fused form.
 * const halve = () => withSpec(stateless((u) => treeMap((x) => tf.mul(x, 0.5), u)), 'halve', []);
 * registerFusedLink('halve', () => ({
 *   prepare: ({ state }) => ({ next: () => state }),
 *   code: ({ u }) => `${u} = ${u} * 0.5;`,
 * }));
 * ```
 */
export function registerFusedLink(name: string, factory: FusedLinkFactory): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TfoptError(`registerFusedLink: name must be a non-empty string, got ${String(name)}`);
  }
  if (typeof factory !== 'function') {
    throw new TfoptError(`registerFusedLink: the factory for "${name}" must be a function`);
  }
  setFusedLinkFactory(name, factory);
}

/**
 * Why this transform has no fused form (a link without a spec, or one whose
 * spec names no registered fused link, or options that have none), or
 * `undefined` when it has one. An `injectHyperparams` (or
 * `injectLearningRate`) transform fuses when its inner transform does: each
 * step rebuilds the inner transform from the state's values, as its update
 * does. The backend and the state are checked at
 * each step; see the `fused` option of {@link StepOptions}.
 *
 * @category Fused steps
 * @example
 * ```ts
 * import { whyNotFusable } from '@tfopt/core';
 * import { adam } from '@tfopt/transforms';
 * console.log(whyNotFusable(adam(1e-3))); // undefined
 * ```
 */
export function whyNotFusable(transform: GradientTransformation<any>): string | undefined {
  // injectHyperparams: its inner transform, at the initial hyperparameters.
  const injection = injectionOf(transform as GradientTransformation<unknown>);
  if (injection !== undefined) return whyNotFusable(injection.initial());
  const program = compileFused(transform as GradientTransformation<unknown>);
  return typeof program === 'string' ? program : undefined;
}
