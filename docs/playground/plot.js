// Line charts drawn as inline SVG, small enough to redraw every animation frame: a few
// hundred points per series, axes labelled with their extremes (or powers of ten on a log axis).
const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 360;
const HEIGHT = 220;
const MARGIN = { left: 52, right: 12, top: 12, bottom: 34 };
/** At most this many points per drawn line; longer series are thinned evenly. */
const MAX_POINTS = 600;

function el(name, attrs, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Short, readable numbers for axis labels. */
export function formatNumber(v) {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
  return Number(v.toPrecision(3)).toString();
}

/** Every k-th point of a series (the last one always kept), at most `max` points. */
export function thin(points, max = MAX_POINTS) {
  if (points.length <= max) return points;
  const every = Math.ceil(points.length / max);
  const out = points.filter((_, i) => i % every === 0);
  if (out.at(-1) !== points.at(-1)) out.push(points.at(-1));
  return out;
}

/**
 * Draw into `svg` (emptied first, but for its `title`) the `series` ([{ points: [[x, y], ...], className, dots }])
 * on shared axes. `logY` plots log10(y) (non-positive values are dropped). Axis titles are
 * `xLabel` and `yLabel`.
 */
export function drawChart(svg, series, { xLabel, yLabel, logY = false }) {
  // The title (the chart's text alternative, written in the page) stays.
  svg.replaceChildren(...svg.querySelectorAll(':scope > title'));
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  const ty = logY ? (y) => Math.log10(y) : (y) => y;
  const lines = series.map((s) => ({
    ...s,
    points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(ty(y))),
  }));
  const all = lines.flatMap((s) => s.points);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  svg.append(
    el('rect', {
      class: 'frame',
      x: MARGIN.left,
      y: MARGIN.top,
      width: plotW,
      height: plotH,
    }),
  );
  svg.append(
    el('text', { class: 'axis-title', x: MARGIN.left + plotW / 2, y: HEIGHT - 4 }, xLabel),
    el(
      'text',
      {
        class: 'axis-title',
        transform: `translate(12 ${MARGIN.top + plotH / 2}) rotate(-90)`,
      },
      yLabel,
    ),
  );
  if (all.length === 0) {
    svg.append(
      el(
        'text',
        { class: 'empty', x: MARGIN.left + plotW / 2, y: MARGIN.top + plotH / 2 },
        'no data yet',
      ),
    );
    return;
  }
  let [x0, x1] = extent(all.map(([x]) => x));
  let [y0, y1] = extent(all.map(([, y]) => ty(y)));
  if (x0 === x1) x1 = x0 + 1;
  if (y0 === y1) {
    const pad = Math.abs(y0) * 0.01 || 0.01;
    y0 -= pad;
    y1 += pad;
  }
  const px = (x) => MARGIN.left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y) => MARGIN.top + (1 - (ty(y) - y0) / (y1 - y0)) * plotH;

  const yTicks = logY ? logTicks(y0, y1) : niceTicks(y0, y1).map((v) => ({ at: v, value: v }));
  for (const { at, value } of yTicks) {
    const y = MARGIN.top + (1 - (at - y0) / (y1 - y0)) * plotH;
    svg.append(
      el('line', { class: 'grid', x1: MARGIN.left, x2: MARGIN.left + plotW, y1: y, y2: y }),
      el('text', { class: 'tick y', x: MARGIN.left - 4, y: y + 4 }, formatNumber(value)),
    );
  }
  for (const x of niceTicks(x0, x1)) {
    svg.append(
      el('text', { class: 'tick x', x: px(x), y: MARGIN.top + plotH + 14 }, formatNumber(x)),
    );
  }
  for (const s of lines) {
    if (s.dots) {
      for (const [x, y] of s.points) {
        svg.append(el('circle', { class: s.className, cx: px(x), cy: py(y), r: 1.6 }));
      }
    } else {
      const d = thin(s.points).map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`);
      svg.append(el('polyline', { class: s.className, points: d.join(' ') }));
    }
  }
}

function extent(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** About `count` round values (1, 2 or 5 times a power of ten apart) inside [lo, hi]. */
export function niceTicks(lo, hi, count = 4) {
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const ticks = [];
  for (let i = Math.ceil(lo / step); i * step <= hi + step * 1e-9; i++) {
    // Rounded to the step's decimals, so 0.1 + 0.2 prints as 0.3.
    ticks.push(Number((i * step).toFixed(Math.max(0, -Math.floor(Math.log10(step))))));
  }
  return ticks;
}

/** Ticks at the powers of ten inside [lo, hi] (log10 units), or the two ends if there are none. */
function logTicks(lo, hi) {
  const ticks = [];
  for (let p = Math.ceil(lo); p <= Math.floor(hi); p++) ticks.push({ at: p, value: 10 ** p });
  return ticks.length > 0
    ? ticks
    : [
        { at: lo, value: 10 ** lo },
        { at: hi, value: 10 ** hi },
      ];
}
