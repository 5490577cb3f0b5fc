/**
 * Step-size adaptation with exponentiated-gradient (EG) updates for tfopt:
 * a global (or per-tensor) step-size scale, per-coordinate gains, the
 * additive hypergradient baseline, and the optimizers built from them
 * (`egSgdm`, `egAdam`, `egAdagrad`). After Amid, Anil, Fifty and Warmuth,
 * *Step-size Adaptation Using Exponentiated Gradient Updates*, arXiv 2202.00145.
 *
 * @packageDocumentation
 */
import './register.js';
import { registerFusedEg } from './fused.js';

export * from './exports.js';

// The Node entry: every factory registered, and the fused links there from the first step.
registerFusedEg();
