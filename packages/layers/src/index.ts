/**
 * Use any tfopt transform as a `tf.Optimizer` with tfjs-layers: compile,
 * fit, save with the model, load and resume training, and change injected
 * hyperparameters between steps.
 *
 * @packageDocumentation
 */
export type { NamedTensor } from './checkpoint.js';
export * from './optimizer.js';
export * from './registry.js';
export { type DormantState, type KeyedState, rekeyState } from './rekey.js';
