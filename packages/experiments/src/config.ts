import type { BackendName } from './backend.js';
import type { DataConfig, TaskId } from './tasks.js';
import type { StudyName } from './train.js';

/** Named sizes of the whole study. */
export const PRESETS = ['quick', 'default', 'full'] as const;
export type PresetName = (typeof PRESETS)[number];

/** How one task is trained and evaluated, in every study that runs it. */
export interface TaskSettings {
  /** Samples (digits) or windows (text) per step. */
  readonly batchSize: number;
  /** Held-out samples or windows per periodic evaluation. */
  readonly evalSize: number;
  /** Held-out samples or windows of the final evaluation; all when absent. */
  readonly finalEvalSize?: number;
}

/**
 * The learning-rate grid: every method on a half-decade grid centred on its
 * default learning rate (learning-rate-free methods at their default only).
 * Its results also give the tuning cost (best result within 1, 3 and 7 runs).
 */
export interface GridStudyConfig {
  readonly tasks: readonly TaskId[];
  readonly methods: Readonly<Record<TaskId, readonly string[]>>;
  /** Grid points per tunable method, odd: the default and (points - 1) / 2 half decades each side. */
  readonly points: number;
  readonly steps: Readonly<Record<TaskId, number>>;
  /** Periodic evaluations per run. */
  readonly evals: number;
  readonly logEvery: number;
}

/** EG's own rates: a grid over the scale rate and the gain rate at one fixed base learning rate. */
export interface EgRatesConfig {
  readonly task: TaskId;
  /** An EG method with both parts. */
  readonly method: string;
  /** The fixed base learning rate; the method's default when absent. */
  readonly lr?: number;
  readonly scaleRates: readonly number[];
  readonly gainRates: readonly number[];
  readonly steps: number;
  readonly evals: number;
  readonly logEvery: number;
}

/** The long horizon: a few methods trained for many more steps, at the grid's tuned learning rates. */
export interface LongStudyConfig {
  readonly tasks: readonly TaskId[];
  readonly methods: Readonly<Record<TaskId, readonly string[]>>;
  readonly steps: Readonly<Record<TaskId, number>>;
  readonly evals: number;
  readonly logEvery: number;
}

/** Settings of the distribution-shift study (an MNIST task on a rotating stream). */
export interface ShiftStudyConfig {
  readonly task: TaskId;
  readonly methods: readonly string[];
  readonly angles: readonly number[];
  /** Steps per angle. */
  readonly every: number;
  readonly evalEvery: number;
  readonly evalSize: number;
  readonly logEvery: number;
  /** Share of the pre-shift accuracy that counts as recovered. */
  readonly recoverFraction: number;
}

/** Everything a study run needs, after presets and flags are combined. */
export interface StudyConfig {
  readonly preset: PresetName;
  readonly studies: readonly StudyName[];
  readonly backend: BackendName;
  readonly workers: number;
  readonly seeds: readonly number[];
  readonly data: DataConfig;
  readonly tasks: Readonly<Record<TaskId, TaskSettings>>;
  readonly grid: GridStudyConfig;
  readonly egRates: EgRatesConfig;
  readonly long: LongStudyConfig;
  readonly shift: ShiftStudyConfig;
  /** Report folder. */
  readonly out: string;
  readonly quiet: boolean;
}

const BASELINES = ['adam', 'adam-cosine', 'sgdm', 'sgdm-cosine', 'adam-hypergrad'];
const EG_ALL = [
  'eg-adam',
  'eg-adam-global',
  'eg-adam-local',
  'eg-adam-fast',
  'eg-sgdm',
  'eg-sgdm-global',
  'eg-sgdm-local',
];
/** The learning-rate-free peers, each with its authors' schedule where they recommend one. */
const PEERS_FREE = [
  'mechanic-adam',
  'mechanic-adam-cosine',
  'prodigy',
  'prodigy-cosine',
  'dadapt-adamw',
  'dadapt-adamw-cosine',
  'dog',
  'cocob',
];
const SCHEDULE_FREE = ['sf-adamw', 'sf-adamw-warmup', 'sf-sgd', 'sf-sgd-warmup'];
const ANGLES = [0, 60, 120, 180];
const MNIST_DATA = { sizes: { train: 7000, val: 1000, test: 2000 }, splitSeed: 0 };
const LM_CORPUS = { valFraction: 0.05, testFraction: 0.05 };
/** A small causal Transformer: about 30k parameters, cheap enough for 3 seeds of every method. */
const LM_MODEL = { kind: 'transformer', context: 32, width: 32, layers: 2, heads: 4 } as const;
const TASK_SETTINGS: Record<TaskId, TaskSettings> = {
  mlp: { batchSize: 64, evalSize: 1000 },
  cnn: { batchSize: 64, evalSize: 1000 },
  lm: { batchSize: 16, evalSize: 64 },
};

