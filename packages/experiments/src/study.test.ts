import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import type { StudyConfig } from './config.js';
import { reportFromResults, runStudy } from './study.js';
import { parseResults } from './writers.js';

/** Tags open and close in order, attributes are quoted: enough to call an SVG well-formed here. */
function expectWellFormedXml(text: string): void {
  const body = text.replace(/<!--[\s\S]*?-->/g, '').replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g;
  let at = 0;
  for (let m = tag.exec(body); m !== null; m = tag.exec(body)) {
    expect(body.slice(at, m.index), 'stray markup between tags').not.toMatch(/[<>]/);
    at = m.index + m[0].length;
    const [, closing, name, , selfClosing] = m;
    if (closing) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else if (!selfClosing) stack.push(name as string);
  }
  expect(body.slice(at).trim()).toBe('');
  expect(stack).toEqual([]);
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tfopt-study-'));
  dirs.push(dir);
  return dir;
}

/**
 * Every study on the smallest data that still trains: both tasks (MNIST MLP
 * and a one-block char-LM), a baseline, EG and a peer, a 3-point grid (so
 * the tuning cost has 1 and 3 runs), a 2x2 EG-rates grid, a long run and a
 * three-angle stream, 2 seeds.
 */
function tinyConfig(): StudyConfig {
  return {
    preset: 'quick',
    studies: ['grid', 'eg-rates', 'long', 'shift'],
    backend: 'wasm',
    workers: 1,
    seeds: [1, 2],
    data: {
      mnist: { sizes: { train: 200, val: 60, test: 100 }, splitSeed: 0 },
      lm: {
        corpus: { valFraction: 0.1, testFraction: 0.1, maxChars: 20_000 },
        model: { kind: 'transformer', context: 8, width: 16, layers: 1, heads: 2 },
      },
    },
    tasks: {
      mlp: { batchSize: 16, evalSize: 50 },
      cnn: { batchSize: 16, evalSize: 50 },
      lm: { batchSize: 4, evalSize: 8, finalEvalSize: 16 },
    },
    grid: {
      tasks: ['mlp', 'lm'],
      methods: { mlp: ['adam', 'eg-adam', 'prodigy'], cnn: [], lm: ['eg-adam', 'prodigy'] },
      points: 3,
      steps: { mlp: 6, cnn: 6, lm: 4 },
      evals: 2,
      logEvery: 1,
    },
    egRates: {
      task: 'mlp',
      method: 'eg-adam',
      scaleRates: [1e-3, 1e-1],
      gainRates: [1e-3, 1e-2],
      steps: 4,
      evals: 1,
      logEvery: 2,
    },
    long: {
      tasks: ['lm'],
      methods: { mlp: [], cnn: [], lm: ['eg-adam', 'prodigy'] },
      steps: { mlp: 10, cnn: 10, lm: 10 },
      evals: 2,
      logEvery: 5,
    },
    shift: {
      task: 'mlp',
      methods: ['adam-cosine', 'eg-adam', 'prodigy'],
      angles: [0, 90, 180],
      every: 4,
      evalEvery: 2,
      evalSize: 40,
      logEvery: 2,
      recoverFraction: 0.9,
    },
    out: tempDir(),
    quiet: true,
  };
}

const read = (dir: string, name: string) => readFileSync(join(dir, name), 'utf8');
const csvRows = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => line.split(','));

/** The rows of the Markdown table that follows `heading` in `report`. */
function tableAfter(report: string, heading: string): string[][] {
  const at = report.indexOf(heading);
  expect(at, `heading "${heading}"`).toBeGreaterThanOrEqual(0);
  const lines = report.slice(at).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(2, -2)
        .split(' | ')
        .map((c) => c.trim()),
    );
  }
  return rows.filter((r) => !r.every((c) => c === '---'));
}

const PLOTS = [
  'lr-sensitivity-mlp',
  'curves-mlp',
  'tuning-cost-mlp',
  'lr-sensitivity-lm',
  'curves-lm',
  'tuning-cost-lm',
  'eg-rates',
  'long-lm',
  'shift-accuracy',
  'shift-recovery',
  'shift-scale',
];

