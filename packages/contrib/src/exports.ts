// Every export of @tfopt/contrib: the entry bundlers get (the `default` condition of
// package.json's `exports`), from which they keep only what a program uses. It registers no
// factory: that is register.ts, which the Node entry index.ts imports.
export * from './cocob.js';
export * from './dadapt.js';
export * from './dog.js';
export * from './mechanic.js';
export * from './plateau.js';
export * from './prodigy.js';
export * from './scheduleFree.js';
