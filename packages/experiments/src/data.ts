import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createRng, permutation, type Rng } from './rng.js';

/** Side of a digit image in pixels. */
export const IMAGE_SIDE = 28;
/** Pixels per image. */
export const PIXELS = IMAGE_SIDE * IMAGE_SIDE;
/** Number of classes. */
export const CLASSES = 10;

/** Images (row-major, values in [0, 1]) and their labels. */
export interface Dataset {
  readonly images: Float32Array;
  readonly labels: Uint8Array;
  readonly size: number;
}

/** Sizes of the three parts of a split. */
export interface SplitSizes {
  readonly train: number;
  readonly val: number;
  readonly test: number;
}

/** A train/validation/test split and the permutation it came from. */
export interface Split {
  readonly train: Dataset;
  readonly val: Dataset;
  readonly test: Dataset;
  /** Indices into the full dataset of each part. */
  readonly indices: {
    readonly train: Int32Array;
    readonly val: Int32Array;
    readonly test: Int32Array;
  };
  /** Short hash of the sample order, printed in the report to show the split is the same. */
  readonly fingerprint: string;
}

let cached: Dataset | undefined;

/**
 * All digits shipped by the `mnist` package, in a fixed order (digit 0 to 9,
 * each in file order). The package's own `set()` shuffles with `Math.random`,
 * so its raw per-digit files are read instead.
 */
export function loadMnist(): Dataset {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('mnist/package.json'));
  const perDigit: Float32Array[] = [];
  for (let digit = 0; digit < CLASSES; digit++) {
    const raw = JSON.parse(readFileSync(join(root, 'src', 'digits', `${digit}.json`), 'utf8')) as {
      data: number[];
    };
    if (raw.data.length % PIXELS !== 0) {
      throw new Error(
        `mnist digit file ${digit}.json: length ${raw.data.length} is not a multiple of ${PIXELS}`,
      );
    }
    perDigit.push(Float32Array.from(raw.data));
  }
  const size = perDigit.reduce((n, d) => n + d.length / PIXELS, 0);
  const images = new Float32Array(size * PIXELS);
  const labels = new Uint8Array(size);
  let at = 0;
  perDigit.forEach((data, digit) => {
    images.set(data, at * PIXELS);
    labels.fill(digit, at, at + data.length / PIXELS);
    at += data.length / PIXELS;
  });
  cached = { images, labels, size };
  return cached;
}

/** The samples at `indices`, copied into a new dataset. */
export function gather(data: Dataset, indices: ArrayLike<number>): Dataset {
  const n = indices.length;
  const images = new Float32Array(n * PIXELS);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const j = indices[i] as number;
    images.set(data.images.subarray(j * PIXELS, (j + 1) * PIXELS), i * PIXELS);
    labels[i] = data.labels[j] as number;
  }
  return { images, labels, size: n };
}

/** The first `n` samples (a view, not a copy). */
export function head(data: Dataset, n: number): Dataset {
  const size = Math.min(n, data.size);
  return {
    images: data.images.subarray(0, size * PIXELS),
    labels: data.labels.subarray(0, size),
    size,
  };
}

/**
 * Split `data` into disjoint train, validation and test parts after a
 * permutation drawn from `seed`. The same data, sizes and seed always give
 * the same split.
 */
export function splitDataset(data: Dataset, sizes: SplitSizes, seed: number): Split {
  const total = sizes.train + sizes.val + sizes.test;
  if (total > data.size) {
    throw new RangeError(
      `split of ${sizes.train}+${sizes.val}+${sizes.test} = ${total} samples exceeds the ${data.size} available`,
    );
  }
  const order = permutation(data.size, createRng(seed));
  const train = order.slice(0, sizes.train);
  const val = order.slice(sizes.train, sizes.train + sizes.val);
  const test = order.slice(sizes.train + sizes.val, total);
  return {
    train: gather(data, train),
    val: gather(data, val),
    test: gather(data, test),
    indices: { train, val, test },
    fingerprint: fingerprint(order.subarray(0, total)),
  };
}

function fingerprint(order: Int32Array): string {
  let h = 0x811c9dc5;
  for (const i of order) h = Math.imul(h ^ i, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/**
 * Batches of indices into a dataset of `size` samples: each epoch is a fresh
 * permutation from `rng`, consumed in order, so every sample is seen once per
 * epoch.
 */
export function batchSampler(size: number, batchSize: number, rng: Rng): () => Int32Array {
  if (batchSize > size)
    throw new RangeError(`batch size ${batchSize} exceeds the ${size} training samples`);
  let order = permutation(size, rng);
  let at = 0;
  return () => {
    if (at + batchSize > size) {
      order = permutation(size, rng);
      at = 0;
    }
    const batch = order.slice(at, at + batchSize);
    at += batchSize;
    return batch;
  };
}

/** Class counts, for the report. */
export function classCounts(data: Dataset): number[] {
  const counts = new Array<number>(CLASSES).fill(0);
  for (const label of data.labels) counts[label] = (counts[label] as number) + 1;
  return counts;
}
