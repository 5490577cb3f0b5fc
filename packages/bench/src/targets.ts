/** The speed targets of the run, each judged MET / NOT MET from the measured rows. Pure. */
import type { StepPath, StepRow, TargetRow, TargetStatus, TrainRow } from './types.js';

const TARGET_CASE = '1 × 1e6';
const MANY_CASE = '100 × 1e4';
const LARGE_CASE = '1 × 1e7';

function findStep(
  steps: readonly StepRow[],
  backend: string,
  layout: string,
  group: string,
  optimizer: string,
  path: StepPath,
): StepRow | undefined {
  return steps.find(
    (r) =>
      r.backend === backend &&
      r.case === layout &&
      r.group === group &&
      r.optimizer === optimizer &&
      r.path === path,
  );
}

function verdict(value: number | null, ok: (v: number) => boolean): TargetStatus {
  if (value === null || !Number.isFinite(value)) return 'NOT MEASURED';
  return ok(value) ? 'MET' : 'NOT MET';
}

/** `a.msPerStep / b.msPerStep`, or null when either is missing. */
function timeRatio(a: { msPerStep: number } | undefined, b: { msPerStep: number } | undefined) {
  return a === undefined || b === undefined ? null : a.msPerStep / b.msPerStep;
}

/**
 * Evaluate every target on every backend of the run:
 * - `stepVariables(adam)` (fused, the default) at least 20× faster than
 *   tf.train.adam on cpu and 3× on wasm, at 1e6 parameters;
 * - egAdam at most 1.5× adam's step, fused and composable, at 1e6;
 * - the whole MNIST training step with egAdam at most 1.10× adam's;
 * - composable adam no slower than tf.train.adam (1e6 in one tensor and in 100);
 * - fused adam at 1e7 parameters at least 25% of the copy bandwidth.
 */
export function evaluateTargets(
  steps: readonly StepRow[],
  training: readonly TrainRow[],
  backends: readonly string[],
): TargetRow[] {
  const rows: TargetRow[] = [];
  const push = (
    target: string,
    backend: string,
    measure: string,
    value: number | null,
    bound: string,
    ok: (v: number) => boolean,
  ) => rows.push({ target, backend, measure, value, bound, status: verdict(value, ok) });

  for (const backend of backends) {
    const speedup = backend === 'cpu' ? 20 : 3;
    const ref = findStep(steps, backend, TARGET_CASE, 'adam', 'tf.train.adam', 'tf.train');
    const fused = findStep(steps, backend, TARGET_CASE, 'adam', 'adam', 'fused');
    const r = timeRatio(ref, fused);
    push(
      `stepVariables(adam) ≥ ${speedup}× faster than tf.train.adam (1e6)`,
      backend,
      'tf.train.adam / adam (fused)',
      r,
      `≥ ${speedup}`,
      (v) => v >= speedup,
    );
  }
  for (const backend of backends) {
    for (const path of ['fused', 'composable'] as const) {
      const eg = findStep(steps, backend, TARGET_CASE, 'adam', 'egAdam', path);
      const base = findStep(steps, backend, TARGET_CASE, 'adam', 'adam', path);
      push(
        'egAdam step ≤ 1.5× adam step (1e6)',
        backend,
        `egAdam / adam (${path})`,
        timeRatio(eg, base),
        '≤ 1.5',
        (v) => v <= 1.5,
      );
    }
  }
  const models = [...new Set(training.map((t) => t.model))];
  for (const backend of backends) {
    for (const model of models) {
      for (const path of ['fused', 'composable'] as const) {
        const eg = training.find(
          (t) =>
            t.backend === backend &&
            t.model === model &&
            t.optimizer === 'egAdam' &&
            t.path === path,
        );
        push(
          `MNIST ${model} training step with egAdam ≤ 1.10× adam`,
          backend,
          `egAdam / adam (${path})`,
          eg === undefined ? null : eg.ratioVsAdam,
          '≤ 1.10',
          (v) => v <= 1.1,
        );
      }
    }
  }
  for (const backend of backends) {
    for (const layout of [TARGET_CASE, MANY_CASE]) {
      const ref = findStep(steps, backend, layout, 'adam', 'tf.train.adam', 'tf.train');
      const composable = findStep(steps, backend, layout, 'adam', 'adam', 'composable');
      push(
        `composable adam no slower than tf.train.adam (${layout})`,
        backend,
        'adam (composable) / tf.train.adam',
        timeRatio(composable, ref),
        '≤ 1.00',
        (v) => v <= 1,
      );
    }
  }
  for (const backend of backends) {
    const fused = findStep(steps, backend, LARGE_CASE, 'adam', 'adam', 'fused');
    push(
      'fused adam step ≥ 25% of copy bandwidth (1e7)',
      backend,
      'step GB/s / copy GB/s',
      fused === undefined ? null : fused.fractionOfCopy,
      '≥ 0.25',
      (v) => v >= 0.25,
    );
  }
  return rows;
}
