import { evalEvery, type StudyConfig } from './config.js';
import { type MethodEntry, methodById } from './methods.js';
import { summarizeGrid } from './summarize.js';
import { type TaskId, taskById } from './tasks.js';
import type { RunResult, RunSpec } from './train.js';

/**
 * `points` learning rates around `center` in half decades:
 * `center * 10^(k/2)` for `k = -(points-1)/2 ... (points-1)/2`, odd `k`
 * rounded to one significant digit (1e-3 gives 3e-4 and 3e-3), in
 * increasing order.
 */
export function halfDecadeGrid(center: number, points: number): number[] {
  if (!Number.isInteger(points) || points < 1 || points % 2 === 0) {
    throw new RangeError(`grid points must be an odd whole number >= 1, got ${points}`);
  }
  const half = (points - 1) / 2;
  return Array.from({ length: points }, (_, i) => {
    const k = i - half;
    const value = center * 10 ** (k / 2);
    return Number(value.toPrecision(k % 2 === 0 ? 12 : 1));
  });
}

/** The learning rates a method runs in the grid study: its default only when it is learning-rate-free. */
export function methodGrid(method: MethodEntry, points: number): number[] {
  return method.learningRateFree ? [method.defaultLr] : halfDecadeGrid(method.defaultLr, points);
}

function specFor(
  config: StudyConfig,
  fields: Omit<RunSpec, 'key' | 'batchSize' | 'evalSize' | 'finalEvalSize'> & {
    readonly evalSize?: number;
  },
  suffix = '',
): RunSpec {
  const settings = config.tasks[fields.task];
  return {
    key: `${fields.study}/${fields.task}/${fields.method}/lr=${fields.lr}${suffix}/seed=${fields.seed}`,
    batchSize: settings.batchSize,
    evalSize: settings.evalSize,
    ...(settings.finalEvalSize === undefined ? {} : { finalEvalSize: settings.finalEvalSize }),
    ...fields,
  };
}

/** The grid study's runs, seed-major so an interrupted study still has whole grids for the first seeds. */
export function planGrid(config: StudyConfig): RunSpec[] {
  const g = config.grid;
  const specs: RunSpec[] = [];
  for (const seed of config.seeds) {
    for (const task of g.tasks) {
      const steps = g.steps[task];
      for (const id of g.methods[task]) {
        for (const lr of methodGrid(methodById(id), g.points)) {
          specs.push(
            specFor(config, {
              study: 'grid',
              task,
              method: id,
              lr,
              seed,
              steps,
              evalEvery: evalEvery(steps, g.evals),
              logEvery: g.logEvery,
            }),
          );
        }
      }
    }
  }
  return specs;
}

/** The EG-rates study's runs: every (scale rate, gain rate) pair at one base learning rate. */
export function planEgRates(config: StudyConfig): RunSpec[] {
  const e = config.egRates;
  const lr = e.lr ?? methodById(e.method).defaultLr;
  const specs: RunSpec[] = [];
  for (const seed of config.seeds) {
    for (const scaleLearningRate of e.scaleRates) {
      for (const gainLearningRate of e.gainRates) {
        specs.push(
          specFor(
            config,
            {
              study: 'eg-rates',
              task: e.task,
              method: e.method,
              lr,
              seed,
              steps: e.steps,
              evalEvery: evalEvery(e.steps, e.evals),
              logEvery: e.logEvery,
              egRates: { scaleLearningRate, gainLearningRate },
            },
            `/scale=${scaleLearningRate}/gain=${gainLearningRate}`,
          ),
        );
      }
    }
  }
  return specs;
}

/** A learning rate for a later study, and where it came from. */
export interface ChosenLr {
  readonly lr: number;
  readonly source: 'tuned' | 'default';
}

/**
 * Learning rate per method on `task`: the grid study's tuned choice on the
 * same task when it ran there, otherwise the method's default.
 */
export function tunedLearningRates(
  task: TaskId,
  methods: readonly string[],
  results: readonly RunResult[],
): Record<string, ChosenLr> {
  const grids = summarizeGrid(results, taskById(task), methods);
  return Object.fromEntries(
    methods.map((id) => {
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

/** Chosen learning rates of the long and shift studies, keyed `study/task/method`. */
export type ChosenLrs = Readonly<Record<string, ChosenLr>>;

/** Key of a chosen learning rate. */
export const chosenKey = (study: 'long' | 'shift', task: TaskId, method: string) =>
  `${study}/${task}/${method}`;

/** Learning rates of the long and shift studies from the grid results so far. */
export function chooseLearningRates(
  config: StudyConfig,
  results: readonly RunResult[],
): Record<string, ChosenLr> {
  const out: Record<string, ChosenLr> = {};
  for (const task of config.long.tasks) {
    for (const [id, chosen] of Object.entries(
      tunedLearningRates(task, config.long.methods[task], results),
    )) {
      out[chosenKey('long', task, id)] = chosen;
    }
  }
  for (const [id, chosen] of Object.entries(
    tunedLearningRates(config.shift.task, config.shift.methods, results),
  )) {
    out[chosenKey('shift', config.shift.task, id)] = chosen;
  }
  return out;
}

const lrOf = (lrs: ChosenLrs, key: string, method: string) =>
  lrs[key]?.lr ?? methodById(method).defaultLr;

/** The long study's runs, at the chosen learning rates. */
export function planLong(config: StudyConfig, lrs: ChosenLrs): RunSpec[] {
  const l = config.long;
  const specs: RunSpec[] = [];
  for (const seed of config.seeds) {
    for (const task of l.tasks) {
      const steps = l.steps[task];
      for (const method of l.methods[task]) {
        specs.push(
          specFor(config, {
            study: 'long',
            task,
            method,
            lr: lrOf(lrs, chosenKey('long', task, method), method),
            seed,
            steps,
            evalEvery: evalEvery(steps, l.evals),
            logEvery: l.logEvery,
          }),
        );
      }
    }
  }
  return specs;
}

/** The shift study's runs, at the chosen learning rates. */
export function planShift(config: StudyConfig, lrs: ChosenLrs): RunSpec[] {
  const sc = config.shift;
  const specs: RunSpec[] = [];
  for (const seed of config.seeds) {
    for (const method of sc.methods) {
      specs.push(
        specFor(config, {
          study: 'shift',
          task: sc.task,
          method,
          lr: lrOf(lrs, chosenKey('shift', sc.task, method), method),
          seed,
          steps: sc.angles.length * sc.every,
          evalEvery: sc.evalEvery,
          evalSize: sc.evalSize,
          logEvery: sc.logEvery,
          shift: { angles: sc.angles, every: sc.every },
        }),
      );
    }
  }
  return specs;
}

/**
 * Every run the configuration asks for, in the two waves the study runs:
 * first the grid and the EG rates (independent), then the long and shift
 * runs (which use the grid's tuned learning rates; planned here with the
 * defaults, which changes no run's cost).
 */
export function planAll(config: StudyConfig, lrs: ChosenLrs = {}): RunSpec[][] {
  const has = (s: StudyConfig['studies'][number]) => config.studies.includes(s);
  return [
    [...(has('grid') ? planGrid(config) : []), ...(has('eg-rates') ? planEgRates(config) : [])],
    [
      ...(has('long') ? planLong(config, lrs) : []),
      ...(has('shift') ? planShift(config, lrs) : []),
    ],
  ];
}
