import cliProgress from 'cli-progress';
import { formatLr, formatValue } from './format.js';
import type { PoolEvents, RunFailure } from './pool.js';
import { taskById } from './tasks.js';
import type { RunResult, RunSpec } from './train.js';

/** Pool events that draw progress, plus a way to print lines and stop. */
export interface Progress extends PoolEvents {
  /** Print a line without breaking the bars. */
  log(line: string): void;
  stop(): void;
}

/** Short name of a run for bars and logs. */
export function runLabel(spec: RunSpec): string {
  const rates =
    spec.egRates === undefined
      ? ''
      : ` s=${formatLr(spec.egRates.scaleLearningRate ?? Number.NaN)} g=${formatLr(spec.egRates.gainLearningRate ?? Number.NaN)}`;
  return `${spec.study === 'grid' ? '' : `${spec.study} `}${spec.task} ${spec.method} lr=${formatLr(spec.lr)}${rates} s${spec.seed}`;
}

function resultLine(result: RunResult): string {
  const { metric } = taskById(result.spec.task);
  const value = formatValue(result.final.test.metric, metric);
  return `${runLabel(result.spec)}: test ${metric.name} ${value}${result.diverged ? ' (diverged)' : ''} in ${(result.wallMs / 1000).toFixed(1)} s`;
}

/**
 * Progress for a batch of runs totalling `totalSteps` steps. On a terminal:
 * one bar per running slot (steps of that run, with its ETA) and an overall
 * bar (runs done, ETA from steps). Not on a terminal: one line per finished
 * run. `quiet`: nothing.
 */
export function createProgress(options: {
  readonly mode: 'bars' | 'lines' | 'quiet';
  readonly totalRuns: number;
  readonly totalSteps: number;
  readonly stream?: NodeJS.WritableStream;
}): Progress {
  const stream = options.stream ?? process.stderr;
  let runsDone = 0;
  let stepsDone = 0;
  const running = new Map<number, number>();

  if (options.mode !== 'bars') {
    const line = (text: string) => {
      if (options.mode === 'lines') stream.write(`${text}\n`);
    };
    return {
      onResult: (_slot, result) => {
        runsDone++;
        line(`[${runsDone}/${options.totalRuns}] ${resultLine(result)}`);
      },
      onFailure: (_slot, failure: RunFailure) => {
        runsDone++;
        line(
          `[${runsDone}/${options.totalRuns}] ${runLabel(failure.spec)} FAILED: ${failure.message}`,
        );
      },
      log: line,
      stop: () => {},
    };
  }

  const multi = new cliProgress.MultiBar(
    {
      stream,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      format: '{label} |{bar}| {value}/{total} {unit} | ETA {eta_formatted}',
      barsize: 24,
    },
    cliProgress.Presets.shades_classic,
  );
  const overall = multi.create(options.totalSteps, 0, {
    label: `all ${options.totalRuns} runs`.padEnd(38),
    unit: 'steps',
  });
  const bars = new Map<number, cliProgress.SingleBar>();
  const total = () => stepsDone + [...running.values()].reduce((a, b) => a + b, 0);

  return {
    onStart: (slot, spec) => {
      running.set(slot, 0);
      const label = runLabel(spec).slice(0, 38).padEnd(38);
      const bar = bars.get(slot);
      if (bar === undefined) bars.set(slot, multi.create(spec.steps, 0, { label, unit: 'steps' }));
      else {
        bar.start(spec.steps, 0, { label, unit: 'steps' });
      }
    },
    onProgress: (slot, _spec, done) => {
      running.set(slot, done);
      bars.get(slot)?.update(done);
      overall.update(total(), { label: `runs ${runsDone}/${options.totalRuns}`.padEnd(38) });
    },
    onResult: (slot, result) => {
      running.delete(slot);
      stepsDone += result.spec.steps;
      runsDone++;
      overall.update(total(), { label: `runs ${runsDone}/${options.totalRuns}`.padEnd(38) });
    },
    onFailure: (slot, failure) => {
      running.delete(slot);
      stepsDone += failure.spec.steps;
      runsDone++;
      multi.log(`${runLabel(failure.spec)} FAILED: ${failure.message}\n`);
    },
    log: (line) => multi.log(`${line}\n`),
    stop: () => multi.stop(),
  };
}
