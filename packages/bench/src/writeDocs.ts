/**
 * Write `docs/benchmarks.md` from a saved run:
 * `node dist/writeDocs.js [path/to/bench.json] [path/to/out.md]` (defaults:
 * results/bench.json, the repository's docs/benchmarks.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderDocs } from './docs.js';
import type { BenchResult } from './types.js';

/** The bench package's folder (this file runs from dist/). */
export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the docs page goes. */
export const DOCS_PATH = join(PACKAGE_DIR, '..', '..', 'docs', 'benchmarks.md');

export function writeDocs(result: BenchResult, path = DOCS_PATH): string {
  writeFileSync(path, renderDocs(result));
  return path;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const input = resolve(process.argv[2] ?? join(PACKAGE_DIR, 'results', 'bench.json'));
  const result = JSON.parse(readFileSync(input, 'utf8')) as BenchResult;
  const output = process.argv[3] === undefined ? DOCS_PATH : resolve(process.argv[3]);
  console.log(`wrote ${writeDocs(result, output)} from ${input}`);
}
