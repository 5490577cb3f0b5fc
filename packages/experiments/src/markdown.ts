import type { StudyConfig } from './config.js';
import type { WallEstimate } from './estimate.js';
import {
  type Finding,
  mainEgColumns,
  recoveryText,
  tally,
  type VerdictMatrix,
} from './findings.js';
import {
  direction,
  formatComparison,
  formatLr,
  formatMetric,
  formatRange,
  formatValue,
  markdownTable,
  signedPct,
} from './format.js';
import { EG_LIBRARY_RATES, METHODS, WARMUP_FRACTION } from './methods.js';
import type { Stats } from './metrics.js';
import { type ChosenLrs, chosenKey } from './plan.js';
import type { PlotSpec } from './plots.js';
import type { RunFailure } from './pool.js';
import {
  type MethodGrid,
  type ShiftSummary,
  type StudySummaries,
  type TaskGridSummary,
  trendWindow,
} from './summarize.js';
import { TASKS } from './tasks.js';
import type { RunResult } from './train.js';
import type { TuningPoint } from './tuningCost.js';

/** What the Markdown report is rendered from. */
export interface MarkdownInput {
  readonly config: StudyConfig;
  readonly command: string;
  readonly startedAt: Date;
  readonly wallMs: number;
  readonly backend: string;
  readonly splitFingerprint: string;
  readonly corpusDescription: string | undefined;
  readonly plannedRuns: number;
  readonly results: readonly RunResult[];
  readonly failures: readonly RunFailure[];
  readonly interrupted: boolean;
  readonly versions: Readonly<Record<string, string>>;
  readonly chosenLrs: ChosenLrs;
  readonly summaries: StudySummaries;
  readonly findings: readonly Finding[];
  readonly matrices: readonly VerdictMatrix[];
  readonly plots: readonly PlotSpec[];
  /** Measured costs per step, per task (median over methods, and range). */
  readonly stepCosts: readonly { task: string; median: number; min: number; max: number }[];
  /** Estimated wall time of each preset on this machine from this run's costs. */
  readonly presetEstimates: readonly { preset: string; estimate: WallEstimate }[];
}

/** Column title of a grid point relative to the default: ÷30, ÷10, ÷3, default, ×3, ×10, ×30. */
function relativeTitle(k: number): string {
  if (k === 0) return 'default';
  const factor = 10 ** (Math.abs(k) / 2);
  const text = Number(factor.toPrecision(1)).toString();
  return `${k < 0 ? '÷' : '×'}${text}`;
}

