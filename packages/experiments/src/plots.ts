import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { direction, formatLr } from './format.js';
import { METHODS } from './methods.js';
import { stats } from './metrics.js';
import type { EgRatesSummary, MethodGrid, TaskGridSummary } from './summarize.js';
import type { TaskEntry } from './tasks.js';
import type { EvalLog, RunResult, ShiftConfig, StudyName } from './train.js';

/** A plot to write: file name (without extension) and its Vega-Lite spec. */
export interface PlotSpec {
  readonly name: string;
  readonly title: string;
  readonly spec: TopLevelSpec;
}

/** Render a Vega-Lite spec to an SVG string, headless. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** One colour per row of the method table, so a method looks the same in every plot and report. */
const PALETTE = [
  '#4c78a8',
  '#9ecae9',
  '#f58518',
  '#ffbf79',
  '#72b7b2',
  '#54a24b',
  '#88d27a',
  '#b79a20',
  '#e45756',
  '#ff9d98',
  '#b279a2',
  '#d6a5c9',
  '#9d755d',
  '#bab0ac',
  '#439894',
  '#f2cf5b',
  '#2f4b7c',
  '#a05195',
  '#d45087',
  '#665191',
  '#ff7c43',
  '#003f5c',
  '#7a5195',
  '#ef5675',
  '#ffa600',
];

/** Colour by method, restricted to the methods present (legend stays short, colours stay fixed). */
function methodColor(rows: readonly { method: string }[]) {
  const present = new Set(rows.map((r) => r.method));
  const entries = METHODS.map(
    (m, i) => [m.label, PALETTE[i % PALETTE.length] as string] as const,
  ).filter(([label]) => present.has(label));
  return {
    field: 'method',
    type: 'nominal',
    title: 'method',
    scale: { domain: entries.map(([l]) => l), range: entries.map(([, c]) => c) },
    legend: { labelLimit: 280 },
  } as const;
}

/** Baselines dashed, EG solid, peers dash-dotted. */
function familyDash(rows: readonly { family: string }[]) {
  const all = [
    ['baseline', [4, 3]],
    ['eg', [1, 0]],
    ['peer', [8, 2, 2, 2]],
  ] as const;
  const present = new Set(rows.map((r) => r.family));
  const used = all.filter(([f]) => present.has(f));
  return {
    field: 'family',
    type: 'nominal',
    title: 'family',
    scale: { domain: used.map(([f]) => f), range: used.map(([, d]) => [...d]) },
  } as const;
}

function methodFields(result: RunResult): { method: string; family: string } {
  const entry = METHODS.find((m) => m.id === result.spec.method);
  return { method: entry?.label ?? result.spec.method, family: entry?.family ?? 'baseline' };
}

/** Mean over seeds of `value` at each step (runs of one configuration). */
function meanByStep<T extends { step: number }>(
  runs: readonly RunResult[],
  pick: (r: RunResult) => readonly T[],
  value: (row: T) => number | undefined,
  key: (row: T) => string = (row) => String(row.step),
): { step: number; row: T; mean: number; min: number; max: number }[] {
  const groups = new Map<string, { row: T; values: number[] }>();
  for (const run of runs) {
    for (const row of pick(run)) {
      const v = value(row);
      if (v === undefined) continue;
      const k = key(row);
      const g = groups.get(k);
      if (g === undefined) groups.set(k, { row, values: [v] });
      else g.values.push(v);
    }
  }
  return [...groups.values()].map(({ row, values }) => {
    const s = stats(values);
    return { step: row.step, row, mean: s.mean, min: s.min, max: s.max };
  });
}

/** Centered moving average over `window` points, for noisy per-step losses. */
export function smooth(values: readonly number[], window: number): number[] {
  const half = Math.floor(window / 2);
  return values.map((_, i) => {
    const part = values.slice(Math.max(0, i - half), i + half + 1).filter(Number.isFinite);
    return part.length === 0 ? Number.NaN : part.reduce((a, b) => a + b, 0) / part.length;
  });
}

/** A plotted row: every row names its method and family. */
type Row = { readonly method: string; readonly family: string } & Record<string, unknown>;

