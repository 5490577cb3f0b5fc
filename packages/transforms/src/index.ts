/**
 * Optax-style gradient transformations for TensorFlow.js: the building blocks
 * (`scaleByAdam`, `trace`, `clipByGlobalNorm`, ...), the combinators
 * (`partition`, `masked`, `multiSteps`, `lookahead`, ...) and the optimizer
 * aliases built from them (`sgd`, `adam`, `lion`, `adafactor`, ...), each
 * only a `chain`.
 *
 * @packageDocumentation
 */
import './register.js';
import { registerFusedTransforms } from './fused.js';

export * from './exports.js';

// The Node entry: every factory registered, and the fused links there from the first step.
registerFusedTransforms();