function gridSection(
  tg: TaskGridSummary,
  input: MarkdownInput,
  plotLink: (n: string) => string,
): string[] {
  const { task } = tg;
  const m = task.metric;
  const out: string[] = [];
  out.push(`### ${task.label}: ${task.describe(input.config.data)}`, '');
  out.push(
    `**Best of grid** (learning rate chosen on validation ${m.name}; test split shown; ${direction(m)}):`,
    '',
  );
  const sign = m.higherIsBetter ? -1 : 1;
  const sorted = [...tg.grids].sort(
    (a, b) => sign * ((a.best?.test.mean ?? Number.NaN) - (b.best?.test.mean ?? Number.NaN)) || 0,
  );
  out.push(
    markdownTable(
      [
        'Method',
        'Tuned lr',
        `Test ${m.name} (mean ± std)`,
        'Seed min–max',
        'Test loss',
        'At default lr',
        'Worst lr',
        'Median over grid',
        `lrs within ${formatValue(m.nearBest, m)} of best`,
        'Diverged runs',
      ],
      sorted.map((x) => [
        x.method.label,
        x.best === undefined ? '—' : formatLr(x.best.lr),
        formatMetric(x.best?.test, m),
        formatRange(x.best?.test, m),
        x.best === undefined
          ? '—'
          : `${x.best.testLoss.mean.toFixed(3)} ± ${x.best.testLoss.std.toFixed(3)}`,
        x.atDefault === undefined
          ? '—'
          : `${formatMetric(x.atDefault.test, m)} (${formatLr(x.method.defaultLr)})`,
        x.worst === undefined
          ? '—'
          : `${formatValue(x.worst.test.mean, m)} (${formatLr(x.worst.lr)})`,
        formatValue(x.medianTest, m),
        `${x.nearBest} / ${x.cells.length}`,
        String(x.cells.reduce((n, c) => n + c.diverged, 0)),
      ]),
    ),
    '',
  );
  const ks = relativeOffsets(tg.grids);
  out.push(
    `**Test ${m.name} at each learning rate relative to the method's default** (mean ± std over seeds; learning-rate-free methods run at their default only):`,
    '',
  );
  out.push(
    markdownTable(
      ['Method', 'Default lr', ...ks.map(relativeTitle)],
      tg.grids.map((x) => [
        x.method.label,
        formatLr(x.method.defaultLr),
        ...ks.map((k) => {
          const c = x.cells.find((cc) => offsetOf(cc.lr, x.method.defaultLr) === k);
          return c === undefined
            ? '—'
            : `${formatMetric(c.test, m)}${c.diverged > 0 ? ` (${c.diverged} div.)` : ''}`;
        }),
      ]),
    ),
    '',
  );
  out.push(plotLink(`lr-sensitivity-${task.id}`), '', plotLink(`curves-${task.id}`), '');

  const cellText = (p: TuningPoint | undefined) => {
    if (p?.chosen === undefined) return '—';
    return `${formatMetric(p.chosen.val, m)} (${formatLr(p.chosen.lr)})${p.fixed && p.runs > 1 ? ' =' : ''}`;
  };
  const budgets = [...new Set(tg.tuning.flatMap((t) => t.points.map((p) => p.runs)))];
  // A random draw differs from the centred sub-grid only when it is smaller than the grid.
  const gridSize = Math.max(
    0,
    ...tg.grids.filter((g) => !g.method.learningRateFree).map((g) => g.cells.length),
  );
  const randomBudgets = budgets.filter((b) => b > 1 && b < gridSize);
  out.push(
    `**Tuning cost**: best validation ${m.name} within a number of tuning runs (mean ± std over seeds of the chosen learning rate, which is given in brackets).${randomBudgets.map((b) => ` "${b} random" is the expected best of ${b} learning rates drawn at random from the grid.`).join('')}`,
    '',
  );
  out.push(
    markdownTable(
      [
        'Method',
        ...budgets.map((b) => `${b} run${b === 1 ? '' : 's'}`),
        ...randomBudgets.map((b) => `${b} random (expected)`),
      ],
      tg.tuning.map((t) => [
        t.method.label,
        ...budgets.map((b) => cellText(t.points.find((p) => p.runs === b))),
        ...randomBudgets.map((b) => {
          const p = t.points.find((q) => q.runs === b);
          return p?.fixed ? '=' : formatValue(p?.expectedVal, m);
        }),
      ]),
    ),
    '',
    '"=": a learning-rate-free method makes its one run at every budget.',
    '',
    plotLink(`tuning-cost-${task.id}`),
    '',
  );
  for (const matrix of input.matrices.filter(
    (x) => x.id.startsWith(`${task.id}/`) && !x.id.endsWith('/long'),
  )) {
    out.push(...matrixSection(matrix));
  }
  return out;
}

/** Half-decade offsets from the default that occur in any grid, sorted. */
function relativeOffsets(grids: readonly MethodGrid[]): number[] {
  return [
    ...new Set(grids.flatMap((g) => g.cells.map((c) => offsetOf(c.lr, g.method.defaultLr)))),
  ].sort((a, b) => a - b);
}

/** Half decades from `center` to `lr`, rounded (3e-4 is -1 from 1e-3). */
function offsetOf(lr: number, center: number): number {
  return Math.round(2 * Math.log10(lr / center));
}

function matrixSection(matrix: VerdictMatrix): string[] {
  return [
    `**${matrix.title}**: each EG row (column) against each other row; "win +d" means the EG row is better by d (${direction(matrix.metric)}), a tie is a difference within the seed spread.`,
    '',
    markdownTable(
      ['Against', ...matrix.egs.map((e) => e.label)],
      [
        ...matrix.opponents.map((o, i) => [
          o.label,
          ...matrix.egs.map((_, j) => formatComparison(matrix.cells[i]?.[j], matrix.metric)),
        ]),
        [
          '**wins / ties / losses**',
          ...matrix.egs.map((_, j) => {
            const t = tally(matrix, j);
            return `${t.win} / ${t.tie} / ${t.loss}`;
          }),
        ],
      ],
    ),
    '',
  ];
}

function scoreboard(matrices: readonly VerdictMatrix[]): string[] {
  const egIds = [
    ...new Set(
      matrices.flatMap((m) => mainEgColumns(m).map((j) => (m.egs[j] as { id: string }).id)),
    ),
  ];
  if (egIds.length === 0) return [];
  const labels = egIds.map((id) => METHODS.find((m) => m.id === id)?.label ?? id);
  return [
    markdownTable(
      ['Setting', ...labels.map((l) => `${l}: wins / ties / losses`)],
      matrices.map((m) => [
        m.title,
        ...egIds.map((id) => {
          const j = m.egs.findIndex((e) => e.id === id);
          if (j < 0) return '—';
          const t = tally(m, j);
          return `${t.win} / ${t.tie} / ${t.loss} of ${t.win + t.tie + t.loss}`;
        }),
      ]),
    ),
    '',
  ];
}

