// The registration module, `import '@tfopt/schedules/register'`: registers every schedule
// factory this package exports, so that saved specs naming them can be revived. The Node entry
// (index.ts) imports it; a bundle imports it in the program that saves or loads.
import { registerPackageFactories } from '@tfopt/core';
import * as exported from './exports.js';

registerPackageFactories('@tfopt/schedules', exported);
