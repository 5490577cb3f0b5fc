import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderDocs } from './docs.js';
import { formatMs, formatRatio, renderMarkdown } from './report.js';
import { evaluateTargets } from './targets.js';
import type { BenchResult } from './types.js';

// A hand-made run (src/fixtures/run.json), copy bandwidth 20 GB/s:
//   cpu 1e6:  tf.train.adam 100 ms, adam fused 4, composable 80, egAdam fused 5, composable 160
//   wasm 1e6: tf.train.adam 10 ms,  adam fused 5, composable 12, egAdam fused 7, composable 20
//   cpu 1e7:  adam fused 40 ms; cpu mlp step: adam 20 / 25 ms, egAdam 21 / 30 ms (fused / composable)
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/run.json', import.meta.url), 'utf8'),
) as BenchResult;
const targets = evaluateTargets(fixture.steps, fixture.training, fixture.machine.backends);
const run: BenchResult = { ...fixture, targets };

const verdict = (target: string, backend: string, measure?: string) =>
  targets.find(
    (t) =>
      t.target.startsWith(target) &&
      t.backend === backend &&
      (measure === undefined || t.measure === measure),
  );

describe('evaluateTargets', () => {
  it('judges the speed-up over tf.train.adam at 1e6', () => {
    // cpu: 100 / 4 = 25 ≥ 20; wasm: 10 / 5 = 2 < 3.
    expect(verdict('stepVariables(adam) ≥ 20×', 'cpu')).toMatchObject({ value: 25, status: 'MET' });
    expect(verdict('stepVariables(adam) ≥ 3×', 'wasm')).toMatchObject({
      value: 2,
      status: 'NOT MET',
    });
  });

  it('judges egAdam against adam on each path', () => {
    // cpu fused 5 / 4 = 1.25; composable 160 / 80 = 2; wasm fused 7 / 5 = 1.4; composable 20 / 12.
    expect(verdict('egAdam step', 'cpu', 'egAdam / adam (fused)')).toMatchObject({
      value: 1.25,
      status: 'MET',
    });
    expect(verdict('egAdam step', 'cpu', 'egAdam / adam (composable)')).toMatchObject({
      value: 2,
      status: 'NOT MET',
    });
    expect(verdict('egAdam step', 'wasm', 'egAdam / adam (fused)')?.value).toBeCloseTo(1.4, 12);
    expect(verdict('egAdam step', 'wasm', 'egAdam / adam (composable)')?.status).toBe('NOT MET');
  });

  it('judges the training step, composable adam and the bandwidth fraction', () => {
    // mlp on cpu: 21 / 20 = 1.05 ≤ 1.10; composable 30 / 25 = 1.2. No wasm training rows.
    expect(verdict('MNIST mlp', 'cpu', 'egAdam / adam (fused)')?.status).toBe('MET');
    expect(verdict('MNIST mlp', 'cpu', 'egAdam / adam (composable)')?.value).toBeCloseTo(1.2, 12);
    expect(verdict('MNIST mlp', 'wasm')).toMatchObject({ value: null, status: 'NOT MEASURED' });
    // composable adam / tf.train.adam: cpu 80 / 100 = 0.8; wasm 12 / 10 = 1.2; no 100 × 1e4 case.
    expect(verdict('composable adam no slower than tf.train.adam (1 × 1e6)', 'cpu')?.status).toBe(
      'MET',
    );
    expect(verdict('composable adam no slower than tf.train.adam (1 × 1e6)', 'wasm')?.status).toBe(
      'NOT MET',
    );
    expect(verdict('composable adam no slower than tf.train.adam (100 × 1e4)', 'cpu')?.status).toBe(
      'NOT MEASURED',
    );
    // 1e7 × 28 B in 40 ms = 7 GB/s = 35% of 20 GB/s.
    expect(verdict('fused adam step ≥ 25%', 'cpu')?.value).toBeCloseTo(0.35, 12);
    expect(verdict('fused adam step ≥ 25%', 'cpu')?.status).toBe('MET');
    expect(verdict('fused adam step ≥ 25%', 'wasm')?.status).toBe('NOT MEASURED');
  });
});

