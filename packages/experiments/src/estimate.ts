import { type PresetName, presetConfig, type StudyConfig } from './config.js';
import { median } from './metrics.js';
import { planAll } from './plan.js';
import { type TaskId, taskById } from './tasks.js';
import type { RunResult, RunSpec } from './train.js';

/**
 * Measured costs: milliseconds per training step of each (task, method),
 * and per held-out sample or window evaluated on each task.
 */
export interface CostModel {
  readonly stepMs: Readonly<Record<string, number>>;
  readonly evalMsPerItem: Readonly<Partial<Record<TaskId, number>>>;
}

const stepKey = (task: string, method: string) => `${task}/${method}`;

/**
 * Costs measured by finished runs: training time is the wall time less the
 * time spent evaluating, per step; evaluation time per item evaluated.
 * Means over runs.
 */
export function costModelFromResults(results: readonly RunResult[]): CostModel {
  const steps = new Map<string, number[]>();
  const evals = new Map<TaskId, { ms: number; items: number }>();
  for (const r of results) {
    if (r.stepsDone > 0) {
      const key = stepKey(r.spec.task, r.spec.method);
      const list = steps.get(key) ?? [];
      list.push((r.wallMs - r.evalMs) / r.stepsDone);
      steps.set(key, list);
    }
    const e = evals.get(r.spec.task) ?? { ms: 0, items: 0 };
    evals.set(r.spec.task, { ms: e.ms + r.evalMs, items: e.items + r.evalItems });
  }
  return {
    stepMs: Object.fromEntries(
      [...steps].map(([k, v]) => [k, v.reduce((a, b) => a + b, 0) / v.length]),
    ),
    evalMsPerItem: Object.fromEntries(
      [...evals].filter(([, e]) => e.items > 0).map(([task, e]) => [task, e.ms / e.items]),
    ),
  };
}

/**
 * How many items a run evaluates: periodic evaluations (two at each shift)
 * and `finalItems`, the final validation and test items together.
 */
export function evalItemsOf(spec: RunSpec, finalItems: number): number {
  const periodic =
    1 +
    Math.floor(spec.steps / spec.evalEvery) +
    (spec.steps % spec.evalEvery === 0 ? 0 : 1) +
    (spec.shift === undefined ? 0 : spec.shift.angles.length - 1);
  return periodic * spec.evalSize + finalItems;
}

/**
 * Estimated milliseconds of one run: its steps at the measured cost of its
 * (task, method), or the median over the task's measured methods when that
 * pair was not measured, plus its evaluations; undefined when the task was
 * not measured at all.
 */
export function runCostMs(
  spec: RunSpec,
  costs: CostModel,
  finalItems: (spec: RunSpec) => number,
): number | undefined {
  const own = costs.stepMs[stepKey(spec.task, spec.method)];
  const sameTask = Object.entries(costs.stepMs)
    .filter(([k]) => k.startsWith(`${spec.task}/`))
    .map(([, v]) => v);
  const step = own ?? (sameTask.length > 0 ? median(sameTask) : undefined);
  const perItem = costs.evalMsPerItem[spec.task];
  if (step === undefined || perItem === undefined) return undefined;
  return spec.steps * step + evalItemsOf(spec, finalItems(spec)) * perItem;
}

/** A wall-time estimate and the runs it could not price. */
export interface WallEstimate {
  readonly ms: number;
  readonly runs: number;
  readonly unpriced: number;
}

/**
 * Wall time of running `waves` one after the other, each wave's runs in
 * order on `workers` parallel slots (a run starts on the first slot to come
 * free, as the pool does).
 */
export function estimateWall(
  waves: readonly (readonly RunSpec[])[],
  workers: number,
  cost: (spec: RunSpec) => number | undefined,
): WallEstimate {
  let ms = 0;
  let runs = 0;
  let unpriced = 0;
  for (const wave of waves) {
    const free = new Array<number>(Math.max(1, workers)).fill(0);
    for (const spec of wave) {
      runs++;
      const c = cost(spec);
      if (c === undefined) {
        unpriced++;
        continue;
      }
      const slot = free.indexOf(Math.min(...free));
      free[slot] = (free[slot] as number) + c;
    }
    ms += Math.max(...free);
  }
  return { ms, runs, unpriced };
}

/**
 * The final evaluation's items (validation plus test) of a run under
 * `config`: the run's `finalEvalSize` twice, or the whole validation and
 * test parts (digits; for the text, windows of the model's context in a
 * book of `textLength` characters).
 */
export function finalItemsOf(
  config: Pick<StudyConfig, 'data'>,
  textLength: number,
): (spec: RunSpec) => number {
  return (spec) => {
    if (spec.finalEvalSize !== undefined) return 2 * spec.finalEvalSize;
    if (taskById(spec.task).data === 'mnist') {
      return config.data.mnist.sizes.val + config.data.mnist.sizes.test;
    }
    const { corpus, model } = config.data.lm;
    const chars = Math.min(corpus.maxChars ?? textLength, textLength);
    return [corpus.valFraction, corpus.testFraction].reduce(
      (n, f) => n + Math.floor((chars * f - 1) / model.context),
      0,
    );
  };
}

/** Estimated wall time of a whole preset on `workers` slots, priced with `costs`. */
export function presetEstimate(
  preset: PresetName,
  workers: number,
  costs: CostModel,
  textLength: number,
): WallEstimate {
  const config = {
    ...presetConfig(preset),
    workers,
    backend: 'wasm',
    out: '',
    quiet: true,
  } as const;
  const finalItems = finalItemsOf(config, textLength);
  return estimateWall(planAll(config), workers, (spec) => runCostMs(spec, costs, finalItems));
}
