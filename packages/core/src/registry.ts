import { TfoptError } from './errors.js';
import type { GradientTransformation } from './transform.js';

/**
 * A function that builds a transform, a schedule or another factory from the
 * arguments recorded in a spec: `factory(...spec.args)`.
 *
 * @category Registry
 */
export type TransformFactory = (...args: any[]) => unknown;

const byName = new Map<string, TransformFactory>();
const byFunction = new Map<TransformFactory, string>();
const packageOf = new Map<string, string>();

/**
 * Make `factory` available under `name` when optimizers are saved and loaded.
 * A spec `{ name, args }` is revived as `factory(...args)`; a function passed
 * as an argument (say, the factory given to `injectHyperparams`) is saved by
 * the name it is registered under. Register in the program that saves and in
 * the one that loads. Every factory a tfopt package exports is registered by
 * the package's registration module, `import '@tfopt/<package>/register'`,
 * which its Node entry imports: under Node, importing the package is enough;
 * a bundle (say, for the browser) keeps only the factories it uses and
 * registers none, so a bundled program that saves or loads imports the
 * registration modules of the packages it needs. Replacing a registered
 * factory, or any name bound to a different function, needs
 * `{ replace: true }`.
 *
 * @category Registry
 * @example
 * ```ts
 * import { identity, registerTransformFactory, withSpec } from '@tfopt/core';
 * function passThrough() {
 *   return withSpec(identity(), 'passThrough', []);
 * }
 * registerTransformFactory('passThrough', passThrough);
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
 * Register every factory a package exports, under its export name: each
 * exported function whose name starts with a lower-case letter (classes and
 * constants are skipped). A tfopt package calls this once, from its
 * registration module (`@tfopt/<package>/register`, which its Node entry
 * imports), so a new factory needs no registration code anywhere else.
 *
 * @param packageName - Named in the error raised when a saved spec needs a
 *   factory whose package was not imported.
 * @param exports - The package's module namespace (`import * as self`).
 * @category Registry
 */
export function registerPackageFactories(
  packageName: string,
  exports: Readonly<Record<string, unknown>>,
): void {
  for (const [name, value] of Object.entries(exports)) {
    if (typeof value !== 'function' || !/^[a-z]/.test(name)) continue;
    // A package re-exporting another's function registers nothing new.
    if (byName.get(name) === value) continue;
    registerTransformFactory(name, value as TransformFactory);
    packageOf.set(name, packageName);
  }
}

/**
 * The factory registered under `name`, if any.
 *
 * @category Registry
 */
export function getTransformFactory(name: string): TransformFactory | undefined {
  return byName.get(name);
}

/**
 * The name `factory` is registered under, if any.
 *
 * @category Registry
 */
export function nameOfTransformFactory(factory: TransformFactory): string | undefined {
  return byFunction.get(factory);
}

/**
 * The package that registered `name` through {@link registerPackageFactories}.
 *
 * @category Registry
 */
export function packageOfTransformFactory(name: string): string | undefined {
  return packageOf.get(name);
}

/**
 * The names of every registered factory, sorted.
 *
 * @category Registry
 */
export function registeredTransformFactories(): string[] {
  return [...byName.keys()].sort();
}

/**
 * One optimizer of the catalog: the alias, what it is in one line, and where
 * it comes from. Each package lists its aliases; the docs' table of every
 * optimizer and the tests that run over every optimizer read this list.
 *
 * @category Registry
 */
export interface OptimizerEntry {
  /** The alias's export name, e.g. `"adam"`. */
  readonly name: string;
  /** The package that exports it, e.g. `"@tfopt/transforms"`. */
  readonly package: string;
  /** What it is, in one line. */
  readonly summary: string;
  /** The paper (authors, year, title, arXiv id or venue). */
  readonly reference: string;
  /** A learning rate at which it trains a small problem well; `1` for learning-rate-free methods. */
  readonly typicalLearningRate: number;
  /** The alias itself: learning rate first, options second. */
  readonly factory: (learningRate: any, options?: any) => GradientTransformation<any>;
}

const catalog = new Map<string, OptimizerEntry>();

/**
 * Add entries to the catalog of optimizers (a package does this once, from
 * its registration module). An entry under a name already present is
 * replaced.
 *
 * @category Registry
 */
export function registerOptimizers(entries: readonly OptimizerEntry[]): void {
  for (const entry of entries) catalog.set(entry.name, entry);
}

/**
 * Every optimizer of the packages registered so far, sorted by name: under
 * Node, the packages imported; in a bundle, those whose registration module
 * (`@tfopt/<package>/register`) is imported.
 *
 * @category Registry
 * @example
 * ```ts
 * import { optimizerCatalog } from '@tfopt/core';
 * import '@tfopt/transforms';
 * for (const { name, summary } of optimizerCatalog()) console.log(`${name}: ${summary}`);
 * ```
 */
export function optimizerCatalog(): OptimizerEntry[] {
  return [...catalog.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
