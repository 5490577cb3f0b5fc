import { type MethodEntry, methodById } from './methods.js';
import { median, recoverySteps, type Stats, stats } from './metrics.js';
import type { ModelKind } from './models.js';
import type { EvalLog, RunResult, ShiftConfig } from './train.js';

/** A method is "near the best" at a learning rate when within this many accuracy points of the best method. */
export const NEAR_BEST = 0.02;

/** One method at one learning rate, over seeds. */
export interface GridCell {
  readonly lr: number;
  readonly runs: number;
  readonly diverged: number;
  readonly testAcc: Stats;
  readonly testLoss: Stats;
  readonly valAcc: Stats;
}

/** One method over the learning-rate grid. */
export interface MethodGrid {
  readonly model: ModelKind;
  readonly method: MethodEntry;
  /** By increasing learning rate. */
  readonly cells: GridCell[];
  /** The cell with the highest mean validation accuracy (the tuned choice). */
  readonly best: GridCell | undefined;
  /** The cell at the method's customary learning rate, if it was on the grid. */
  readonly atDefault: GridCell | undefined;
  /** The cell with the lowest mean test accuracy. */
  readonly worst: GridCell | undefined;
  readonly medianTestAcc: number;
  /** Grid points whose mean test accuracy is within {@link NEAR_BEST} of the best tuned method. */
  readonly nearBest: number;
}

function cell(lr: number, runs: RunResult[]): GridCell {
  return {
    lr,
    runs: runs.length,
    diverged: runs.filter((r) => r.diverged).length,
    testAcc: stats(runs.map((r) => r.final.test.accuracy)),
    testLoss: stats(runs.map((r) => r.final.test.loss)),
    valAcc: stats(runs.map((r) => r.final.val.accuracy)),
  };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list === undefined) out.set(k, [item]);
    else list.push(item);
  }
  return out;
}

/**
 * Per-method summaries of the no-schedule study for one model, in the order
 * of `methodOrder`. Seeds are pooled per (method, learning rate).
 */
export function summarizeGrid(
  results: readonly RunResult[],
  model: ModelKind,
  methodOrder: readonly string[],
): MethodGrid[] {
  const mine = results.filter((r) => r.spec.study === 'no-schedule' && r.spec.model === model);
  const byMethod = groupBy(mine, (r) => r.spec.method);
  const partial = methodOrder
    .filter((id) => byMethod.has(id))
    .map((id) => {
      const method = methodById(id);
      const byLr = groupBy(byMethod.get(id) ?? [], (r) => String(r.spec.lr));
      const cells = [...byLr.values()]
        .map((runs) => cell((runs[0] as RunResult).spec.lr, runs))
        .sort((a, b) => a.lr - b.lr);
      const best = maxBy(cells, (c) => c.valAcc.mean);
      const worst = maxBy(cells, (c) => -c.testAcc.mean);
      return {
        model,
        method,
        cells,
        best,
        worst,
        atDefault: cells.find((c) => c.lr === method.defaultLr),
        medianTestAcc: median(cells.map((c) => c.testAcc.mean)),
      };
    });
  const bestOverall = Math.max(
    ...partial.map((g) => g.best?.testAcc.mean ?? Number.NEGATIVE_INFINITY),
  );
  return partial.map((g) => ({
    ...g,
    nearBest: g.cells.filter((c) => c.testAcc.mean >= bestOverall - NEAR_BEST).length,
  }));
}

function maxBy<T>(items: readonly T[], score: (item: T) => number): T | undefined {
  let best: T | undefined;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const item of items) {
    const s = score(item);
    if (best === undefined || s > bestScore) {
      best = item;
      bestScore = Number.isNaN(s) ? Number.NEGATIVE_INFINITY : s;
    }
  }
  return best;
}

/** What one run of the shift study showed around each shift (index k = the shift into phase k; entry 0 unused). */
export interface ShiftRunMetrics {
  readonly seed: number;
  /** Accuracy on the old angle just before each shift. */
  readonly preShift: number[];
  /** Accuracy on the new angle just after each shift, before training on it. */
  readonly postShift: number[];
  /** Steps to recover to the target fraction of `preShift`; null when not within the phase. */
  readonly recovery: (number | null)[];
  /** Mean accuracy over each phase's evaluations. */
  readonly phaseMean: number[];
  /** Learned scale just before each shift. */
  readonly scaleBefore: (number | undefined)[];
  /** Relative change of the scale over the window of steps before each shift, and over the window after it. */
  readonly scaleTrendBefore: (number | undefined)[];
  readonly scaleTrendAfter: (number | undefined)[];
  /** Base learning rate as a fraction of its peak at each shift (the cosine schedule's decay). */
  readonly lrFactorAtShift: number[];
}

/** Steps on each side of a shift over which the scale's trend is measured: a quarter phase. */
export function trendWindow(shift: ShiftConfig): number {
  return Math.max(1, Math.round(shift.every / 4));
}

