/**
 * Step-size adaptation with exponentiated-gradient (EG) updates for tfopt:
 * a global (or per-tensor) step-size scale, per-coordinate gains, the
 * additive hypergradient baseline, and the optimizers built from them
 * (`egSgdm`, `egAdam`, `egAdagrad`). After Amid, Anil, Fifty and Warmuth,
 * *Step-size Adaptation Using Exponentiated Gradient Updates*, arXiv 2202.00145.
 *
 * @packageDocumentation
 */
import { registerOptimizers, registerPackageFactories } from '@tfopt/core';
import { OPTIMIZERS } from './catalog.js';
import * as self from './index.js';

export * from './aliases.js';
export * from './coordinateGains.js';
export * from './globalScale.js';
export * from './hypergradient.js';
export * from './inspect.js';
export * from './signConvention.js';

// Every factory this package exports can be saved and revived by name; its aliases join the catalog.
registerPackageFactories('@tfopt/eg', self);
registerOptimizers(OPTIMIZERS);
import { registerFusedEg } from './fused.js';
registerFusedEg();
