import { describe, expect, it } from 'vitest';
import { presetConfig, type StudyConfig } from './config.js';
import { costModelFromResults, estimateWall, evalItemsOf, runCostMs } from './estimate.js';
import { methodById } from './methods.js';
import {
  chooseLearningRates,
  halfDecadeGrid,
  methodGrid,
  planAll,
  planEgRates,
  planGrid,
} from './plan.js';
import type { RunResult, RunSpec } from './train.js';

function config(overrides: Partial<StudyConfig> = {}): StudyConfig {
  return {
    ...presetConfig('default'),
    backend: 'cpu',
    workers: 2,
    out: 'x',
    quiet: true,
    ...overrides,
  };
}

describe('halfDecadeGrid', () => {
  it('steps half a decade each way from the centre, rounding odd steps to one digit', () => {
    expect(halfDecadeGrid(1e-3, 7)).toEqual([3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]);
    // 0.0025 · 10^±0.5 = 7.9e-4 and 7.9e-3; whole decades stay exact.
    expect(halfDecadeGrid(0.0025, 3)).toEqual([8e-4, 0.0025, 8e-3]);
    expect(halfDecadeGrid(0.0025, 5)).toEqual([2.5e-4, 8e-4, 0.0025, 8e-3, 0.025]);
    expect(halfDecadeGrid(1, 1)).toEqual([1]);
    expect(() => halfDecadeGrid(1, 4)).toThrow(/odd/);
  });

  it('runs learning-rate-free methods at their default only', () => {
    expect(methodGrid(methodById('prodigy'), 7)).toEqual([1]);
    expect(methodGrid(methodById('sgdm'), 3)).toEqual([3e-3, 1e-2, 3e-2]);
  });
});

describe('planning', () => {
  it('plans every tunable method on its grid and every free method once, per seed and task', () => {
    const c = config({
      seeds: [1, 2],
      grid: {
        ...config().grid,
        tasks: ['mlp'],
        methods: { mlp: ['adam', 'prodigy'], cnn: [], lm: [] },
        points: 3,
      },
    });
    const specs = planGrid(c);
    // (3 adam + 1 prodigy) x 2 seeds, seed-major.
    expect(specs.map((s) => `${s.method}@${s.lr}/${s.seed}`)).toEqual([
      'adam@0.0003/1',
      'adam@0.001/1',
      'adam@0.003/1',
      'prodigy@1/1',
      'adam@0.0003/2',
      'adam@0.001/2',
      'adam@0.003/2',
      'prodigy@1/2',
    ]);
    expect(new Set(specs.map((s) => s.key)).size).toBe(specs.length);
    expect(specs[0]?.batchSize).toBe(64);
  });

  it('plans the EG-rates grid at one base learning rate', () => {
    const c = config({ seeds: [1] });
    const specs = planEgRates(c);
    expect(specs).toHaveLength(9);
    expect(new Set(specs.map((s) => s.lr))).toEqual(new Set([1e-3]));
    expect(specs.map((s) => s.egRates?.scaleLearningRate)).toEqual([
      1e-3, 1e-3, 1e-3, 1e-2, 1e-2, 1e-2, 1e-1, 1e-1, 1e-1,
    ]);
    expect(new Set(specs.map((s) => s.key)).size).toBe(9);
  });

  it('gives the long and shift studies the grid-tuned learning rate of the same task', () => {
    const c = config({ seeds: [1] });
    const result = (method: string, lr: number, val: number): RunResult => ({
      spec: { ...(planGrid(c)[0] as RunSpec), method, lr },
      steps: [],
      evals: [],
      final: {
        val: { metric: val, loss: 0, accuracy: val },
        test: { metric: val, loss: 0, accuracy: val },
      },
      diverged: false,
      stepsDone: 1,
      wallMs: 1,
      evalMs: 0,
      evalItems: 0,
    });
    const lrs = chooseLearningRates(c, [
      result('eg-adam', 1e-3, 0.9),
      result('eg-adam', 3e-3, 0.92),
    ]);
    expect(lrs['long/mlp/eg-adam']).toEqual({ lr: 3e-3, source: 'tuned' });
    expect(lrs['shift/mlp/eg-adam']).toEqual({ lr: 3e-3, source: 'tuned' });
    expect(lrs['shift/mlp/adam']).toEqual({ lr: 1e-3, source: 'default' });
    const [, second] = planAll(c, lrs);
    expect(second?.find((s) => s.study === 'long' && s.method === 'eg-adam')?.lr).toBe(3e-3);
  });
});

describe('estimates', () => {
  const spec = (steps: number, extra: Partial<RunSpec> = {}): RunSpec => ({
    key: 'k',
    study: 'grid',
    task: 'mlp',
    method: 'adam',
    lr: 1e-3,
    seed: 1,
    steps,
    batchSize: 64,
    evalEvery: 10,
    evalSize: 100,
    logEvery: 1,
    ...extra,
  });

  it('counts periodic evaluations, the extra one at each shift, and the final ones', () => {
    // Steps 0, 10, ..., 50: 6 evaluations of 100, plus 300 final items.
    expect(evalItemsOf(spec(50), 300)).toBe(900);
    // Step 55 is evaluated too (the last step): 7.
    expect(evalItemsOf(spec(55), 0)).toBe(700);
    expect(evalItemsOf(spec(50, { shift: { angles: [0, 90, 180], every: 25 } }), 0)).toBe(800);
  });

  it('prices a run from measured training and evaluation costs, falling back to the task median', () => {
    const measured = (method: string, wallMs: number, evalMs: number): RunResult => ({
      spec: spec(100, { method }),
      steps: [],
      evals: [],
      final: {
        val: { metric: 0, loss: 0, accuracy: 0 },
        test: { metric: 0, loss: 0, accuracy: 0 },
      },
      diverged: false,
      stepsDone: 100,
      wallMs,
      evalMs,
      evalItems: 1000,
    });
    // adam: (1200 - 200) / 100 = 10 ms/step; eg-adam 20; evaluation 400 ms / 2000 items.
    const costs = costModelFromResults([
      measured('adam', 1200, 200),
      measured('eg-adam', 2200, 200),
    ]);
    expect(costs.stepMs['mlp/adam']).toBeCloseTo(10, 12);
    expect(costs.evalMsPerItem.mlp).toBeCloseTo(0.2, 12);
    // 50 steps at 10 ms + 900 items at 0.2 ms.
    expect(runCostMs(spec(50), costs, () => 300)).toBeCloseTo(680, 9);
    // prodigy was not measured: the median of 10 and 20.
    expect(runCostMs(spec(50, { method: 'prodigy' }), costs, () => 300)).toBeCloseTo(930, 9);
    expect(runCostMs(spec(50, { task: 'lm' }), costs, () => 300)).toBeUndefined();
  });

  it('schedules each wave on the first free slot, waves one after the other', () => {
    const cost = (s: RunSpec) => s.steps;
    // Wave 1 on 2 slots: 5 | 3, then 2 joins the 3 -> 5 and 5: 5. Wave 2: 4.
    const estimate = estimateWall([[spec(5), spec(3), spec(2)], [spec(4)]], 2, cost);
    expect(estimate).toEqual({ ms: 9, runs: 4, unpriced: 0 });
    expect(estimateWall([[spec(5)]], 2, () => undefined).unpriced).toBe(1);
  });
});
