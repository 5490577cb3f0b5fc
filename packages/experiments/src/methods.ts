import {
  cocob,
  dadaptAdamw,
  dog,
  mechanize,
  prodigy,
  readDAdaptD,
  readDogEta,
  readMechanicScale,
  readProdigyD,
  scheduleFreeAdamw,
  scheduleFreeEvalParams,
  scheduleFreeSgd,
} from '@tfopt/contrib';
import { chain, type GradientTransformation, type Tree } from '@tfopt/core';
import {
  egAdam,
  egSgdm,
  hypergradientScale,
  readEgGains,
  readEgScale,
  readHypergradientScale,
} from '@tfopt/eg';
import { warmupCosineDecaySchedule } from '@tfopt/schedules';
import { adam, scaleByAdam, scaleByLearningRate, sgd } from '@tfopt/transforms';

/** What a method needs to build its optimizer for one run. */
export interface MethodContext {
  /** The base learning rate (the peak, for scheduled methods). */
  readonly learningRate: number;
  /** Updates in the whole run, for schedules that decay over it. */
  readonly totalSteps: number;
  /** EG's own rates, where they differ from the library defaults (EG rows only; others ignore them). */
  readonly egRates?: EgRates;
}

/** The two rates of the EG parts: of the global scale and of the per-coordinate gains. */
export interface EgRates {
  /** `egGlobalScale`'s `scaleLearningRate` (library default 0.001). */
  readonly scaleLearningRate?: number;
  /** `egCoordinateGains`' `gainLearningRate` (library default 0.01). */
  readonly gainLearningRate?: number;
}

/** Values read from an optimizer state between steps, for the plots. */
export interface Probe {
  /**
   * The learned step-size scale (geometric mean when there is one per
   * tensor); for a learning-rate-free peer, its learned step-size quantity
   * (Prodigy's and D-Adaptation's d, Mechanic's s, DoG's eta).
   */
  readonly scale?: number;
  /** Mean, min and max of per-coordinate gains. */
  readonly gainMean?: number;
  readonly gainMin?: number;
  readonly gainMax?: number;
}

/** The rates of `egGlobalScale` and `egCoordinateGains` when a recipe does not set them (the library defaults). */
export const EG_LIBRARY_RATES = { scaleLearningRate: 0.001, gainLearningRate: 0.01 } as const;

/** How the method's own step size evolves without adaptation. */
export type LrShape = 'constant' | 'warmup' | 'warmup-cosine';

/**
 * One row of the method table. Studies iterate over these rows only, so a new
 * optimizer (Mechanic, Prodigy, Schedule-Free, ...) joins every table and
 * plot by adding a row.
 */
export interface MethodEntry {
  /** Stable identifier used on the command line and in file names. */
  readonly id: string;
  /** Name shown in tables and legends. */
  readonly label: string;
  /** Baselines, the EG variants, and learning-rate-free peers. */
  readonly family: 'baseline' | 'eg' | 'peer';
  /** The optimizer as a composition, for the report. */
  readonly recipe: string;
  /**
   * The published or customary learning rate: the centre of the method's
   * learning-rate grid, and the one run an untuned user makes.
   */
  readonly defaultLr: number;
  /**
   * True when the method estimates its own step size and its learning rate
   * is a multiplier the authors say to leave at its default: it is run at
   * the default only, and counts as needing no tuning runs.
   */
  readonly learningRateFree: boolean;
  readonly lrShape: LrShape;
  /** The method this one adds adaptation to (same base optimizer, same learning rate), if any. */
  readonly base?: string;
  /**
   * The method this row is an ablation or a changed-option variant of; the
   * findings text speaks of the main rows, the tables show every row.
   */
  readonly variantOf?: string;
  readonly build: (ctx: MethodContext) => GradientTransformation<any>;
  /** Read adaptation state; defaults to {@link probeEgState}. */
  readonly probe?: (state: unknown) => Probe;
  /**
   * The parameters to evaluate at, when they are not the trained ones
   * (Schedule-Free trains at y and is evaluated at x); new tensors the
   * caller disposes.
   */
  readonly evalParams?: (state: unknown, params: Tree) => Tree;
}

const ADAM_LR = 1e-3;
const SGD_LR = 1e-2;
const MOMENTUM = 0.9;
/** Share of a cosine run spent warming up. */
export const WARMUP_FRACTION = 0.05;

/** The warmup-cosine schedule the tuned baselines use: peak `learningRate`, decaying to 0 over the run. */
export function cosineSchedule({ learningRate, totalSteps }: MethodContext) {
  const warmupSteps = Math.max(1, Math.round(WARMUP_FRACTION * totalSteps));
  return warmupCosineDecaySchedule({
    initValue: 0,
    peakValue: learningRate,
    warmupSteps,
    decaySteps: Math.max(warmupSteps + 1, totalSteps),
    endValue: 0,
  });
}

