// Internal: reading an options object at construction. Not exported from the package.
import { InvalidOptionError } from '@tfopt/core';
import { assertKnownOptions, assertOptions, type OptionRule } from '@tfopt/core/options';

/** Rules for every accepted option key; `null` for options the caller checks itself. */
export type OptionRules<O> = { readonly [K in keyof Required<O>]: OptionRule<unknown> | null };

/**
 * Check an options argument: `undefined` or a plain object whose keys are all
 * known and whose values pass their rules. A missing or `undefined` value takes
 * the default; an option without a default stays absent and is not checked.
 * Unknown keys are rejected because a misspelt option (`beta1` for `b1`) would
 * otherwise be silently ignored.
 */
export function readOptions<O extends object, D extends Partial<O>>(
  owner: string,
  given: O | undefined,
  rules: OptionRules<O>,
  defaults: D,
): O & Required<Pick<O, keyof D & keyof O>> {
  const known = Object.keys(rules);
  assertKnownOptions(owner, given, known);
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(given ?? {})) {
    if (value !== undefined) out[key] = value;
  }
  const checks: Record<string, readonly [unknown, OptionRule<unknown>]> = {};
  for (const key of known) {
    const rule = rules[key as keyof O];
    if (out[key] !== undefined && rule !== null) checks[key] = [out[key], rule];
  }
  assertOptions(owner, checks);
  return out as O & Required<Pick<O, keyof D & keyof O>>;
}

/** Throw unless `value` is a function (a schedule or callback). */
export function assertFunction(owner: string, option: string, value: unknown): void {
  if (typeof value !== 'function') {
    throw new InvalidOptionError(owner, option, value, 'a function');
  }
}

/** Throw unless a required option (one without a default) was given. */
export function requireOption<T>(
  owner: string,
  option: string,
  value: T | undefined,
  expected: string,
): asserts value is T {
  if (value === undefined) throw new InvalidOptionError(owner, option, value, expected);
}