function shiftSection(
  shift: readonly ShiftSummary[],
  input: MarkdownInput,
  plotLink: (n: string) => string,
): string[] {
  const sc = input.config.shift;
  const n = sc.angles.length;
  const out: string[] = [];
  const task = TASKS.find((t) => t.id === sc.task);
  out.push('## Study 4: distribution shift (rotating digits)', '');
  out.push(
    `The ${task?.label ?? sc.task} trains on one stream of ${n * sc.every} steps whose digits are rotated by ${sc.angles.map((a) => `${a}°`).join(', ')} in turn, ${sc.every} steps each (bilinear rotation, precomputed per angle). Every ${sc.evalEvery} steps, and just before and after each shift, accuracy is measured on ${sc.evalSize} held-out test digits rotated by the current angle. Schedules span the whole stream, so they have decayed by the later shifts. Recovery = steps after a shift until accuracy on the new angle first reaches ${sc.recoverFraction * 100}% of the accuracy just before the shift (resolution ${sc.evalEvery} steps; a run that never gets there counts as ${sc.every}). Learning rates: tuned in the grid study on the same task where it ran, otherwise the method's default.`,
    '',
  );
  const shiftsIdx = Array.from({ length: n - 1 }, (_, i) => i + 1);
  const arrow = (k: number) => `${sc.angles[k - 1]}°→${sc.angles[k]}°`;
  out.push(
    markdownTable(
      [
        'Method',
        'lr',
        ...shiftsIdx.map((k) => `Recovery ${arrow(k)} (steps)`),
        'Mean recovery',
        'Mean acc % over stream',
        'Final test acc %',
      ],
      shift.map((s) => [
        s.method.label,
        `${formatLr(s.lr)} (${input.chosenLrs[chosenKey('shift', sc.task, s.method.id)]?.source ?? 'default'})`,
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
  out.push(
    '**Accuracy % after each shift**: just before it (old angle) → right after it (new angle, before training on it) → at the end of the new phase (mean over seeds):',
    '',
  );
  out.push(
    markdownTable(
      ['Method', ...shiftsIdx.map(arrow)],
      shift.map((s) => [
        s.method.label,
        ...shiftsIdx.map(
          (k) =>
            `${pct1((s.preShift[k] as Stats).mean)} → ${pct1((s.postShift[k] as Stats).mean)} → ${pct1((s.phaseEnd[k] as Stats).mean)}`,
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
      `**Learned step size at each shift** (EG scale, hypergradient α, or the peer's own estimate, with its relative change over the ${trendWindow(sc)} steps before → after the shift; for schedules without one, lr(t)/peak):`,
      '',
    );
    out.push(
      markdownTable(
        ['Method', ...shiftsIdx.map(arrow)],
        withScale.map((s) => [
          s.method.label,
          ...shiftsIdx.map((k) =>
            (s.scaleBefore[k] as Stats).n > 0
              ? `${(s.scaleBefore[k] as Stats).mean.toPrecision(4)} (${signedPct((s.scaleTrendBefore[k] as Stats).mean)} → ${signedPct((s.scaleTrendAfter[k] as Stats).mean)})`
              : `lr×${(s.lrFactorAtShift[k] as Stats).mean.toFixed(3)}`,
          ),
        ]),
      ),
      '',
    );
  }
  for (const matrix of input.matrices.filter((x) => x.id.startsWith('shift/'))) {
    out.push(...matrixSection(matrix));
  }
  out.push(
    plotLink('shift-accuracy'),
    '',
    plotLink('shift-recovery'),
    '',
    plotLink('shift-scale'),
    '',
  );
  return out;
}

const pct = (s: Stats) =>
  s.n === 0 ? '—' : `${(s.mean * 100).toFixed(2)} ± ${(s.std * 100).toFixed(2)}`;
const pct1 = (x: number) => (Number.isFinite(x) ? (x * 100).toFixed(2) : '—');

/** Render report.md. */
export function renderMarkdown(input: MarkdownInput): string {
  const { config, summaries } = input;
  const out: string[] = [];
  const plotLink = (name: string) => {
    const p = input.plots.find((x) => x.name === name);
    return p === undefined ? '' : `![${p.title}](plots/${p.name}.svg)`;
  };
  const status = input.interrupted
    ? `**Interrupted**: ${input.results.length} of ${input.plannedRuns} planned runs finished; the tables use those only.`
    : `Complete: ${input.results.length} of ${input.plannedRuns} runs${input.failures.length > 0 ? `, ${input.failures.length} failed (listed at the end)` : ''}.`;
  const tasksRun = TASKS.filter((t) => input.results.some((r) => r.spec.task === t.id));

  out.push(
    `# EG step-size adaptation against tuned schedules and learning-rate-free peers: ${config.preset} run`,
    '',
  );
  out.push(status, '');
  const mnist = config.data.mnist;
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
        ['Tasks', tasksRun.map((t) => `${t.label}: ${t.describe(config.data)}`).join('; ')],
        ...(tasksRun.some((t) => t.data === 'mnist')
          ? [
              [
                'MNIST data',
                `digits from the \`mnist\` package: ${mnist.sizes.train} train / ${mnist.sizes.val} validation / ${mnist.sizes.test} test, split seed ${mnist.splitSeed} (order fingerprint \`${input.splitFingerprint}\`)`,
              ],
            ]
          : []),
        ...(input.corpusDescription === undefined || !tasksRun.some((t) => t.data === 'text')
          ? []
          : [
              ['Text data', `${input.corpusDescription}; bits per character = loss in nats / ln 2`],
            ]),
        [
          'Batch sizes',
          tasksRun.map((t) => `${t.label} ${config.tasks[t.id].batchSize}`).join(', '),
        ],
        [
          'Versions',
          Object.entries(input.versions)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        ],
      ],
    ),
    '',
  );

  if (input.findings.length > 0) {
    out.push('## Where EG wins, ties and loses', '');
    out.push(...scoreboard(input.matrices));
    for (const f of input.findings) out.push(`- **${f.scope}:** ${f.text}`);
    out.push('');
    out.push(
      'Every sentence is derived from the tables below by fixed rules: each EG row (ablations and option variants only in the tables) is compared with every other row on means over seeds; a difference no larger than the larger of the two seed standard deviations is a tie. Tuned learning rates are chosen on the validation split; results are on the separate test split unless a table says validation.',
      '',
    );
  }

  if (summaries.grid.length > 0) {
    const g = config.grid;
    out.push('## Study 1: learning-rate grid and tuning cost', '');
    out.push(
      `Every method trains at each learning rate of a half-decade grid centred on its default (${g.points} point${g.points === 1 ? '' : 's'}: the default and ${(g.points - 1) / 2} half decade${g.points === 3 ? '' : 's'} each side; learning-rate-free methods only at their default multiplier, as their authors advise), over ${config.seeds.length} seed(s) (seeded initialisation and batch order). Steps per run: ${summaries.grid.map((tg) => `${tg.task.label} ${g.steps[tg.task.id]}`).join(', ')}. Schedules are a linear warmup over ${WARMUP_FRACTION * 100}% of the run and a cosine decay to 0; EG rows, hypergradient and the learning-rate-free peers run with no schedule unless their name says so.`,
      '',
      `Tuning cost protocol: 1 run is the default learning rate; 3 runs add the half decade on each side of it; 7 runs are the whole half-decade grid (÷30 … ×30); each budget's learning rate is the one with the best mean validation metric over seeds. The "random" column instead draws the learning rates uniformly from the grid and reports the expected best (expected validation performance, Dodge et al. 2019). A learning-rate-free method needs no tuning run beyond its one default run.`,
      '',
    );
    for (const tg of summaries.grid) out.push(...gridSection(tg, input, plotLink));
  }

  const e = summaries.egRates;
  if (e !== undefined) {
    const m = e.task.metric;
    out.push("## Study 2: EG's own rates", '');
    out.push(
      `${e.method.label} on ${e.task.label} at a fixed base learning rate of ${formatLr(e.lr)}, ${config.egRates.steps} steps, over a grid of its scale rate (\`scaleLearningRate\`, of \`egGlobalScale\`) and gain rate (\`gainLearningRate\`, of \`egCoordinateGains\`); library defaults ${formatLr(EG_LIBRARY_RATES.scaleLearningRate)} and ${formatLr(EG_LIBRARY_RATES.gainLearningRate)}. Does EG trade a learning-rate sweep for a sweep of its own rates? Test ${m.name} (mean ± std over seeds; ${direction(m)}):`,
      '',
    );
    out.push(
      markdownTable(
        ['Scale rate \\ gain rate', ...e.gainRates.map(formatLr)],
        e.scaleRates.map((s) => [
          formatLr(s),
          ...e.gainRates.map((gr) => {
            const c = e.cells.find((x) => x.scaleRate === s && x.gainRate === gr);
            return c === undefined
              ? '—'
              : `${formatMetric(c.test, m)}${c.diverged > 0 ? ` (${c.diverged} div.)` : ''}`;
          }),
        ]),
      ),
      '',
      plotLink('eg-rates'),
      '',
    );
  }

  if (summaries.long.length > 0) {
    out.push('## Study 3: long horizon', '');
    out.push(
      'A few methods train for many more steps, at the learning rate tuned in the grid study on the same task (the default where the grid did not run it); schedules span the whole run.',
      '',
    );
    for (const tl of summaries.long) {
      const m = tl.task.metric;
      out.push(`### ${tl.task.label}, ${tl.methods[0]?.steps ?? 0} steps`, '');
      out.push(
        markdownTable(
          [
            'Method',
            'lr',
            `Final test ${m.name}`,
            `Best validation ${m.name} on the way`,
            'Diverged runs',
          ],
          tl.methods.map((s) => [
            s.method.label,
            `${formatLr(s.lr)} (${input.chosenLrs[chosenKey('long', tl.task.id, s.method.id)]?.source ?? 'default'})`,
            formatMetric(s.test, m),
            formatMetric(s.bestVal, m),
            String(s.diverged),
          ]),
        ),
        '',
      );
      for (const matrix of input.matrices.filter((x) => x.id === `${tl.task.id}/long`)) {
        out.push(...matrixSection(matrix));
      }
      out.push(plotLink(`long-${tl.task.id}`), '');
    }
  }

  if (summaries.shift.length > 0) out.push(...shiftSection(summaries.shift, input, plotLink));

  out.push('## Methods', '');
  const used = new Set(input.results.map((r) => r.spec.method));
  out.push(
    markdownTable(
      ['Id', 'Name', 'Family', 'Recipe', 'Default lr', 'Learning-rate-free'],
      METHODS.filter((m) => used.has(m.id)).map((m) => [
        m.id,
        m.label,
        m.family,
        `\`${m.recipe}\``,
        formatLr(m.defaultLr),
        m.learningRateFree ? 'yes' : 'no',
      ]),
    ),
    '',
  );
  out.push(
    `EG hyperparameters are the library defaults unless the recipe or the EG-rates study says otherwise: \`egGlobalScale\` with \`scaleLearningRate: ${EG_LIBRARY_RATES.scaleLearningRate}\` on the cosine alignment, scale in [0.1, 10]; \`egCoordinateGains\` with \`gainLearningRate: ${EG_LIBRARY_RATES.gainLearningRate}\` on sign agreement, gains in [0.01, 100], gradient EMA 0.9. SGD uses momentum 0.9. The peers use @tfopt/contrib's defaults, which follow optax.contrib; Schedule-Free is evaluated at its averaged parameters x.`,
    '',
  );

  if (input.stepCosts.length > 0) {
    out.push('## Cost', '');
    out.push(
      markdownTable(
        ['Task', 'ms per training step (median over methods)', 'range over methods'],
        input.stepCosts.map((c) => [
          TASKS.find((t) => t.id === c.task)?.label ?? c.task,
          c.median.toFixed(1),
          `${c.min.toFixed(1)}–${c.max.toFixed(1)}`,
        ]),
      ),
      '',
    );
    if (input.presetEstimates.length > 0) {
      out.push(
        `Estimated wall time of each preset on this machine with ${config.workers} parallel run(s), from the per-step and per-evaluation costs this run measured (methods it did not run are priced at their task's median): ${input.presetEstimates
          .map(
            ({ preset, estimate }) =>
              `${preset} ${(estimate.ms / 60_000).toFixed(1)} min${estimate.unpriced > 0 ? ` (${estimate.unpriced} of ${estimate.runs} runs on unmeasured tasks left out)` : ''}`,
          )
          .join(', ')}.`,
        '',
      );
    }
  }

  out.push('## Files', '');
  out.push(
    '- `runs.csv`: one row per run (final validation and test metric, loss and accuracy).',
    '- `steps.csv`: training loss per logged step.',
    '- `evals.csv`: periodic held-out evaluations, with the learned scale and gain summary at that step.',
    '- `tuning.csv`: the tuning cost per task, method and budget.',
    '- `verdicts.csv`: every EG row against every other row in every setting.',
    '- `results.json`: configuration, versions, summaries, findings and every run.',
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