/** The metric's axis: a percentage or bits, with its direction in the title. */
function metricAxis(task: TaskEntry, field: string, what: string) {
  const m = task.metric;
  return {
    field,
    type: 'quantitative',
    title: `${what} ${m.name} (${direction(m)})`,
    scale: { zero: false },
  } as const;
}

const shown = (task: TaskEntry, x: number) => x * task.metric.scale;

/**
 * Test metric against the learning rate relative to each method's default
 * (grids are centred on the default), one line per method with the seed
 * range; learning-rate-free methods are single points at 1.
 */
export function lrSensitivityPlot(grids: readonly MethodGrid[], task: TaskEntry): PlotSpec {
  const values: Row[] = grids.flatMap((g) =>
    g.cells.map((c) => ({
      method: g.method.label,
      family: g.method.family,
      relative: c.lr / g.method.defaultLr,
      lr: formatLr(c.lr),
      value: shown(task, c.test.mean),
      min: shown(task, c.test.min),
      max: shown(task, c.test.max),
    })),
  );
  const ticks = [...new Set(values.map((v) => v.relative as number))].sort((a, b) => a - b);
  return {
    name: `lr-sensitivity-${task.id}`,
    title: `${task.label}: test ${task.metric.name} vs learning rate / default`,
    spec: {
      $schema: SCHEMA,
      title: `${task.label}: final test ${task.metric.name} vs learning rate relative to the method's default (mean, seed min–max)`,
      width: 520,
      height: 320,
      data: { values },
      encoding: {
        x: {
          field: 'relative',
          type: 'quantitative',
          scale: { type: 'log', nice: false, padding: 16 },
          axis: { values: ticks, format: '~g' },
          title: "learning rate / method's default (peak for schedules)",
        },
        color: methodColor(values),
      },
      layer: [
        {
          mark: { type: 'rule', opacity: 0.6 },
          encoding: { y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } },
        },
        {
          mark: { type: 'line', point: true },
          encoding: {
            y: metricAxis(task, 'value', 'test'),
            strokeDash: familyDash(values),
            tooltip: [{ field: 'method' }, { field: 'lr' }, { field: 'value' }],
          },
        },
      ],
    } as TopLevelSpec,
  };
}

/**
 * Validation metric and smoothed training loss over steps, one line per
 * method: in the grid study at each method's tuned learning rate, in the
 * long study at the one it ran.
 */
export function trainingCurvesPlot(
  results: readonly RunResult[],
  study: Extract<StudyName, 'grid' | 'long'>,
  task: TaskEntry,
  tunedLr: (method: string) => number | undefined,
  lossWindow = 10,
): PlotSpec {
  const metricRows: Row[] = [];
  const lossRows: Row[] = [];
  const mine = results.filter((r) => r.spec.study === study && r.spec.task === task.id);
  const methods = METHODS.filter((m) => mine.some((r) => r.spec.method === m.id));
  for (const method of methods) {
    const lr = tunedLr(method.id);
    const runs = mine.filter(
      (r) => r.spec.method === method.id && (lr === undefined || r.spec.lr === lr),
    );
    if (runs.length === 0) continue;
    const tag = { method: method.label, family: method.family };
    for (const p of meanByStep(
      runs,
      (r) => r.evals.filter((e) => e.step > 0),
      (e) => e.metric,
    )) {
      metricRows.push({ ...tag, step: p.step, value: shown(task, p.mean) });
    }
    const losses = meanByStep(
      runs,
      (r) => r.steps,
      (s) => s.loss,
    ).sort((a, b) => a.step - b.step);
    const smoothed = smooth(
      losses.map((p) => p.mean),
      lossWindow,
    );
    losses.forEach((p, i) => {
      const loss = smoothed[i] as number;
      if (Number.isFinite(loss) && loss > 0) lossRows.push({ ...tag, step: p.step, loss });
    });
  }
  const all = [...metricRows, ...lossRows];
  const panel = (values: Row[], y: object) => ({
    width: 360,
    height: 280,
    data: { values },
    mark: { type: 'line' },
    encoding: {
      x: { field: 'step', type: 'quantitative' },
      y,
      color: methodColor(all),
      strokeDash: familyDash(all),
    },
  });
  const where = study === 'grid' ? 'each method at its tuned learning rate' : 'long horizon';
  return {
    name: `${study === 'grid' ? 'curves' : 'long'}-${task.id}`,
    title: `${task.label}: training curves (${where})`,
    spec: {
      $schema: SCHEMA,
      title: `${task.label}: ${where} (mean over seeds)`,
      hconcat: [
        panel(metricRows, metricAxis(task, 'value', 'validation')),
        panel(lossRows, {
          field: 'loss',
          type: 'quantitative',
          title: `training loss (moving average of ${lossWindow} logs)`,
          scale: { type: 'log' },
        }),
      ],
    } as TopLevelSpec,
  };
}

