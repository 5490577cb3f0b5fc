import { describe, expect, it } from 'vitest';
import { batchSampler, CLASSES, classCounts, loadMnist, PIXELS, splitDataset } from './data.js';
import { createRng } from './rng.js';

describe('MNIST data', () => {
  const all = loadMnist();

  it('loads the 10,000 digits of the mnist package with labels 0-9', () => {
    expect(all.size).toBe(10_000);
    expect(all.images.length).toBe(10_000 * PIXELS);
    const counts = classCounts(all);
    expect(counts).toHaveLength(CLASSES);
    for (const n of counts) expect(n).toBeGreaterThan(800);
    expect(Math.max(...all.images.subarray(0, 100 * PIXELS))).toBeLessThanOrEqual(1);
  });

  it('splits deterministically from the seed, into disjoint parts', () => {
    const sizes = { train: 7000, val: 1000, test: 2000 };
    const a = splitDataset(all, sizes, 0);
    const b = splitDataset(all, sizes, 0);
    const c = splitDataset(all, sizes, 1);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(Array.from(a.indices.test)).toEqual(Array.from(b.indices.test));
    // Byte comparison: a deep equality over 5.5 million floats is very slow.
    expect(
      Buffer.compare(Buffer.from(a.train.images.buffer), Buffer.from(b.train.images.buffer)),
    ).toBe(0);
    expect(c.fingerprint).not.toBe(a.fingerprint);
    const seen = new Set<number>([...a.indices.train, ...a.indices.val, ...a.indices.test]);
    expect(seen.size).toBe(10_000);
    // The test part holds the digits at its indices, labels included.
    const j = a.indices.test[5] as number;
    expect(a.test.labels[5]).toBe(all.labels[j]);
    expect(Array.from(a.test.images.subarray(5 * PIXELS, 6 * PIXELS))).toEqual(
      Array.from(all.images.subarray(j * PIXELS, (j + 1) * PIXELS)),
    );
  });

  it('rejects a split larger than the data', () => {
    expect(() => splitDataset(all, { train: 9000, val: 1000, test: 1000 }, 0)).toThrow(
      /exceeds the 10000/,
    );
  });

  it('samples every index once per epoch, in a seeded order', () => {
    const next = batchSampler(10, 5, createRng(3));
    const epoch = [...next(), ...next()].sort((x, y) => x - y);
    expect(epoch).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const again = batchSampler(10, 5, createRng(3));
    const first = batchSampler(10, 5, createRng(3))();
    expect(Array.from(again())).toEqual(Array.from(first));
  });
});
