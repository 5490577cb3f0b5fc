// The registration module, `import '@tfopt/core/register'`: registers core's factories, so
// that saved specs naming them (a `chain`, an `injectHyperparams`) can be revived. The Node
// entry (index.ts) imports it; a bundle imports it in the program that saves or loads.
import { injectHyperparams, injectLearningRate } from './inject.js';
import { registerPackageFactories } from './registry.js';
import { chain, identity } from './transform.js';

// Core's other exports are helpers, not factories; only these four build transforms.
registerPackageFactories('@tfopt/core', { chain, identity, injectHyperparams, injectLearningRate });
