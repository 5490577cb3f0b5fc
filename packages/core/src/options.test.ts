import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, TfoptError } from './index.js';
import {
  assertKnownOptions,
  assertOptions,
  boolean,
  decayRate,
  finite,
  fraction,
  inRange,
  nonNegative,
  nonNegativeInteger,
  numberOrFunction,
  type OptionRule,
  oneOf,
  positive,
  positiveInteger,
  validateOptions,
} from './options.js';

const NON_NUMBERS = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  '1',
  undefined,
  null,
  true,
  [1],
];

const TABLE: [string, OptionRule<unknown>, unknown[], unknown[]][] = [
  ['finite', finite, [0, -3.5, 1e300, -0], NON_NUMBERS],
  ['positive', positive, [1e-12, 5], [0, -1, ...NON_NUMBERS]],
  ['nonNegative', nonNegative, [0, 2.5], [-1e-9, -1, ...NON_NUMBERS]],
  ['nonNegativeInteger', nonNegativeInteger, [0, 3, 1e6], [1.5, -1, ...NON_NUMBERS]],
  ['positiveInteger', positiveInteger, [1, 10], [0, 0.5, -1, ...NON_NUMBERS]],
  ['decayRate', decayRate, [0, 0.9, 0.999], [1, -0.1, 1.5, ...NON_NUMBERS]],
  ['fraction', fraction, [0, 0.5, 1], [1.0001, -0.1, ...NON_NUMBERS]],
  ['inRange [0, 2]', inRange(0, 2), [0, 1, 2], [-0.1, 2.1, ...NON_NUMBERS]],
  ['inRange (0, 2)', inRange(0, 2, { lowerOpen: true, upperOpen: true }), [0.1, 1.9], [0, 2]],
  ['oneOf', oneOf('sign', 'cosine'), ['sign', 'cosine'], ['Sign', '', 1, undefined]],
  ['boolean', boolean, [true, false], ['true', 0, 1, undefined, null]],
  ['numberOrFunction', numberOrFunction(positive), [1, () => 1], [0, -1, '1', Number.NaN]],
];

describe('option rules', () => {
  for (const [name, check, good, bad] of TABLE) {
    it(`${name} accepts and rejects the right values`, () => {
      for (const v of good) {
        const r = check('owner', 'opt', v);
        expect(E.isRight(r), `${name} should accept ${String(v)}`).toBe(true);
        if (E.isRight(r)) expect(r.right).toBe(v);
      }
      for (const v of bad) {
        const r = check('owner', 'opt', v);
        expect(E.isLeft(r), `${name} should reject ${String(v)}`).toBe(true);
        if (E.isLeft(r)) {
          expect(r.left).toBeInstanceOf(InvalidOptionError);
          expect(r.left.owner).toBe('owner');
          expect(r.left.option).toBe('opt');
          expect(r.left.value).toBe(v);
        }
      }
    });
  }

  it('error messages name the owner, option, expected range and value', () => {
    const message = (r: E.Either<InvalidOptionError, unknown>) =>
      E.isLeft(r) ? r.left.message : '';
    expect(message(positive('adam', 'eps', -1))).toBe(
      'adam: option "eps" must be a finite number > 0, got -1',
    );
    expect(message(decayRate('adam', 'b1', 1.5))).toBe(
      'adam: option "b1" must be a number in [0, 1), got 1.5',
    );
    expect(message(finite('sgd', 'lr', Number.NaN))).toBe(
      'sgd: option "lr" must be a finite number, got NaN',
    );
    expect(message(nonNegativeInteger('x', 'steps', '3'))).toBe(
      'x: option "steps" must be an integer >= 0, got "3"',
    );
    expect(message(inRange(0, 1, { lowerOpen: true })('x', 'p', 0))).toBe(
      'x: option "p" must be a number in (0, 1], got 0',
    );
    expect(message(oneOf('a', 'b')('x', 'mode', 'c'))).toBe(
      'x: option "mode" must be one of "a", "b", got "c"',
    );
    expect(message(boolean('x', 'flag', null))).toBe(
      'x: option "flag" must be true or false, got null',
    );
    expect(message(finite('x', 'v', undefined))).toBe(
      'x: option "v" must be a finite number, got undefined',
    );
    expect(message(finite('x', 'v', {}))).toBe('x: option "v" must be a finite number, got object');
    expect(message(finite('x', 'v', () => 1))).toBe(
      'x: option "v" must be a finite number, got a function',
    );
  });
});

describe('validateOptions and assertOptions', () => {
  it('return Right when every option passes', () => {
    expect(validateOptions('adam', { b1: [0.9, decayRate], eps: [1e-8, positive] })).toEqual(
      E.right(undefined),
    );
    expect(validateOptions('empty', {})).toEqual(E.right(undefined));
    expect(assertOptions('adam', { b1: [0.9, decayRate] })).toBeUndefined();
  });

  it('return the first failure as a Left, in the order given', () => {
    const r = validateOptions('adam', {
      b1: [0.9, decayRate],
      b2: [2, decayRate],
      eps: [-1, positive],
    });
    expect(E.isLeft(r)).toBe(true);
    if (E.isLeft(r)) {
      expect(r.left.option).toBe('b2');
      expect(r.left.expected).toBe('a number in [0, 1)');
    }
  });

  it('assertOptions throws the InvalidOptionError', () => {
    const call = () => assertOptions('adam', { eps: [0, positive] });
    expect(call).toThrow(InvalidOptionError);
    expect(call).toThrow(TfoptError);
    expect(call).toThrow('adam: option "eps" must be a finite number > 0, got 0');
    try {
      call();
    } catch (e) {
      expect((e as Error).name).toBe('InvalidOptionError');
    }
  });
});

describe('assertKnownOptions', () => {
  const known = ['b1', 'b2'] as const;
  it('accepts undefined unless required, and known keys', () => {
    expect(() => assertKnownOptions('adam', undefined, known)).not.toThrow();
    expect(() => assertKnownOptions('adam', { b1: 0.9 }, known)).not.toThrow();
    expect(() => assertKnownOptions('sched', undefined, known, { required: true })).toThrow(
      'sched: option "options" must be an object such as { b1, b2 }, got undefined',
    );
  });
  it('rejects misspelt keys and non-objects, naming them', () => {
    expect(() => assertKnownOptions('adam', { beta1: 0.9 }, known)).toThrow(
      'adam: option "beta1" must be absent (adam takes b1, b2), got 0.9',
    );
    expect(() => assertKnownOptions('adam', [1], known)).toThrow(InvalidOptionError);
    expect(() => assertKnownOptions('adam', 3, known)).toThrow('got 3');
  });
});