describe('runStudy on a tiny configuration', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('runs every study and writes a well-formed report, plots, CSV and JSON, leaking no tensor', async () => {
    const config = tinyConfig();
    const notes: string[] = [];
    const before = tf.memory().numTensors;
    const out = await runStudy(config, {
      command: 'node dist/cli.js --test',
      progress: 'quiet',
      log: (l) => notes.push(l),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(notes).toEqual([]);
    // Grid: mlp 3 + 3 + 1, lm 3 + 1; EG rates 4; long 2; shift 3; each for 2 seeds.
    const planned = 2 * (7 + 4 + 4 + 2 + 3);
    expect(out.interrupted).toBe(false);
    expect(out.runs).toBe(planned);
    expect(out.files.sort()).toEqual(
      [
        'report.md',
        'runs.csv',
        'steps.csv',
        'evals.csv',
        'tuning.csv',
        'verdicts.csv',
        'results.json',
        ...PLOTS.flatMap((p) => [`plots/${p}.svg`, `plots/${p}.vl.json`]),
      ].sort(),
    );

    const report = read(config.out, 'report.md');
    expect(report).toContain('`node dist/cli.js --test`');
    expect(report).toContain(`Complete: ${planned} of ${planned} runs`);
    for (const section of [
      '## Where EG wins, ties and loses',
      '## Study 1: learning-rate grid and tuning cost',
      "## Study 2: EG's own rates",
      '## Study 3: long horizon',
      '## Study 4: distribution shift',
      '## Methods',
      '## Cost',
    ]) {
      expect(report).toContain(section);
    }
    for (const plot of PLOTS) {
      expect(report).toContain(`(plots/${plot}.svg)`);
      const svg = read(config.out, `plots/${plot}.svg`);
      expect(svg.startsWith('<svg')).toBe(true);
      expectWellFormedXml(svg);
      expect(svg).toMatch(plot === 'eg-rates' ? /mark-rect/ : /mark-line/);
      expect(JSON.parse(read(config.out, `plots/${plot}.vl.json`)).$schema).toMatch(/vega-lite/);
    }
    expect(read(config.out, 'plots/shift-accuracy.svg')).toContain('→ 90°');
    expect(read(config.out, 'plots/shift-scale.svg')).toContain('Prodigy');
    expect(read(config.out, 'plots/lr-sensitivity-lm.svg')).toContain('lower is better');

    // Best-of-grid table: one row per method, MLP sorted by accuracy, LM in bits per char.
    const mlpBest = tableAfter(report, '### MNIST MLP');
    expect(mlpBest[0]?.slice(0, 3)).toEqual(['Method', 'Tuned lr', 'Test accuracy % (mean ± std)']);
    expect(
      mlpBest
        .slice(1)
        .map((r) => r[0])
        .sort(),
    ).toEqual(['Adam', 'EG-Adam', 'Prodigy']);
    expect(mlpBest.find((r) => r[0] === 'Prodigy')?.[1]).toBe('1');
    const lmBest = tableAfter(report, '### Moby Dick char-LM');
    expect(lmBest[0]?.[2]).toBe('Test bits/char (mean ± std)');
    expect(lmBest.find((r) => r[0] === 'EG-Adam')?.[2]).toMatch(/^\d\.\d{3} ± \d\.\d{3}$/);
    // The grid in half decades around each default; Prodigy only at its default.
    const perLr = tableAfter(report, '**Test accuracy % at each learning rate');
    expect(perLr[0]).toEqual(['Method', 'Default lr', '÷3', 'default', '×3']);
    expect(perLr.find((r) => r[0] === 'Prodigy')?.slice(2)).toEqual([
      '—',
      expect.stringMatching(/ ± /),
      '—',
    ]);
    // Tuning cost: 1 and 3 runs exist on a 3-point grid, 7 does not.
    const tuning = tableAfter(report, '**Tuning cost**');
    expect(tuning[0]).toEqual(['Method', '1 run', '3 runs', '7 runs']);
    expect(tuning.find((r) => r[0] === 'Adam')?.[3]).toBe('—');
    expect(tuning.find((r) => r[0] === 'Prodigy')?.[2]).toMatch(/\(1\) =$/);
    // Verdicts: EG-Adam's column against Adam and Prodigy, then the tally.
    const untuned = tableAfter(report, '**MNIST MLP, no tuning (every method');
    expect(untuned.map((r) => r[0])).toEqual([
      'Against',
      'Adam',
      'Prodigy',
      '**wins / ties / losses**',
    ]);
    expect(untuned[1]?.[1]).toMatch(/^(win|tie|loss) [+−]\d+\.\d\d$/);
    // EG rates: a row per scale rate, a column per gain rate.
    const rates = tableAfter(report, "## Study 2: EG's own rates");
    expect(rates.map((r) => r[0])).toEqual(['Scale rate \\ gain rate', '1e-3', '1e-1']);
    expect(rates[0]?.slice(1)).toEqual(['1e-3', '1e-2']);
    const long = tableAfter(report, '### Moby Dick char-LM, 10 steps');
    expect(long.slice(1).map((r) => r[0])).toEqual(['EG-Adam', 'Prodigy']);
    const shift = tableAfter(report, '## Study 4');
    expect(shift[0]?.slice(2, 4)).toEqual(['Recovery 0°→90° (steps)', 'Recovery 90°→180° (steps)']);
    expect(shift.slice(1).map((r) => r[0])).toEqual(['Adam + warmup-cosine', 'EG-Adam', 'Prodigy']);
    expect(report).toMatch(
      /- \*\*MNIST MLP, no tuning:\*\* EG-Adam \(\d wins?, \d ties?, \d loss(es)?\)/,
    );
    expect(report).toMatch(/- \*\*Moby Dick char-LM, tuned:\*\* EG-Adam/);

    const runs = csvRows(read(config.out, 'runs.csv'));
    expect(runs[0]?.slice(0, 7)).toEqual([
      'study',
      'task',
      'method',
      'lr',
      'scale_rate',
      'gain_rate',
      'seed',
    ]);
    expect(runs).toHaveLength(1 + planned);
    const metricAt = (runs[0] as string[]).indexOf('test_metric');
    for (const row of runs.slice(1)) {
      const value = Number(row[metricAt]);
      if (row[1] === 'lm') expect(value).toBeGreaterThan(0);
      else expect(value).toBeLessThanOrEqual(1);
    }
    expect(
      runs
        .filter((r) => r[0] === 'eg-rates')
        .map((r) => `${r[4]}/${r[5]}`)
        .slice(0, 4),
    ).toEqual(['0.001/0.001', '0.001/0.01', '0.1/0.001', '0.1/0.01']);
    const evals = csvRows(read(config.out, 'evals.csv'));
    const shiftEvals = evals.filter((r) => r[0] === 'shift' && r[2] === 'eg-adam' && r[6] === '1');
    // Evaluated at 0, every 2 of 12 steps, and on both angles at each of the 2 shifts.
    expect(shiftEvals).toHaveLength(1 + 6 + 2);
    const scaleAt = (evals[0] as string[]).indexOf('scale');
    expect(Number(shiftEvals[0]?.[scaleAt])).toBe(1); // the EG scale starts at 1
    const prodigyD = evals
      .filter((r) => r[0] === 'shift' && r[2] === 'prodigy')
      .map((r) => Number(r[scaleAt]));
    expect(prodigyD.every((d) => d > 0)).toBe(true); // Prodigy's d, logged as its learned step size
    const tuningCsv = csvRows(read(config.out, 'tuning.csv'));
    expect(tuningCsv).toHaveLength(1 + 3 * (3 + 2)); // 3 budgets for each of 5 (task, method)
    const verdicts = csvRows(read(config.out, 'verdicts.csv'));
    expect(verdicts[0]).toEqual([
      'setting',
      'eg_method',
      'opponent',
      'opponent_kind',
      'verdict',
      'delta',
    ]);
    expect(verdicts.some((r) => r[0] === 'shift/recovery' && r[2] === 'prodigy')).toBe(true);

    // results.json round-trips: read back, it rebuilds the same report.
    const saved = parseResults(read(config.out, 'results.json'));
    expect(saved.runs).toHaveLength(planned);
    expect(saved.meta.completedRuns).toBe(planned);
    expect(saved.chosenLrs['long/lm/eg-adam']?.source).toBe('tuned');
    const json = JSON.parse(read(config.out, 'results.json'));
    expect(json.summaries.grid.map((g: { task: string }) => g.task)).toEqual(['mlp', 'lm']);
    expect(json.summaries.shift.map((s: { method: string }) => s.method)).toEqual([
      'adam-cosine',
      'eg-adam',
      'prodigy',
    ]);
    const again = tempDir();
    await reportFromResults(config.out, again);
    expect(read(again, 'report.md')).toBe(report);
    expect(read(again, 'runs.csv')).toBe(read(config.out, 'runs.csv'));
    expect(out.consoleSummary).toMatch(/EG-Adam/);
  });

  it('still writes a report, marked as interrupted, when stopped after the first run', async () => {
    const config = tinyConfig();
    const controller = new AbortController();
    const out = await runStudy(config, {
      command: 'test',
      progress: 'quiet',
      signal: controller.signal,
      onResult: () => controller.abort(),
    });
    expect(out.interrupted).toBe(true);
    expect(out.runs).toBe(1);
    const report = read(config.out, 'report.md');
    expect(report).toContain('**Interrupted**: 1 of 40 planned runs finished');
    expect(report).toContain('| Adam | 3e-4 |');
    expect(report).not.toContain('## Study 4');
    expect(csvRows(read(config.out, 'runs.csv'))).toHaveLength(2);
  });
});