describe('renderMarkdown', () => {
  const md = renderMarkdown(run);

  it('describes the machine and says when the fused path was missing', () => {
    expect(md.startsWith('# tfopt benchmarks\n')).toBe(true);
    expect(md).toContain('| cpu | Test CPU × 2 |');
    expect(md).toContain('| memory | 16.0 GiB |');
    expect(md).toContain('"fused" rows ran the composable path too');
    expect(md).toContain('- a note from the run');
    // 12 step rows and 5 training rows, none of which grew numTensors.
    expect(md).toContain('growth over the timed steps: **0** for all 17 timed rows.');
  });

  it('renders the targets with their values and verdicts', () => {
    expect(md).toContain(
      '| stepVariables(adam) ≥ 20× faster than tf.train.adam (1e6) | cpu | tf.train.adam / adam (fused) | 25.00 | ≥ 20 | MET |',
    );
    expect(md).toContain(
      '| stepVariables(adam) ≥ 3× faster than tf.train.adam (1e6) | wasm | tf.train.adam / adam (fused) | 2.00 | ≥ 3 | **NOT MET** |',
    );
    expect(md).toContain(
      '| fused adam step ≥ 25% of copy bandwidth (1e7) | cpu | step GB/s / copy GB/s | 35.0% | ≥ 0.25 | MET |',
    );
    expect(md).toContain('| – | ≥ 0.25 | **NOT MEASURED** |');
  });

  it('renders one step table per backend and case, with rate, fraction and state', () => {
    expect(md).toContain('### cpu, 1 × 1e6 parameters');
    expect(md).toContain('### wasm, 1 × 1e6 parameters');
    // adam fused on cpu: 28e6 B in 4 ms = 7 GB/s = 35% of 20; 4 / 100 = 0.04×.
    expect(md).toContain('| adam | adam | fused | 4.00 | 0.04× | 7.00 | 35.0% | 8.0 | 0 |');
    // egAdam composable on cpu: 56e6 B in 160 ms = 0.35 GB/s, 0.35 / 20 = 1.75% (1.7499… in
    // binary, so 1.7%); 160 / 100 = 1.60×.
    expect(md).toContain('| adam | egAdam | composable | 160 | 1.60× | 0.35 | 1.7% | 20.0 | 0 |');
    expect(md).toContain('| egAdam | fused | 20.0 |');
    expect(md).toContain('**20.00 GB/s** (median of 3 copies');
  });

  it('renders the training step against adam on the same path', () => {
    expect(md).toContain('### cpu, mlp: MLP 784-256-10, ReLU, 203530 parameters');
    // tf.train.adam 30 ms against fused adam's 20: 1.50×.
    expect(md).toContain('| tf.train.adam | tf.train | 30.0 | 1.50× | 0 |');
    expect(md).toContain('| egAdam | composable | 30.0 | 1.20× | 0 |');
  });
});

describe('renderDocs', () => {
  it('is the report under a docs title, with how to regenerate it', () => {
    const docs = renderDocs(run);
    expect(docs.startsWith('# Benchmarks\n')).toBe(true);
    expect(docs).toContain('npm run bench -- --write-docs');
    expect(docs).toContain('## Targets');
  });
});

describe('formatting', () => {
  it('keeps three significant digits and marks missing values', () => {
    expect(formatMs(123.4)).toBe('123');
    expect(formatMs(12.34)).toBe('12.3');
    expect(formatMs(1.234)).toBe('1.23');
    expect(formatMs(0.01234)).toBe('0.012');
    expect(formatRatio(0.5)).toBe('0.50×');
    expect(formatRatio(null)).toBe('–');
  });
});
