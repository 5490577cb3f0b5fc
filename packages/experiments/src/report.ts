import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as vega from 'vega';
import { version as vegaLiteVersion } from 'vega-lite';
import type { StudyConfig } from './config.js';
import { METHODS, type MethodEntry, WARMUP_FRACTION } from './methods.js';
import { formatMeanStd, type Stats } from './metrics.js';
import { MODEL_DESCRIPTIONS, type ModelKind } from './models.js';
import {
  lrSensitivityPlot,
  type PlotSpec,
  renderSvg,
  shiftAccuracyPlot,
  shiftRecoveryPlot,
  shiftScalePlot,
  trainingCurvesPlot,
} from './plots.js';
import type { RunFailure } from './pool.js';
import {
  type MethodGrid,
  NEAR_BEST,
  type RecoveryStats,
  type ShiftSummary,
  summarizeGrid,
  summarizeShift,
  trendWindow,
} from './summarize.js';
import type { RunResult } from './train.js';

/** Everything the report is made from. */
export interface ReportInput {
  readonly config: StudyConfig;
  readonly command: string;
  readonly startedAt: Date;
  readonly wallMs: number;
  readonly backend: string;
  readonly splitFingerprint: string;
  readonly plannedRuns: number;
  readonly results: readonly RunResult[];
  readonly failures: readonly RunFailure[];
  readonly interrupted: boolean;
  /** Package versions, taken when the study started. */
  readonly versions: Readonly<Record<string, string>>;
  /** Where each shift-study method's learning rate came from. */
  readonly shiftLrSource: Readonly<Record<string, 'tuned' | 'default'>>;
}

/** What was written, and the short table for the terminal. */
export interface ReportOutput {
  readonly dir: string;
  readonly files: string[];
  readonly consoleSummary: string;
}

const pct = (s: Stats) => formatMeanStd(s, 2, 100);
const pct1 = (x: number) => (Number.isFinite(x) ? (x * 100).toFixed(2) : '—');
const range = (s: Stats) =>
  s.n === 0 ? '—' : `${(s.min * 100).toFixed(2)}–${(s.max * 100).toFixed(2)}`;
export const formatLr = (lr: number) => lr.toExponential().replace('e+0', '').replace(/e\+?/, 'e');

