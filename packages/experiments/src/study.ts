import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from './backend.js';
import type { StudyConfig } from './config.js';
import {
  type CostModel,
  costModelFromResults,
  estimateWall,
  finalItemsOf,
  runCostMs,
} from './estimate.js';
import { formatLr } from './format.js';
import { loadMobyDickText } from './lm/text.js';
import { METHODS, methodById } from './methods.js';
import { type ChosenLrs, chooseLearningRates, planAll } from './plan.js';
import { createPool, type RunFailure } from './pool.js';
import { createProgress } from './progress.js';
import { collectVersions, type ReportOutput, writeReport } from './report.js';
import { prepareData, TASKS, taskById } from './tasks.js';
import { type RunResult, type RunSpec, runOne } from './train.js';
import { parseResults } from './writers.js';

/** How progress is shown. */
export type ProgressMode = 'bars' | 'lines' | 'quiet';

/** Options of {@link runStudy}. */
export interface RunStudyOptions {
  readonly command: string;
  readonly progress: ProgressMode;
  /** Aborting stops the runs; the report is written from the finished ones. */
  readonly signal?: AbortSignal;
  /** Where to print notes (default stderr). */
  readonly log?: (line: string) => void;
  /** Called after each finished run (e.g. to stop after a number of runs). */
  readonly onResult?: (result: RunResult) => void;
}

/** Every method id the configuration names, checked against the method table. */
function checkMethods(config: StudyConfig): void {
  const ids = [
    ...Object.values(config.grid.methods).flat(),
    ...Object.values(config.long.methods).flat(),
    ...config.shift.methods,
    config.egRates.method,
  ];
  for (const id of ids) methodById(id);
  if (config.studies.includes('eg-rates') && methodById(config.egRates.method).family !== 'eg') {
    throw new RangeError(`egRates.method "${config.egRates.method}" is not an EG method`);
  }
  if (config.studies.includes('shift') && taskById(config.shift.task).data !== 'mnist') {
    throw new RangeError(
      `shift.task "${config.shift.task}" is not an MNIST task (the stream rotates digits)`,
    );
  }
}

/** Whether the configuration trains the text task anywhere. */
function usesText(config: StudyConfig): boolean {
  return planAll(config)
    .flat()
    .some((s) => taskById(s.task).data === 'text');
}

/** Run the configured studies and write the report. */
export async function runStudy(
  config: StudyConfig,
  options: RunStudyOptions,
): Promise<ReportOutput & { interrupted: boolean; runs: number; failures: number }> {
  const started = new Date();
  const t0 = performance.now();
  const versions = collectVersions();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  checkMethods(config);

  const pool = await createPool(config.workers, { backend: config.backend, data: config.data });
  if (pool.backend !== config.backend)
    log(`note: backend ${config.backend} unavailable, using ${pool.backend}`);
  const data = prepareData(config.data);
  const splitFingerprint = data.mnist().fingerprint;
  const corpus = usesText(config)
    ? { description: data.corpus().description, textLength: loadMobyDickText().length }
    : undefined;

  const results: RunResult[] = [];
  const failures: RunFailure[] = [];
  const batch = async (specs: RunSpec[], title: string) => {
    if (specs.length === 0 || options.signal?.aborted) return;
    if (options.progress !== 'quiet') log(`${title}: ${specs.length} runs`);
    const progress = createProgress({
      mode: options.progress,
      totalRuns: specs.length,
      totalSteps: specs.reduce((n, s) => n + s.steps, 0),
    });
    const events = {
      ...progress,
      onResult: (slot: number, result: RunResult) => {
        progress.onResult?.(slot, result);
        options.onResult?.(result);
      },
    };
    try {
      const out = await pool.run(specs, events, options.signal);
      results.push(...out.results);
      failures.push(...out.failures);
    } finally {
      progress.stop();
    }
  };

  const planned = planAll(config).reduce((n, wave) => n + wave.length, 0);
  let chosenLrs: ChosenLrs = {};
  try {
    const [first] = planAll(config);
    await batch(first ?? [], 'Wave 1 (learning-rate grid, EG rates)');
    chosenLrs = chooseLearningRates(config, results);
    const [, second] = planAll(config, chosenLrs);
    await batch(second ?? [], 'Wave 2 (long horizon, distribution shift)');
  } finally {
    await pool.close();
  }

  const interrupted = options.signal?.aborted ?? false;
  const report = await writeReport({
    config,
    command: options.command,
    startedAt: started,
    wallMs: performance.now() - t0,
    backend: pool.backend,
    splitFingerprint,
    corpus,
    plannedRuns: planned,
    results,
    failures,
    interrupted,
    versions,
    chosenLrs,
  });
  return { ...report, interrupted, runs: results.length, failures: failures.length };
}

