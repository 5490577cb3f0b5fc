import type { StudyConfig } from './config.js';
import { METHODS, type MethodEntry, methodById } from './methods.js';
import { bestBy, median, recoverySteps, type Stats, stats } from './metrics.js';
import { TASKS, type TaskEntry, taskById } from './tasks.js';
import type { EvalLog, RunResult, ShiftConfig, StudyName } from './train.js';
import { type TuningCost, tuningCost } from './tuningCost.js';

/** One configuration (method, learning rate, maybe EG rates) over seeds. */
export interface GridCell {
  readonly lr: number;
  readonly runs: number;
  readonly diverged: number;
  /** The task's metric on the final validation and test evaluations. */
  readonly val: Stats;
  readonly test: Stats;
  readonly testLoss: Stats;
}

/** One method over its learning-rate grid on one task. */
export interface MethodGrid {
  readonly task: TaskEntry;
  readonly method: MethodEntry;
  /** Training steps of the runs. */
  readonly steps: number;
  /** By increasing learning rate. */
  readonly cells: GridCell[];
  /** The cell with the best mean validation metric (the tuned choice). */
  readonly best: GridCell | undefined;
  /** The cell at the method's default learning rate, if it was on the grid. */
  readonly atDefault: GridCell | undefined;
  /** The cell with the worst mean test metric. */
  readonly worst: GridCell | undefined;
  readonly medianTest: number;
  /** Grid points whose mean test metric is within the task's `nearBest` of the best tuned method. */
  readonly nearBest: number;
}

/** Seeds pooled into one cell. */
export function cellOf(lr: number, runs: readonly RunResult[]): GridCell {
  return {
    lr,
    runs: runs.length,
    diverged: runs.filter((r) => r.diverged).length,
    val: stats(runs.map((r) => r.final.val.metric)),
    test: stats(runs.map((r) => r.final.test.metric)),
    testLoss: stats(runs.map((r) => r.final.test.loss)),
  };
}

export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list === undefined) out.set(k, [item]);
    else list.push(item);
  }
  return out;
}

/** The runs of one study on one task. */
export function runsOf(
  results: readonly RunResult[],
  study: StudyName,
  task: TaskEntry,
): RunResult[] {
  return results.filter((r) => r.spec.study === study && r.spec.task === task.id);
}

/**
 * Per-method summaries of the grid study on one task, in the order of
 * `methodOrder`. Seeds are pooled per (method, learning rate); "best" and
 * "worst" follow the task metric's direction.
 */
export function summarizeGrid(
  results: readonly RunResult[],
  task: TaskEntry,
  methodOrder: readonly string[],
): MethodGrid[] {
  const higher = task.metric.higherIsBetter;
  const byMethod = groupBy(runsOf(results, 'grid', task), (r) => r.spec.method);
  const partial = methodOrder
    .filter((id) => byMethod.has(id))
    .map((id) => {
      const method = methodById(id);
      const runs = byMethod.get(id) as RunResult[];
      const byLr = groupBy(runs, (r) => String(r.spec.lr));
      const cells = [...byLr.values()]
        .map((runs) => cellOf((runs[0] as RunResult).spec.lr, runs))
        .sort((a, b) => a.lr - b.lr);
      return {
        task,
        method,
        steps: (runs[0] as RunResult).spec.steps,
        cells,
        best: bestBy(cells, (c) => c.val.mean, higher),
        worst: bestBy(cells, (c) => c.test.mean, !higher),
        atDefault: cells.find((c) => c.lr === method.defaultLr),
        medianTest: median(cells.map((c) => c.test.mean)),
      };
    });
  const top = bestBy(
    partial.map((g) => g.best?.test.mean ?? Number.NaN),
    (x) => x,
    higher,
  );
  return partial.map((g) => ({
    ...g,
    nearBest:
      top === undefined || Number.isNaN(top)
        ? 0
        : g.cells.filter(
            (c) => (higher ? top - c.test.mean : c.test.mean - top) <= task.metric.nearBest,
          ).length,
  }));
}

/** One method of the long study on one task, over seeds. */
export interface LongSummary {
  readonly task: TaskEntry;
  readonly method: MethodEntry;
  readonly lr: number;
  readonly runs: number;
  readonly diverged: number;
  readonly steps: number;
  readonly val: Stats;
  readonly test: Stats;
  /** The best periodic validation metric of each run, over seeds (how good it got on the way). */
  readonly bestVal: Stats;
}

/** Per-method summaries of the long study on one task, in `methodOrder`. */
export function summarizeLong(
  results: readonly RunResult[],
  task: TaskEntry,
  methodOrder: readonly string[],
): LongSummary[] {
  const higher = task.metric.higherIsBetter;
  const byMethod = groupBy(runsOf(results, 'long', task), (r) => r.spec.method);
  return methodOrder
    .filter((id) => byMethod.has(id))
    .map((id) => {
      const runs = byMethod.get(id) as RunResult[];
      const cell = cellOf((runs[0] as RunResult).spec.lr, runs);
      return {
        task,
        method: methodById(id),
        lr: cell.lr,
        runs: cell.runs,
        diverged: cell.diverged,
        steps: (runs[0] as RunResult).spec.steps,
        val: cell.val,
        test: cell.test,
        bestVal: stats(
          runs.map((r) => bestBy(r.evals, (e) => e.metric, higher)?.metric ?? Number.NaN),
        ),
      };
    });
}

