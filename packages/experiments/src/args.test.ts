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
  it('defaults to the default preset with every study, 3 seeds and a timestamped folder', () => {
    const config = run([]);
    expect(config.preset).toBe('default');
    expect(config.studies).toEqual(['grid', 'eg-rates', 'long', 'shift']);
    expect(config.seeds).toEqual([1, 2, 3]);
    expect(config.backend).toBe('wasm');
    expect(config.out).toBe('results/default-20250102-030405');
    expect(config.grid.tasks).toEqual(['mlp', 'lm']);
    expect(config.grid.points).toBe(3);
  });

  it('selects presets and applies overrides to every study', () => {
    const full = run(['--full']);
    expect(full.grid.points).toBe(7);
    expect(full.long.tasks).toEqual(['mlp', 'lm']);
    expect(full.grid.methods.mlp).toContain('sf-sgd-warmup');
    const config = run([
      '--quick',
      '--methods',
      'adam,eg-sgdm',
      '--tasks',
      'cnn,lm',
      '--grid',
      '5',
      '--seeds',
      '2',
      '--rates',
      '1e-3,0.1',
      '--steps',
      '7',
      '--long-steps',
      '30',
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
    expect(config.grid.methods.lm).toEqual(['adam', 'eg-sgdm']);
    expect(config.long.methods.cnn).toEqual(['adam', 'eg-sgdm']);
    expect(config.shift.methods).toEqual(['adam', 'eg-sgdm']);
    expect(config.grid.tasks).toEqual(['cnn', 'lm']);
    expect(config.long.tasks).toEqual(['cnn', 'lm']);
    expect(config.grid.points).toBe(5);
    expect(config.seeds).toEqual([1, 2]);
    expect(config.egRates.scaleRates).toEqual([1e-3, 0.1]);
    expect(config.egRates.gainRates).toEqual([1e-3, 0.1]);
    expect(config.grid.steps).toEqual({ mlp: 7, cnn: 7, lm: 7 });
    expect(config.egRates.steps).toBe(7);
    expect(config.long.steps.lm).toBe(30);
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

  it('answers --help, --list-methods and --plan', () => {
    expect(parseCommand(['--help']).kind).toBe('help');
    expect(parseCommand(['-h']).kind).toBe('help');
    expect(parseCommand(['--list-methods']).kind).toBe('list-methods');
    const plan = parseCommand(['--full', '--plan']);
    expect(plan.kind).toBe('plan');
    expect(plan.kind === 'plan' && plan.config.preset).toBe('full');
  });

  it('rejects unknown flags, bad values and conflicts with a message naming the problem', () => {
    expect(usageError(['--fast'])).toMatch(/--fast/);
    expect(usageError(['--seeds', 'three'])).toMatch(/--seeds expects a whole number/);
    expect(usageError(['--seeds', '0'])).toMatch(/--seeds/);
    expect(usageError(['--seeds', '1,1'])).toMatch(/repeats/);
    expect(usageError(['--rates', '1e-3,-1'])).toMatch(/--rates: "-1"/);
    expect(usageError(['--methods', 'adam,nadam'])).toMatch(/unknown value "nadam"/);
    expect(usageError(['--tasks', 'resnet'])).toMatch(/--tasks: unknown value "resnet"/);
    expect(usageError(['--grid', '4'])).toMatch(/--grid expects an odd number/);
    expect(usageError(['--lrs', '1e-3'])).toMatch(/--lrs/);
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
