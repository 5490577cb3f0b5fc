import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collect, fences, sourceExamples, splitImports } from './extract.mjs';

describe('the example extractor', () => {
  it('finds the fences of a doc comment and numbers them by source line', () => {
    const text = [
      'const a = 1;',
      '/**',
      ' * Does things.',
      ' * @example',
      ' * ```ts',
      " * import { chain } from '@tfopt/core';",
      ' * chain();',
      ' * ```',
      ' */',
      '/** No example here. ```ts x ``` */',
    ].join('\n');
    expect(sourceExamples(text)).toEqual([
      { line: 5, code: "import { chain } from '@tfopt/core';\nchain();" },
    ]);
  });

  it('keeps only TypeScript fences of markdown', () => {
    const md = '# T\n```sh\nnpm i\n```\n```ts\nconst x = 1;\n```\n```typescript\nx;\n```\n';
    expect(fences(md)).toEqual([
      { line: 5, code: 'const x = 1;' },
      { line: 8, code: 'x;' },
    ]);
  });

  it('moves multi-line and side-effect imports to the top and leaves the rest', () => {
    const code = "import {\n  a,\n  b,\n} from 'x';\nimport 'y';\nconst c = a + b;";
    expect(splitImports(code)).toEqual({
      imports: "import {\n  a,\n  b,\n} from 'x';\nimport 'y';",
      body: 'const c = a + b;',
    });
  });

  it('extracts one block for every @example tag of the published sources', () => {
    const root = join(import.meta.dirname, '..', '..');
    let tags = 0;
    for (const pkg of ['core', 'transforms', 'schedules', 'eg', 'contrib', 'layers']) {
      const dir = join(root, 'packages', pkg, 'src');
      const walk = (d) =>
        readdirSync(d, { withFileTypes: true }).flatMap((e) =>
          e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)],
        );
      for (const file of walk(dir)) {
        if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
        tags += (readFileSync(file, 'utf8').match(/@example/g) ?? []).length;
      }
    }
    const fromSources = collect().filter((e) => /^packages\/[^/]+\/src\//.test(e.origin));
    expect(fromSources.length).toBe(tags);
    expect(tags).toBeGreaterThan(80);
  });

  it('collects the TypeScript blocks of the guides in docs/guides', () => {
    const root = join(import.meta.dirname, '..', '..');
    const guides = readdirSync(join(root, 'docs', 'guides')).filter((f) => f.endsWith('.md'));
    const origins = collect().map((e) => e.origin);
    expect(guides).toContain('getting-started.md');
    expect(origins.some((o) => o.startsWith('docs/guides/getting-started.md:'))).toBe(true);
  });

  it('lists every guide as a page of the documentation site, and only files that exist', () => {
    const root = join(import.meta.dirname, '..', '..');
    const config = JSON.parse(readFileSync(join(root, 'typedoc.json'), 'utf8'));
    const documents = config.projectDocuments;
    const guides = readdirSync(join(root, 'docs', 'guides'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/guides/${f}`);
    for (const guide of guides) expect(documents).toContain(guide);
    for (const document of documents)
      expect(() => readFileSync(join(root, document))).not.toThrow();
  });
});
