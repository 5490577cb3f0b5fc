/**
 * Base class of every error tfopt throws on purpose, so callers can tell a
 * misuse of the library from a failure inside tfjs.
 *
 * @category Errors
 */
export class TfoptError extends Error {
  override name = 'TfoptError';
}

/**
 * An option passed to a transform, schedule or alias is outside its allowed
 * range. Thrown at construction, before any tensor exists.
 *
 * @category Errors
 * @example
 * ```ts
 * import { InvalidOptionError } from '@tfopt/core';
 * const err = new InvalidOptionError('adam', 'b1', 1.5, 'a number in [0, 1)');
 * console.log(err.message); // adam: option "b1" must be a number in [0, 1), got 1.5
 * ```
 */
export class InvalidOptionError extends TfoptError {
  override name = 'InvalidOptionError';
  constructor(
    /** The transform, schedule or alias that received the option. */
    readonly owner: string,
    /** The option's name as the user spells it. */
    readonly option: string,
    /** The value that was passed. */
    readonly value: unknown,
    /** What would have been accepted, in words. */
    readonly expected: string,
  ) {
    super(`${owner}: option "${option}" must be ${expected}, got ${formatValue(value)}`);
  }
}

/**
 * Two trees that must share a structure do not, or a leaf is not what the
 * operation needs (not a tensor, disposed, another shape or dtype). `path`
 * names the first offending place in the tree; the message names the trees
 * as the caller knows them, e.g. `grads.w has shape [4] but params.w has [2, 2]`.
 *
 * @category Errors
 */
export class TreeStructureError extends TfoptError {
  override name = 'TreeStructureError';
  constructor(
    /** Path of the first mismatch, e.g. `["dense/kernel"]` or `.layers[1].w`. */
    readonly path: string,
    /** What is wrong there, without the tree's name. */
    readonly detail: string,
    /** The whole message; by default `tree mismatch at <path>: <detail>`. */
    message?: string,
  ) {
    super(message ?? `tree mismatch at ${path === '' ? '(root)' : path}: ${detail}`);
  }
}

function formatValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  return Array.isArray(value) ? 'an array' : typeof value;
}
