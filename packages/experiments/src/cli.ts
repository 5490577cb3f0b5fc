#!/usr/bin/env node
import { HELP, parseCommand, UsageError } from './args.js';
import { methodTable, runStudy } from './study.js';

async function main(argv: readonly string[]): Promise<number> {
  let command: ReturnType<typeof parseCommand>;
  try {
    command = parseCommand(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\nRun with --help for usage.\n`);
      return 2;
    }
    throw e;
  }
  if (command.kind === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (command.kind === 'list-methods') {
    process.stdout.write(`${methodTable()}\n`);
    return 0;
  }

  const { config } = command;
  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) {
      process.stderr.write('\ninterrupted: stopping runs and writing the report of finished ones (Ctrl-C again to quit now)\n');
      controller.abort();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const progress = config.quiet ? 'quiet' : process.stderr.isTTY ? 'bars' : 'lines';
  const out = await runStudy(config, {
    command: ['node dist/cli.js', ...argv].join(' '),
    progress,
    signal: controller.signal,
  });
  process.stdout.write(`\n${out.consoleSummary}\n\n`);
  process.stdout.write(
    `${out.interrupted ? 'Interrupted; partial report' : 'Report'} (${out.runs} runs${out.failures > 0 ? `, ${out.failures} failed` : ''}): ${out.dir}/report.md\n`,
  );
  if (out.interrupted) return 130;
  return out.failures > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
