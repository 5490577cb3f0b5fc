import { formatDelta, formatLr, formatValue, prose, signedPct } from './format.js';
import { EG_LIBRARY_RATES, type MethodEntry } from './methods.js';
import { type Comparison, compareStats, type Stats } from './metrics.js';
import type { LongSummary, ShiftSummary, StudySummaries, TaskGridSummary } from './summarize.js';
import { trendWindow } from './summarize.js';
import type { TaskMetric } from './tasks.js';
import type { ShiftConfig } from './train.js';
import type { TuningCost } from './tuningCost.js';

/** Recovery in steps: fewer is better. */
export const RECOVERY_METRIC: TaskMetric = {
  name: 'steps to recover',
  unit: 'steps',
  higherIsBetter: false,
  scale: 1,
  digits: 0,
  nearBest: 0,
};

/** Accuracy on the stream, as a percentage. */
const STREAM_ACCURACY: TaskMetric = {
  name: 'accuracy %',
  unit: '%',
  higherIsBetter: true,
  scale: 100,
  digits: 2,
  nearBest: 0.02,
};

/** Each EG method against each other method in one setting. */
export interface VerdictMatrix {
  /** Stable id, e.g. `mlp/tuned`. */
  readonly id: string;
  /** Where the numbers come from, for the heading. */
  readonly title: string;
  readonly metric: TaskMetric;
  readonly egs: MethodEntry[];
  readonly opponents: MethodEntry[];
  /** `cells[i][j]`: `egs[j]` against `opponents[i]`. */
  readonly cells: (Comparison | undefined)[][];
}

/** How an opponent is grouped in the findings. */
export type OpponentKind = 'tuned schedule' | 'constant-rate baseline' | 'peer';

/** The group of a non-EG method: decayed schedules, constant-rate baselines, or peers. */
export function opponentKind(m: MethodEntry): OpponentKind {
  if (m.family === 'peer') return 'peer';
  return m.lrShape === 'warmup-cosine' ? 'tuned schedule' : 'constant-rate baseline';
}

/** A verdict matrix over `items`, each measured by `value` (EG rows against every other row). */
export function verdictMatrix<T extends { readonly method: MethodEntry }>(
  id: string,
  title: string,
  metric: TaskMetric,
  items: readonly T[],
  value: (item: T) => Stats | undefined,
): VerdictMatrix {
  const egs = items.filter((x) => x.method.family === 'eg');
  const others = items.filter((x) => x.method.family !== 'eg');
  return {
    id,
    title,
    metric,
    egs: egs.map((x) => x.method),
    opponents: others.map((x) => x.method),
    cells: others.map((o) =>
      egs.map((e) => {
        const a = value(e);
        const b = value(o);
        return a === undefined || b === undefined
          ? undefined
          : compareStats(a, b, metric.higherIsBetter);
      }),
    ),
  };
}

const taskName = (t: { readonly label: string }) => t.label;

/** No tuning for anyone: every method at its default learning rate, test metric. */
export function untunedMatrix(tg: TaskGridSummary): VerdictMatrix {
  return verdictMatrix(
    `${tg.task.id}/untuned`,
    `${taskName(tg.task)}, no tuning (every method at its default learning rate, test ${tg.task.metric.name})`,
    tg.task.metric,
    tg.grids,
    (g) => g.atDefault?.test,
  );
}

/** Everyone tuned: each method at its best learning rate of the grid (chosen on validation), test metric. */
export function tunedMatrix(tg: TaskGridSummary): VerdictMatrix {
  const points = Math.max(0, ...tg.grids.map((g) => g.cells.length));
  return verdictMatrix(
    `${tg.task.id}/tuned`,
    `${taskName(tg.task)}, tuned (best of up to ${points} learning rates, chosen on validation; learning-rate-free methods at their default; test ${tg.task.metric.name})`,
    tg.task.metric,
    tg.grids,
    (g) => g.best?.test,
  );
}

/** Each method with `runs` tuning runs (centred sub-grid, chosen and measured on validation). */
export function budgetMatrix(tg: TaskGridSummary, runs: number): VerdictMatrix {
  return verdictMatrix(
    `${tg.task.id}/budget-${runs}`,
    `${taskName(tg.task)}, ${runs} tuning run${runs === 1 ? '' : 's'} each (validation ${tg.task.metric.name})`,
    tg.task.metric,
    tg.tuning,
    (t) => t.points.find((p) => p.runs === runs)?.chosen?.val,
  );
}

/** The long horizon: final test metric. */
export function longMatrix(methods: readonly LongSummary[]): VerdictMatrix | undefined {
  const first = methods[0];
  if (first === undefined) return undefined;
  return verdictMatrix(
    `${first.task.id}/long`,
    `${taskName(first.task)}, long horizon (${first.steps} steps, test ${first.task.metric.name})`,
    first.task.metric,
    methods,
    (m) => m.test,
  );
}

