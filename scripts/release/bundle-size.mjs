// The size of what a browser app pays for tfopt: `egAdam` and `stepVariables` bundled by vite
// from an installed consumer project, minified, with tfjs left external (the app has it anyway).
// The initial load (the entry chunk and the chunks it imports statically) is held to the budget;
// the chunks loaded on demand (the fused path, fetched from the first step on cpu or wasm) are
// reported beside it.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

/** The budget for the initial load, in KiB (minified, not gzipped). */
export const BUNDLE_BUDGET_KB = 20;

/**
 * Bundle `browser/size-entry.js` inside `consumerDir`. Resolves with the initial load
 * (`bytes`, `gzipBytes`, its number of `chunks`, and the share of each package in it by size
 * before minification) and the chunks loaded on demand (`lazy`: each one's modules, `bytes`
 * and `gzipBytes`, largest first).
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
  const entries = chunks.filter((c) => c.isEntry);
  if (entries.length !== 1) throw new Error(`expected one entry chunk, got ${entries.length}`);
  const initial = staticClosure(entries[0], new Map(chunks.map((c) => [c.fileName, c])));

  const rendered = {};
  let total = 0;
  for (const chunk of initial) {
    for (const [id, info] of Object.entries(chunk.modules)) {
      const name = packageOf(id);
      rendered[name] = (rendered[name] ?? 0) + info.renderedLength;
      total += info.renderedLength;
    }
  }
  const shares = Object.entries(rendered)
    .map(([name, n]) => [name, n / total])
    .sort((a, b) => b[1] - a[1]);
  const lazy = chunks
    .filter((c) => !initial.includes(c))
    .map((c) => ({ modules: modulesOf(c), ...sizeOf([c]) }))
    .sort((a, b) => b.bytes - a.bytes);
  return { ...sizeOf(initial), chunks: initial.length, shares, lazy };
}

/** `entry` and every chunk it imports statically, directly or through another. */
function staticClosure(entry, byFile) {
  const seen = new Set();
  const visit = (chunk) => {
    if (seen.has(chunk)) return;
    seen.add(chunk);
    for (const file of chunk.imports) {
      const imported = byFile.get(file);
      if (imported !== undefined) visit(imported);
    }
  };
  visit(entry);
  return [...seen];
}

function sizeOf(chunks) {
  let bytes = 0;
  let gzipBytes = 0;
  for (const { code } of chunks) {
    bytes += Buffer.byteLength(code);
    gzipBytes += gzipSync(code).length;
  }
  return { bytes, gzipBytes };
}

/** The modules of a chunk as `package/file`, largest first (by size before minification). */
function modulesOf(chunk) {
  return Object.entries(chunk.modules)
    .filter(([, info]) => info.renderedLength > 0)
    .sort((a, b) => b[1].renderedLength - a[1].renderedLength)
    .map(([id]) => {
      const file = id.replaceAll('\\', '/').split('/').at(-1).replace(/\.js$/, '');
      return `${packageOf(id).replace('@tfopt/', '')}/${file}`;
    });
}

function packageOf(id) {
  // A bundler's own helper, such as vite's \0vite/preload-helper.js for dynamic imports.
  if (id.startsWith('\0')) return id.slice(1).split('/')[0];
  const path = id.replaceAll('\\', '/');
  const match = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/g);
  return match ? match.at(-1).replace('node_modules/', '') : 'entry';
}
