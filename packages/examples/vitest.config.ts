import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

// The extracted examples live in generated/ (see extract.mjs); extract.test.mjs checks the extractor
// and docs-links.test.mjs the link checker of `npm run docs:check` (scripts/docs-check/links.mjs).
export default mergeConfig(
  shared,
  defineConfig({
    test: { include: ['generated/**/*.test.ts', 'extract.test.mjs', 'docs-links.test.mjs'] },
  }),
);
