import { describe, expect, it } from 'vitest';
import { methodById } from './methods.js';
import { stats } from './metrics.js';
import type { GridCell, MethodGrid } from './summarize.js';
import { taskById } from './tasks.js';
import { centredCells, expectedBestOfRandom, tuningCost } from './tuningCost.js';

const LRS = [3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2];

/** Cells with validation `vals` (one seed each) and test = validation - 0.01. */
function cells(lrs: readonly number[], vals: readonly number[]): GridCell[] {
  return lrs.map((lr, i) => ({
    lr,
    runs: 1,
    diverged: 0,
    val: stats([vals[i] as number]),
    test: stats([(vals[i] as number) - 0.01]),
    testLoss: stats([0]),
  }));
}

function grid(methodId: string, task: 'mlp' | 'lm', c: GridCell[]): MethodGrid {
  const method = methodById(methodId);
  return {
    task: taskById(task),
    method,
    steps: 100,
    cells: c,
    best: undefined,
    worst: undefined,
    atDefault: c.find((x) => x.lr === method.defaultLr),
    medianTest: Number.NaN,
    nearBest: 0,
  };
}

describe('tuning cost', () => {
  // Validation accuracy by learning rate; the default 1e-3 is in the middle.
  const vals = [0.5, 0.7, 0.85, 0.9, 0.93, 0.95, 0.6];

  it('takes the default for 1 run, the centred 3 for 3 runs and the whole grid for 7', () => {
    const cost = tuningCost(grid('adam', 'mlp', cells(LRS, vals)));
    expect(cost.points.map((p) => [p.runs, p.chosen?.lr, p.fixed])).toEqual([
      [1, 1e-3, false],
      [3, 3e-3, false], // 3e-4: 0.85, 1e-3: 0.90, 3e-3: 0.93
      [7, 1e-2, false], // 0.95
    ]);
    expect(cost.points[1]?.chosen?.test.mean).toBeCloseTo(0.92, 12);
  });

  it('gives the expected best of a random subset (Dodge et al.) from the ranks', () => {
    // Ranked worst to best: 0.5, 0.6, 0.7, 0.85, 0.9, 0.93, 0.95. Rank i is the best of a
    // random 3-subset with probability C(i-1, 2) / C(7, 3) = (0, 0, 1, 3, 6, 10, 15) / 35:
    // (0.70 + 3·0.85 + 6·0.90 + 10·0.93 + 15·0.95) / 35 = 32.2 / 35 = 0.92.
    const e = expectedBestOfRandom(cells(LRS, vals), 3, true);
    expect(e?.val).toBeCloseTo(0.92, 12);
    expect(e?.test).toBeCloseTo(0.91, 12);
    // One draw: the mean of the grid, 5.43 / 7; all seven: the best.
    expect(expectedBestOfRandom(cells(LRS, vals), 1, true)?.val).toBeCloseTo(5.43 / 7, 12);
    expect(expectedBestOfRandom(cells(LRS, vals), 7, true)?.val).toBeCloseTo(0.95, 12);
    expect(expectedBestOfRandom(cells(LRS, vals), 8, true)).toBeUndefined();
    expect(tuningCost(grid('adam', 'mlp', cells(LRS, vals))).points[1]?.expectedVal).toBeCloseTo(
      0.92,
      12,
    );
  });

  it('ranks a lower-is-better metric the other way round', () => {
    // Bits per char: the best is the smallest, 1.8 at 3e-3.
    const bits = [2.6, 2.3, 2.0, 1.9, 1.8, 2.2, 3.0];
    const cost = tuningCost(grid('adam', 'lm', cells(LRS, bits)));
    expect(cost.points.map((p) => p.chosen?.lr)).toEqual([1e-3, 3e-3, 3e-3]);
    // Ranked worst to best: 3.0, 2.6, 2.3, 2.2, 2.0, 1.9, 1.8; for 3 draws
    // (2.3 + 3·2.2 + 6·2.0 + 10·1.9 + 15·1.8) / 35 = 66.9 / 35.
    expect(expectedBestOfRandom(cells(LRS, bits), 3, false)?.val).toBeCloseTo(66.9 / 35, 12);
  });

  it('leaves budgets larger than the grid empty', () => {
    const three = cells([3e-4, 1e-3, 3e-3], [0.85, 0.9, 0.93]);
    expect(centredCells(three, 1e-3, 3)?.map((c) => c.lr)).toEqual([3e-4, 1e-3, 3e-3]);
    expect(centredCells(three, 1e-3, 7)).toBeUndefined();
    const cost = tuningCost(grid('adam', 'mlp', three));
    expect(cost.points.map((p) => p.chosen?.lr)).toEqual([1e-3, 3e-3, undefined]);
    expect(cost.points[2]?.expectedVal).toBeUndefined();
  });

  it('counts a learning-rate-free method at its one default run for every budget', () => {
    const one = cells([1], [0.88]);
    const cost = tuningCost(grid('prodigy', 'mlp', one));
    expect(cost.points.map((p) => [p.runs, p.chosen?.lr, p.fixed])).toEqual([
      [1, 1, true],
      [3, 1, true],
      [7, 1, true],
    ]);
  });
});
