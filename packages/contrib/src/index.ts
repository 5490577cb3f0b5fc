/**
 * The learning-rate-free optimizers people pick instead of a tuned schedule,
 * beside tfopt's EG step-size adaptation, with `optax.contrib`'s definitions
 * and defaults: Mechanic (`mechanize`), Prodigy, D-Adaptation AdamW, DoG and
 * DoWG, COCOB, Schedule-Free, and `reduceOnPlateau`.
 *
 * @packageDocumentation
 */
import './register.js';

export * from './exports.js';