/** A Markdown table; cells are escaped for pipes. */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  const line = (cells: readonly string[]) => `| ${cells.map(esc).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** One CSV field, quoted when needed. */
function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const s = typeof value === 'number' && !Number.isFinite(value) ? String(value) : String(value);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** CSV text from a header and rows. */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return `${[header.join(','), ...rows.map((r) => r.map(csvField).join(','))].join('\n')}\n`;
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
    '@tensorflow/tfjs-core',
    '@tensorflow/tfjs-backend-wasm',
    'mnist',
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

function runRow(r: RunResult): unknown[] {
  const m = METHODS.find((e) => e.id === r.spec.method);
  return [
    r.spec.study,
    r.spec.model,
    r.spec.method,
    m?.label,
    m?.family,
    r.spec.lr,
    r.spec.seed,
    r.spec.steps,
    r.stepsDone,
    r.diverged,
    r.final.val.accuracy,
    r.final.val.loss,
    r.final.test.accuracy,
    r.final.test.loss,
    Math.round(r.wallMs),
  ];
}

const idColumns = (r: RunResult) => [
  r.spec.study,
  r.spec.model,
  r.spec.method,
  r.spec.lr,
  r.spec.seed,
];

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

  write(
    'runs.csv',
    toCsv(
      [
        'study',
        'model',
        'method',
        'label',
        'family',
        'lr',
        'seed',
        'steps',
        'steps_done',
        'diverged',
        'val_accuracy',
        'val_loss',
        'test_accuracy',
        'test_loss',
        'wall_ms',
      ],
      results.map(runRow),
    ),
  );
  write(
    'steps.csv',
    toCsv(
      ['study', 'model', 'method', 'lr', 'seed', 'step', 'train_loss'],
      results.flatMap((r) => r.steps.map((s) => [...idColumns(r), s.step, s.loss])),
    ),
  );
  write(
    'evals.csv',
    toCsv(
      [
        'study',
        'model',
        'method',
        'lr',
        'seed',
        'step',
        'phase',
        'angle',
        'accuracy',
        'loss',
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
          e.accuracy,
          e.loss,
          e.lrFactor,
          e.scale,
          e.gainMean,
          e.gainMin,
          e.gainMax,
        ]),
      ),
    ),
  );

  const methodOrder = METHODS.map((m) => m.id);
  const grids = new Map<ModelKind, MethodGrid[]>();
  for (const model of config.noSchedule.models) {
    const g = summarizeGrid(results, model, methodOrder);
    if (g.length > 0) grids.set(model, g);
  }
  const shift = summarizeShift(results, config.shift, config.shift.recoverFraction, methodOrder);

  const plots: PlotSpec[] = [];
  for (const [model, g] of grids) {
    plots.push(lrSensitivityPlot(g, model), trainingCurvesPlot(results, g, model));
  }
  const shiftResults = results.filter((r) => r.spec.study === 'shift');
  if (shiftResults.length > 0) {
    plots.push(
      shiftAccuracyPlot(shiftResults, config.shift),
      shiftRecoveryPlot(shiftResults, config.shift),
      shiftScalePlot(shiftResults, config.shift),
    );
  }
  for (const plot of plots) {
    write(join('plots', `${plot.name}.svg`), await renderSvg(plot.spec));
    write(join('plots', `${plot.name}.vl.json`), `${JSON.stringify(plot.spec)}\n`);
  }

  const meta = {
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
    `${JSON.stringify(
      {
        meta,
        config,
        methods: METHODS.map(({ build: _build, probe: _probe, ...rest }) => rest),
        summaries: {
          noSchedule: Object.fromEntries([...grids].map(([model, g]) => [model, g.map(jsonGrid)])),
          shift: shift.map(jsonShift),
        },
        failures: input.failures,
        shiftLrSource: input.shiftLrSource,
        runs: results,
      },
      (_key, value) => (typeof value === 'number' && !Number.isFinite(value) ? null : value),
    )}\n`,
  );

  const markdown = renderMarkdown(input, meta, grids, shift, plots);
  write('report.md', markdown);
  return { dir, files, consoleSummary: consoleSummary(grids, shift) };
}

function jsonGrid(g: MethodGrid) {
  return {
    method: g.method.id,
    bestLr: g.best?.lr,
    best: g.best,
    atDefault: g.atDefault,
    worst: g.worst,
    medianTestAcc: g.medianTestAcc,
    nearBest: g.nearBest,
    cells: g.cells,
  };
}

function jsonShift(s: ShiftSummary) {
  const { method, ...rest } = s;
  return { method: method.id, ...rest };
}

function negate(s: Stats): Stats {
  return { ...s, mean: -s.mean, min: -s.max, max: -s.min };
}

/** Verdict of a comparison of two accuracies given their seed spreads. */
function compare(a: Stats, b: Stats): { delta: number; word: string } {
  const delta = a.mean - b.mean;
  const noise = Math.max(a.std, b.std);
  const word =
    Math.abs(delta) <= noise ? 'ties (within the seed spread)' : delta > 0 ? 'wins' : 'loses';
  return { delta, word };
}

function bestOf(
  grids: readonly MethodGrid[],
  family: MethodEntry['family'],
): MethodGrid | undefined {
  let found: MethodGrid | undefined;
  for (const g of grids) {
    if (g.method.family !== family || g.best === undefined) continue;
    if (found === undefined || g.best.testAcc.mean > (found.best?.testAcc.mean ?? -1)) found = g;
  }
  return found;
}

/** Sentences stating what the numbers show, generated from them. */
function verdicts(
  grids: Map<ModelKind, MethodGrid[]>,
  shift: readonly ShiftSummary[],
  shiftConfig: StudyConfig['shift'],
): string[] {
  const { every, recoverFraction: fraction } = shiftConfig;
  const window = trendWindow(shiftConfig);
  const lines: string[] = [];
  for (const [model, g] of grids) {
    const eg = bestOf(g, 'eg');
    const base = bestOf(g, 'baseline');
    if (eg?.best !== undefined && base?.best !== undefined) {
      const c = compare(eg.best.testAcc, base.best.testAcc);
      lines.push(
        `**${model.toUpperCase()}, tuned:** best EG variant ${eg.method.label} (lr ${formatLr(eg.best.lr)}) reaches ${pct(eg.best.testAcc)}% test accuracy; the best tuned baseline ${base.method.label} (lr ${formatLr(base.best.lr)}) reaches ${pct(base.best.testAcc)}%. EG ${c.word}: ${(c.delta * 100).toFixed(2)} points.`,
      );
    }
    const nearEg = Math.max(...g.filter((x) => x.method.family === 'eg').map((x) => x.nearBest));
    const nearBase = Math.max(
      ...g.filter((x) => x.method.family === 'baseline').map((x) => x.nearBest),
    );
    const gridSize = Math.max(...g.map((x) => x.cells.length));
    if (Number.isFinite(nearEg) && Number.isFinite(nearBase)) {
      lines.push(
        `**${model.toUpperCase()}, robustness:** within ${NEAR_BEST * 100} points of the best tuned result, the most robust EG variant holds at ${nearEg} of ${gridSize} base learning rates, the most robust baseline at ${nearBase}.`,
      );
    }
    for (const e of g) {
      const base = g.find((x) => x.method.id === e.method.base);
      if (e.method.family !== 'eg' || base === undefined) continue;
      const verdicts = { better: [] as string[], tie: [] as string[], worse: [] as string[] };
      for (const c of e.cells) {
        const b = base.cells.find((x) => x.lr === c.lr);
        if (b === undefined) continue;
        const word = compare(c.testAcc, b.testAcc).word;
        const bucket =
          word === 'wins' ? verdicts.better : word === 'loses' ? verdicts.worse : verdicts.tie;
        bucket.push(formatLr(c.lr));
      }
      const list = (xs: string[]) => (xs.length === 0 ? 'none' : xs.join(', '));
      lines.push(
        `**${model.toUpperCase()}, ${e.method.label} vs ${base.method.label} at the same base lr:** better at ${list(verdicts.better)}; tied at ${list(verdicts.tie)}; worse at ${list(verdicts.worse)}.`,
      );
    }
    for (const [egId, baseIds] of [
      ['eg-adam', ['adam', 'adam-cosine']],
      ['eg-sgdm', ['sgdm', 'sgdm-cosine']],
    ] as const) {
      const e = g.find((x) => x.method.id === egId);
      if (e?.atDefault === undefined) continue;
      const parts = baseIds
        .map((id) => g.find((x) => x.method.id === id))
        .filter((x): x is MethodGrid => x?.best !== undefined)
        .map((b) => {
          const c = compare(
            e.atDefault?.testAcc as Stats,
            (b.best as NonNullable<MethodGrid['best']>).testAcc,
          );
          return `${c.word} against tuned ${b.method.label} (${(c.delta * 100).toFixed(2)} points)`;
        });
      if (parts.length > 0) {
        lines.push(
          `**${model.toUpperCase()}, ${e.method.label} at its default lr ${formatLr(e.method.defaultLr)}:** ${pct(e.atDefault.testAcc)}%; it ${parts.join(', ')}.`,
        );
      }
    }
  }
  if (shift.length > 0) {
    const ranked = [...shift].sort((a, b) => a.meanRecovery.steps.mean - b.meanRecovery.steps.mean);
    lines.push(
      `**Shift, recovery** (mean steps to regain ${fraction * 100}% of the pre-shift accuracy, fastest first): ${ranked
        .map((s) => `${s.method.label} ${recoveryText(s.meanRecovery, every)}`)
        .join('; ')}.`,
    );
    const bestEg = ranked.find((s) => s.method.family === 'eg');
    const cosine = ranked.filter((s) => s.method.lrShape === 'warmup-cosine');
    const constant = ranked.filter(
      (s) => s.method.family === 'baseline' && s.method.lrShape === 'constant',
    );
    if (bestEg !== undefined) {
      // Per shift, seeds give the spread; fewer steps is better, so compare negated times.
      const tally = (others: ShiftSummary[]) => {
        const words = others.flatMap((o) =>
          o.recovery
            .slice(1)
            .map(
              (r, i) =>
                compare(negate((bestEg.recovery[i + 1] as RecoveryStats).steps), negate(r.steps))
                  .word,
            ),
        );
        const count = (pred: (w: string) => boolean) => words.filter(pred).length;
        return `faster at ${count((w) => w === 'wins')}, tied at ${count((w) => w.startsWith('ties'))} and slower at ${count((w) => w === 'loses')} of ${words.length} (baseline, shift) pairs`;
      };
      const parts = [
        cosine.length > 0 ? `against decayed schedules it is ${tally(cosine)}` : '',
        constant.length > 0 ? `against constant-rate baselines ${tally(constant)}` : '',
      ].filter((p) => p !== '');
      if (parts.length > 0) {
        lines.push(
          `**Shift, EG vs baselines:** the fastest EG variant (${bestEg.method.label}): ${parts.join('; ')}.`,
        );
      }
    }
    for (const s of shift) {
      if (s.method.family !== 'eg') continue;
      const pairs = s.scaleTrendAfter
        .map((after, k) => [s.scaleTrendBefore[k] as Stats, after] as const)
        .filter(([before, after], k) => k > 0 && before.n > 0 && after.n > 0);
      if (pairs.length === 0) continue;
      const risesMore = pairs.filter(
        ([before, after]) => after.mean > 0 && after.mean > before.mean,
      ).length;
      lines.push(
        `**Shift, scale:** ${s.method.label}: the scale changes by ${pairs
          .map(([before, after]) => `${signedPct(before.mean)} → ${signedPct(after.mean)}`)
          .join(
            ', ',
          )} over the ${window} steps before → after each shift; it rises faster after the shift than before it at ${risesMore} of ${pairs.length} shifts.`,
      );
    }
  }
  return lines;
}

function signedPct(x: number): string {
  return Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%` : '—';
}

