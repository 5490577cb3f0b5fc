/** Markdown rendering of a run (`bench.md`, and the body of `docs/benchmarks.md`). Pure. */
import { bytesPerParam, TRAFFIC } from './traffic.js';
import type { BenchResult, StepRow, TargetRow, TrainRow } from './types.js';

/** A markdown table; `align` is `l` or `r` per column. */
export function table(
  header: readonly string[],
  align: string,
  rows: readonly (readonly string[])[],
): string {
  const rule = [...align].map((a) => (a === 'r' ? '---:' : '---'));
  return [header, rule, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** Milliseconds with three significant digits (at least two decimals below 10). */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 0.1) return ms.toFixed(2);
  return ms.toFixed(3);
}

/** A time ratio as `0.43×`. */
export function formatRatio(r: number | null): string {
  return r === null || !Number.isFinite(r) ? '–' : `${r.toFixed(2)}×`;
}

function formatTarget(row: TargetRow): string {
  if (row.value === null) return '–';
  return row.bound.includes('0.25') ? `${(row.value * 100).toFixed(1)}%` : row.value.toFixed(2);
}

const pathLabel = (path: string): string => (path === 'tf.train' ? 'tf.train' : path);

function stepTable(rows: readonly StepRow[]): string {
  return table(
    [
      'group',
      'optimizer',
      'path',
      'ms/step',
      '× tf.train',
      'GB/s',
      '% of copy',
      'state B/param',
      'Δ tensors',
    ],
    'lllrrrrrr',
    rows.map((r) => [
      r.group,
      r.optimizer,
      pathLabel(r.path),
      formatMs(r.msPerStep),
      r.path === 'tf.train' ? '1.00×' : formatRatio(r.ratio),
      r.gbPerSec.toFixed(2),
      `${(r.fractionOfCopy * 100).toFixed(1)}%`,
      r.stateBytesPerParam.toFixed(1),
      String(r.tensorGrowth),
    ]),
  );
}

function trainTable(rows: readonly TrainRow[]): string {
  return table(
    ['optimizer', 'path', 'ms/step', '× adam (same path)', 'Δ tensors'],
    'llrrr',
    rows.map((r) => [
      r.optimizer,
      pathLabel(r.path),
      formatMs(r.msPerStep),
      formatRatio(r.ratioVsAdam),
      String(r.tensorGrowth),
    ]),
  );
}

/** State bytes per parameter of each optimizer, on the first backend at 1e6 (else the largest case). */
function stateTable(steps: readonly StepRow[]): string {
  const backend = steps[0]?.backend;
  const own = steps.filter((r) => r.backend === backend);
  const largest = own.reduce((a, b) => (b.params > a.params ? b : a), own[0] as StepRow);
  const layout = own.some((r) => r.case === '1 × 1e6') ? '1 × 1e6' : largest.case;
  const byContender = new Map<string, StepRow>();
  for (const r of own) if (r.case === layout) byContender.set(`${r.optimizer}/${r.path}`, r);
  return table(
    ['optimizer', 'path', 'state bytes / param'],
    'llr',
    [...byContender.values()].map((r) => [
      r.optimizer,
      pathLabel(r.path),
      r.stateBytesPerParam.toFixed(1),
    ]),
  ).concat(
    `\n\nMeasured on ${backend} at ${layout} parameters (after two steps: the distinct buffers of tfopt's state; tf.train's by \`tf.memory().numBytes\`).`,
  );
}

function trafficTable(): string {
  return table(
    ['optimizer', 'bytes / param', 'reads', 'writes', 'passes'],
    'lrlll',
    Object.entries(TRAFFIC).map(([name, m]) => [
      name,
      String(bytesPerParam(m)),
      m.reads.join(', '),
      m.writes.join(', '),
      m.note,
    ]),
  );
}

const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)];

/** One sentence on `tf.memory().numTensors` growth over every timed step (it must be 0). */
export function growthSummary(result: BenchResult): string {
  const rows = [...result.steps, ...result.training];
  const grown = rows.filter((r) => r.tensorGrowth !== 0);
  if (grown.length === 0) {
    return `\`numTensors\` growth over the timed steps: **0** for all ${rows.length} timed rows.`;
  }
  const list = grown
    .map(
      (r) =>
        `${r.backend} ${'case' in r ? r.case : r.model} ${r.optimizer} (${r.path}): ${r.tensorGrowth}`,
    )
    .join('; ');
  return `\`numTensors\` growth over the timed steps: **not 0** for ${grown.length} of ${rows.length} rows: ${list}.`;
}

