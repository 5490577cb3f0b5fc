import type { StudyConfig } from './config.js';
import type { CostModel } from './estimate.js';
import { type Finding, opponentKind, type VerdictMatrix } from './findings.js';
import { METHODS, methodById } from './methods.js';
import type { ChosenLrs } from './plan.js';
import type { RunFailure } from './pool.js';
import type { StudySummaries } from './summarize.js';
import { TASKS } from './tasks.js';
import type { RunResult } from './train.js';

/** One CSV field, quoted when needed; empty for absent values. */
function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const s = String(value);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** CSV text from a header and rows. */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return `${[header.join(','), ...rows.map((r) => r.map(csvField).join(','))].join('\n')}\n`;
}

const ID_HEADER = ['study', 'task', 'method', 'lr', 'scale_rate', 'gain_rate', 'seed'] as const;

function idColumns(r: RunResult): unknown[] {
  return [
    r.spec.study,
    r.spec.task,
    r.spec.method,
    r.spec.lr,
    r.spec.egRates?.scaleLearningRate,
    r.spec.egRates?.gainLearningRate,
    r.spec.seed,
  ];
}

/** One row per run: its configuration and final validation and test results. */
export function runsCsv(results: readonly RunResult[]): string {
  return toCsv(
    [
      ...ID_HEADER,
      'label',
      'family',
      'steps',
      'steps_done',
      'diverged',
      'val_metric',
      'val_loss',
      'val_accuracy',
      'test_metric',
      'test_loss',
      'test_accuracy',
      'wall_ms',
    ],
    results.map((r) => {
      const m = METHODS.find((e) => e.id === r.spec.method);
      return [
        ...idColumns(r),
        m?.label,
        m?.family,
        r.spec.steps,
        r.stepsDone,
        r.diverged,
        r.final.val.metric,
        r.final.val.loss,
        r.final.val.accuracy,
        r.final.test.metric,
        r.final.test.loss,
        r.final.test.accuracy,
        Math.round(r.wallMs),
      ];
    }),
  );
}

/** Training loss per logged step. */
export function stepsCsv(results: readonly RunResult[]): string {
  return toCsv(
    [...ID_HEADER, 'step', 'train_loss'],
    results.flatMap((r) => r.steps.map((s) => [...idColumns(r), s.step, s.loss])),
  );
}

/** Periodic held-out evaluations, with the learned scale and gains at that step. */
export function evalsCsv(results: readonly RunResult[]): string {
  return toCsv(
    [
      ...ID_HEADER,
      'step',
      'phase',
      'angle',
      'metric',
      'loss',
      'accuracy',
      'lr_factor',
      'scale',
      'gain_mean',
      'gain_min',
      'gain_max',
    ],
    results.flatMap((r) =>
      r.evals.map((e) => [
        ...idColumns(r),
        e.step,
        e.phase,
        e.angle,
        e.metric,
        e.loss,
        e.accuracy,
        e.lrFactor,
        e.scale,
        e.gainMean,
        e.gainMin,
        e.gainMax,
      ]),
    ),
  );
}

/** The tuning cost: per task, method and budget, the chosen learning rate and its metric. */
export function tuningCsv(summaries: StudySummaries): string {
  return toCsv(
    [
      'task',
      'method',
      'runs',
      'fixed',
      'chosen_lr',
      'val_mean',
      'val_std',
      'test_mean',
      'test_std',
      'expected_val_random',
      'expected_test_random',
    ],
    summaries.grid.flatMap((tg) =>
      tg.tuning.flatMap((t) =>
        t.points.map((p) => [
          tg.task.id,
          t.method.id,
          p.runs,
          p.fixed,
          p.chosen?.lr,
          p.chosen?.val.mean,
          p.chosen?.val.std,
          p.chosen?.test.mean,
          p.chosen?.test.std,
          p.expectedVal,
          p.expectedTest,
        ]),
      ),
    ),
  );
}

/** Every verdict: each EG row against each other row in each setting. */
export function verdictsCsv(matrices: readonly VerdictMatrix[]): string {
  return toCsv(
    ['setting', 'eg_method', 'opponent', 'opponent_kind', 'verdict', 'delta'],
    matrices.flatMap((m) =>
      m.opponents.flatMap((o, i) =>
        m.egs.map((e, j) => {
          const c = m.cells[i]?.[j];
          return [m.id, e.id, o.id, opponentKind(o), c?.verdict, c?.delta];
        }),
      ),
    ),
  );
}

/** What `results.json` holds about the run itself. */
export interface ResultsMeta {
  readonly command: string;
  readonly startedAt: string;
  readonly wallSeconds: number;
  readonly backend: string;
  readonly workers: number;
  readonly splitFingerprint: string;
  readonly plannedRuns: number;
  readonly completedRuns: number;
  readonly failedRuns: number;
  readonly interrupted: boolean;
  readonly versions: Readonly<Record<string, string>>;
}

/** The whole of `results.json`, as written and as read back. */
export interface ResultsFile {
  readonly meta: ResultsMeta;
  readonly config: StudyConfig;
  readonly chosenLrs: ChosenLrs;
  readonly costs: CostModel;
  readonly runs: RunResult[];
  readonly failures: RunFailure[];
}

const ENTRIES = new Set<unknown>([...METHODS, ...TASKS]);

/**
 * `results.json`: metadata, configuration, the method and task tables, the
 * summaries and findings, and every run. Method and task rows are written
 * as their ids; NaN and infinities as null.
 */
export function resultsJson(
  file: ResultsFile,
  summaries: StudySummaries,
  findings: readonly Finding[],
  matrices: readonly VerdictMatrix[],
): string {
  const { meta, config, chosenLrs, costs, runs, failures } = file;
  return `${JSON.stringify(
    {
      meta,
      config,
      methods: METHODS.map(({ build: _b, probe: _p, evalParams: _e, ...rest }) => rest),
      tasks: TASKS.map(({ describe, ...rest }) => ({
        ...rest,
        description: describe(config.data),
      })),
      summaries,
      verdicts: matrices,
      findings,
      chosenLrs,
      costs,
      failures,
      runs,
    },
    (_key, value) =>
      ENTRIES.has(value)
        ? (value as { id: string }).id
        : typeof value === 'number' && !Number.isFinite(value)
          ? null
          : value,
  )}\n`;
}

/** Read `results.json` back: null numbers become NaN (runs hold no other nulls). */
export function parseResults(text: string): ResultsFile {
  const parsed = JSON.parse(text, (_key, value) =>
    value === null ? Number.NaN : value,
  ) as ResultsFile;
  for (const r of parsed.runs) methodById(r.spec.method);
  return parsed;
}
