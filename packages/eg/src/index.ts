/**
 * Step-size adaptation with exponentiated-gradient (EG) updates for tfopt:
 * a global (or per-tensor) step-size scale, per-coordinate gains, the
 * additive hypergradient baseline, and the optimizers built from them
 * (`egSgdm`, `egAdam`, `egAdagrad`). After Amid, Anil, Fifty and Warmuth,
 * *Step-size Adaptation Using Exponentiated Gradient Updates*, arXiv 2202.00145.
 *
 * @packageDocumentation
 */
export * from './aliases.js';
export * from './coordinateGains.js';
export * from './globalScale.js';
export * from './hypergradient.js';
export * from './inspect.js';
export * from './signConvention.js';
