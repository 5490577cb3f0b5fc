import { describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from './args.js';

const NOW = new Date(2025, 0, 2, 3, 4, 5);

function run(argv: string[]) {
  const command = parseCommand(argv, NOW);
  if (command.kind !== 'run') throw new Error(`expected a run, got ${command.kind}`);
  return command.config;
}

function usageError(argv: string[]): string {
  try {
    parseCommand(argv, NOW);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`no error for ${argv.join(' ')}`);
}

describe('parseCommand', () => {
  it('defaults to the default preset with both studies, 3 seeds and a timestamped folder', () => {
    const config = run([]);
    expect(config.preset).toBe('default');
    expect(config.studies).toEqual(['no-schedule', 'shift']);
    expect(config.seeds).toEqual([1, 2, 3]);
    expect(config.backend).toBe('wasm');
    expect(config.out).toBe('results/default-20250102-030405');
    expect(config.noSchedule.lrs.mlp).toEqual([1e-4, 1e-3, 1e-2, 1e-1]);
  });

  it('selects presets and applies overrides to both studies', () => {
    expect(run(['--full']).noSchedule.models).toEqual(['mlp', 'cnn']);
    const config = run([
      '--quick',
      '--methods',
      'adam,eg-sgdm',
      '--seeds',
      '2',
      '--lrs',
      '3e-4,0.01',
      '--steps',
      '7',
      '--shift-every',
      '9',
      '--angles',
      '0,45,90',
      '--backend',
      'cpu',
      '--workers',
      '2',
      '--out',
      'x/y',
      '--quiet',
    ]);
    expect(config.preset).toBe('quick');
    expect(config.noSchedule.methods.mlp).toEqual(['adam', 'eg-sgdm']);
    expect(config.shift.methods).toEqual(['adam', 'eg-sgdm']);
    expect(config.seeds).toEqual([1, 2]);
    expect(config.noSchedule.lrs.cnn).toEqual([3e-4, 0.01]);
    expect(config.noSchedule.steps).toBe(7);
    expect(config.shift.every).toBe(9);
    expect(config.shift.angles).toEqual([0, 45, 90]);
    expect(config.backend).toBe('cpu');
    expect(config.workers).toBe(2);
    expect(config.out).toBe('x/y');
    expect(config.quiet).toBe(true);
  });

  it('takes an explicit seed list', () => {
    expect(run(['--seeds', '4,0,9']).seeds).toEqual([4, 0, 9]);
  });

  it('answers --help and --list-methods', () => {
    expect(parseCommand(['--help']).kind).toBe('help');
    expect(parseCommand(['-h']).kind).toBe('help');
    expect(parseCommand(['--list-methods']).kind).toBe('list-methods');
  });

  it('rejects unknown flags, bad values and conflicts with a message naming the problem', () => {
    expect(usageError(['--fast'])).toMatch(/--fast/);
    expect(usageError(['--seeds', 'three'])).toMatch(/--seeds expects a whole number/);
    expect(usageError(['--seeds', '0'])).toMatch(/--seeds/);
    expect(usageError(['--seeds', '1,1'])).toMatch(/repeats/);
    expect(usageError(['--lrs', '1e-3,-1'])).toMatch(/--lrs: "-1"/);
    expect(usageError(['--methods', 'adam,nadam'])).toMatch(/unknown value "nadam"/);
    expect(usageError(['--models', 'resnet'])).toMatch(/--models/);
    expect(usageError(['--studies', 'both'])).toMatch(/--studies/);
    expect(usageError(['--backend', 'webgl'])).toMatch(/--backend: unknown backend "webgl"/);
    expect(usageError(['--full', '--quick'])).toMatch(/cannot be combined/);
    expect(usageError(['--steps'])).toMatch(/--steps/);
    expect(usageError(['--steps', '2.5'])).toMatch(/--steps/);
    expect(usageError(['--angles', '0'])).toMatch(/at least two angles/);
    expect(usageError(['--batch-size', '100000'])).toMatch(/exceeds/);
    expect(usageError(['extra'])).toMatch(/unexpected argument "extra"/);
  });
});