/** Best validation metric within 1, 3, 7 tuning runs, one line per method (flat for learning-rate-free ones). */
export function tuningCostPlot(tg: TaskGridSummary): PlotSpec {
  const values: Row[] = tg.tuning.flatMap((t) =>
    t.points.flatMap((p) =>
      p.chosen === undefined
        ? []
        : [
            {
              method: t.method.label,
              family: t.method.family,
              runs: p.runs,
              value: shown(tg.task, p.chosen.val.mean),
            },
          ],
    ),
  );
  return {
    name: `tuning-cost-${tg.task.id}`,
    title: `${tg.task.label}: best validation ${tg.task.metric.name} within 1, 3 and 7 tuning runs`,
    spec: {
      $schema: SCHEMA,
      title: `${tg.task.label}: best validation ${tg.task.metric.name} reachable with a number of tuning runs`,
      width: 420,
      height: 300,
      data: { values },
      mark: { type: 'line', point: true },
      encoding: {
        x: {
          field: 'runs',
          type: 'quantitative',
          scale: { type: 'log' },
          axis: { values: [...new Set(values.map((v) => v.runs as number))], format: 'd' },
          title: 'tuning runs (learning rates tried, centred on the default)',
        },
        y: metricAxis(tg.task, 'value', 'validation'),
        color: methodColor(values),
        strokeDash: familyDash(values),
      },
    } as TopLevelSpec,
  };
}

/** Heat map of the test metric over EG's scale rate × gain rate, with the values written in. */
export function egRatesPlot(summary: EgRatesSummary): PlotSpec {
  const { task } = summary;
  const values = summary.cells.map((c) => ({
    scale: formatLr(c.scaleRate),
    gain: formatLr(c.gainRate),
    value: shown(task, c.test.mean),
    label: `${shown(task, c.test.mean).toFixed(task.metric.digits)}${c.diverged > 0 ? '*' : ''}`,
  }));
  const order = (rates: number[]) => rates.map(formatLr);
  const finite = values.map((v) => v.value).filter(Number.isFinite);
  const mid = finite.length === 0 ? 0 : (Math.min(...finite) + Math.max(...finite)) / 2;
  return {
    name: 'eg-rates',
    title: `${summary.method.label} on ${task.label}: test ${task.metric.name} over its scale and gain rates`,
    spec: {
      $schema: SCHEMA,
      title: `${summary.method.label}, ${task.label}, base lr ${formatLr(summary.lr)}: test ${task.metric.name} (mean over seeds; ${direction(task.metric)})`,
      width: 60 * summary.gainRates.length,
      height: 60 * summary.scaleRates.length,
      data: { values },
      encoding: {
        x: { field: 'gain', type: 'ordinal', sort: order(summary.gainRates), title: 'gain rate' },
        y: {
          field: 'scale',
          type: 'ordinal',
          sort: order(summary.scaleRates).reverse(),
          title: 'scale rate',
        },
      },
      layer: [
        {
          mark: { type: 'rect' },
          encoding: {
            color: {
              field: 'value',
              type: 'quantitative',
              title: task.metric.unit,
              // Brighter is better either way.
              scale: { scheme: 'viridis', reverse: !task.metric.higherIsBetter },
            },
          },
        },
        {
          mark: { type: 'text', fontSize: 11 },
          encoding: {
            text: { field: 'label' },
            // Dark text on the bright (better) half of the scale, light text on the dark half.
            color: {
              condition: {
                test: `datum.value ${task.metric.higherIsBetter ? '>' : '<'} ${mid}`,
                value: '#111',
              },
              value: '#fff',
            },
          },
        },
      ],
    } as TopLevelSpec,
  };
}

