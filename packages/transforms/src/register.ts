// The registration module, `import '@tfopt/transforms/register'`: registers every factory this
// package exports, so that saved specs naming them can be revived, and adds its aliases to the
// optimizer catalog. The Node entry (index.ts) imports it; a bundle imports it in the program
// that saves or loads.
import { registerOptimizers, registerPackageFactories } from '@tfopt/core';
import { OPTIMIZERS } from './catalog.js';
import * as exported from './exports.js';

registerPackageFactories('@tfopt/transforms', exported);
registerOptimizers(OPTIMIZERS);