/** The stream: mean recovery over shifts and seeds (fewer steps is better). */
export function recoveryMatrix(shift: readonly ShiftSummary[]): VerdictMatrix {
  return verdictMatrix(
    'shift/recovery',
    'Rotating stream, steps to recover after a shift (over shifts and seeds; fewer is better)',
    RECOVERY_METRIC,
    shift,
    (s) => s.meanRecovery.steps,
  );
}

/** The stream: mean accuracy over all of its evaluations. */
export function streamMatrix(shift: readonly ShiftSummary[]): VerdictMatrix {
  return verdictMatrix(
    'shift/stream-accuracy',
    'Rotating stream, mean accuracy over the whole stream',
    STREAM_ACCURACY,
    shift,
    (s) => s.streamMean,
  );
}

/** Every verdict matrix the summaries support, grouped as the report shows them. */
export function allMatrices(summaries: StudySummaries): VerdictMatrix[] {
  const out: VerdictMatrix[] = [];
  for (const tg of summaries.grid) {
    out.push(untunedMatrix(tg), tunedMatrix(tg));
  }
  for (const tl of summaries.long) {
    const m = longMatrix(tl.methods);
    if (m !== undefined) out.push(m);
  }
  if (summaries.shift.length > 0) {
    out.push(recoveryMatrix(summaries.shift), streamMatrix(summaries.shift));
  }
  return out.filter((m) => m.egs.length > 0 && m.opponents.length > 0);
}

/** Wins, ties and losses of one EG column of a matrix. */
export function tally(
  matrix: VerdictMatrix,
  eg: number,
): { win: number; tie: number; loss: number } {
  const out = { win: 0, tie: 0, loss: 0 };
  for (const row of matrix.cells) {
    const c = row[eg];
    if (c !== undefined) out[c.verdict]++;
  }
  return out;
}

/** The EG rows the prose speaks of: those that are not ablations or option variants of another row. */
export function mainEgColumns(matrix: VerdictMatrix): number[] {
  return matrix.egs.flatMap((m, j) => (m.variantOf === undefined ? [j] : []));
}

const KINDS: readonly OpponentKind[] = ['tuned schedule', 'peer', 'constant-rate baseline'];

/** "EG-Adam — against tuned schedules: ...; against peers: ..." for one EG column. */
export function verdictSentence(matrix: VerdictMatrix, eg: number): string {
  const parts = KINDS.flatMap((kind) => {
    const rows = matrix.opponents.flatMap((o, i) =>
      opponentKind(o) === kind && matrix.cells[i]?.[eg] !== undefined
        ? [{ o, c: matrix.cells[i]?.[eg] as Comparison }]
        : [],
    );
    if (rows.length === 0) return [];
    const named = (verdict: Comparison['verdict']) =>
      rows
        .filter((r) => r.c.verdict === verdict)
        .map((r) => `${r.o.label} (${formatDelta(r.c.delta, matrix.metric)})`);
    const words = [
      named('win').length > 0 ? `wins against ${prose(named('win'))}` : '',
      named('tie').length > 0 ? `ties with ${prose(named('tie'))}` : '',
      named('loss').length > 0 ? `loses to ${prose(named('loss'))}` : '',
    ].filter((w) => w !== '');
    return [`against ${kind}s it ${words.join('; ')}`];
  });
  const t = tally(matrix, eg);
  return `${(matrix.egs[eg] as MethodEntry).label} (${t.win} win${t.win === 1 ? '' : 's'}, ${t.tie} tie${t.tie === 1 ? '' : 's'}, ${t.loss} loss${t.loss === 1 ? '' : 'es'}): ${parts.join('; ')}.`;
}

/** One stated finding, with the part of the study it is about. */
export interface Finding {
  readonly scope: string;
  readonly text: string;
}

/**
 * The smallest budget at which `eg` ties or beats the best one-run result of
 * the learning-rate-free methods (validation metric), or undefined when none
 * of the budgets gets there.
 */
export function runsToMatchFree(
  eg: TuningCost,
  tuning: readonly TuningCost[],
  metric: TaskMetric,
): { runs: number | undefined; reference: TuningCost } | undefined {
  const free = tuning.filter((t) => t.method.learningRateFree);
  const one = (t: TuningCost) => t.points.find((p) => p.runs === 1)?.chosen?.val;
  let reference: TuningCost | undefined;
  for (const t of free) {
    const v = one(t);
    if (v === undefined || v.n === 0) continue;
    const r = reference === undefined ? undefined : one(reference);
    if (r === undefined || (metric.higherIsBetter ? v.mean > r.mean : v.mean < r.mean)) {
      reference = t;
    }
  }
  if (reference === undefined) return undefined;
  const target = one(reference) as Stats;
  const hit = eg.points.find((p) => {
    const c =
      p.chosen === undefined
        ? undefined
        : compareStats(p.chosen.val, target, metric.higherIsBetter);
    return c !== undefined && c.verdict !== 'loss';
  });
  return { runs: hit?.runs, reference };
}

