// Every export of @tfopt/core and nothing else: the entry bundlers get (the `default` condition
// of package.json's `exports`), from which they keep only what a program uses. The Node entry
// (index.ts) re-exports it, registers core's factories and installs the fused engine.
export * from './apply.js';
export * from './errors.js';
export * from './fused.js';
export { loadFusedSteps, registerFusedLinkLoader } from './fusedLoad.js';
export * from './inject.js';
export * from './ops.js';
export * from './registry.js';
export * from './schedule.js';
export * from './spec.js';
export * from './stateAccess.js';
export * from './transform.js';
export * from './tree.js';
