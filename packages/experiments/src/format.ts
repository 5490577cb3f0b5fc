import type { Comparison, Stats } from './metrics.js';
import type { TaskMetric } from './tasks.js';

/** A learning rate or rate as `1e-3`, `3e-4`, `2.5e-3`, `1`. */
export const formatLr = (lr: number) => lr.toExponential().replace('e+0', '').replace(/e\+?/, 'e');

/** `mean ± std` of a metric in its display unit; `—` when no data. */
export function formatMetric(s: Stats | undefined, metric: TaskMetric): string {
  if (s === undefined || s.n === 0) return '—';
  const k = metric.scale;
  return `${(s.mean * k).toFixed(metric.digits)} ± ${(s.std * k).toFixed(metric.digits)}`;
}

/** One value of a metric in its display unit; `—` when not finite. */
export function formatValue(x: number | undefined, metric: TaskMetric): string {
  return x === undefined || !Number.isFinite(x) ? '—' : (x * metric.scale).toFixed(metric.digits);
}

/** Seed min–max of a metric. */
export function formatRange(s: Stats | undefined, metric: TaskMetric): string {
  if (s === undefined || s.n === 0) return '—';
  return `${formatValue(s.min, metric)}–${formatValue(s.max, metric)}`;
}

/** A difference in the metric's display unit, signed (positive: better). */
export function formatDelta(delta: number, metric: TaskMetric): string {
  const v = delta * metric.scale;
  return `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(metric.digits)}`;
}

/** A verdict cell: `win +0.52`, `tie −0.10`, `loss −1.20`, or `—`. */
export function formatComparison(c: Comparison | undefined, metric: TaskMetric): string {
  return c === undefined ? '—' : `${c.verdict} ${formatDelta(c.delta, metric)}`;
}

/** A relative change as a signed percentage. */
export function signedPct(x: number): string {
  return Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%` : '—';
}

/** What "better" means for a metric, for axis titles and captions. */
export function direction(metric: TaskMetric): string {
  return metric.higherIsBetter ? 'higher is better' : 'lower is better';
}

/** A Markdown table; cells are escaped for pipes. */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  const line = (cells: readonly string[]) => `| ${cells.map(esc).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A list in prose: "a", "a and b", "a, b and c"; `none` when empty. */
export function prose(items: readonly string[], none = 'none'): string {
  if (items.length === 0) return none;
  if (items.length === 1) return items[0] as string;
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
