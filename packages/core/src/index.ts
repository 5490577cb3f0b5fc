/**
 * The core of tfopt: the gradient-transformation type, `chain`, tree helpers,
 * option validation and the ownership helpers that apply updates and free
 * replaced states.
 *
 * @packageDocumentation
 */
import { injectHyperparams, injectLearningRate } from './inject.js';
import { registerPackageFactories } from './registry.js';
import { chain, identity } from './transform.js';

export * from './apply.js';
export * from './errors.js';
export * from './fused.js';
export * from './inject.js';
export * from './ops.js';
export * from './registry.js';
export * from './schedule.js';
export * from './spec.js';
export * from './stateAccess.js';
export * from './transform.js';
export * from './tree.js';

// Core's other exports are helpers, not factories; only these four build transforms.
registerPackageFactories('@tfopt/core', { chain, identity, injectHyperparams, injectLearningRate });
