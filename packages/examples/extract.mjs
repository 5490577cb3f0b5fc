// Extracts every `@example` block of the published packages' sources and every
// TypeScript block of the READMEs and guides (docs/*.md, docs/guides/*.md) into
// one test file each under generated/, so that `npm test` type-checks and runs
// them as written. Each file runs in its own module graph (vitest isolates test
// files), so an example that forgets to load a backend's gradients fails as it
// would for a user. Run by this package's test script before vitest.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const out = join(here, 'generated');
const PUBLISHED = ['core', 'transforms', 'schedules', 'eg', 'contrib', 'layers'];

/** The TypeScript fences of `text` (```ts / ```typescript), with their line numbers. */
export function fences(text, { inComment = false } = {}) {
  const lines = text.split('\n');
  const found = [];
  let open = -1;
  let body = [];
  for (let i = 0; i < lines.length; i++) {
    const line = inComment ? lines[i].replace(/^\s*\* ?/, '') : lines[i];
    if (open < 0) {
      if (/^\s*```(ts|typescript)\s*$/.test(line)) {
        open = i;
        body = [];
      }
    } else if (/^\s*```\s*$/.test(line)) {
      found.push({ line: open + 1, code: body.join('\n') });
      open = -1;
    } else {
      body.push(line);
    }
  }
  return found;
}

/** The `@example` blocks of a source file: the fences after each `@example` tag. */
export function sourceExamples(text) {
  const examples = [];
  const comments = text.matchAll(/\/\*\*[\s\S]*?\*\//g);
  for (const match of comments) {
    const comment = match[0];
    const tag = comment.indexOf('@example');
    if (tag < 0) continue;
    const startLine = text.slice(0, match.index).split('\n').length - 1;
    const before = comment.slice(0, tag).split('\n').length - 1;
    for (const f of fences(comment.slice(tag), { inComment: true })) {
      examples.push({ line: startLine + before + f.line, code: f.code });
    }
  }
  return examples;
}

/** Split an example into its import statements and the rest. */
export function splitImports(code) {
  const imports = [];
  const body = [];
  const lines = code.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (/^\s*import\b/.test(lines[i])) {
      const statement = [lines[i]];
      while (!/(from\s+)?['"][^'"]+['"];?\s*$/.test(statement.at(-1)) && i + 1 < lines.length) {
        statement.push(lines[++i]);
      }
      imports.push(statement.join('\n'));
    } else {
      body.push(lines[i]);
    }
  }
  return { imports: imports.join('\n'), body: body.join('\n') };
}

/** One test file: the example's imports on top, its body run in a test on the cpu backend. */
export function testFile(origin, code) {
  const { imports, body } = splitImports(code);
  const indented = body
    .trim()
    .split('\n')
    .map((l) => (l.length > 0 ? `    ${l}` : l))
    .join('\n');
  return `// Extracted from ${origin} by packages/examples/extract.mjs; edit the original, not this file.
import '@tensorflow/tfjs-backend-cpu';
import { env as tfEnv, setBackend as tfSetBackend } from '@tensorflow/tfjs-core';
${imports}
import { beforeAll as exampleBeforeAll, it as exampleIt, vi as exampleVi } from 'vitest';

exampleBeforeAll(async () => {
  tfEnv().set('IS_TEST', true);
  await tfSetBackend('cpu');
});

exampleIt(${JSON.stringify(`runs as written: ${origin}`)}, async () => {
  const quiet = exampleVi.spyOn(console, 'log').mockImplementation(() => {});
  try {
${indented}
  } finally {
    quiet.mockRestore();
  }
});
`;
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)],
  );
}

/** The markdown files directly inside `dir` (none if it does not exist), sorted. */
function markdownIn(dir) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => join(dir, f));
}

/** Every example of the repository: `{ origin, id, code }`. */
export function collect() {
  const all = [];
  for (const pkg of PUBLISHED) {
    const src = join(root, 'packages', pkg, 'src');
    for (const file of walk(src).sort()) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
      for (const ex of sourceExamples(readFileSync(file, 'utf8'))) {
        all.push({ origin: `${relative(root, file)}:${ex.line}`, code: ex.code });
      }
    }
  }
  const docs = [
    join(root, 'README.md'),
    ...PUBLISHED.map((p) => join(root, 'packages', p, 'README.md')),
    ...markdownIn(join(root, 'docs')),
    ...markdownIn(join(root, 'docs', 'guides')),
  ];
  for (const file of docs) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const f of fences(text)) {
      all.push({ origin: `${relative(root, file)}:${f.line}`, code: f.code });
    }
  }
  return all.map((e) => ({
    ...e,
    id: e.origin.replace(/^packages\//, '').replace(/[^A-Za-z0-9]+/g, '_'),
  }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const examples = collect();
  for (const { origin, id, code } of examples) {
    writeFileSync(join(out, `${id}.test.ts`), testFile(origin, code));
  }
  writeFileSync(
    join(out, 'index.json'),
    `${JSON.stringify(
      examples.map((e) => e.origin),
      null,
      2,
    )}\n`,
  );
  console.log(`${basename(here)}: ${examples.length} examples written to generated/`);
}
