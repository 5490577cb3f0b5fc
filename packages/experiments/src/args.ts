import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BACKENDS, type BackendName } from './backend.js';
import { type PresetName, presetConfig, type StudyConfig } from './config.js';
import { METHODS } from './methods.js';
import { TASK_IDS, type TaskId } from './tasks.js';
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
  | { readonly kind: 'plan'; readonly config: StudyConfig }
  | { readonly kind: 'run'; readonly config: StudyConfig };

export const HELP = `Usage: npm start [-- options]       (or: node dist/cli.js [options])

Compares EG step-size adaptation with tuned schedules and learning-rate-free
peers (Mechanic, Prodigy, D-Adaptation, DoG, COCOB, Schedule-Free) on MNIST
digits and a character language model on Moby Dick, and writes a report
(report.md, SVG plots, CSV and JSON) to a results folder.

Size:
  --quick              tiny smoke run (seconds): 1 seed, a few methods, small data
  --full               the full study (about an hour on 2 cores; --plan prints the
                       estimate): every method, 7-point learning-rate grids on the
                       MLP and the char-LM, 4x4 EG rates, long runs of 3000-4000 steps
                       (default: a reduced version of the same; under 5 minutes)
  --plan               time a few steps of every method here, print the runs and the
                       estimated wall time of the chosen preset, and exit
What to run:
  --studies LIST       grid,eg-rates,long,shift (default: all four)
  --tasks LIST         mlp,cnn,lm for the grid and long studies
  --methods LIST       method ids for the grid, long and shift studies (see --list-methods)
  --grid N             learning rates per tunable method, odd (1, 3, 5, 7, ...): the
                       default and (N-1)/2 half decades each side
  --seeds N|LIST       number of seeds (1..N) or an explicit list, e.g. 3 or 1,2,7
  --steps N            training steps per run in the grid study (every task)
  --long-steps N       training steps per run in the long study (every task)
  --rates LIST         scale and gain rates of the EG-rates grid, e.g. 1e-4,1e-3,1e-2,1e-1
  --shift-every K      steps per angle in the shift study
  --angles LIST        rotation angles of the stream in degrees, e.g. 0,60,120,180
  --batch-size N       digits per step of the MNIST tasks
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
  const tasks: TaskId[] | undefined =
    values.tasks === undefined ? undefined : oneOfList('tasks', values.tasks, TASK_IDS);
  const points = values.grid === undefined ? base.grid.points : positiveInt('grid', values.grid);
  if (points % 2 === 0)
    throw new UsageError(`--grid expects an odd number of points, got ${points}`);
  const rates =
    values.rates === undefined
      ? undefined
      : numberList('rates', values.rates, (n) => n > 0, 'a rate > 0');
  const angles =
    values.angles === undefined
      ? base.shift.angles
      : numberList('angles', values.angles, () => true, 'an angle in degrees');
  if (angles.length < 2 && studies.includes('shift')) {
    throw new UsageError('--angles needs at least two angles for the shift study');
  }

  const perTask = <T>(
    value: T | undefined,
    fallback: Readonly<Record<TaskId, T>>,
  ): Record<TaskId, T> => ({
    mlp: value ?? fallback.mlp,
    cnn: value ?? fallback.cnn,
    lm: value ?? fallback.lm,
  });
  const steps = values.steps === undefined ? undefined : positiveInt('steps', values.steps);
  const longSteps =
    values['long-steps'] === undefined
      ? undefined
      : positiveInt('long-steps', values['long-steps']);
  const every =
    values['shift-every'] === undefined
      ? base.shift.every
      : positiveInt('shift-every', values['shift-every']);
  const batchSize =
    values['batch-size'] === undefined
      ? base.tasks.mlp.batchSize
      : positiveInt('batch-size', values['batch-size']);
  if (batchSize > base.data.mnist.sizes.train) {
    throw new UsageError(
      `--batch-size ${batchSize} exceeds the ${base.data.mnist.sizes.train} training digits`,
    );
  }

  const config: StudyConfig = {
    ...base,
    studies,
    backend,
    workers,
    seeds,
    tasks: {
      ...base.tasks,
      mlp: { ...base.tasks.mlp, batchSize },
      cnn: { ...base.tasks.cnn, batchSize },
    },
    grid: {
      ...base.grid,
      tasks: tasks ?? base.grid.tasks,
      methods: perTask(methods, base.grid.methods),
      points,
      steps: perTask(steps, base.grid.steps),
    },
    egRates: {
      ...base.egRates,
      scaleRates: rates ?? base.egRates.scaleRates,
      gainRates: rates ?? base.egRates.gainRates,
      steps: steps ?? base.egRates.steps,
    },
    long: {
      ...base.long,
      tasks: tasks ?? base.long.tasks,
      methods: perTask(methods, base.long.methods),
      steps: perTask(longSteps, base.long.steps),
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
  return { kind: values.plan ? 'plan' : 'run', config };
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
      plan: { type: 'boolean' },
      quick: { type: 'boolean' },
      full: { type: 'boolean' },
      studies: { type: 'string' },
      tasks: { type: 'string' },
      methods: { type: 'string' },
      grid: { type: 'string' },
      seeds: { type: 'string' },
      steps: { type: 'string' },
      'long-steps': { type: 'string' },
      rates: { type: 'string' },
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
