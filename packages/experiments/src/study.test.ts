import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import type { StudyConfig } from './config.js';
import { runStudy } from './study.js';

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

function tinyConfig(): StudyConfig {
  const out = mkdtempSync(join(tmpdir(), 'tfopt-study-'));
  dirs.push(out);
  return {
    preset: 'quick',
    studies: ['no-schedule', 'shift'],
    backend: 'wasm',
    workers: 1,
    seeds: [1],
    batchSize: 16,
    data: { sizes: { train: 200, val: 60, test: 100 }, splitSeed: 0 },
    noSchedule: {
      models: ['mlp'],
      methods: { mlp: ['adam-cosine', 'eg-adam'], cnn: [] },
      lrs: { mlp: [1e-3, 1e-2], cnn: [] },
      steps: 6,
      evalEvery: 3,
      evalSize: 50,
      logEvery: 1,
    },
    shift: {
      model: 'mlp',
      methods: ['adam-cosine', 'eg-adam'],
      angles: [0, 90, 180],
      every: 6,
      evalEvery: 2,
      evalSize: 40,
      logEvery: 2,
      recoverFraction: 0.9,
    },
    out,
    quiet: true,
  };
}

const read = (dir: string, name: string) => readFileSync(join(dir, name), 'utf8');
const csvRows = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => line.split(','));

describe('runStudy on a tiny configuration', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('writes report.md with the tables, well-formed SVG plots, CSV and JSON, and leaks no tensor', async () => {
    const config = tinyConfig();
    const notes: string[] = [];
    const before = tf.memory().numTensors;
    const out = await runStudy(config, {
      command: 'node dist/cli.js --test',
      progress: 'quiet',
      log: (l) => notes.push(l),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(out.interrupted).toBe(false);
    expect(out.runs).toBe(6);

    const report = read(config.out, 'report.md');
    expect(report).toContain('`node dist/cli.js --test`');
    expect(report).toContain('Complete: 6 of 6 runs');
    expect(report).toContain('## Study 1: no schedule');
    expect(report).toMatch(/\| Method \| Tuned lr \| Test acc % \(mean ± std\) \|/);
    expect(report).toMatch(/\| Adam \+ warmup-cosine \| 1e-[23] \| \d+\.\d\d ± 0\.00 \|/);
    expect(report).toMatch(/\| Method \| 1e-3 \| 1e-2 \|/);
    expect(report).toContain('## Study 2: distribution shift');
    expect(report).toMatch(
      /\| Method \| lr \| Recovery 0°→90° \(steps\) \| Recovery 90°→180° \(steps\) \|/,
    );
    expect(report).toMatch(/\| EG-Adam \| 1e-[23] \(tuned\) \|/);
    expect(report).toContain('## What was measured');
    for (const plot of [
      'lr-sensitivity-mlp',
      'curves-mlp',
      'shift-accuracy',
      'shift-recovery',
      'shift-scale',
    ]) {
      expect(report).toContain(`(plots/${plot}.svg)`);
      const svg = read(config.out, `plots/${plot}.svg`);
      expect(svg.startsWith('<svg')).toBe(true);
      expectWellFormedXml(svg);
      expect(svg).toContain('mark-line');
      expect(JSON.parse(read(config.out, `plots/${plot}.vl.json`)).$schema).toMatch(/vega-lite/);
    }
    expect(read(config.out, 'plots/shift-accuracy.svg')).toContain('→ 90°');
    expect(read(config.out, 'plots/shift-accuracy.svg')).toContain('mark-rule');
    expect(read(config.out, 'plots/lr-sensitivity-mlp.svg')).toContain('EG-Adam');

    const runs = csvRows(read(config.out, 'runs.csv'));
    expect(runs[0]).toEqual([
      'study',
      'model',
      'method',
      'label',
      'family',
      'lr',
      'seed',
      'steps',
      'steps_done',
      'diverged',
      'val_accuracy',
      'val_loss',
      'test_accuracy',
      'test_loss',
      'wall_ms',
    ]);
    expect(runs).toHaveLength(7);
    for (const row of runs.slice(1)) {
      const acc = Number(row[12]);
      expect(acc).toBeGreaterThanOrEqual(0);
      expect(acc).toBeLessThanOrEqual(1);
    }
    const steps = csvRows(read(config.out, 'steps.csv'));
    expect(steps[0]).toEqual(['study', 'model', 'method', 'lr', 'seed', 'step', 'train_loss']);
    // 4 grid runs log every step (6 each); 2 shift runs log every 2 of 18 steps.
    expect(steps).toHaveLength(1 + 4 * 6 + 2 * 9);
    const evals = csvRows(read(config.out, 'evals.csv'));
    expect(evals[0]).toEqual([
      'study',
      'model',
      'method',
      'lr',
      'seed',
      'step',
      'phase',
      'angle',
      'accuracy',
      'loss',
      'lr_factor',
      'scale',
      'gain_mean',
      'gain_min',
      'gain_max',
    ]);
    const shiftEvals = evals.filter((r) => r[0] === 'shift' && r[2] === 'eg-adam');
    // Evaluated at 0, every 2 steps, and on both angles at each of the 2 shifts.
    expect(shiftEvals).toHaveLength(1 + 9 + 2);
    expect(shiftEvals.filter((r) => r[5] === '6').map((r) => r[7])).toEqual(['0', '90']);
    expect(Number(shiftEvals[0]?.[11])).toBe(1); // the EG scale starts at 1
    const cosineEvals = evals.filter((r) => r[0] === 'shift' && r[2] === 'adam-cosine');
    expect(cosineEvals.every((r) => r[11] === '')).toBe(true);

    const json = JSON.parse(read(config.out, 'results.json'));
    expect(json.meta.completedRuns).toBe(6);
    expect(json.meta.backend).toBe('wasm');
    expect(json.runs).toHaveLength(6);
    expect(Object.keys(json.summaries.noSchedule)).toEqual(['mlp']);
    expect(json.summaries.shift.map((s: { method: string }) => s.method)).toEqual([
      'adam-cosine',
      'eg-adam',
    ]);
    expect(out.consoleSummary).toMatch(/EG-Adam/);
    expect(notes).toEqual([]);
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
    expect(report).toContain('**Interrupted**: 1 of 6 planned runs finished');
    expect(report).toContain('| Adam + warmup-cosine | 1e-3 |');
    expect(report).not.toContain('## Study 2');
    expect(csvRows(read(config.out, 'runs.csv'))).toHaveLength(2);
  });
});
