// Internal: the links of every chain, so that the fused path can see through
// an alias (`withSpec(chain(...), 'adam', ...)` replaces the chain's spec but
// keeps its update function), and the inner transform of every
// injectHyperparams. Not exported from the package.
import type { GradientTransformation } from './transform.js';

// Keyed by the chain's update function: withSpec and object spreads copy it,
// and a transform whose update was replaced is not taken for the chain.
const linksByUpdate = new WeakMap<object, readonly GradientTransformation<unknown>[]>();

/** Remember that `update` runs `links` in order (called by `chain`). */
export function recordChainLinks(
  update: GradientTransformation<unknown>['update'],
  links: readonly GradientTransformation<unknown>[],
): void {
  linksByUpdate.set(update, links);
}

/** The links of `transform` when it is a `chain` (or an alias of one), else undefined. */
export function chainLinksOf(
  transform: GradientTransformation<unknown>,
): readonly GradientTransformation<unknown>[] | undefined {
  return linksByUpdate.get(transform.update);
}

/** The hyperparameter values of an update and the inner transform built from them. */
export interface Injection {
  readonly values: Record<string, number>;
  readonly inner: GradientTransformation<unknown>;
}

/** How an injectHyperparams transform builds its inner transform. */
export interface Injector {
  /** This update's values (schedules evaluated at the state's count) and inner transform. */
  readonly forState: (state: unknown) => Injection;
  /** The inner transform at the initial values. */
  readonly initial: () => GradientTransformation<unknown>;
}

const injections = new WeakMap<object, Injector>();

/** Remember how `update` (of injectHyperparams) builds its inner transform. */
export function recordInjection(
  update: GradientTransformation<unknown>['update'],
  injector: Injector,
): void {
  injections.set(update, injector);
}

/** For a transform built by injectHyperparams (or injectLearningRate): how it builds its inner transform. */
export function injectionOf(transform: GradientTransformation<unknown>): Injector | undefined {
  return injections.get(transform.update);
}
