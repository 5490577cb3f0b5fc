import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

// The extracted examples live in generated/ (see extract.mjs); extract.test.mjs checks the extractor.
export default mergeConfig(
  shared,
  defineConfig({ test: { include: ['generated/**/*.test.ts', 'extract.test.mjs'] } }),
);
