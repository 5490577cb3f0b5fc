// Part of `npm run docs`, after typedoc (which empties docs/api): vite bundles the playground
// of docs/playground (tfjs, the built @tfopt packages, the wasm binaries) into
// docs/api/playground/, with relative asset paths so the site works from any folder.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';

const root = join(import.meta.dirname, '..');
const source = join(root, 'docs', 'playground');
const outDir = join(root, 'docs', 'api', 'playground');

const started = performance.now();
await build({
  configFile: false,
  logLevel: 'warn',
  root: source,
  base: './',
  build: {
    outDir,
    emptyOutDir: true,
    minify: true,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1e5,
  },
});

const files = readdirSync(outDir, { recursive: true }).filter((f) =>
  statSync(join(outDir, f)).isFile(),
);
const bytes = files.reduce((sum, f) => sum + statSync(join(outDir, f)).size, 0);
console.log(
  `playground: ${files.length} files, ${(bytes / 1024).toFixed(0)} KiB in docs/api/playground/ (${((performance.now() - started) / 1000).toFixed(1)} s)`,
);
