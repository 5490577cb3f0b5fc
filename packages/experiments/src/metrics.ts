/** Summary statistics of a sample (std is the sample standard deviation; 0 for one value). */
export interface Stats {
  readonly n: number;
  readonly mean: number;
  readonly std: number;
  readonly min: number;
  readonly max: number;
}

/** Statistics of the finite values of `xs`; `n` counts only those. NaN fields when none. */
export function stats(xs: readonly number[]): Stats {
  const v = xs.filter(Number.isFinite);
  const n = v.length;
  if (n === 0) return { n: 0, mean: Number.NaN, std: Number.NaN, min: Number.NaN, max: Number.NaN };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { n, mean, std: Math.sqrt(variance), min: Math.min(...v), max: Math.max(...v) };
}

/** The median of the finite values of `xs` (NaN when none). */
export function median(xs: readonly number[]): number {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1
    ? (v[mid] as number)
    : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

/** One point of an accuracy-over-time series. */
export interface AccuracyPoint {
  readonly step: number;
  readonly accuracy: number;
}

/**
 * Steps after a distribution shift until accuracy on the new distribution
 * first reaches `fraction` of the accuracy just before the shift.
 *
 * `series` holds evaluations on the new distribution; points before
 * `shiftStep` and after `endStep` (the next shift) are ignored. Returns 0
 * when the first evaluation at the shift already meets the target, and
 * `null` when the target is never met in the window (not recovered).
 * The answer is only as fine as the evaluation interval.
 */
export function recoverySteps(
  series: readonly AccuracyPoint[],
  shiftStep: number,
  preShiftAccuracy: number,
  {
    fraction = 0.9,
    endStep = Number.POSITIVE_INFINITY,
  }: { fraction?: number; endStep?: number } = {},
): number | null {
  const target = fraction * preShiftAccuracy;
  for (const point of series) {
    if (point.step < shiftStep || point.step > endStep) continue;
    if (point.accuracy >= target) return point.step - shiftStep;
  }
  return null;
}

/** Format `mean ± std` with a fixed number of decimals; `—` when no data. */
export function formatMeanStd(s: Stats, digits: number, scale = 1): string {
  if (s.n === 0) return '—';
  return `${(s.mean * scale).toFixed(digits)} ± ${(s.std * scale).toFixed(digits)}`;
}

/** Outcome of comparing a method with another on one measurement. */
export type Verdict = 'win' | 'tie' | 'loss';

/** A comparison of two measurements over seeds. */
export interface Comparison {
  /** How much better the first is, in metric units (positive: better; direction-aware). */
  readonly delta: number;
  readonly verdict: Verdict;
}

/**
 * Compare `a` with `b` where larger is better when `higherIsBetter`: a
 * difference of means no larger than the larger of the two seed standard
 * deviations is a tie. `undefined` when either has no finite value.
 */
export function compareStats(a: Stats, b: Stats, higherIsBetter: boolean): Comparison | undefined {
  if (a.n === 0 || b.n === 0) return undefined;
  const delta = (a.mean - b.mean) * (higherIsBetter ? 1 : -1);
  const noise = Math.max(a.std, b.std);
  return { delta, verdict: Math.abs(delta) <= noise ? 'tie' : delta > 0 ? 'win' : 'loss' };
}

/** The item with the best score (largest, or smallest when not `higherIsBetter`); NaN scores lose. */
export function bestBy<T>(
  items: readonly T[],
  score: (item: T) => number,
  higherIsBetter: boolean,
): T | undefined {
  let best: T | undefined;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const item of items) {
    const raw = score(item);
    const s = Number.isNaN(raw) ? Number.NEGATIVE_INFINITY : higherIsBetter ? raw : -raw;
    if (best === undefined || s > bestScore) {
      best = item;
      bestScore = s;
    }
  }
  return best;
}