function recoveryText(r: { steps: Stats; censored: number }, every: number): string {
  if (r.steps.n === 0) return '—';
  const base = `${r.steps.mean.toFixed(0)} ± ${r.steps.std.toFixed(0)}`;
  return r.censored > 0 ? `${base} (${r.censored} not recovered within ${every})` : base;
}

function renderMarkdown(
  input: ReportInput,
  meta: { versions: Record<string, string> } & Record<string, unknown>,
  grids: Map<ModelKind, MethodGrid[]>,
  shift: readonly ShiftSummary[],
  plots: readonly PlotSpec[],
): string {
  const { config } = input;
  const out: string[] = [];
  const plotLink = (name: string) => {
    const p = plots.find((x) => x.name === name);
    return p === undefined ? '' : `![${p.title}](plots/${p.name}.svg)`;
  };
  const status = input.interrupted
    ? `**Interrupted**: ${input.results.length} of ${input.plannedRuns} planned runs finished; the tables use those only.`
    : `Complete: ${input.results.length} of ${input.plannedRuns} runs${input.failures.length > 0 ? `, ${input.failures.length} failed (listed at the end)` : ''}.`;

  out.push(`# EG step-size adaptation on MNIST: ${config.preset} run`, '');
  out.push(status, '');
  out.push(
    markdownTable(
      ['', ''],
      [
        ['Command', `\`${input.command}\``],
        ['Started', input.startedAt.toISOString()],
        ['Wall time', `${(input.wallMs / 1000).toFixed(1)} s`],
        [
          'Backend',
          `${input.backend} (${config.workers} parallel run${config.workers > 1 ? 's' : ''})`,
        ],
        ['Seeds', config.seeds.join(', ')],
        [
          'Data',
          `MNIST digits from the \`mnist\` package: ${config.data.sizes.train} train / ${config.data.sizes.val} validation / ${config.data.sizes.test} test, split seed ${config.data.splitSeed} (order fingerprint \`${input.splitFingerprint}\`)`,
        ],
        ['Batch size', String(config.batchSize)],
        [
          'Versions',
          Object.entries(meta.versions)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        ],
      ],
    ),
    '',
  );

  const lines = verdicts(grids, shift, config.shift);
  if (lines.length > 0) {
    out.push('## What was measured', '');
    for (const line of lines) out.push(`- ${line}`);
    out.push('');
    out.push(
      `"Wins / loses" compares means over seeds; a difference no larger than the larger of the two seed standard deviations is called a tie. The tuned learning rate of every method is the grid point with the best mean validation accuracy; accuracies are on the separate test split.`,
      '',
    );
  }

  if (grids.size > 0) {
    const ns = config.noSchedule;
    out.push('## Study 1: no schedule, learning-rate grid', '');
    out.push(
      `Each method trains for ${ns.steps} steps of ${config.batchSize} samples at every base learning rate of the grid, over ${config.seeds.length} seed(s) (seeded initialisation and batch order). Baselines run at a constant rate and with a warmup-cosine schedule (linear warmup over ${WARMUP_FRACTION * 100}% of the run from 0 to the base rate, cosine decay to 0); EG variants and the hypergradient baseline run with no schedule. Final accuracy and loss are on the ${config.data.sizes.test}-sample test split.`,
      '',
    );
    for (const [model, g] of grids) {
      out.push(`### ${model.toUpperCase()}: ${MODEL_DESCRIPTIONS[model]}`, '');
      out.push('**Best of grid** (learning rate chosen on validation accuracy):', '');
      const sorted = [...g].sort(
        (a, b) => (b.best?.testAcc.mean ?? 0) - (a.best?.testAcc.mean ?? 0),
      );
      out.push(
        markdownTable(
          [
            'Method',
            'Tuned lr',
            'Test acc % (mean ± std)',
            'Seed min–max',
            'Test loss',
            'At default lr',
            'Worst lr',
            'Median over grid',
            `lrs within ${NEAR_BEST * 100} pts of best`,
            'Diverged runs',
          ],
          sorted.map((x) => [
            x.method.label,
            x.best === undefined ? '—' : formatLr(x.best.lr),
            x.best === undefined ? '—' : pct(x.best.testAcc),
            x.best === undefined ? '—' : range(x.best.testAcc),
            x.best === undefined ? '—' : formatMeanStd(x.best.testLoss, 3),
            x.atDefault === undefined
              ? '—'
              : `${pct(x.atDefault.testAcc)} (${formatLr(x.method.defaultLr)})`,
            x.worst === undefined ? '—' : `${pct1(x.worst.testAcc.mean)} (${formatLr(x.worst.lr)})`,
            pct1(x.medianTestAcc),
            `${x.nearBest} / ${x.cells.length}`,
            String(x.cells.reduce((n, c) => n + c.diverged, 0)),
          ]),
        ),
        '',
      );
      const lrs = [...new Set(g.flatMap((x) => x.cells.map((c) => c.lr)))].sort((a, b) => a - b);
      out.push('**Test accuracy % at each base learning rate** (mean ± std over seeds):', '');
      out.push(
        markdownTable(
          ['Method', ...lrs.map(formatLr)],
          g.map((x) => [
            x.method.label,
            ...lrs.map((lr) => {
              const c = x.cells.find((cc) => cc.lr === lr);
              return c === undefined
                ? '—'
                : `${pct(c.testAcc)}${c.diverged > 0 ? ` (${c.diverged} div.)` : ''}`;
            }),
          ]),
        ),
        '',
      );
      out.push(plotLink(`lr-sensitivity-${model}`), '', plotLink(`curves-${model}`), '');
    }
  }

  if (shift.length > 0) {
    const sc = config.shift;
    const n = sc.angles.length;
    out.push('## Study 2: distribution shift (rotating digits)', '');
    out.push(
      `The ${sc.model.toUpperCase()} trains on one stream of ${n * sc.every} steps whose digits are rotated by ${sc.angles.map((a) => `${a}°`).join(', ')} in turn, ${sc.every} steps each (bilinear rotation, precomputed per angle). Every ${sc.evalEvery} steps, and just before and after each shift, accuracy is measured on ${sc.evalSize} held-out test digits rotated by the current angle. The warmup-cosine schedule spans the whole stream, so it has decayed by the later shifts. Recovery = steps after a shift until accuracy on the new angle first reaches ${sc.recoverFraction * 100}% of the accuracy just before the shift (resolution ${sc.evalEvery} steps; a run that never gets there counts as ${sc.every}). Learning rates: tuned in study 1 where available, otherwise the method's default.`,
      '',
    );
    const shiftsIdx = Array.from({ length: n - 1 }, (_, i) => i + 1);
    out.push(
      markdownTable(
        [
          'Method',
          'lr',
          ...shiftsIdx.map((k) => `Recovery ${sc.angles[k - 1]}°→${sc.angles[k]}° (steps)`),
          'Mean recovery',
          'Mean acc % over stream',
          'Final test acc %',
        ],
        shift.map((s) => [
          s.method.label,
          `${formatLr(s.lr)} (${input.shiftLrSource[s.method.id] ?? 'default'})`,
          ...shiftsIdx.map((k) =>
            recoveryText(s.recovery[k] as ShiftSummary['recovery'][number], sc.every),
          ),
          recoveryText(s.meanRecovery, sc.every),
          pct(s.streamMean),
          pct(s.finalTestAcc),
        ]),
      ),
      '',
    );
    out.push('**Accuracy % before each shift → right after it** (mean over seeds):', '');
    out.push(
      markdownTable(
        ['Method', ...shiftsIdx.map((k) => `${sc.angles[k - 1]}°→${sc.angles[k]}°`)],
        shift.map((s) => [
          s.method.label,
          ...shiftsIdx.map(
            (k) =>
              `${pct1((s.preShift[k] as Stats).mean)} → ${pct1((s.postShift[k] as Stats).mean)}`,
          ),
        ]),
      ),
      '',
    );
    const withScale = shift.filter(
      (s) => s.scaleBefore.some((x) => x.n > 0) || s.method.lrShape !== 'constant',
    );
    if (withScale.length > 0) {
      out.push(
        `**Step-size multiplier at each shift** (learned scale or hypergradient α, with its relative change over the ${trendWindow(sc)} steps before → after the shift; for schedules, lr(t)/peak):`,
        '',
      );
      out.push(
        markdownTable(
          ['Method', ...shiftsIdx.map((k) => `${sc.angles[k - 1]}°→${sc.angles[k]}°`)],
          withScale.map((s) => [
            s.method.label,
            ...shiftsIdx.map((k) =>
              (s.scaleBefore[k] as Stats).n > 0
                ? `${(s.scaleBefore[k] as Stats).mean.toFixed(4)} (${signedPct((s.scaleTrendBefore[k] as Stats).mean)} → ${signedPct((s.scaleTrendAfter[k] as Stats).mean)})`
                : `lr×${(s.lrFactorAtShift[k] as Stats).mean.toFixed(3)}`,
            ),
          ]),
        ),
        '',
      );
    }
    out.push(
      plotLink('shift-accuracy'),
      '',
      plotLink('shift-recovery'),
      '',
      plotLink('shift-scale'),
      '',
    );
  }

  out.push('## Methods', '');
  const used = new Set(input.results.map((r) => r.spec.method));
  out.push(
    markdownTable(
      ['Id', 'Name', 'Family', 'Recipe', 'Default lr'],
      METHODS.filter((m) => used.has(m.id)).map((m) => [
        m.id,
        m.label,
        m.family,
        `\`${m.recipe}\``,
        formatLr(m.defaultLr),
      ]),
    ),
    '',
  );
  out.push(
    'EG hyperparameters are the library defaults (scale rate 0.001 on the cosine alignment, scale in [0.1, 10]; gain rate 0.01 on sign agreement, gains in [0.01, 100], gradient EMA 0.9) unless the recipe says otherwise. SGD uses momentum 0.9.',
    '',
  );
  out.push('## Files', '');
  out.push(
    '- `runs.csv`: one row per run (final validation and test accuracy and loss).',
    '- `steps.csv`: training loss per logged step.',
    '- `evals.csv`: periodic held-out evaluations, with the learned scale and gain summary at that step.',
    '- `results.json`: configuration, versions, summaries and every run.',
    '- `plots/*.svg`, with the Vega-Lite spec of each as `plots/*.vl.json`.',
    '',
  );
  if (input.failures.length > 0) {
    out.push('## Failed runs', '');
    for (const f of input.failures) out.push(`- \`${f.spec.key}\`: ${f.message}`);
    out.push('');
  }
  return out.join('\n');
}