/** EG parts with the run's rates, when the study sets them (e.g. the EG-rates grid). */
function egParts(
  ctx: MethodContext,
  parts: { readonly gains?: false; readonly scale?: false | { scaleLearningRate: number } } = {},
) {
  const rates = ctx.egRates ?? {};
  const scale =
    parts.scale === false
      ? false
      : {
          ...(parts.scale ?? {}),
          ...(rates.scaleLearningRate === undefined
            ? {}
            : { scaleLearningRate: rates.scaleLearningRate }),
        };
  const gains =
    parts.gains === false
      ? false
      : rates.gainLearningRate === undefined
        ? {}
        : { gainLearningRate: rates.gainLearningRate };
  return { scale, gains } as const;
}

/** Steps of Schedule-Free's linear warmup: the same share of the run as the cosine schedules'. */
export function warmupSteps(totalSteps: number): number {
  return Math.max(1, Math.round(WARMUP_FRACTION * totalSteps));
}

/** Every method the studies know, in table order. */
export const METHODS: readonly MethodEntry[] = [
  {
    id: 'adam',
    label: 'Adam',
    family: 'baseline',
    recipe: 'adam(lr)',
    defaultLr: ADAM_LR,
    learningRateFree: false,
    lrShape: 'constant',
    build: ({ learningRate }) => adam(learningRate),
  },
  {
    id: 'adam-cosine',
    label: 'Adam + warmup-cosine',
    family: 'baseline',
    recipe: 'adam(warmupCosineDecaySchedule(peak lr, 5% warmup, to 0))',
    defaultLr: ADAM_LR,
    learningRateFree: false,
    lrShape: 'warmup-cosine',
    build: (ctx) => adam(cosineSchedule(ctx)),
  },
  {
    id: 'sgdm',
    label: 'SGD-momentum',
    family: 'baseline',
    recipe: `sgd(lr, { momentum: ${MOMENTUM} })`,
    defaultLr: SGD_LR,
    learningRateFree: false,
    lrShape: 'constant',
    build: ({ learningRate }) => sgd(learningRate, { momentum: MOMENTUM }),
  },
  {
    id: 'sgdm-cosine',
    label: 'SGD-momentum + warmup-cosine',
    family: 'baseline',
    recipe: `sgd(warmupCosineDecaySchedule(...), { momentum: ${MOMENTUM} })`,
    defaultLr: SGD_LR,
    learningRateFree: false,
    lrShape: 'warmup-cosine',
    build: (ctx) => sgd(cosineSchedule(ctx), { momentum: MOMENTUM }),
  },
  {
    id: 'adam-hypergrad',
    label: 'Adam + hypergradient scale',
    family: 'baseline',
    recipe: 'chain(scaleByAdam(), hypergradientScale(), scaleByLearningRate(lr))',
    defaultLr: ADAM_LR,
    learningRateFree: false,
    lrShape: 'constant',
    base: 'adam',
    build: ({ learningRate }) =>
      chain(scaleByAdam(), hypergradientScale(), scaleByLearningRate(learningRate)),
  },
  {
    id: 'eg-adam',
    label: 'EG-Adam',
    family: 'eg',
    recipe: 'egAdam(lr): scaleByAdam → egCoordinateGains → egGlobalScale → lr',
    defaultLr: ADAM_LR,
    learningRateFree: false,
    lrShape: 'constant',
    base: 'adam',
    build: (ctx) => egAdam(ctx.learningRate, egParts(ctx)),
  },
  {
    id: 'eg-adam-global',
    label: 'EG-Adam (global scale only)',
    family: 'eg',
    recipe: 'egAdam(lr, { gains: false })',
    defaultLr: ADAM_LR,
    learningRateFree: false,
    lrShape: 'constant',
    base: 'adam',
    variantOf: 'eg-adam',
    build: (ctx) => egAdam(ctx.learningRate, egParts(ctx, { gains: false })),
  },
  {
    id: 'eg-adam-local',
    label: 'EG-Adam (gains only)',
    family: 'eg',
    recipe: 'egAdam(lr, { scale: false })',
    defaultLr: ADAM_LR,
    learningRateFree: false,
    lrShape: 'constant',
    base: 'adam',
    variantOf: 'eg-adam',
    build: (ctx) => egAdam(ctx.learningRate, egParts(ctx, { scale: false })),
  },
  {
    id: 'eg-adam-fast',
    label: 'EG-Adam (scale rate 0.01)',
    family: 'eg',
    recipe: 'egAdam(lr, { scale: { scaleLearningRate: 0.01 } })',
    defaultLr: ADAM_LR,
    learningRateFree: false,
    lrShape: 'constant',
    base: 'adam',
    variantOf: 'eg-adam',
    build: (ctx) => egAdam(ctx.learningRate, egParts(ctx, { scale: { scaleLearningRate: 0.01 } })),
  },
  {
    id: 'eg-sgdm',
    label: 'EG-SGDM',
    family: 'eg',
    recipe: `egSgdm(lr, { momentum: ${MOMENTUM} }): egCoordinateGains → trace → egGlobalScale → lr`,
    defaultLr: SGD_LR,
    learningRateFree: false,
    lrShape: 'constant',
    base: 'sgdm',
    build: (ctx) => egSgdm(ctx.learningRate, { momentum: MOMENTUM, ...egParts(ctx) }),
  },
  {
    id: 'eg-sgdm-global',
    label: 'EG-SGDM (global scale only)',
    family: 'eg',
    recipe: `egSgdm(lr, { momentum: ${MOMENTUM}, gains: false })`,
    defaultLr: SGD_LR,
    learningRateFree: false,
    lrShape: 'constant',
    base: 'sgdm',
    variantOf: 'eg-sgdm',
    build: (ctx) =>
      egSgdm(ctx.learningRate, { momentum: MOMENTUM, ...egParts(ctx, { gains: false }) }),
  },
  {
    id: 'eg-sgdm-local',
    label: 'EG-SGDM (gains only)',
    family: 'eg',
    recipe: `egSgdm(lr, { momentum: ${MOMENTUM}, scale: false })`,
    defaultLr: SGD_LR,
    learningRateFree: false,
    lrShape: 'constant',
    base: 'sgdm',
    variantOf: 'eg-sgdm',
    build: (ctx) =>
      egSgdm(ctx.learningRate, { momentum: MOMENTUM, ...egParts(ctx, { scale: false }) }),
  },
  // Peers at their published defaults (@tfopt/contrib, as optax.contrib), with no schedule, and
  // with the schedule or warmup their authors recommend where they recommend one.
  {
    id: 'mechanic-adam',
    label: 'Mechanic (Adam)',
    family: 'peer',
    recipe: 'mechanize(adam(lr))',
    defaultLr: ADAM_LR,
    learningRateFree: true,
    lrShape: 'constant',
    build: ({ learningRate }) => mechanize(adam(learningRate)),
    probe: (state) => ({ scale: readMechanicScale(state) }),
  },
  {
    id: 'mechanic-adam-cosine',
    label: 'Mechanic (Adam + warmup-cosine)',
    family: 'peer',
    recipe: 'mechanize(adam(warmupCosineDecaySchedule(peak lr, 5% warmup, to 0)))',
    defaultLr: ADAM_LR,
    learningRateFree: true,
    lrShape: 'warmup-cosine',
    variantOf: 'mechanic-adam',
    build: (ctx) => mechanize(adam(cosineSchedule(ctx))),
    probe: (state) => ({ scale: readMechanicScale(state) }),
  },
  {
    id: 'prodigy',
    label: 'Prodigy',
    family: 'peer',
    recipe: 'prodigy(lr)',
    defaultLr: 1,
    learningRateFree: true,
    lrShape: 'constant',
    build: ({ learningRate }) => prodigy(learningRate),
    probe: (state) => definedScale(readProdigyD(state)),
  },
  {
    id: 'prodigy-cosine',
    label: 'Prodigy + warmup-cosine',
    family: 'peer',
    recipe: 'prodigy(warmupCosineDecaySchedule(peak lr, 5% warmup, to 0))',
    defaultLr: 1,
    learningRateFree: true,
    lrShape: 'warmup-cosine',
    variantOf: 'prodigy',
    build: (ctx) => prodigy(cosineSchedule(ctx)),
    probe: (state) => definedScale(readProdigyD(state)),
  },
  {
    id: 'dadapt-adamw',
    label: 'D-Adaptation AdamW',
    family: 'peer',
    recipe: 'dadaptAdamw(lr)',
    defaultLr: 1,
    learningRateFree: true,
    lrShape: 'constant',
    build: ({ learningRate }) => dadaptAdamw(learningRate),
    probe: (state) => definedScale(readDAdaptD(state)),
  },
  {
    id: 'dadapt-adamw-cosine',
    label: 'D-Adaptation AdamW + warmup-cosine',
    family: 'peer',
    recipe: 'dadaptAdamw(warmupCosineDecaySchedule(peak lr, 5% warmup, to 0))',
    defaultLr: 1,
    learningRateFree: true,
    lrShape: 'warmup-cosine',
    variantOf: 'dadapt-adamw',
    build: (ctx) => dadaptAdamw(cosineSchedule(ctx)),
    probe: (state) => definedScale(readDAdaptD(state)),
  },
  {
    id: 'dog',
    label: 'DoG',
    family: 'peer',
    recipe: 'dog(lr)',
    defaultLr: 1,
    learningRateFree: true,
    lrShape: 'constant',
    build: ({ learningRate }) => dog(learningRate),
    probe: (state) => definedScale(readDogEta(state)),
  },
  {
    id: 'cocob',
    label: 'COCOB',
    family: 'peer',
    recipe: 'cocob(lr)',
    defaultLr: 1,
    learningRateFree: true,
    lrShape: 'constant',
    build: ({ learningRate }) => cocob(learningRate),
    probe: () => ({}),
  },
  {
    id: 'sf-adamw',
    label: 'Schedule-Free AdamW',
    family: 'peer',
    recipe: 'scheduleFreeAdamw(lr), evaluated at x',
    defaultLr: 0.0025,
    learningRateFree: false,
    lrShape: 'constant',
    build: ({ learningRate }) => scheduleFreeAdamw(learningRate),
    probe: () => ({}),
    evalParams: scheduleFreeEvalParams,
  },
  {
    id: 'sf-adamw-warmup',
    label: 'Schedule-Free AdamW + warmup',
    family: 'peer',
    recipe: 'scheduleFreeAdamw(lr, { warmupSteps: 5% of the run }), evaluated at x',
    defaultLr: 0.0025,
    learningRateFree: false,
    lrShape: 'warmup',
    variantOf: 'sf-adamw',
    build: ({ learningRate, totalSteps }) =>
      scheduleFreeAdamw(learningRate, { warmupSteps: warmupSteps(totalSteps) }),
    probe: () => ({}),
    evalParams: scheduleFreeEvalParams,
  },
  {
    id: 'sf-sgd',
    label: 'Schedule-Free SGD',
    family: 'peer',
    recipe: 'scheduleFreeSgd(lr), evaluated at x',
    defaultLr: 1,
    learningRateFree: false,
    lrShape: 'constant',
    build: ({ learningRate }) => scheduleFreeSgd(learningRate),
    probe: () => ({}),
    evalParams: scheduleFreeEvalParams,
  },
  {
    id: 'sf-sgd-warmup',
    label: 'Schedule-Free SGD + warmup',
    family: 'peer',
    recipe: 'scheduleFreeSgd(lr, { warmupSteps: 5% of the run }), evaluated at x',
    defaultLr: 1,
    learningRateFree: false,
    lrShape: 'warmup',
    variantOf: 'sf-sgd',
    build: ({ learningRate, totalSteps }) =>
      scheduleFreeSgd(learningRate, { warmupSteps: warmupSteps(totalSteps) }),
    probe: () => ({}),
    evalParams: scheduleFreeEvalParams,
  },
];

