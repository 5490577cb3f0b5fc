/**
 * The learning-rate-free optimizers people pick instead of a tuned schedule,
 * beside tfopt's EG step-size adaptation, with `optax.contrib`'s definitions
 * and defaults: Mechanic (`mechanize`), Prodigy, D-Adaptation AdamW, DoG and
 * DoWG, COCOB, Schedule-Free, and `reduceOnPlateau`.
 *
 * @packageDocumentation
 */
import { registerOptimizers, registerPackageFactories } from '@tfopt/core';
import { OPTIMIZERS } from './catalog.js';
import * as self from './index.js';

export * from './cocob.js';
export * from './dadapt.js';
export * from './dog.js';
export * from './mechanic.js';
export * from './plateau.js';
export * from './prodigy.js';
export * from './scheduleFree.js';

// Every factory this package exports can be saved and revived by name; its aliases join the catalog.
registerPackageFactories('@tfopt/contrib', self);
registerOptimizers(OPTIMIZERS);