/** A plain-text table for the terminal: tuned accuracy per model and shift recovery per method. */
function consoleSummary(
  grids: Map<ModelKind, MethodGrid[]>,
  shift: readonly ShiftSummary[],
): string {
  const models = [...grids.keys()];
  const ids = METHODS.map((m) => m.id).filter(
    (id) =>
      models.some((m) => grids.get(m)?.some((g) => g.method.id === id)) ||
      shift.some((s) => s.method.id === id),
  );
  const header = [
    'method',
    ...models.flatMap((m) => [`${m} tuned acc %`, `${m} lrs near best`]),
    ...(shift.length > 0 ? ['shift recovery (steps)'] : []),
  ];
  const rows = ids.map((id) => {
    const label = METHODS.find((m) => m.id === id)?.label ?? id;
    const cells = [label];
    for (const m of models) {
      const g = grids.get(m)?.find((x) => x.method.id === id);
      cells.push(
        g?.best === undefined ? '—' : pct(g.best.testAcc),
        g === undefined ? '—' : `${g.nearBest}/${g.cells.length}`,
      );
    }
    if (shift.length > 0) {
      const s = shift.find((x) => x.method.id === id);
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
    models.length > 0
      ? `tuned acc: test accuracy at the learning rate chosen on validation (mean ± std over seeds); lrs near best: grid rates within ${NEAR_BEST * 100} points of the best tuned method.`
      : '',
    shift.length > 0
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
