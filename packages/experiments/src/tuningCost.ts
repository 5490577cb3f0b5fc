import type { MethodEntry } from './methods.js';
import { bestBy } from './metrics.js';
import type { GridCell, MethodGrid } from './summarize.js';
import type { TaskEntry } from './tasks.js';

/** Tuning budgets reported: how many training runs (learning rates) a user may try. */
export const BUDGETS = [1, 3, 7] as const;

/** The best result a method reaches with `runs` tuning runs. */
export interface TuningPoint {
  readonly runs: number;
  /**
   * The learning rate chosen on validation among the `runs` grid points
   * nearest the default (the default itself, then one more half decade on
   * each side per two runs); undefined when the grid has fewer points.
   */
  readonly chosen: GridCell | undefined;
  /**
   * Expected validation and test metric of the choice when the `runs`
   * learning rates are instead a uniformly random subset of the grid
   * (expected validation performance, Dodge et al. 2019, drawn without
   * replacement); undefined when the grid has fewer points.
   */
  readonly expectedVal: number | undefined;
  readonly expectedTest: number | undefined;
  /** The method has no learning rate to tune: its one default run counts at every budget. */
  readonly fixed: boolean;
}

/** One method's tuning cost on one task. */
export interface TuningCost {
  readonly task: TaskEntry;
  readonly method: MethodEntry;
  readonly points: TuningPoint[];
}

/**
 * The `runs` cells centred on the one at `center` (cells sorted by learning
 * rate), or undefined when they do not fit inside the grid.
 */
export function centredCells(
  cells: readonly GridCell[],
  center: number,
  runs: number,
): GridCell[] | undefined {
  const at = cells.findIndex((c) => c.lr === center);
  const half = (runs - 1) / 2;
  if (at < 0 || !Number.isInteger(half) || at - half < 0 || at + half >= cells.length) {
    return undefined;
  }
  return cells.slice(at - half, at + half + 1);
}

function choose(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let out = 1;
  for (let i = 1; i <= k; i++) out = (out * (n - k + i)) / i;
  return out;
}

/**
 * Expected validation and test metric of the validation-best cell of a
 * uniformly random `k`-subset of `cells`: with the cells ranked from worst to
 * best validation metric (rank i = 1..N), rank i is the subset's best with
 * probability C(i-1, k-1) / C(N, k).
 */
export function expectedBestOfRandom(
  cells: readonly GridCell[],
  k: number,
  higherIsBetter: boolean,
): { val: number; test: number } | undefined {
  const n = cells.length;
  if (k < 1 || k > n) return undefined;
  const goodness = (c: GridCell) =>
    Number.isNaN(c.val.mean) ? Number.NEGATIVE_INFINITY : higherIsBetter ? c.val.mean : -c.val.mean;
  const ranked = [...cells].sort((a, b) => goodness(a) - goodness(b));
  const total = choose(n, k);
  let val = 0;
  let test = 0;
  ranked.forEach((c, i) => {
    const p = choose(i, k - 1) / total;
    if (p > 0) {
      val += p * c.val.mean;
      test += p * c.test.mean;
    }
  });
  return { val, test };
}

/** The tuning cost of one method from its grid, at each budget of `budgets`. */
export function tuningCost(grid: MethodGrid, budgets: readonly number[] = BUDGETS): TuningCost {
  const { method, task } = grid;
  const higher = task.metric.higherIsBetter;
  const points = budgets.map((runs): TuningPoint => {
    if (method.learningRateFree) {
      return {
        runs,
        chosen: grid.atDefault,
        expectedVal: grid.atDefault?.val.mean,
        expectedTest: grid.atDefault?.test.mean,
        fixed: true,
      };
    }
    const subset = centredCells(grid.cells, method.defaultLr, runs);
    const expected = expectedBestOfRandom(grid.cells, runs, higher);
    return {
      runs,
      chosen: subset === undefined ? undefined : bestBy(subset, (c) => c.val.mean, higher),
      expectedVal: expected?.val,
      expectedTest: expected?.test,
      fixed: false,
    };
  });
  return { task, method, points };
}
