import { describe, expect, it } from 'vitest';
import { formatCount, parseArgs, parseSize, sizeLabel } from './args.js';
import { stepsPerBlock } from './timing.js';

describe('parseArgs', () => {
  it('has the full run by default and small sizes with --quick', () => {
    const full = parseArgs([]);
    expect(full?.sizes.map(sizeLabel)).toEqual([
      '1 × 1e4',
      '1 × 1e5',
      '1 × 1e6',
      '1 × 1e7',
      '100 × 1e4',
    ]);
    expect(full?.backends).toEqual(['cpu', 'wasm']);
    expect(full?.blocks).toBe(7);
    const quick = parseArgs(['--quick']);
    expect(quick?.sizes.map(sizeLabel)).toEqual(['1 × 1e4', '1 × 1e5', '10 × 1e4']);
    expect(quick?.blocks).toBe(3);
    expect(quick?.models).toEqual(['mlp']);
  });

  it('reads --sizes, --backends, --models and --out', () => {
    const args = parseArgs([
      '--sizes',
      '1e6,100x1e4',
      '--backends',
      'wasm',
      '--models',
      'none',
      '--out',
      'here',
    ]);
    expect(args?.sizes).toEqual([
      { tensors: 1, size: 1e6 },
      { tensors: 100, size: 1e4 },
    ]);
    expect(args?.backends).toEqual(['wasm']);
    expect(args?.models).toEqual([]);
    expect(args?.out).toBe('here');
  });

  it('rejects bad flags, naming them', () => {
    expect(() => parseArgs(['--fast'])).toThrow('unknown flag "--fast"');
    expect(() => parseArgs(['--blocks', '0'])).toThrow(
      '--blocks: expected an integer >= 1, got "0"',
    );
    expect(() => parseArgs(['--backends', 'webgl'])).toThrow(
      '--backends: "webgl" is not cpu or wasm',
    );
    expect(() => parseArgs(['--sizes'])).toThrow('--sizes: missing value');
    expect(() => parseSize('2.5')).toThrow('--sizes: "2.5" is not N or KxN');
    expect(() => parseSize('0x10')).toThrow('--sizes: "0x10" must be at least 1x1');
    expect(parseArgs(['--help'])).toBeUndefined();
  });

  it('labels powers of ten in e-notation', () => {
    expect(formatCount(1e7)).toBe('1e7');
    expect(formatCount(203530)).toBe('203530');
  });
});

describe('stepsPerBlock', () => {
  it('fills the block length, between 1 and the cap', () => {
    // 200 ms blocks: a 4 ms step runs 50 times, a 900 ms step once, a 0.1 ms step hits the cap.
    expect(stepsPerBlock(4, 200, 100)).toBe(50);
    expect(stepsPerBlock(900, 200, 100)).toBe(1);
    expect(stepsPerBlock(0.1, 200, 100)).toBe(100);
  });
});
