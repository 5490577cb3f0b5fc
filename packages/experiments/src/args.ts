import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BACKENDS, type BackendName } from './backend.js';
import { type PresetName, presetConfig, type StudyConfig } from './config.js';
import { METHODS } from './methods.js';
import { MODEL_KINDS, type ModelKind } from './models.js';
import { STUDIES, type StudyName } from './train.js';

/** A command-line mistake: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** What the command line asked for. */
export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'list-methods' }
  | { readonly kind: 'report'; readonly from: string; readonly out: string }
  | { readonly kind: 'run'; readonly config: StudyConfig };

export const HELP = `Usage: npm start [-- options]       (or: node dist/cli.js [options])

Reproduces the EG step-size adaptation claims on MNIST digits and writes a
report (report.md, SVG plots, CSV and JSON) to a results folder.

Size:
  --quick              tiny smoke run (seconds): 1 seed, 2 methods, small data
  --full               the full study (about 40 minutes on 2 cores): MLP and CNN,
                       every method, half-decade learning-rate grid
                       (default: MLP only, 9 methods, 4 learning rates, 3 seeds; under 5 minutes)
What to run:
  --studies LIST       no-schedule,shift (default: both)
  --models LIST        mlp,cnn for the no-schedule study
  --methods LIST       method ids for both studies (see --list-methods)
  --lrs LIST           base learning rates of the grid, e.g. 1e-4,1e-3,1e-2
  --seeds N|LIST       number of seeds (1..N) or an explicit list, e.g. 3 or 1,2,7
  --steps N            training steps per run in the no-schedule study
  --shift-every K      steps per angle in the shift study
  --angles LIST        rotation angles of the stream in degrees, e.g. 0,60,120,180
  --batch-size N       samples per step
How to run:
  --backend NAME       wasm (default, falls back to cpu) or cpu
  --workers N          parallel runs, one tfjs instance each (default: min(2, cores))
  --out DIR            report folder (default: results/<preset>-<timestamp>)
  --quiet              no progress output
  --list-methods       print the method table and exit
  --report-from DIR    rebuild report, plots and CSV from DIR/results.json (into --out, default DIR)
  -h, --help           print this help and exit

Interrupt with Ctrl-C: finished runs are kept and the report is still written.`;

function positiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--${flag} expects a whole number >= 1, got "${text}"`);
  }
  return n;
}

function list(flag: string, text: string): string[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0)
    throw new UsageError(`--${flag} expects a comma-separated list, got "${text}"`);
  return items;
}

function numberList(
  flag: string,
  text: string,
  check: (n: number) => boolean,
  what: string,
): number[] {
  return list(flag, text).map((item) => {
    const n = Number(item);
    if (!Number.isFinite(n) || !check(n))
      throw new UsageError(`--${flag}: "${item}" is not ${what}`);
    return n;
  });
}

function oneOfList<T extends string>(flag: string, text: string, allowed: readonly T[]): T[] {
  return list(flag, text).map((item) => {
    if (!(allowed as readonly string[]).includes(item)) {
      throw new UsageError(
        `--${flag}: unknown value "${item}"; expected one of ${allowed.join(', ')}`,
      );
    }
    return item as T;
  });
}

function timestamp(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
}

/**
 * Turn command-line arguments into a command. Throws {@link UsageError} on
 * unknown flags, missing or malformed values and conflicting options.
 */
export function parseCommand(argv: readonly string[], now = new Date()): Command {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    throw new UsageError(
      e instanceof Error ? e.message.replace(/\. To specify.*$/s, '') : String(e),
    );
  }
  const { values, positionals } = parsed;
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.help) return { kind: 'help' };
  if (values['list-methods']) return { kind: 'list-methods' };
  if (values['report-from'] !== undefined) {
    return {
      kind: 'report',
      from: values['report-from'],
      out: values.out ?? values['report-from'],
    };
  }
  if (values.full && values.quick) throw new UsageError('--full and --quick cannot be combined');

  const preset: PresetName = values.full ? 'full' : values.quick ? 'quick' : 'default';
  const base = presetConfig(preset);

  if (values.backend !== undefined && !(BACKENDS as readonly string[]).includes(values.backend)) {
    throw new UsageError(
      `--backend: unknown backend "${values.backend}"; expected one of ${BACKENDS.join(', ')}`,
    );
  }
  const backend = (values.backend ?? 'wasm') as BackendName;
  const workers =
    values.workers === undefined
      ? preset === 'quick'
        ? 1
        : Math.max(1, Math.min(2, availableParallelism()))
      : positiveInt('workers', values.workers);

  let seeds = base.seeds;
  if (values.seeds !== undefined) {
    seeds = values.seeds.includes(',')
      ? numberList(
          'seeds',
          values.seeds,
          (n) => Number.isSafeInteger(n) && n >= 0,
          'a whole number >= 0',
        )
      : Array.from({ length: positiveInt('seeds', values.seeds) }, (_, i) => i + 1);
    if (new Set(seeds).size !== seeds.length)
      throw new UsageError(`--seeds: "${values.seeds}" repeats a seed`);
  }

  const studies: StudyName[] =
    values.studies === undefined
      ? [...base.studies]
      : oneOfList('studies', values.studies, STUDIES);
  const methodIds = METHODS.map((m) => m.id);
  const methods =
    values.methods === undefined ? undefined : oneOfList('methods', values.methods, methodIds);
  const models: ModelKind[] =
    values.models === undefined
      ? [...base.noSchedule.models]
      : oneOfList('models', values.models, MODEL_KINDS);
  const lrs =
    values.lrs === undefined
      ? undefined
      : numberList('lrs', values.lrs, (n) => n > 0, 'a learning rate > 0');
  const angles =
    values.angles === undefined
      ? base.shift.angles
      : numberList('angles', values.angles, () => true, 'an angle in degrees');
  if (angles.length < 2 && studies.includes('shift')) {
    throw new UsageError('--angles needs at least two angles for the shift study');
  }

  const perModel = <T>(
    value: T | undefined,
    fallback: Readonly<Record<ModelKind, T>>,
  ): Record<ModelKind, T> => ({
    mlp: value ?? fallback.mlp,
    cnn: value ?? fallback.cnn,
  });
  const steps =
    values.steps === undefined ? base.noSchedule.steps : positiveInt('steps', values.steps);
  const every =
    values['shift-every'] === undefined
      ? base.shift.every
      : positiveInt('shift-every', values['shift-every']);
  const batchSize =
    values['batch-size'] === undefined
      ? base.batchSize
      : positiveInt('batch-size', values['batch-size']);
  if (batchSize > base.data.sizes.train) {
    throw new UsageError(
      `--batch-size ${batchSize} exceeds the ${base.data.sizes.train} training samples`,
    );
  }

  const config: StudyConfig = {
    ...base,
    studies,
    backend,
    workers,
    seeds,
    batchSize,
    noSchedule: {
      ...base.noSchedule,
      models,
      methods: perModel(methods, base.noSchedule.methods),
      lrs: perModel(lrs, base.noSchedule.lrs),
      steps,
      evalEvery: Math.min(base.noSchedule.evalEvery, steps),
    },
    shift: {
      ...base.shift,
      methods: methods ?? base.shift.methods,
      angles,
      every,
      evalEvery: Math.min(base.shift.evalEvery, every),
    },
    out: values.out ?? join('results', `${preset}-${timestamp(now)}`),
    quiet: values.quiet ?? false,
  };
  return { kind: 'run', config };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      'list-methods': { type: 'boolean' },
      'report-from': { type: 'string' },
      quick: { type: 'boolean' },
      full: { type: 'boolean' },
      studies: { type: 'string' },
      models: { type: 'string' },
      methods: { type: 'string' },
      lrs: { type: 'string' },
      seeds: { type: 'string' },
      steps: { type: 'string' },
      'shift-every': { type: 'string' },
      angles: { type: 'string' },
      'batch-size': { type: 'string' },
      backend: { type: 'string' },
      workers: { type: 'string' },
      out: { type: 'string' },
      quiet: { type: 'boolean' },
    },
  });
}
