// Every export of @tfopt/schedules: the entry bundlers get (the `default` condition of
// package.json's `exports`), from which they keep only what a program uses. It registers no
// factory: that is register.ts, which the Node entry index.ts imports.
export * from './cosine.js';
export * from './exponential.js';
export * from './interpolate.js';
export * from './join.js';
export * from './piecewise.js';
export * from './polynomial.js';
export * from './sgdr.js';
export * from './warmupExponential.js';
