/**
 * Schedules: plain functions of the update count (0 on the first update)
 * that return a number, usually a learning rate. Each factory validates its
 * options when called and records them as a spec, so a schedule can be saved
 * and rebuilt.
 *
 * @packageDocumentation
 */
import { registerPackageFactories } from '@tfopt/core';
import * as self from './index.js';

export * from './cosine.js';
export * from './exponential.js';
export * from './join.js';
export * from './piecewise.js';
export * from './polynomial.js';

// Every schedule factory this package exports can be saved and revived by name.
registerPackageFactories('@tfopt/schedules', self);

export * from './interpolate.js';
export * from './sgdr.js';
export * from './warmupExponential.js';
