import * as contrib from '@tfopt/contrib';
import {
  chain,
  type GradientTransformation,
  identity,
  injectHyperparams,
  injectLearningRate,
  isPlainRecord,
  isTensor,
  isTransform,
  specOf,
  TfoptError,
  type TransformSpec,
} from '@tfopt/core';
import {
  egAdagrad,
  egAdam,
  egCoordinateGains,
  egGlobalScale,
  egSgdm,
  hypergradientScale,
} from '@tfopt/eg';
import {
  constantSchedule,
  cosineDecaySchedule,
  exponentialDecaySchedule,
  joinSchedules,
  linearSchedule,
  piecewiseConstantSchedule,
  polynomialSchedule,
  warmupConstantSchedule,
  warmupCosineDecaySchedule,
} from '@tfopt/schedules';
import {
  adagrad,
  adam,
  adamw,
  addDecayedWeights,
  applyIfFinite,
  clip,
  clipByGlobalNorm,
  ema,
  rmsprop,
  scale,
  scaleByAdagrad,
  scaleByAdam,
  scaleByLearningRate,
  scaleByRms,
  scaleBySchedule,
  scaleByStddev,
  sgd,
  trace,
} from '@tfopt/transforms';

/**
 * A function that builds a transform, a schedule or another factory from the
 * arguments recorded in a spec: `factory(...spec.args)`.
 *
 * @category Serialization
 */
export type TransformFactory = (...args: any[]) => unknown;

/**
 * A transform or schedule cannot be written into a saved model: it has no
 * spec, its spec names an unregistered factory, or an argument is not plain
 * data. The message says where and how to fix it.
 *
 * @category Errors
 */
export class NotSerializableError extends TfoptError {
  override name = 'NotSerializableError';
}

const byName = new Map<string, TransformFactory>();
const byFunction = new Map<TransformFactory, string>();

/**
 * Make `factory` available under `name` when optimizers are saved and loaded.
 * A spec `{ name, args }` is revived as `factory(...args)`; a function passed
 * as an argument (say, the factory given to `injectHyperparams`) is saved by
 * the name it is registered under. Register in the program that saves and in
 * the one that loads. Every tfopt factory is registered already; replacing
 * one of them, or any name bound to a different function, needs
 * `{ replace: true }`.
 *
 * @category Serialization
 * @example
 * ```ts
 * import { chain, withSpec } from '@tfopt/core';
 * import { registerTransformFactory } from '@tfopt/layers';
 * import { scale, trace } from '@tfopt/transforms';
 * function myMomentum(decay: number, lr: number) {
 *   return withSpec(chain(trace({ decay }), scale(-lr)), 'myMomentum', [decay, lr]);
 * }
 * registerTransformFactory('myMomentum', myMomentum);
 * ```
 */
export function registerTransformFactory(
  name: string,
  factory: TransformFactory,
  { replace = false }: { replace?: boolean } = {},
): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TfoptError(
      `registerTransformFactory: name must be a non-empty string, got ${String(name)}`,
    );
  }
  if (typeof factory !== 'function') {
    throw new TfoptError(`registerTransformFactory: factory for "${name}" must be a function`);
  }
  const existing = byName.get(name);
  if (existing !== undefined && existing !== factory && !replace) {
    throw new TfoptError(
      `registerTransformFactory: "${name}" is already bound to another function; pass { replace: true } to rebind it`,
    );
  }
  if (existing !== undefined) byFunction.delete(existing);
  byName.set(name, factory);
  byFunction.set(factory, name);
}

/**
 * The factory registered under `name`, if any.
 *
 * @category Serialization
 */
export function getTransformFactory(name: string): TransformFactory | undefined {
  return byName.get(name);
}

/**
 * The names of every registered factory, sorted.
 *
 * @category Serialization
 */
export function registeredTransformFactories(): string[] {
  return [...byName.keys()].sort();
}

const BUILT_IN: Record<string, TransformFactory> = {
  // core
  identity,
  chain,
  injectHyperparams,
  injectLearningRate,
  // transforms and aliases
  scale,
  scaleBySchedule,
  scaleByLearningRate,
  scaleByAdam,
  scaleByRms,
  scaleByStddev,
  scaleByAdagrad,
  trace,
  ema,
  addDecayedWeights,
  clipByGlobalNorm,
  clip,
  applyIfFinite,
  sgd,
  adam,
  adamw,
  adagrad,
  rmsprop,
  // exponentiated-gradient step-size adaptation
  egGlobalScale,
  egCoordinateGains,
  hypergradientScale,
  egSgdm,
  egAdam,
  egAdagrad,
  // schedules
  constantSchedule,
  polynomialSchedule,
  linearSchedule,
  cosineDecaySchedule,
  warmupCosineDecaySchedule,
  warmupConstantSchedule,
  exponentialDecaySchedule,
  piecewiseConstantSchedule,
  joinSchedules,
};
for (const [name, factory] of Object.entries(BUILT_IN)) registerTransformFactory(name, factory);
// Every function @tfopt/contrib exports is a factory (or a reader, harmless to register), under its export name.
for (const [name, value] of Object.entries(contrib)) {
  if (typeof value === 'function') registerTransformFactory(name, value as TransformFactory);
}

/**
 * A spec as plain JSON. Besides JSON values it holds tagged objects:
 * `{ $spec: { name, args } }` (a nested transform or schedule),
 * `{ $factory: name }` (a registered function), `{ $number: "NaN" }`,
 * `{ $undefined: true }` and `{ $object: {...} }` (a plain object whose keys
 * start with `$`).
 *
 * @category Serialization
 */
export type SpecJson = null | boolean | number | string | SpecJson[] | { [key: string]: SpecJson };