function shiftRules(shift: ShiftConfig): { step: number; label: string }[] {
  return shift.angles
    .slice(1)
    .map((angle, i) => ({ step: (i + 1) * shift.every, label: `→ ${angle}°` }));
}

/** Dotted rules with the new angle at every shift. */
function shiftRuleLayers(shift: ShiftConfig): object[] {
  const values = shiftRules(shift);
  return [
    {
      data: { values },
      mark: { type: 'rule', color: '#888', strokeDash: [2, 2] },
      encoding: { x: { field: 'step', type: 'quantitative' } },
    },
    {
      data: { values },
      mark: { type: 'text', align: 'left', dx: 3, baseline: 'top', color: '#555' },
      encoding: {
        x: { field: 'step', type: 'quantitative' },
        y: { value: 2 },
        text: { field: 'label' },
      },
    },
  ];
}

/** Order of points along a stream line: at a shift, the old angle's point comes before the new one's. */
function streamOrder(step: number, phase: number): number {
  return step * 10 + phase;
}

/** Mean over seeds of one evaluation field along the stream, one series per method. */
interface StreamRow extends Row {
  readonly step: number;
  readonly phase: number;
  readonly order: number;
}

function streamRows(
  results: readonly RunResult[],
  value: (e: EvalLog) => number | undefined,
  field: string,
): StreamRow[] {
  return perMethod(results).flatMap(({ runs, method, family }) =>
    meanByStep(
      runs,
      (r) => r.evals,
      value,
      (e) => `${e.step}/${e.phase}`,
    ).map((p) => ({
      method,
      family,
      step: p.step,
      phase: p.row.phase,
      order: streamOrder(p.step, p.row.phase),
      [field]: p.mean,
    })),
  );
}

/** A line chart over the stream with the shifts marked. */
function streamPanel(
  shift: ShiftConfig,
  rows: Row[],
  colorRows: Row[],
  field: string,
  title: string,
  scale: object,
): object {
  return {
    width: 720,
    height: 220,
    layer: [
      ...shiftRuleLayers(shift),
      {
        data: { values: rows },
        mark: { type: 'line' },
        encoding: {
          x: { field: 'step', type: 'quantitative' },
          y: { field, type: 'quantitative', title, scale },
          order: { field: 'order', type: 'quantitative' },
          color: methodColor(colorRows),
          strokeDash: familyDash(colorRows),
        },
      },
    ],
  };
}

/** Accuracy on the current angle over the whole stream, shifts marked. */
export function shiftAccuracyPlot(results: readonly RunResult[], shift: ShiftConfig): PlotSpec {
  const rows = streamRows(results, (e) => e.accuracy, 'accuracy');
  return {
    name: 'shift-accuracy',
    title: 'Accuracy on the current rotation over the stream',
    spec: {
      $schema: SCHEMA,
      title: `Rotating stream (${shift.angles.join('°, ')}°, ${shift.every} steps each): held-out accuracy on the current angle`,
      ...streamPanel(shift, rows, rows, 'accuracy', 'accuracy (current angle)', { domain: [0, 1] }),
      height: 320,
    } as TopLevelSpec,
  };
}