function definedScale(value: number | undefined): Probe {
  return value === undefined ? {} : { scale: value };
}

/** The entry with this id; throws listing the known ids otherwise. */
export function methodById(id: string): MethodEntry {
  const found = METHODS.find((m) => m.id === id);
  if (found === undefined) {
    throw new RangeError(`unknown method "${id}"; known: ${METHODS.map((m) => m.id).join(', ')}`);
  }
  return found;
}

/**
 * Read the EG scale (or the hypergradient multiplier) and the gains summary
 * from any optimizer state; fields are absent when the state has no such part.
 */
export function probeEgState(state: unknown): Probe {
  const scales = readEgScale(state);
  const alphas = scales.length > 0 ? scales : readHypergradientScale(state);
  const gains = readEgGains(state);
  const out: { -readonly [K in keyof Probe]: Probe[K] } = {};
  if (alphas.length === 1) out.scale = alphas[0] as number;
  else if (alphas.length > 1) {
    // Per-tensor scales are positive for EG; the geometric mean is the typical factor.
    out.scale = Math.exp(alphas.reduce((s, a) => s + Math.log(Math.abs(a)), 0) / alphas.length);
  }
  if (gains !== undefined) {
    out.gainMean = gains.mean;
    out.gainMin = gains.min;
    out.gainMax = gains.max;
  }
  return out;
}

/** The probe of `method` applied to `state`. */
export function probe(method: MethodEntry, state: unknown): Probe {
  return (method.probe ?? probeEgState)(state);
}
