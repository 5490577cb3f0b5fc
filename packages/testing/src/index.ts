// fast-check itself, so that test files take it from here (the root
// package.json is the only one that depends on it).
export { default as fc } from 'fast-check';
export * from './arbitraries.js';
export * from './backends.js';
export * from './compare.js';
export * from './properties.js';
export * from './propertySuite.js';
export * from './soak.js';