function tuningFindings(tg: TaskGridSummary): Finding[] {
  const { metric } = tg.task;
  const scope = `${tg.task.label}, tuning cost`;
  const out: Finding[] = [];
  // Budgets the grid supports: every tunable row has a choice there (fixed rows always do).
  const budgets = [...new Set(tg.tuning.flatMap((t) => t.points.map((p) => p.runs)))].filter(
    (runs) =>
      tg.tuning.some((t) => !t.method.learningRateFree) &&
      tg.tuning.every(
        (t) =>
          t.method.learningRateFree ||
          t.points.some((p) => p.runs === runs && p.chosen !== undefined),
      ),
  );
  const leaders = budgets.flatMap((runs) => {
    const ranked = tg.tuning
      .map((t) => ({ t, v: t.points.find((p) => p.runs === runs)?.chosen?.val }))
      .filter((x): x is { t: TuningCost; v: Stats } => x.v !== undefined && x.v.n > 0)
      .sort((a, b) => (metric.higherIsBetter ? b.v.mean - a.v.mean : a.v.mean - b.v.mean));
    const top = ranked[0];
    if (top === undefined) return [];
    const egRank = ranked.findIndex((x) => x.t.method.family === 'eg');
    const egText =
      egRank < 0
        ? ''
        : `; the best EG row, ${(ranked[egRank] as { t: TuningCost }).t.method.label}, ranks ${egRank + 1} of ${ranked.length}`;
    return [
      `within ${runs} run${runs === 1 ? '' : 's'}: ${top.t.method.label} (${formatValue(top.v.mean, metric)})${egText}`,
    ];
  });
  if (leaders.length > 0) {
    out.push({
      scope,
      text: `Best validation ${metric.name} ${leaders.join('; ')}.`,
    });
  }
  for (const eg of tg.tuning.filter(
    (t) => t.method.family === 'eg' && t.method.variantOf === undefined,
  )) {
    const match = runsToMatchFree(eg, tg.tuning, metric);
    if (match === undefined) continue;
    const refValue = match.reference.points.find((p) => p.runs === 1)?.chosen?.val.mean;
    out.push({
      scope,
      text:
        match.runs === undefined
          ? `${eg.method.label} does not tie or beat the best learning-rate-free method's single run (${match.reference.method.label}, ${formatValue(refValue, metric)}) within ${Math.max(...eg.points.filter((p) => p.chosen !== undefined).map((p) => p.runs))} runs.`
          : `${eg.method.label} ties or beats the best learning-rate-free method's single run (${match.reference.method.label}, ${formatValue(refValue, metric)}) with ${match.runs} run${match.runs === 1 ? '' : 's'}.`,
    });
  }
  return out;
}

function egRatesFindings(summaries: StudySummaries): Finding[] {
  const e = summaries.egRates;
  if (e === undefined || e.best === undefined || e.worst === undefined) return [];
  const { metric } = e.task;
  const scope = `${e.task.label}, EG's own rates`;
  const span = (cells: readonly { test: Stats }[]) => {
    const means = cells.map((c) => c.test.mean).filter(Number.isFinite);
    return means.length === 0 ? Number.NaN : Math.max(...means) - Math.min(...means);
  };
  const rateSpan = span(e.cells);
  const lrGrid = summaries.grid
    .find((g) => g.task.id === e.task.id)
    ?.grids.find((g) => g.method.id === e.method.id);
  const lrSpan = lrGrid === undefined ? Number.NaN : span(lrGrid.cells);
  const defaults = e.cells.find(
    (c) =>
      c.scaleRate === EG_LIBRARY_RATES.scaleLearningRate &&
      c.gainRate === EG_LIBRARY_RATES.gainLearningRate,
  );
  const vsDefault =
    defaults === undefined
      ? undefined
      : compareStats(e.best.test, defaults.test, metric.higherIsBetter);
  const lines = [
    `${e.method.label} at base lr ${formatLr(e.lr)} over ${e.scaleRates.length} scale rates × ${e.gainRates.length} gain rates: test ${metric.name} from ${formatValue(metric.higherIsBetter ? e.worst.test.mean : e.best.test.mean, metric)} to ${formatValue(metric.higherIsBetter ? e.best.test.mean : e.worst.test.mean, metric)} (a span of ${formatValue(rateSpan, metric)})`,
    // The spans are comparable only for runs of the same length.
    Number.isFinite(lrSpan) &&
    lrGrid !== undefined &&
    lrGrid.cells.length > 1 &&
    lrGrid.steps === e.steps
      ? `over its ${lrGrid.cells.length} base learning rates at the default rates it spans ${formatValue(lrSpan, metric)}, so its own rates move the result ${rateSpan > lrSpan ? 'more than' : rateSpan * 2 < lrSpan ? 'less than half as much as' : 'between half as much as and as much as'} the base learning rate does`
      : '',
    `the best pair on validation (scale ${formatLr(e.best.scaleRate)}, gain ${formatLr(e.best.gainRate)}) gives ${formatValue(e.best.test.mean, metric)}`,
    defaults !== undefined && vsDefault !== undefined
      ? `the library defaults (scale ${formatLr(EG_LIBRARY_RATES.scaleLearningRate)}, gain ${formatLr(EG_LIBRARY_RATES.gainLearningRate)}) give ${formatValue(defaults.test.mean, metric)}, so tuning the rates is a ${vsDefault.verdict} (${formatDelta(vsDefault.delta, metric)}) over the defaults`
      : '',
  ].filter((l) => l !== '');
  return [{ scope, text: `${lines.join('; ')}.` }];
}

