import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StudyConfig } from './config.js';
import { METHODS, methodById } from './methods.js';
import { createPool, type RunFailure } from './pool.js';
import { createProgress } from './progress.js';
import { collectVersions, type ReportOutput, writeReport } from './report.js';
import { summarizeGrid } from './summarize.js';
import { prepareData, type RunResult, type RunSpec } from './train.js';

/** The no-schedule study's runs, seed-major so an interrupted study still has whole grids for the first seeds. */
export function planNoSchedule(config: StudyConfig): RunSpec[] {
  const ns = config.noSchedule;
  const specs: RunSpec[] = [];
  for (const seed of config.seeds) {
    for (const model of ns.models) {
      for (const method of ns.methods[model]) {
        for (const lr of ns.lrs[model]) {
          specs.push({
            key: `no-schedule/${model}/${method}/lr=${lr}/seed=${seed}`,
            study: 'no-schedule',
            model,
            method,
            lr,
            seed,
            steps: ns.steps,
            batchSize: config.batchSize,
            evalEvery: ns.evalEvery,
            evalSize: ns.evalSize,
            logEvery: ns.logEvery,
          });
        }
      }
    }
  }
  return specs;
}

/** Learning rate per shift-study method: tuned in the no-schedule study on the same model when it ran there. */
export function shiftLearningRates(
  config: StudyConfig,
  results: readonly RunResult[],
): Record<string, { lr: number; source: 'tuned' | 'default' }> {
  const grids = summarizeGrid(results, config.shift.model, config.shift.methods);
  return Object.fromEntries(
    config.shift.methods.map((id) => {
      const best = grids.find((g) => g.method.id === id)?.best;
      return [
        id,
        best === undefined
          ? { lr: methodById(id).defaultLr, source: 'default' }
          : { lr: best.lr, source: 'tuned' },
      ];
    }),
  );
}

/** The shift study's runs. */
export function planShift(
  config: StudyConfig,
  lrs: Readonly<Record<string, { lr: number }>>,
): RunSpec[] {
  const sc = config.shift;
  const specs: RunSpec[] = [];
  for (const seed of config.seeds) {
    for (const method of sc.methods) {
      const lr = lrs[method]?.lr ?? methodById(method).defaultLr;
      specs.push({
        key: `shift/${sc.model}/${method}/lr=${lr}/seed=${seed}`,
        study: 'shift',
        model: sc.model,
        method,
        lr,
        seed,
        steps: sc.angles.length * sc.every,
        batchSize: config.batchSize,
        evalEvery: sc.evalEvery,
        evalSize: sc.evalSize,
        logEvery: sc.logEvery,
        shift: { angles: sc.angles, every: sc.every },
      });
    }
  }
  return specs;
}

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

/** Run the configured studies and write the report. */
export async function runStudy(
  config: StudyConfig,
  options: RunStudyOptions,
): Promise<ReportOutput & { interrupted: boolean; runs: number; failures: number }> {
  const started = new Date();
  const t0 = performance.now();
  const versions = collectVersions();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  for (const id of [...Object.values(config.noSchedule.methods).flat(), ...config.shift.methods])
    methodById(id);

  const pool = await createPool(config.workers, { backend: config.backend, data: config.data });
  if (pool.backend !== config.backend)
    log(`note: backend ${config.backend} unavailable, using ${pool.backend}`);
  const splitFingerprint = prepareData(config.data).split.fingerprint;

  const results: RunResult[] = [];
  const failures: RunFailure[] = [];
  let planned = 0;
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

  let shiftLrs: Record<string, { lr: number; source: 'tuned' | 'default' }> = {};
  try {
    const first = config.studies.includes('no-schedule') ? planNoSchedule(config) : [];
    const shiftPlanned = config.studies.includes('shift')
      ? config.seeds.length * config.shift.methods.length
      : 0;
    planned = first.length + shiftPlanned;
    await batch(first, 'Study 1 (no schedule, learning-rate grid)');
    if (config.studies.includes('shift')) {
      shiftLrs = shiftLearningRates(config, results);
      await batch(planShift(config, shiftLrs), 'Study 2 (distribution shift)');
    }
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
    plannedRuns: planned,
    results,
    failures,
    interrupted,
    versions,
    shiftLrSource: Object.fromEntries(Object.entries(shiftLrs).map(([k, v]) => [k, v.source])),
  });
  return { ...report, interrupted, runs: results.length, failures: failures.length };
}

/** The method table as text, for `--list-methods`. */
export function methodTable(): string {
  const width = Math.max(...METHODS.map((m) => m.id.length));
  return METHODS.map((m) => `${m.id.padEnd(width)}  ${m.family.padEnd(8)}  ${m.recipe}`).join('\n');
}

/**
 * Rebuild the report (tables, plots, CSV) from a previous run's
 * `results.json`, e.g. after changing a plot. Writes into `out`.
 */
export async function reportFromResults(fromDir: string, out: string): Promise<ReportOutput> {
  // NaN and infinities were written as null; runs hold no other nulls.
  const saved = JSON.parse(readFileSync(join(fromDir, 'results.json'), 'utf8'), (_key, value) =>
    value === null ? Number.NaN : value,
  ) as {
    meta: {
      command: string;
      startedAt: string;
      wallSeconds: number;
      backend: string;
      splitFingerprint: string;
      plannedRuns: number;
      interrupted: boolean;
      versions: Record<string, string>;
    };
    config: StudyConfig;
    runs: RunResult[];
    failures: RunFailure[];
    shiftLrSource?: Record<string, 'tuned' | 'default'>;
  };
  return writeReport({
    config: { ...saved.config, out },
    command: saved.meta.command,
    startedAt: new Date(saved.meta.startedAt),
    wallMs: saved.meta.wallSeconds * 1000,
    backend: saved.meta.backend,
    splitFingerprint: saved.meta.splitFingerprint,
    plannedRuns: saved.meta.plannedRuns,
    results: saved.runs,
    failures: saved.failures,
    interrupted: saved.meta.interrupted,
    versions: saved.meta.versions,
    shiftLrSource: saved.shiftLrSource ?? {},
  });
}