/** One (scale rate, gain rate) pair of the EG-rates study, over seeds. */
export interface EgRatesCell extends GridCell {
  readonly scaleRate: number;
  readonly gainRate: number;
}

/** The EG-rates study on its task. */
export interface EgRatesSummary {
  readonly task: TaskEntry;
  readonly method: MethodEntry;
  readonly lr: number;
  /** Training steps of the runs. */
  readonly steps: number;
  readonly scaleRates: number[];
  readonly gainRates: number[];
  readonly cells: EgRatesCell[];
  /** Best by mean validation metric, and worst by mean test metric. */
  readonly best: EgRatesCell | undefined;
  readonly worst: EgRatesCell | undefined;
}

/** Summarise the EG-rates runs (undefined when there are none). */
export function summarizeEgRates(
  results: readonly RunResult[],
  task: TaskEntry,
): EgRatesSummary | undefined {
  const mine = runsOf(results, 'eg-rates', task).filter((r) => r.spec.egRates !== undefined);
  if (mine.length === 0) return undefined;
  const first = mine[0] as RunResult;
  const rate = (r: RunResult, k: 'scaleLearningRate' | 'gainLearningRate') =>
    r.spec.egRates?.[k] as number;
  const groups = groupBy(
    mine,
    (r) => `${rate(r, 'scaleLearningRate')}/${rate(r, 'gainLearningRate')}`,
  );
  const cells = [...groups.values()].map((runs) => ({
    ...cellOf(first.spec.lr, runs),
    scaleRate: rate(runs[0] as RunResult, 'scaleLearningRate'),
    gainRate: rate(runs[0] as RunResult, 'gainLearningRate'),
  }));
  const sorted = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
  const higher = task.metric.higherIsBetter;
  return {
    task,
    method: methodById(first.spec.method),
    lr: first.spec.lr,
    steps: first.spec.steps,
    scaleRates: sorted(cells.map((c) => c.scaleRate)),
    gainRates: sorted(cells.map((c) => c.gainRate)),
    cells,
    best: bestBy(cells, (c) => c.val.mean, higher),
    worst: bestBy(cells, (c) => c.test.mean, !higher),
  };
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
  /** Accuracy at the end of each phase (after training on that angle). */
  readonly phaseEnd: number[];
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
    phaseEnd: [] as number[],
    phaseMean: [] as number[],
    scaleBefore: [] as (number | undefined)[],
    scaleTrendBefore: [] as (number | undefined)[],
    scaleTrendAfter: [] as (number | undefined)[],
    lrFactorAtShift: [] as number[],
  };
  for (let k = 0; k < phases; k++) {
    const series = inPhase(k);
    out.phaseMean.push(stats(series.map((e) => e.accuracy)).mean);
    out.phaseEnd.push(series[series.length - 1]?.accuracy ?? Number.NaN);
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
  readonly phaseEnd: Stats[];
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
      const numbers = (pick: (m: ShiftRunMetrics) => (number | undefined)[], k: number) =>
        stats(column(pick, k).map((v) => v ?? Number.NaN));
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
        preShift: ks.map((k) => numbers((m) => m.preShift, k)),
        postShift: ks.map((k) => numbers((m) => m.postShift, k)),
        recovery,
        phaseEnd: ks.map((k) => numbers((m) => m.phaseEnd, k)),
        phaseMean: ks.map((k) => numbers((m) => m.phaseMean, k)),
        scaleBefore: ks.map((k) => numbers((m) => m.scaleBefore, k)),
        scaleTrendBefore: ks.map((k) => numbers((m) => m.scaleTrendBefore, k)),
        scaleTrendAfter: ks.map((k) => numbers((m) => m.scaleTrendAfter, k)),
        lrFactorAtShift: ks.map((k) => numbers((m) => m.lrFactorAtShift, k)),
        meanRecovery: {
          steps: stats(all.map((v) => v ?? shift.every)),
          censored: all.filter((v) => v === null).length,
        },
        streamMean: stats(runs.map((r) => stats(r.evals.map((e) => e.accuracy)).mean)),
        finalTestAcc: stats(runs.map((r) => r.final.test.accuracy)),
      };
    });
}

/** The grid study on one task: each method over its learning rates, and what tuning costs. */
export interface TaskGridSummary {
  readonly task: TaskEntry;
  readonly grids: MethodGrid[];
  readonly tuning: TuningCost[];
}

/** The long study on one task. */
export interface TaskLongSummary {
  readonly task: TaskEntry;
  readonly methods: LongSummary[];
}

/** Every summary the report is made from. */
export interface StudySummaries {
  readonly grid: TaskGridSummary[];
  readonly egRates: EgRatesSummary | undefined;
  readonly long: TaskLongSummary[];
  readonly shift: ShiftSummary[];
}

/** Summarise every study that has results, tasks and methods in table order. */
export function summarizeStudy(config: StudyConfig, results: readonly RunResult[]): StudySummaries {
  const order = METHODS.map((m) => m.id);
  const tasksWith = (study: StudyName) =>
    TASKS.filter((t) => results.some((r) => r.spec.study === study && r.spec.task === t.id));
  return {
    grid: tasksWith('grid').map((task) => {
      const grids = summarizeGrid(results, task, order);
      return { task, grids, tuning: grids.map((g) => tuningCost(g)) };
    }),
    egRates: summarizeEgRates(results, taskById(config.egRates.task)),
    long: tasksWith('long').map((task) => ({
      task,
      methods: summarizeLong(results, task, order),
    })),
    shift: summarizeShift(results, config.shift, config.shift.recoverFraction, order),
  };
}
