// The size of what a browser app pays for tfopt: `egAdam` and `stepVariables` bundled by vite
// from an installed consumer project, minified, with tfjs left external (the app has it anyway).
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

/** The budget for that bundle, in KiB (minified, not gzipped). */
export const BUNDLE_BUDGET_KB = 20;

/**
 * Bundle `browser/size-entry.js` inside `consumerDir` and return its minified and gzipped
 * size in bytes and the share of each package in it (by size before minification).
 */
export async function measureBundle(consumerDir) {
  const dir = join(consumerDir, 'size');
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, 'entry.js');
  copyFileSync(join(import.meta.dirname, 'browser', 'size-entry.js'), entry);
  const result = await build({
    configFile: false,
    logLevel: 'warn',
    root: dir,
    build: {
      outDir: join(dir, 'out'),
      write: false,
      minify: true,
      reportCompressedSize: false,
      rolldownOptions: {
        input: entry,
        preserveEntrySignatures: 'strict',
        external: [/^@tensorflow\//],
      },
    },
  });
  const chunks = (Array.isArray(result) ? result : [result])
    .flatMap((r) => r.output)
    .filter((o) => o.type === 'chunk');
  if (chunks.length !== 1) throw new Error(`expected one chunk, got ${chunks.length}`);
  const [chunk] = chunks;
  const bytes = Buffer.byteLength(chunk.code);
  const rendered = {};
  let total = 0;
  for (const [id, info] of Object.entries(chunk.modules)) {
    const name = packageOf(id);
    rendered[name] = (rendered[name] ?? 0) + info.renderedLength;
    total += info.renderedLength;
  }
  const shares = Object.entries(rendered)
    .map(([name, n]) => [name, n / total])
    .sort((a, b) => b[1] - a[1]);
  return { bytes, gzipBytes: gzipSync(chunk.code).length, shares };
}

function packageOf(id) {
  const path = id.replaceAll('\\', '/');
  const match = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/g);
  return match ? match.at(-1).replace('node_modules/', '') : 'entry';
}