const HOW_TO_REGISTER =
  'give it a spec with withSpec(transform, name, args) (withFunctionSpec for a schedule) and register ' +
  'the factory that rebuilds it with registerTransformFactory(name, factory), in the program that ' +
  'saves and in the one that loads';

/**
 * The spec of `transform` as JSON, checked to be revivable: every nested
 * spec names a registered factory and every argument is plain data, a
 * spec-carrying function or a registered function.
 *
 * @throws {@link NotSerializableError} naming what cannot be saved and how to fix it.
 * @category Serialization
 */
export function transformToJson(transform: GradientTransformation<any>): SpecJson {
  const spec = specOf(transform);
  if (spec === undefined) {
    throw new NotSerializableError(
      'the transform has no spec, so it cannot be saved with the model (tfopt factories record ' +
        'one; a chain has one only when every link does). For a transform written in your own ' +
        `code, ${HOW_TO_REGISTER}.`,
    );
  }
  return encodeSpec(spec, '');
}

/**
 * Rebuild a transform from {@link transformToJson}'s output, calling the
 * registered factories.
 *
 * @category Serialization
 */
export function transformFromJson(json: SpecJson): GradientTransformation<any> {
  const value = revive(json, 'transform');
  if (!isTransform(value)) {
    throw new TfoptError(
      'the saved spec does not rebuild a transform (an object with init and update)',
    );
  }
  return value;
}

function encodeSpec(spec: TransformSpec, where: string): SpecJson {
  const at = where === '' ? spec.name : `${where} → ${spec.name}`;
  if (typeof spec.name !== 'string' || !Array.isArray(spec.args)) {
    throw new NotSerializableError(`${at}: a spec must be { name: string, args: array }`);
  }
  if (!byName.has(spec.name)) {
    throw new NotSerializableError(
      `${at}: no factory is registered under "${spec.name}"; call registerTransformFactory("${spec.name}", factory) in the program that saves and in the one that loads`,
    );
  }
  return { name: spec.name, args: spec.args.map((a, i) => encodeValue(a, `${at}.args[${i}]`)) };
}

function encodeValue(value: unknown, at: string): SpecJson {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? value : { $number: String(value) };
    case 'string':
    case 'boolean':
      return value;
    case 'undefined':
      return { $undefined: true };
    case 'function': {
      const spec = specOf(value);
      if (spec !== undefined) return { $spec: encodeSpec(spec, at) };
      const name = byFunction.get(value as TransformFactory);
      if (name !== undefined) return { $factory: name };
      throw new NotSerializableError(
        `${at}: a function that has no spec and is not a registered factory; ${HOW_TO_REGISTER}, or register the function itself with registerTransformFactory(name, fn)`,
      );
    }
    case 'object': {
      if (value === null) return null;
      if (isTensor(value)) {
        throw new NotSerializableError(`${at}: a tensor; a spec can hold only plain values`);
      }
      if (Array.isArray(value)) return value.map((v, i) => encodeValue(v, `${at}[${i}]`));
      if (isTransform(value)) {
        const spec = specOf(value);
        if (spec === undefined) {
          throw new NotSerializableError(`${at}: a transform without a spec; ${HOW_TO_REGISTER}`);
        }
        return { $spec: encodeSpec(spec, at) };
      }
      if (isSpecLike(value)) return { $spec: encodeSpec(value, at) };
      if (!isPlainRecord(value)) {
        throw new NotSerializableError(
          `${at}: an instance of ${value.constructor?.name ?? 'a class'}; a spec can hold only plain values`,
        );
      }
      const out: Record<string, SpecJson> = {};
      let tagged = false;
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined) continue;
        if (k.startsWith('$')) tagged = true;
        out[k] = encodeValue(v, `${at}.${k}`);
      }
      return tagged ? { $object: out } : out;
    }
    default:
      throw new NotSerializableError(`${at}: a ${typeof value}; a spec can hold only plain values`);
  }
}

function decode(json: unknown, at: string): unknown {
  if (json === null || typeof json !== 'object') return json;
  if (Array.isArray(json)) return json.map((v, i) => decode(v, `${at}[${i}]`));
  const record = json as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1) {
    const [key] = keys as [string];
    const inner = record[key];
    switch (key) {
      case '$spec':
        return revive(inner, at);
      case '$factory': {
        const factory = typeof inner === 'string' ? byName.get(inner) : undefined;
        if (factory === undefined) {
          throw new TfoptError(
            `${at}: no factory is registered under "${String(inner)}"; call registerTransformFactory before loading`,
          );
        }
        return factory;
      }
      case '$number':
        return Number(inner);
      case '$undefined':
        return undefined;
      case '$object':
        return decodeEntries(inner as Record<string, unknown>, at);
    }
  }
  return decodeEntries(record, at);
}

function decodeEntries(record: Record<string, unknown>, at: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) out[k] = decode(v, `${at}.${k}`);
  return out;
}

function revive(json: unknown, at: string): unknown {
  if (!isSpecLike(json)) throw new TfoptError(`${at}: malformed spec ${JSON.stringify(json)}`);
  const factory = byName.get(json.name);
  const here = `${at} → ${json.name}`;
  if (factory === undefined) {
    throw new TfoptError(
      `${here}: no factory is registered under "${json.name}"; call registerTransformFactory("${json.name}", factory) before loading`,
    );
  }
  const args = json.args.map((a, i) => decode(a, `${here}.args[${i}]`));
  return factory(...args);
}

function isSpecLike(x: unknown): x is TransformSpec {
  if (!isPlainRecord(x)) return false;
  const keys = Object.keys(x);
  return (
    keys.length === 2 &&
    typeof (x as { name?: unknown }).name === 'string' &&
    Array.isArray((x as { args?: unknown }).args)
  );
}
