import { HELP, parseCommand, UsageError } from './args.js';
import { loadMobyDickText } from './lm/text.js';
import { calibrate, methodTable, planText, reportFromResults, runStudy } from './study.js';

/** Where the command writes; the CLI passes the process streams. */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * Run the command line `argv` and return the exit code: 0 done, 1 some runs
 * failed, 2 usage error, 130 interrupted (the report is still written).
 */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let command: ReturnType<typeof parseCommand>;
  try {
    command = parseCommand(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`error: ${e.message}\nRun with --help for usage.\n`);
      return 2;
    }
    throw e;
  }
  switch (command.kind) {
    case 'help':
      io.stdout(`${HELP}\n`);
      return 0;
    case 'list-methods':
      io.stdout(`${methodTable()}\n`);
      return 0;
    case 'report': {
      const out = await reportFromResults(command.from, command.out);
      io.stdout(`${out.consoleSummary}\n\nReport: ${out.dir}/report.md\n`);
      return 0;
    }
    case 'plan': {
      const costs = await calibrate(command.config, (line) => io.stderr(`${line}\n`));
      io.stdout(`${planText(command.config, costs, loadMobyDickText().length)}\n`);
      return 0;
    }
    case 'run':
      break;
  }

  const { config } = command;
  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) {
      io.stderr(
        '\ninterrupted: stopping runs and writing the report of finished ones (Ctrl-C again to quit now)\n',
      );
      controller.abort();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const progress = config.quiet ? 'quiet' : process.stderr.isTTY ? 'bars' : 'lines';
    const out = await runStudy(config, {
      command: ['node dist/cli.js', ...argv].join(' '),
      progress,
      signal: controller.signal,
      log: (line) => io.stderr(`${line}\n`),
    });
    io.stdout(`\n${out.consoleSummary}\n\n`);
    io.stdout(
      `${out.interrupted ? 'Interrupted; partial report' : 'Report'} (${out.runs} runs${out.failures > 0 ? `, ${out.failures} failed` : ''}): ${out.dir}/report.md\n`,
    );
    if (out.interrupted) return 130;
    return out.failures > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