/** Read the per-shift metrics out of one shift-study run. */
export function shiftRunMetrics(
  result: RunResult,
  shift: ShiftConfig,
  fraction: number,
): ShiftRunMetrics {
  const phases = shift.angles.length;
  const inPhase = (k: number): EvalLog[] => result.evals.filter((e) => e.phase === k);
  const at = (step: number, phase: number): EvalLog | undefined =>
    result.evals.find((e) => e.step === step && e.phase === phase);
  const out = {
    seed: result.spec.seed,
    preShift: [] as number[],
    postShift: [] as number[],
    recovery: [] as (number | null)[],
    phaseMean: [] as number[],
    scaleBefore: [] as (number | undefined)[],
    scaleTrendBefore: [] as (number | undefined)[],
    scaleTrendAfter: [] as (number | undefined)[],
    lrFactorAtShift: [] as number[],
  };
  for (let k = 0; k < phases; k++) {
    const series = inPhase(k);
    out.phaseMean.push(stats(series.map((e) => e.accuracy)).mean);
    const shiftStep = k * shift.every;
    const before = k === 0 ? undefined : at(shiftStep, k - 1);
    const after = at(shiftStep, k);
    out.preShift.push(before?.accuracy ?? Number.NaN);
    out.postShift.push(after?.accuracy ?? Number.NaN);
    out.recovery.push(
      before === undefined
        ? null
        : recoverySteps(series, shiftStep, before.accuracy, {
            fraction,
            endStep: shiftStep + shift.every,
          }),
    );
    out.scaleBefore.push(before?.scale);
    // The evaluation nearest the window's far end on the right side of the shift.
    const w = trendWindow(shift);
    const earlier = k === 0 ? [] : inPhase(k - 1).filter((e) => e.step <= shiftStep - w);
    const later = series.filter((e) => e.step >= shiftStep + w);
    const from = earlier[earlier.length - 1]?.scale;
    const to = later[0]?.scale;
    const at0 = before?.scale;
    out.scaleTrendBefore.push(from !== undefined && at0 !== undefined ? at0 / from - 1 : undefined);
    out.scaleTrendAfter.push(to !== undefined && at0 !== undefined ? to / at0 - 1 : undefined);
    out.lrFactorAtShift.push(before?.lrFactor ?? after?.lrFactor ?? Number.NaN);
  }
  return out;
}

/** Recovery after one shift over seeds; not-recovered runs count as the whole phase. */
export interface RecoveryStats {
  readonly steps: Stats;
  /** Runs that did not reach the target within the phase. */
  readonly censored: number;
}

/** One method of the shift study over seeds. */
export interface ShiftSummary {
  readonly method: MethodEntry;
  readonly lr: number;
  readonly runs: number;
  /** Index k describes the shift into phase k (entry 0 is the start of the stream). */
  readonly preShift: Stats[];
  readonly postShift: Stats[];
  readonly recovery: RecoveryStats[];
  readonly phaseMean: Stats[];
  readonly scaleBefore: Stats[];
  readonly scaleTrendBefore: Stats[];
  readonly scaleTrendAfter: Stats[];
  readonly lrFactorAtShift: Stats[];
  /** Recovery over every shift and seed (censored runs count as the whole phase). */
  readonly meanRecovery: RecoveryStats;
  /** Mean accuracy over the whole stream's evaluations. */
  readonly streamMean: Stats;
  readonly finalTestAcc: Stats;
}

/** Per-method summaries of the shift study, in `methodOrder`. */
export function summarizeShift(
  results: readonly RunResult[],
  shift: ShiftConfig,
  fraction: number,
  methodOrder: readonly string[],
): ShiftSummary[] {
  const mine = results.filter((r) => r.spec.study === 'shift');
  const byMethod = groupBy(mine, (r) => r.spec.method);
  return methodOrder
    .filter((id) => byMethod.has(id))
    .map((id) => {
      const runs = byMethod.get(id) as RunResult[];
      const metrics = runs.map((r) => shiftRunMetrics(r, shift, fraction));
      const column = <T>(pick: (m: ShiftRunMetrics) => T[], k: number) =>
        metrics.map((m) => pick(m)[k] as T);
      const ks = shift.angles.map((_, k) => k);
      const recovery = ks.map((k) => {
        const values = column((m) => m.recovery, k);
        return {
          steps: stats(values.map((v) => v ?? shift.every)),
          censored: values.filter((v) => v === null).length,
        };
      });
      const all = metrics.flatMap((m) => m.recovery.slice(1));
      return {
        method: methodById(id),
        lr: (runs[0] as RunResult).spec.lr,
        runs: runs.length,
        preShift: ks.map((k) => stats(column((m) => m.preShift, k))),
        postShift: ks.map((k) => stats(column((m) => m.postShift, k))),
        recovery,
        phaseMean: ks.map((k) => stats(column((m) => m.phaseMean, k))),
        scaleBefore: ks.map((k) =>
          stats(column((m) => m.scaleBefore, k).map((v) => v ?? Number.NaN)),
        ),
        scaleTrendBefore: ks.map((k) =>
          stats(column((m) => m.scaleTrendBefore, k).map((v) => v ?? Number.NaN)),
        ),
        scaleTrendAfter: ks.map((k) =>
          stats(column((m) => m.scaleTrendAfter, k).map((v) => v ?? Number.NaN)),
        ),
        lrFactorAtShift: ks.map((k) => stats(column((m) => m.lrFactorAtShift, k))),
        meanRecovery: {
          steps: stats(all.map((v) => v ?? shift.every)),
          censored: all.filter((v) => v === null).length,
        },
        streamMean: stats(runs.map((r) => stats(r.evals.map((e) => e.accuracy)).mean)),
        finalTestAcc: stats(runs.map((r) => r.final.test.accuracy)),
      };
    });
}
