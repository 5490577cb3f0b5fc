import type { GradientTransformation } from './transform.js';

/**
 * How a transform (or schedule) was built: the name of its public factory and
 * the arguments it was called with. Arguments are JSON-like values, nested
 * specs, or schedules that carry a spec. A spec is what lets an optimizer be
 * saved with a model and rebuilt when it is loaded.
 *
 * @category Specs
 */
export interface TransformSpec {
  /** The factory's name, e.g. `"adam"` or `"egGlobalScale"`. */
  readonly name: string;
  /** The arguments the factory was called with, in order. */
  readonly args: readonly unknown[];
}

/** Anything that can carry a spec. @category Specs */
export interface HasSpec {
  /** Present when the value was built by a factory that records its arguments. */
  readonly spec?: TransformSpec;
}

/**
 * Attach a spec to a transform returned by a public factory. Every tfopt
 * factory does this; user-written transforms may too, after registering a
 * factory of the same name where specs are revived.
 *
 * @category Specs
 * @example
 * ```ts
 * import { withSpec, identity } from '@tfopt/core';
 * const tx = withSpec(identity(), 'identity', []);
 * tx.spec; // { name: 'identity', args: [] }
 * ```
 */
export function withSpec<T extends GradientTransformation<any>>(
  transform: T,
  name: string,
  args: readonly unknown[],
): T {
  return Object.assign({}, transform, { spec: { name, args: trimTrailingUndefined(args) } });
}

/**
 * Attach a spec to a schedule function (or any function), keeping it callable.
 *
 * @category Specs
 */
export function withFunctionSpec<F extends (...args: never[]) => unknown>(
  fn: F,
  name: string,
  args: readonly unknown[],
): F & HasSpec {
  return Object.assign(fn, { spec: { name, args: trimTrailingUndefined(args) } });
}

/** The spec of a transform or schedule, if it has one. @category Specs */
export function specOf(value: unknown): TransformSpec | undefined {
  if (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    'spec' in value
  ) {
    return (value as HasSpec).spec;
  }
  return undefined;
}

function trimTrailingUndefined(args: readonly unknown[]): readonly unknown[] {
  let end = args.length;
  while (end > 0 && args[end - 1] === undefined) end--;
  return args.slice(0, end);
}
