import {
  type GradientTransformation,
  getTransformFactory,
  isPlainRecord,
  isTensor,
  isTransform,
  nameOfTransformFactory,
  packageOfTransformFactory,
  specOf,
  TfoptError,
  type TransformFactory,
  type TransformSpec,
} from '@tfopt/core';

// The factory registry lives in @tfopt/core: every tfopt package registers
// the factories it exports in its registration module (`@tfopt/<package>/register`,
// imported by its Node entry), so a new optimizer needs no edit here. These
// re-exports keep the registry reachable from this package.
export {
  getTransformFactory,
  registeredTransformFactories,
  registerTransformFactory,
  type TransformFactory,
} from '@tfopt/core';

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
  if (getTransformFactory(spec.name) === undefined) {
    throw new NotSerializableError(
      `${at}: no factory is registered under "${spec.name}"; call registerTransformFactory("${spec.name}", factory) in the program that saves and in the one that loads (for a factory of a tfopt package, import its registration module there, e.g. \`import '@tfopt/eg/register';\`)`,
    );
  }
  const args = spec.args.map((a, i) => encodeValue(a, `${at}.args[${i}]`));
  // The package is recorded so that a program loading without it is told what to import.
  const from = packageOfTransformFactory(spec.name);
  return from === undefined ? { name: spec.name, args } : { name: spec.name, args, package: from };
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
      const name = nameOfTransformFactory(value as TransformFactory);
      if (name !== undefined) {
        const from = packageOfTransformFactory(name);
        return from === undefined ? { $factory: name } : { $factory: name, package: from };
      }
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
  if ('$factory' in record && (keys.length === 1 || (keys.length === 2 && 'package' in record))) {
    const name = record.$factory;
    const factory = typeof name === 'string' ? getTransformFactory(name) : undefined;
    if (factory === undefined) {
      throw new TfoptError(`${at}: ${missingFactory(String(name), record.package)}`);
    }
    return factory;
  }
  if (keys.length === 1) {
    const [key] = keys as [string];
    const inner = record[key];
    switch (key) {
      case '$spec':
        return revive(inner, at);
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
  const factory = getTransformFactory(json.name);
  const here = `${at} → ${json.name}`;
  if (factory === undefined) {
    throw new TfoptError(`${here}: ${missingFactory(json.name, json.package)}`);
  }
  const args = json.args.map((a, i) => decode(a, `${here}.args[${i}]`));
  return factory(...args);
}

function missingFactory(name: string, from: unknown): string {
  // A tfopt package registers its factories in its registration module, which its Node entry
  // imports; a bundle has only the registration modules it imports itself.
  const where =
    typeof from !== 'string'
      ? "import the registration module of the package that exports it (`import '@tfopt/<package>/register';`; under Node, importing the package is enough)"
      : from.startsWith('@tfopt/')
        ? `it was saved from ${from}: add \`import '${from}/register';\` to the program that loads (under Node, importing ${from} is enough)`
        : `it was saved from ${from}: add \`import '${from}';\` to the program that loads`;
  return `no factory is registered under "${name}"; ${where}, or call registerTransformFactory("${name}", factory) before loading`;
}

/** A spec as saved: `{ name, args }`, plus the exporting package when known. */
interface SavedSpec extends TransformSpec {
  readonly package?: string;
}

function isSpecLike(x: unknown): x is SavedSpec {
  if (!isPlainRecord(x)) return false;
  const keys = Object.keys(x);
  const extra = keys.length === 3 && typeof (x as { package?: unknown }).package === 'string';
  return (
    (keys.length === 2 || extra) &&
    typeof (x as { name?: unknown }).name === 'string' &&
    Array.isArray((x as { args?: unknown }).args)
  );
}