/** The method table as text, for `--list-methods`. */
export function methodTable(): string {
  const width = Math.max(...METHODS.map((m) => m.id.length));
  return METHODS.map(
    (m) =>
      `${m.id.padEnd(width)}  ${m.family.padEnd(8)}  ${(m.learningRateFree ? 'lr-free' : `lr ${formatLr(m.defaultLr)}`).padEnd(9)}  ${m.recipe}`,
  ).join('\n');
}

/** Steps of each calibration run (after one untimed warm-up run per task). */
const CALIBRATION_STEPS = 12;

/**
 * Time a few steps of every (task, method) pair the configuration trains,
 * on this machine in this thread, and the evaluations of each task.
 */
export async function calibrate(
  config: StudyConfig,
  log: (line: string) => void = () => {},
): Promise<CostModel> {
  await initBackend(config.backend);
  const data = prepareData(config.data);
  const specs = planAll(config).flat();
  const pairs = new Map<string, RunSpec>();
  for (const s of specs) pairs.set(`${s.task}/${s.method}`, s);
  const results: RunResult[] = [];
  for (const task of TASKS.filter((t) => specs.some((s) => s.task === t.id))) {
    const mine = [...pairs.values()].filter((s) => s.task === task.id);
    const short = (s: RunSpec): RunSpec => ({
      ...s,
      steps: CALIBRATION_STEPS,
      evalEvery: CALIBRATION_STEPS / 2,
      finalEvalSize: s.evalSize,
      shift: undefined,
    });
    await runOne(short(mine[0] as RunSpec), data);
    log(`calibrating ${task.label}: ${mine.length} methods`);
    for (const s of mine) results.push(await runOne(short(s), data));
  }
  return costModelFromResults(results);
}

/** The plan of `config` as text: runs per study and an estimate of the wall time from `costs`. */
export function planText(config: StudyConfig, costs: CostModel, textLength: number): string {
  const waves = planAll(config);
  const finalItems = finalItemsOf(config, textLength);
  const cost = (s: RunSpec) => runCostMs(s, costs, finalItems);
  const lines: string[] = [
    `Preset ${config.preset}, ${config.seeds.length} seed(s), ${config.workers} parallel run(s):`,
  ];
  for (const study of config.studies) {
    const specs = waves.flat().filter((s) => s.study === study);
    const ms = specs.reduce((n, s) => n + (cost(s) ?? 0), 0);
    lines.push(
      `  ${study.padEnd(9)} ${String(specs.length).padStart(4)} runs, ${String(specs.reduce((n, s) => n + s.steps, 0)).padStart(8)} steps, ${(ms / 60_000).toFixed(1).padStart(6)} min of run time`,
    );
  }
  const perStep = TASKS.flatMap((t) => {
    const entries = Object.entries(costs.stepMs).filter(([k]) => k.startsWith(`${t.id}/`));
    if (entries.length === 0) return [];
    const each = entries
      .sort((a, b) => a[1] - b[1])
      .map(([k, v]) => `${k.slice(t.id.length + 1)} ${v.toFixed(1)}`)
      .join(', ');
    const perItem = costs.evalMsPerItem[t.id];
    return [
      `  ${t.id} ms/step: ${each}; evaluation ${perItem === undefined ? '—' : perItem.toFixed(3)} ms per ${t.data === 'text' ? 'window' : 'digit'}`,
    ];
  });
  const estimate = estimateWall(waves, config.workers, cost);
  lines.push(
    'Measured here, one run at a time:',
    ...perStep,
    `Estimated wall time: ${(estimate.ms / 60_000).toFixed(1)} min (${estimate.runs} runs${estimate.unpriced > 0 ? `, ${estimate.unpriced} not priced` : ''}; assumes ${config.workers} otherwise idle core(s)).`,
  );
  return lines.join('\n');
}

/**
 * Rebuild the report (tables, plots, CSV) from a previous run's
 * `results.json`, e.g. after changing a plot. Writes into `out`.
 */
export async function reportFromResults(fromDir: string, out: string): Promise<ReportOutput> {
  const saved = parseResults(readFileSync(join(fromDir, 'results.json'), 'utf8'));
  const config = { ...saved.config, out };
  const corpus = usesText(config)
    ? {
        description: prepareData(config.data).corpus().description,
        textLength: loadMobyDickText().length,
      }
    : undefined;
  return writeReport({
    config,
    command: saved.meta.command,
    startedAt: new Date(saved.meta.startedAt),
    wallMs: saved.meta.wallSeconds * 1000,
    backend: saved.meta.backend,
    splitFingerprint: saved.meta.splitFingerprint,
    corpus,
    plannedRuns: saved.meta.plannedRuns,
    results: saved.runs,
    failures: saved.failures,
    interrupted: saved.meta.interrupted,
    versions: saved.meta.versions,
    chosenLrs: saved.chosenLrs,
  });
}