/** Accuracy just around each shift, one panel per shift, x = steps since the shift. */
export function shiftRecoveryPlot(results: readonly RunResult[], shift: ShiftConfig): PlotSpec {
  const lead = Math.max(1, Math.round(shift.every / 4));
  // Recovery happens early in a phase; long phases are cut to their first half.
  const horizon = shift.every <= 100 ? shift.every : Math.round(shift.every / 2);
  const rows: Row[] = [];
  for (const p of streamRows(results, (e) => e.accuracy, 'accuracy')) {
    for (let k = 1; k < shift.angles.length; k++) {
      const since = p.step - k * shift.every;
      const onNew = p.phase === k && since <= horizon;
      const onOld = p.phase === k - 1 && since >= -lead && since <= 0;
      if (onNew || onOld) {
        rows.push({
          ...p,
          shift: `${k}: ${shift.angles[k - 1]}° → ${shift.angles[k]}°`,
          since,
          order: streamOrder(since + shift.every, onNew ? 1 : 0),
        });
      }
    }
  }
  return {
    name: 'shift-recovery',
    title: 'Accuracy around each shift',
    spec: {
      $schema: SCHEMA,
      title: 'Accuracy around each shift (mean over seeds)',
      data: { values: rows },
      facet: { column: { field: 'shift', type: 'nominal', title: 'shift', sort: null } },
      spec: {
        width: 230,
        height: 260,
        layer: [
          {
            mark: { type: 'rule', color: '#888', strokeDash: [2, 2] },
            encoding: { x: { datum: 0 } },
          },
          {
            mark: { type: 'line' },
            encoding: {
              x: { field: 'since', type: 'quantitative', title: 'steps since the shift' },
              y: {
                field: 'accuracy',
                type: 'quantitative',
                title: 'accuracy (current angle)',
                scale: { domain: [0, 1] },
              },
              order: { field: 'order', type: 'quantitative' },
              color: methodColor(rows),
              strokeDash: familyDash(rows),
            },
          },
        ],
      },
    } as TopLevelSpec,
  };
}

/** Smallest multiplier drawn on the log axis (a schedule at 0 would be minus infinity). */
const MULTIPLIER_FLOOR = 1e-3;

/**
 * The adaptation over the stream, shifts marked: EG's learned scale (and the
 * hypergradient α), each peer's learned step-size quantity (Prodigy's and
 * D-Adaptation's d, Mechanic's s, DoG's eta; log axis, they span decades),
 * the mean per-coordinate gain, and the schedule's factor on the base rate.
 */
export function shiftScalePlot(results: readonly RunResult[], shift: ShiftConfig): PlotSpec {
  const isPeer = (r: RunResult) => methodFields(r).family === 'peer';
  const own = results.filter((r) => !isPeer(r));
  const peers = results.filter(isPeer);
  const scaleRows = streamRows(own, (e) => e.scale, 'scale');
  const peerRows = streamRows(
    peers,
    (e) => (e.scale !== undefined && e.scale > 0 ? e.scale : undefined),
    'scale',
  );
  const gainRows = streamRows(results, (e) => e.gainMean, 'gain');
  const scheduled = results.filter(
    (r) => METHODS.find((m) => m.id === r.spec.method)?.lrShape !== 'constant',
  );
  const factorRows = streamRows(scheduled, (e) => Math.max(MULTIPLIER_FLOOR, e.lrFactor), 'factor');
  const colorRows = [...scaleRows, ...peerRows, ...gainRows, ...factorRows];
  const panels = [
    ...(scaleRows.length > 0
      ? [
          streamPanel(shift, scaleRows, colorRows, 'scale', 'EG scale / hypergradient α', {
            zero: false,
          }),
        ]
      : []),
    ...(peerRows.length > 0
      ? [
          streamPanel(shift, peerRows, colorRows, 'scale', "peers' learned step size (log)", {
            type: 'log',
          }),
        ]
      : []),
    ...(gainRows.length > 0
      ? [streamPanel(shift, gainRows, colorRows, 'gain', 'mean EG gain', { zero: false })]
      : []),
    ...(factorRows.length > 0
      ? [
          streamPanel(shift, factorRows, colorRows, 'factor', 'schedule factor lr(t)/peak (log)', {
            type: 'log',
          }),
        ]
      : []),
  ];
  return {
    name: 'shift-scale',
    title: 'Learned step sizes over the stream',
    spec: {
      $schema: SCHEMA,
      title:
        "Learned step sizes over the stream: EG's scale, the peers' own estimates, EG's mean gain, the schedules' factor",
      vconcat: panels,
    } as TopLevelSpec,
  };
}

function perMethod(
  results: readonly RunResult[],
): { method: string; family: string; runs: RunResult[] }[] {
  const out = new Map<string, { method: string; family: string; runs: RunResult[] }>();
  for (const r of results) {
    const { method, family } = methodFields(r);
    const entry = out.get(method);
    if (entry === undefined) out.set(method, { method, family, runs: [r] });
    else entry.runs.push(r);
  }
  return [...out.values()];
}
