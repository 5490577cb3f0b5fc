import { defineConfig } from 'vitest/config';

/**
 * The vitest settings every package shares. Each run also writes
 * `test-results.json`, which `scripts/test.mjs` sums into one closing line.
 */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
  },
});
