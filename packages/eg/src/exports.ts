// Every export of @tfopt/eg: the entry bundlers get (the `default` condition of package.json's
// `exports`), from which they keep only what a program uses. It registers no factory (that is
// register.ts, which the Node entry index.ts imports); it only tells the fused path where this
// package's fused links are, so that a bundle fetches them with it.
import { registerFusedLinkLoader } from '@tfopt/core';

export * from './aliases.js';
export * from './coordinateGains.js';
export * from './globalScale.js';
export * from './hypergradient.js';
export * from './inspect.js';
export * from './signConvention.js';

registerFusedLinkLoader(() => import('./fused.js').then((m) => m.registerFusedEg()));
