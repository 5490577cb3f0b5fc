export * from './backends.js';
export * from './compare.js';
export * from './properties.js';
