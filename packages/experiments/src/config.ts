import type { BackendName } from './backend.js';
import type { ModelKind } from './models.js';
import type { DataConfig, StudyName } from './train.js';

/** Named sizes of the whole study. */
export const PRESETS = ['quick', 'default', 'full'] as const;
export type PresetName = (typeof PRESETS)[number];

/** Settings of the no-schedule study (learning-rate grid, no schedule for the EG methods). */
export interface NoScheduleConfig {
  readonly models: readonly ModelKind[];
  /** Methods per model (the CNN may run a subset to fit the time budget). */
  readonly methods: Readonly<Record<ModelKind, readonly string[]>>;
  /** Base learning rates searched, per model. */
  readonly lrs: Readonly<Record<ModelKind, readonly number[]>>;
  readonly steps: number;
  readonly evalEvery: number;
  readonly evalSize: number;
  readonly logEvery: number;
}

/** Settings of the distribution-shift study. */
export interface ShiftStudyConfig {
  readonly model: ModelKind;
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
  readonly batchSize: number;
  readonly data: DataConfig;
  readonly noSchedule: NoScheduleConfig;
  readonly shift: ShiftStudyConfig;
  /** Report folder. */
  readonly out: string;
  readonly quiet: boolean;
}

const BASELINES = ['adam', 'adam-cosine', 'sgdm', 'sgdm-cosine', 'adam-hypergrad'];
const EG_MAIN = ['eg-adam', 'eg-adam-global', 'eg-adam-local', 'eg-sgdm'];
const EG_ALL = [
  'eg-adam',
  'eg-adam-global',
  'eg-adam-local',
  'eg-adam-fast',
  'eg-sgdm',
  'eg-sgdm-global',
  'eg-sgdm-local',
];
const DECADES = [1e-4, 1e-3, 1e-2, 1e-1];
const HALF_DECADES = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1];
const ANGLES = [0, 60, 120, 180];

/** The preset's settings before flags; `out` and `workers` are filled in by the caller. */
export function presetConfig(
  preset: PresetName,
): Omit<StudyConfig, 'out' | 'workers' | 'backend' | 'quiet'> {
  const data: DataConfig = { sizes: { train: 7000, val: 1000, test: 2000 }, splitSeed: 0 };
  switch (preset) {
    case 'quick':
      return {
        preset,
        studies: ['no-schedule', 'shift'],
        seeds: [1],
        batchSize: 32,
        data: { sizes: { train: 1000, val: 200, test: 400 }, splitSeed: 0 },
        noSchedule: {
          models: ['mlp'],
          methods: { mlp: ['adam', 'eg-adam'], cnn: ['adam', 'eg-adam'] },
          lrs: { mlp: [1e-3, 1e-2], cnn: [1e-3, 1e-2] },
          steps: 20,
          evalEvery: 10,
          evalSize: 200,
          logEvery: 1,
        },
        shift: {
          model: 'mlp',
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
        studies: ['no-schedule', 'shift'],
        seeds: [1, 2, 3],
        batchSize: 64,
        data,
        noSchedule: {
          models: ['mlp'],
          methods: { mlp: [...BASELINES, ...EG_MAIN], cnn: [...BASELINES, 'eg-adam', 'eg-sgdm'] },
          lrs: { mlp: DECADES, cnn: DECADES },
          steps: 150,
          evalEvery: 25,
          evalSize: 1000,
          logEvery: 1,
        },
        shift: {
          model: 'mlp',
          methods: [
            'adam',
            'adam-cosine',
            'sgdm-cosine',
            'adam-hypergrad',
            'eg-adam',
            'eg-adam-fast',
            'eg-sgdm',
          ],
          angles: ANGLES,
          every: 80,
          evalEvery: 10,
          evalSize: 500,
          logEvery: 1,
          recoverFraction: 0.9,
        },
      };
    case 'full':
      return {
        preset,
        studies: ['no-schedule', 'shift'],
        seeds: [1, 2, 3],
        batchSize: 64,
        data,
        noSchedule: {
          models: ['mlp', 'cnn'],
          methods: { mlp: [...BASELINES, ...EG_ALL], cnn: [...BASELINES, 'eg-adam', 'eg-sgdm'] },
          lrs: { mlp: HALF_DECADES, cnn: DECADES },
          steps: 600,
          evalEvery: 50,
          evalSize: 1000,
          logEvery: 5,
        },
        shift: {
          model: 'mlp',
          methods: [...BASELINES, ...EG_ALL],
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
