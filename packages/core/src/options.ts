/**
 * Option validation for transform authors: rules that check one option each
 * (as an fp-ts `Either`), and the helpers tfopt's own factories call at
 * construction. Import from `@tfopt/core/options`; the main entry point
 * keeps only what training code needs.
 *
 * @packageDocumentation
 * @module options
 */
import type { Either } from 'fp-ts/lib/Either.js';
import { InvalidOptionError } from './errors.js';

// An fp-ts Either is a plain tagged object, so the rules build it themselves:
// fp-ts's runtime ships as CommonJS, which bundlers cannot tree-shake, and
// would otherwise be most of a browser bundle. The values are fp-ts's own
// (`E.isLeft`, `E.match`, `pipe` work on them).
const right = <A>(a: A): Either<never, A> => ({ _tag: 'Right', right: a });
const left = <L>(e: L): Either<L, never> => ({ _tag: 'Left', left: e });

/**
 * A check on one option: the value passes through on the right, or an
 * {@link InvalidOptionError} on the left names the option and what was expected.
 *
 * @category Options
 */
export type OptionRule<A = number> = (
  owner: string,
  option: string,
  value: unknown,
) => Either<InvalidOptionError, A>;

const rule =
  (expected: string, ok: (v: number) => boolean): OptionRule =>
  (owner, option, value) =>
    typeof value === 'number' && Number.isFinite(value) && ok(value)
      ? right(value)
      : left(new InvalidOptionError(owner, option, value, expected));

/** A finite number. @category Options */
export const finite: OptionRule = rule('a finite number', () => true);
/** A finite number `> 0`. @category Options */
export const positive: OptionRule = rule('a finite number > 0', (v) => v > 0);
/** A finite number `>= 0`. @category Options */
export const nonNegative: OptionRule = rule('a finite number >= 0', (v) => v >= 0);
/** An integer `>= 0`. @category Options */
export const nonNegativeInteger: OptionRule = rule(
  'an integer >= 0',
  (v) => Number.isInteger(v) && v >= 0,
);
/** An integer `>= 1`. @category Options */
export const positiveInteger: OptionRule = rule(
  'an integer >= 1',
  (v) => Number.isInteger(v) && v >= 1,
);
/** A decay rate in `[0, 1)`, e.g. Adam's `b1`. @category Options */
export const decayRate: OptionRule = rule('a number in [0, 1)', (v) => v >= 0 && v < 1);
/** A fraction in `[0, 1]`. @category Options */
export const fraction: OptionRule = rule('a number in [0, 1]', (v) => v >= 0 && v <= 1);

/**
 * A number in a closed or half-open interval.
 *
 * @category Options
 * @example
 * ```ts
 * import { inRange } from '@tfopt/core/options';
 * const gainRate = inRange(0, 1, { upperOpen: true });
 * ```
 */
export function inRange(
  low: number,
  high: number,
  { lowerOpen = false, upperOpen = false }: { lowerOpen?: boolean; upperOpen?: boolean } = {},
): OptionRule {
  const text = `a number in ${lowerOpen ? '(' : '['}${low}, ${high}${upperOpen ? ')' : ']'}`;
  return rule(text, (v) => (lowerOpen ? v > low : v >= low) && (upperOpen ? v < high : v <= high));
}

/**
 * One of a fixed set of strings.
 *
 * @category Options
 */
export function oneOf<const T extends string>(...allowed: readonly T[]): OptionRule<T> {
  return (owner, option, value) =>
    typeof value === 'string' && (allowed as readonly string[]).includes(value)
      ? right(value as T)
      : left(
          new InvalidOptionError(
            owner,
            option,
            value,
            `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
          ),
        );
}

/** A boolean. @category Options */
export const boolean: OptionRule<boolean> = (owner, option, value) =>
  typeof value === 'boolean'
    ? right(value)
    : left(new InvalidOptionError(owner, option, value, 'true or false'));

/**
 * A number checked by `numberRule`, or a function (a schedule or a callback),
 * which is checked when called.
 *
 * @category Options
 */
export function numberOrFunction(
  numberRule: OptionRule,
): OptionRule<number | ((...args: never[]) => unknown)> {
  return (owner, option, value) =>
    typeof value === 'function'
      ? right(value as (...args: never[]) => unknown)
      : numberRule(owner, option, value);
}

/**
 * Check several options of one owner; the first failure wins.
 *
 * @category Options
 * @example
 * ```ts
 * import { validateOptions, decayRate, positive } from '@tfopt/core/options';
 * const checked = validateOptions('adam', { b1: [0.9, decayRate], eps: [1e-8, positive] });
 * // checked is Right(undefined); with b1: 1.5 it is Left(InvalidOptionError)
 * ```
 */
export function validateOptions(
  owner: string,
  checks: Record<string, readonly [unknown, OptionRule<unknown>]>,
): Either<InvalidOptionError, void> {
  for (const [option, [value, check]] of Object.entries(checks)) {
    const result = check(owner, option, value);
    if (result._tag === 'Left') return result;
  }
  return right(undefined);
}

/**
 * {@link validateOptions}, then throw the {@link InvalidOptionError} if any.
 * Transforms call this at construction.
 *
 * @category Options
 */
export function assertOptions(
  owner: string,
  checks: Record<string, readonly [unknown, OptionRule<unknown>]>,
): void {
  const result = validateOptions(owner, checks);
  if (result._tag === 'Left') throw result.left;
}

/**
 * Throw unless `options` is a plain object whose keys are all in `known`
 * (or `undefined`, unless `required`). A misspelt option (`beta1` for `b1`)
 * then fails at construction instead of silently taking its default.
 *
 * @category Options
 * @example
 * ```ts
 * import { assertKnownOptions } from '@tfopt/core/options';
 * assertKnownOptions('adam', { b1: 0.9 }, ['b1', 'b2', 'eps']); // passes
 * // assertKnownOptions('adam', { beta1: 0.9 }, ['b1', 'b2', 'eps']) throws:
 * // adam: option "beta1" must be absent (adam takes b1, b2, eps), got 0.9
 * ```
 */
export function assertKnownOptions(
  owner: string,
  options: unknown,
  known: readonly string[],
  { required = false }: { required?: boolean } = {},
): void {
  if (options === undefined && !required) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(
      owner,
      'options',
      options,
      `an object such as { ${known.join(', ')} }`,
    );
  }
  for (const [key, value] of Object.entries(options)) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(
        owner,
        key,
        value,
        `absent (${owner} takes ${known.join(', ')})`,
      );
    }
  }
}