/** The whole run as markdown; `heading` is the level-1 title. */
export function renderMarkdown(result: BenchResult, heading = 'tfopt benchmarks'): string {
  const m = result.machine;
  const out: string[] = [`# ${heading}`, ''];
  out.push(
    `Run ${result.startedAt}${result.quick ? ' (**--quick**: harness check, not figures to quote)' : ''}, ` +
      `${(result.durationSec / 60).toFixed(1)} min.`,
    '',
    table(['machine', ''], 'll', [
      ['os', m.os],
      ['cpu', `${m.cpuModel} × ${m.cpuCount}`],
      ['memory', `${m.memoryGiB.toFixed(1)} GiB`],
      ['node', m.node],
      ['tfjs', m.tfjs],
      ['backends', m.backends.join(', ')],
    ]),
    '',
  );
  if (!result.fusedAvailable) {
    out.push(
      '> This build of `@tfopt/core` has no fused path yet: the "fused" rows ran the composable path too.',
      '',
    );
  }
  for (const note of result.notes) out.push(`- ${note}`);
  if (result.notes.length > 0) out.push('');

  out.push('## Targets', '');
  out.push(
    table(
      ['target', 'backend', 'measure', 'value', 'bound', 'status'],
      'lllrll',
      result.targets.map((t) => [
        t.target,
        t.backend,
        t.measure,
        formatTarget(t),
        t.bound,
        t.status === 'MET' ? 'MET' : `**${t.status}**`,
      ]),
    ),
    '',
  );

  out.push(growthSummary(result), '');

  out.push(
    '## Copy bandwidth',
    '',
    `\`Float32Array.set\` of ${(result.bandwidth.arrayBytes / 2 ** 20).toFixed(0)} MiB, bytes read + written per second: ` +
      `**${result.bandwidth.gbPerSec.toFixed(2)} GB/s** (median of ${result.bandwidth.samples.length} copies, ` +
      `taken at the start and the end of the run).`,
    '',
  );

  out.push(
    '## Optimizer step',
    '',
    'Fixed gradients, `tf.Variable`s updated in place: tf.train through `optimizer.applyGradients`, ' +
      'tfopt through `stepVariables` (fused: the default; composable: `{ fused: false }`). ' +
      'Each group is timed interleaved and compared with its own tf.train row. ' +
      '"GB/s" is the traffic model below over the step time; "Δ tensors" is the growth of ' +
      '`tf.memory().numTensors` over all timed steps (must be 0).',
    '',
  );
  for (const backend of unique(result.steps.map((r) => r.backend))) {
    for (const layout of unique(
      result.steps.filter((r) => r.backend === backend).map((r) => r.case),
    )) {
      const rows = result.steps.filter((r) => r.backend === backend && r.case === layout);
      out.push(`### ${backend}, ${layout} parameters`, '', stepTable(rows), '');
    }
  }
  if (result.steps.length > 0) {
    out.push('### Optimizer state', '', stateTable(result.steps), '');
  }
  out.push(
    '### Traffic model',
    '',
    "Float32 arrays of the parameters' size an ideal step reads and writes (4 bytes each per " +
      'parameter); a second pass only where a reduction over the whole tree must finish before ' +
      'any parameter moves.',
    '',
    trafficTable(),
    '',
  );

  if (result.training.length > 0) {
    out.push(
      '## Whole training step',
      '',
      "Forward, backward (`tf.variableGrads`) and update of the experiments' models on one " +
        `synthetic batch of ${result.training[0]?.batchSize} MNIST-shaped images; "× adam" divides by ` +
        "adam's step on the same path (tf.train.adam: by fused adam).",
      '',
    );
    for (const backend of unique(result.training.map((r) => r.backend))) {
      for (const model of unique(
        result.training.filter((r) => r.backend === backend).map((r) => r.model),
      )) {
        const rows = result.training.filter((r) => r.backend === backend && r.model === model);
        const first = rows[0] as TrainRow;
        out.push(
          `### ${backend}, ${model}: ${first.description}, ${first.params} parameters`,
          '',
          trainTable(rows),
          '',
        );
      }
    }
  }

  out.push(
    '## Method',
    '',
    '- Contenders of a group run one block each in turn, round-robin (block `b` starts at contender `b`), ' +
      "so drift hits all alike; a contender's figure is the median of its blocks' ms per step, after " +
      'a warm-up whose fastest step sets the steps per block (about the block length given).',
    `- Settings: ${Object.entries(result.settings)
      .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
      .join(', ')}.`,
    `- Optimizers: ${Object.entries(result.optimizers)
      .map(([name, settings]) => `${name} (${settings})`)
      .join('; ')}.`,
    '',
  );
  return out.join('\n');
}
