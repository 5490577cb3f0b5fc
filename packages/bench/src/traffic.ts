/**
 * How many bytes an optimizer step must move, and what that is as a rate
 * and as a fraction of the machine's copy bandwidth. Pure arithmetic.
 *
 * The model counts float32 arrays of the parameters' size that an ideal
 * implementation reads and writes once per step (4 bytes each per
 * parameter), with a second pass only where the update needs a reduction
 * over the whole tree before any parameter can move. Scalars are free.
 */

/** The arrays one step reads and writes, per parameter. */
export interface TrafficModel {
  /** Arrays read, e.g. `['param', 'grad', 'mu', 'nu']`. */
  readonly reads: readonly string[];
  /** Arrays written. */
  readonly writes: readonly string[];
  /** Why the model is what it is, for the report. */
  readonly note: string;
}

const BYTES_PER_FLOAT = 4;

const ADAM: TrafficModel = {
  reads: ['param', 'grad', 'mu', 'nu'],
  writes: ['param', 'mu', 'nu'],
  note: 'one pass',
};
const MOMENTUM: TrafficModel = {
  reads: ['param', 'grad', 'trace'],
  writes: ['param', 'trace'],
  note: 'one pass',
};

/** The traffic model of each benchmarked optimizer, by the name the report uses. */
export const TRAFFIC: Readonly<Record<string, TrafficModel>> = {
  'tf.train.adam': ADAM,
  adam: ADAM,
  'tf.train.momentum': MOMENTUM,
  sgd: MOMENTUM,
  egAdam: {
    // The scale needs <g, v> over the whole tree before any parameter moves: a first pass
    // reads g and v (the previous updates); the second reads the rest and writes the new v.
    reads: ['grad', 'previous', 'param', 'grad', 'mu', 'nu', 'gains', 'gradTrace'],
    writes: ['param', 'mu', 'nu', 'gains', 'gradTrace', 'previous'],
    note: 'alignment pass (g, v), then one pass',
  },
  egSgdm: {
    // As egAdam; the previous updates are the momentum trace itself (shared, not stored twice).
    reads: ['grad', 'previous', 'param', 'grad', 'gains', 'gradTrace', 'trace'],
    writes: ['param', 'gains', 'gradTrace', 'trace'],
    note: 'alignment pass (g, v), then one pass; v is the trace',
  },
  prodigy: {
    // d needs <g, x0 − x> and Σ|s| (s updated) over the whole tree before the step.
    reads: ['grad', 'param', 'x0', 's', 'param', 'grad', 'mu', 'nu'],
    writes: ['s', 'param', 'mu', 'nu'],
    note: 'estimate pass (g, x, x0, s), then one pass',
  },
  scheduleFreeAdamw: {
    reads: ['param', 'grad', 'z', 'nu'],
    writes: ['param', 'z', 'nu'],
    note: 'one pass',
  },
};

/** Bytes per parameter of one step under `model`. */
export function bytesPerParam(model: TrafficModel): number {
  return (model.reads.length + model.writes.length) * BYTES_PER_FLOAT;
}

/** The traffic model of `optimizer`; throws for a name without one. */
export function trafficOf(optimizer: string): TrafficModel {
  const model = TRAFFIC[optimizer];
  if (model === undefined) throw new Error(`no traffic model for optimizer "${optimizer}"`);
  return model;
}

/** `bytes` moved in `ms` milliseconds, in GB/s (1e9 bytes per second). */
export function gbPerSec(bytes: number, ms: number): number {
  return bytes / (ms * 1e-3) / 1e9;
}

/**
 * The copy rate of `dst.set(src)` on arrays of `arrayBytes`: each copy reads
 * and writes `arrayBytes`, so it moves `2 · arrayBytes`.
 */
export function copyGbPerSec(arrayBytes: number, ms: number): number {
  return gbPerSec(2 * arrayBytes, ms);
}

/** The effective bandwidth of one step and its fraction of `copyGbPerSec`. */
export function stepBandwidth(
  bytesPerParameter: number,
  params: number,
  msPerStep: number,
  copyGbPerSecond: number,
): { gbPerSec: number; fractionOfCopy: number } {
  const rate = gbPerSec(bytesPerParameter * params, msPerStep);
  return { gbPerSec: rate, fractionOfCopy: rate / copyGbPerSecond };
}

/** The median of `xs` (the mean of the middle two for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
