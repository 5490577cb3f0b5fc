/**
 * The core of tfopt: the gradient-transformation type, `chain`, tree helpers,
 * option validation and the ownership helpers that apply updates and free
 * replaced states.
 *
 * @packageDocumentation
 */
export * from './apply.js';
export * from './errors.js';
export * from './inject.js';
export * from './ops.js';
export * from './schedule.js';
export * from './spec.js';
export * from './transform.js';
export * from './tree.js';