function shiftFindings(
  shift: readonly ShiftSummary[],
  config: ShiftConfig & { recoverFraction: number },
): Finding[] {
  if (shift.length === 0) return [];
  const out: Finding[] = [];
  const ranked = [...shift].sort((a, b) => a.meanRecovery.steps.mean - b.meanRecovery.steps.mean);
  out.push({
    scope: 'Shift, recovery',
    text: `Mean steps to regain ${config.recoverFraction * 100}% of the pre-shift accuracy, fastest first: ${ranked
      .map((s) => `${s.method.label} ${recoveryText(s.meanRecovery, config.every)}`)
      .join('; ')}.`,
  });
  const window = trendWindow(config);
  for (const s of shift) {
    const pairs = s.scaleTrendAfter
      .map((after, k) => [s.scaleTrendBefore[k] as Stats, after] as const)
      .filter(([before, after], k) => k > 0 && before.n > 0 && after.n > 0);
    if (pairs.length === 0) continue;
    const risesMore = pairs.filter(
      ([before, after]) => after.mean > 0 && after.mean > before.mean,
    ).length;
    out.push({
      scope: 'Shift, learned step size',
      text: `${s.method.label}: its learned step size changes by ${pairs
        .map(([before, after]) => `${signedPct(before.mean)} → ${signedPct(after.mean)}`)
        .join(
          ', ',
        )} over the ${window} steps before → after each shift; it rises faster after the shift than before it at ${risesMore} of ${pairs.length} shifts.`,
    });
  }
  return out;
}

/** Recovery steps as `mean ± std`, with how many runs never recovered. */
export function recoveryText(r: { steps: Stats; censored: number }, every: number): string {
  if (r.steps.n === 0) return '—';
  const base = `${r.steps.mean.toFixed(0)} ± ${r.steps.std.toFixed(0)}`;
  return r.censored > 0 ? `${base} (${r.censored} not recovered within ${every})` : base;
}

/**
 * Sentences stating what the numbers show, derived from them by fixed rules:
 * each main EG row against every other row in each setting (wins, ties and
 * losses by the seed-spread rule), the tuning cost, EG's own rates and the
 * stream. No method or task is named in the rules; rows are told apart by
 * their family, schedule shape and whether they are learning-rate-free.
 */
export function findings(
  summaries: StudySummaries,
  shiftConfig: ShiftConfig & { recoverFraction: number },
): Finding[] {
  const out: Finding[] = [];
  const fromMatrix = (m: VerdictMatrix, scope: string) => {
    if (m.opponents.length === 0) return;
    for (const j of mainEgColumns(m)) out.push({ scope, text: verdictSentence(m, j) });
  };
  for (const tg of summaries.grid) {
    fromMatrix(untunedMatrix(tg), `${tg.task.label}, no tuning`);
    fromMatrix(tunedMatrix(tg), `${tg.task.label}, tuned`);
    out.push(...tuningFindings(tg));
  }
  for (const tl of summaries.long) {
    const m = longMatrix(tl.methods);
    if (m !== undefined)
      fromMatrix(m, `${tl.task.label}, long horizon (${tl.methods[0]?.steps} steps)`);
  }
  out.push(...egRatesFindings(summaries));
  if (summaries.shift.length > 0) {
    fromMatrix(recoveryMatrix(summaries.shift), 'Shift, recovery vs others');
    fromMatrix(streamMatrix(summaries.shift), 'Shift, accuracy over the stream');
    out.push(...shiftFindings(summaries.shift, shiftConfig));
  }
  return out;
}
