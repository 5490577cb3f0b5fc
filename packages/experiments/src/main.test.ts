import { describe, expect, it } from 'vitest';
import { main } from './main.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

describe('main', () => {
  it('exits with 2 and a pointer to --help on a bad flag', async () => {
    const c = capture();
    expect(await main(['--steps', 'many'], c.io)).toBe(2);
    expect(c.err()).toBe(
      'error: --steps expects a whole number >= 1, got "many"\nRun with --help for usage.\n',
    );
    expect(c.out()).toBe('');
  });

  it('exits with 2 on an unknown flag', async () => {
    const c = capture();
    expect(await main(['--turbo'], c.io)).toBe(2);
    expect(c.err()).toMatch(/^error: Unknown option '--turbo'/);
  });

  it('prints the usage with every flag', async () => {
    const c = capture();
    expect(await main(['--help'], c.io)).toBe(0);
    for (const flag of [
      '--full',
      '--quick',
      '--backend',
      '--seeds',
      '--steps',
      '--out',
      '--methods',
      '--tasks',
      '--grid',
      '--rates',
      '--long-steps',
      '--plan',
      '--quiet',
    ]) {
      expect(c.out()).toContain(flag);
    }
  });

  it('lists the method table', async () => {
    const c = capture();
    expect(await main(['--list-methods'], c.io)).toBe(0);
    expect(c.out()).toMatch(/^adam +baseline +lr 1e-3 +adam\(lr\)$/m);
    expect(c.out()).toMatch(/^eg-sgdm +eg +lr 1e-2 +egSgdm/m);
    expect(c.out()).toMatch(/^prodigy +peer +lr-free +prodigy\(lr\)$/m);
  });
});
