/**
 * The learning-rate-free optimizers people pick instead of a tuned schedule,
 * beside tfopt's EG step-size adaptation, with `optax.contrib`'s definitions
 * and defaults: Mechanic (`mechanize`), Prodigy, D-Adaptation AdamW, DoG and
 * DoWG, COCOB, Schedule-Free, and `reduceOnPlateau`.
 *
 * @packageDocumentation
 */

export * from './cocob.js';
export * from './dadapt.js';
export * from './dog.js';
export * from './mechanic.js';
export * from './plateau.js';
export * from './prodigy.js';
export * from './scheduleFree.js';