/** The preset's settings before flags; `out`, `workers`, `backend` and `quiet` come from the caller. */
export function presetConfig(
  preset: PresetName,
): Omit<StudyConfig, 'out' | 'workers' | 'backend' | 'quiet'> {
  const studies: StudyName[] = ['grid', 'eg-rates', 'long', 'shift'];
  switch (preset) {
    case 'quick':
      return {
        preset,
        studies,
        seeds: [1],
        data: {
          mnist: { sizes: { train: 1000, val: 200, test: 400 }, splitSeed: 0 },
          lm: { corpus: { ...LM_CORPUS, maxChars: 200_000 }, model: LM_MODEL },
        },
        tasks: {
          mlp: { batchSize: 32, evalSize: 200 },
          cnn: { batchSize: 32, evalSize: 200 },
          lm: { batchSize: 8, evalSize: 16, finalEvalSize: 32 },
        },
        grid: {
          tasks: ['mlp', 'lm'],
          methods: {
            mlp: ['adam', 'eg-adam', 'prodigy'],
            cnn: ['adam', 'eg-adam'],
            lm: ['adam', 'eg-adam'],
          },
          points: 1,
          steps: { mlp: 20, cnn: 20, lm: 10 },
          evals: 2,
          logEvery: 1,
        },
        egRates: {
          task: 'mlp',
          method: 'eg-adam',
          scaleRates: [1e-3, 1e-1],
          gainRates: [1e-2],
          steps: 20,
          evals: 2,
          logEvery: 1,
        },
        long: {
          tasks: ['mlp'],
          methods: { mlp: ['eg-adam'], cnn: ['eg-adam'], lm: ['eg-adam'] },
          steps: { mlp: 40, cnn: 40, lm: 20 },
          evals: 4,
          logEvery: 1,
        },
        shift: {
          task: 'mlp',
          methods: ['adam', 'eg-adam'],
          angles: [0, 90],
          every: 15,
          evalEvery: 5,
          evalSize: 200,
          logEvery: 1,
          recoverFraction: 0.9,
        },
      };
    case 'default':
      return {
        preset,
        studies,
        seeds: [1, 2, 3],
        data: { mnist: MNIST_DATA, lm: { corpus: LM_CORPUS, model: LM_MODEL } },
        tasks: { ...TASK_SETTINGS, lm: { ...TASK_SETTINGS.lm, finalEvalSize: 128 } },
        grid: {
          tasks: ['mlp', 'lm'],
          methods: {
            mlp: [
              'adam',
              'adam-cosine',
              'sgdm-cosine',
              'eg-adam',
              'eg-sgdm',
              'mechanic-adam',
              'prodigy',
              'dog',
              'sf-adamw',
            ],
            cnn: ['adam', 'adam-cosine', 'eg-adam', 'prodigy'],
            lm: ['adam', 'adam-cosine', 'eg-adam', 'prodigy'],
          },
          points: 3,
          steps: { mlp: 150, cnn: 150, lm: 100 },
          evals: 5,
          logEvery: 1,
        },
        egRates: {
          task: 'mlp',
          method: 'eg-adam',
          scaleRates: [1e-3, 1e-2, 1e-1],
          gainRates: [1e-3, 1e-2, 1e-1],
          steps: 150,
          evals: 3,
          logEvery: 5,
        },
        long: {
          tasks: ['mlp'],
          methods: {
            mlp: ['adam-cosine', 'eg-adam', 'prodigy'],
            cnn: ['adam-cosine', 'eg-adam', 'prodigy'],
            lm: ['adam-cosine', 'eg-adam', 'prodigy'],
          },
          steps: { mlp: 400, cnn: 400, lm: 300 },
          evals: 8,
          logEvery: 5,
        },
        shift: {
          task: 'mlp',
          methods: ['adam', 'adam-cosine', 'eg-adam', 'mechanic-adam', 'prodigy', 'sf-adamw'],
          angles: ANGLES,
          every: 60,
          evalEvery: 10,
          evalSize: 500,
          logEvery: 1,
          recoverFraction: 0.9,
        },
      };
    case 'full':
      return {
        preset,
        studies,
        seeds: [1, 2, 3],
        data: { mnist: MNIST_DATA, lm: { corpus: LM_CORPUS, model: LM_MODEL } },
        tasks: TASK_SETTINGS,
        grid: {
          tasks: ['mlp', 'lm'],
          methods: {
            mlp: [...BASELINES, ...EG_ALL, ...PEERS_FREE, ...SCHEDULE_FREE],
            cnn: ['adam', 'adam-cosine', 'sgdm-cosine', 'eg-adam', 'eg-sgdm', ...PEERS_FREE],
            lm: ['adam', 'adam-cosine', 'eg-adam', ...PEERS_FREE, 'sf-adamw', 'sf-adamw-warmup'],
          },
          points: 7,
          steps: { mlp: 500, cnn: 500, lm: 500 },
          evals: 10,
          logEvery: 5,
        },
        egRates: {
          task: 'mlp',
          method: 'eg-adam',
          scaleRates: [1e-4, 1e-3, 1e-2, 1e-1],
          gainRates: [1e-4, 1e-3, 1e-2, 1e-1],
          steps: 500,
          evals: 5,
          logEvery: 5,
        },
        long: {
          tasks: ['mlp', 'lm'],
          methods: {
            mlp: [
              'adam',
              'adam-cosine',
              'eg-adam',
              'eg-sgdm',
              'mechanic-adam',
              'prodigy',
              'dog',
              'sf-adamw-warmup',
            ],
            cnn: ['adam-cosine', 'eg-adam', 'prodigy', 'sf-adamw-warmup'],
            lm: ['adam-cosine', 'eg-adam', 'prodigy', 'sf-adamw-warmup'],
          },
          steps: { mlp: 3000, cnn: 3000, lm: 2500 },
          evals: 20,
          logEvery: 10,
        },
        shift: {
          task: 'mlp',
          methods: [
            'adam',
            'adam-cosine',
            'sgdm-cosine',
            'adam-hypergrad',
            'eg-adam',
            'eg-adam-fast',
            'eg-sgdm',
            'mechanic-adam',
            'prodigy',
            'dadapt-adamw',
            'dog',
            'cocob',
            'sf-adamw',
          ],
          angles: ANGLES,
          every: 250,
          evalEvery: 10,
          evalSize: 1000,
          logEvery: 5,
          recoverFraction: 0.9,
        },
      };
  }
}

/** Steps between periodic evaluations for `evals` evaluations over `steps` steps. */
export function evalEvery(steps: number, evals: number): number {
  return Math.max(1, Math.round(steps / Math.max(1, evals)));
}
