/** `docs/benchmarks.md` from a run: the report with how to reproduce it. Pure. */
import { renderMarkdown } from './report.js';
import type { BenchResult } from './types.js';

export function renderDocs(result: BenchResult): string {
  const body = renderMarkdown(result, 'Benchmarks').split('\n');
  const intro = [
    '',
    "How fast a tfopt step is against tf.train's, what it costs inside a whole MNIST training " +
      "step, and how close it comes to the machine's memory bandwidth. Written from one quiet " +
      'full run of `npm run bench -- --write-docs` (or, from a saved run, ' +
      '`npm run docs --workspace @tfopt/bench -- path/to/bench.json`); timings are medians of ' +
      'interleaved blocks on this one machine, so compare rows within a table, not across machines.',
  ];
  return [body[0] as string, ...intro, ...body.slice(1)].join('\n');
}
