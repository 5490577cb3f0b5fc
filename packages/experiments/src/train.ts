import * as tf from '@tensorflow/tfjs-core';
import { stepVariables, type Tree, treeDispose } from '@tfopt/core';
import { cosineSchedule, type EgRates, methodById, probe, warmupSteps } from './methods.js';
import { type Evaluation, openTask, type StudyData, type TaskId } from './tasks.js';

/**
 * The studies: the learning-rate grid (which also gives the tuning cost),
 * EG's own rates, the long horizon, and the rotating-digit stream.
 */
export const STUDIES = ['grid', 'eg-rates', 'long', 'shift'] as const;
export type StudyName = (typeof STUDIES)[number];

/** The rotating stream: the angle changes every `every` steps. */
export interface ShiftConfig {
  readonly angles: readonly number[];
  readonly every: number;
}

/** One training run: a method at one learning rate, one seed, one task. */
export interface RunSpec {
  /** Unique within a study run; used as the run's name in the raw files. */
  readonly key: string;
  readonly study: StudyName;
  readonly task: TaskId;
  readonly method: string;
  readonly lr: number;
  readonly seed: number;
  readonly steps: number;
  /** Samples (digits) or windows (text) per step. */
  readonly batchSize: number;
  /** Steps between periodic evaluations. */
  readonly evalEvery: number;
  /** Held-out samples (digits) or windows (text) per periodic evaluation. */
  readonly evalSize: number;
  /** Held-out samples or windows of the final evaluations; all when absent. */
  readonly finalEvalSize?: number;
  /** Steps averaged into one logged training loss. */
  readonly logEvery: number;
  readonly shift?: ShiftConfig;
  /** EG's own rates, when the run sets them (the EG-rates study). */
  readonly egRates?: EgRates;
}

/** Mean training loss over the `logEvery` steps ending at `step`. */
export interface StepLog {
  readonly step: number;
  readonly loss: number;
}

/** A periodic evaluation, with what the optimizer state showed at that point. */
export interface EvalLog extends Evaluation {
  readonly step: number;
  /** Rotation of the evaluated data (0 outside the shift study). */
  readonly angle: number;
  /** Index of the stream phase this evaluation belongs to (0 outside the shift study). */
  readonly phase: number;
  /** The base learning rate's current value divided by its peak (1 when constant). */
  readonly lrFactor: number;
  /** The learned step-size quantity of the method, if it has one (see `Probe.scale`). */
  readonly scale?: number;
  readonly gainMean?: number;
  readonly gainMin?: number;
  readonly gainMax?: number;
}

/** Everything a run measured. */
export interface RunResult {
  readonly spec: RunSpec;
  readonly steps: StepLog[];
  readonly evals: EvalLog[];
  /** Final validation and test results (on the last angle in the shift study). */
  readonly final: { readonly val: Evaluation; readonly test: Evaluation };
  /** True when the training loss became NaN or infinite; the run stopped there. */
  readonly diverged: boolean;
  /** Steps actually taken. */
  readonly stepsDone: number;
  readonly wallMs: number;
  /** Time spent in held-out evaluations, and the samples or windows they covered (for cost estimates). */
  readonly evalMs: number;
  readonly evalItems: number;
}

/** The angle of the stream at a 1-based step (0 outside the shift study). */
export function angleAt(shift: ShiftConfig | undefined, step: number): number {
  if (shift === undefined) return 0;
  return shift.angles[phaseAt(shift, step)] as number;
}

/** The stream phase of a 1-based step: phase k covers steps k*every+1 ... (k+1)*every. */
export function phaseAt(shift: ShiftConfig | undefined, step: number): number {
  if (shift === undefined) return 0;
  return Math.min(shift.angles.length - 1, Math.max(0, Math.floor((step - 1) / shift.every)));
}

/** Progress callback: steps done so far in this run. */
export type OnProgress = (stepsDone: number) => void;

/** How often the loop yields to the event loop, so signals and progress bars get a turn. */
const YIELD_EVERY = 25;

/**
 * Train one configuration and measure it. Owns every tensor it creates:
 * the model, batches, gradients and optimizer state are released before it
 * returns (also when it throws).
 */
export async function runOne(
  spec: RunSpec,
  data: StudyData,
  onProgress?: OnProgress,
): Promise<RunResult> {
  const started = performance.now();
  const method = methodById(spec.method);
  const ctx = { learningRate: spec.lr, totalSteps: spec.steps, egRates: spec.egRates };
  const tx = method.build(ctx);
  const lrFactor = ((): ((step: number) => number) => {
    if (method.lrShape === 'warmup-cosine') {
      const schedule = cosineSchedule(ctx);
      return (step) => schedule(Math.max(0, step - 1)) / spec.lr;
    }
    if (method.lrShape === 'warmup') {
      const warmup = warmupSteps(spec.steps);
      return (step) => Math.min(1, step / warmup);
    }
    return () => 1;
  })();
  const task = openTask(spec, data);
  const params = task.params as unknown as Tree;
  const names = Object.keys(task.params);
  const variables = names.map((k) => task.params[k] as tf.Variable);
  let state: unknown = tx.init(params);

  const steps: StepLog[] = [];
  const evals: EvalLog[] = [];
  let diverged = false;
  let stepsDone = 0;
  let window = 0;
  let windowCount = 0;
  let evalMs = 0;
  let evalItems = 0;

  /** A finite evaluation, or chance level (a run whose parameters blew up knows nothing). */
  const finite = (e: Evaluation): Evaluation =>
    Number.isFinite(e.metric) && Number.isFinite(e.loss) ? e : task.chance;
  /** Evaluate at the method's evaluation parameters (Schedule-Free's x), then restore the trained ones. */
  const evaluateAt = (part: 'val' | 'test', angle: number, size?: number): Evaluation => {
    const t0 = performance.now();
    try {
      return evaluateAtParams(part, angle, size);
    } finally {
      evalMs += performance.now() - t0;
      evalItems += task.heldOutSize(part, size);
    }
  };
  const evaluateAtParams = (part: 'val' | 'test', angle: number, size?: number): Evaluation => {
    if (method.evalParams === undefined) return finite(task.evaluate(part, angle, size));
    const trained = variables.map((v) => tf.clone(v));
    const atEval = method.evalParams(state, params) as Record<string, tf.Tensor>;
    try {
      names.forEach((name, i) => {
        (variables[i] as tf.Variable).assign(atEval[name] as tf.Tensor);
      });
      return finite(task.evaluate(part, angle, size));
    } finally {
      variables.forEach((v, i) => {
        v.assign(trained[i] as tf.Tensor);
      });
      tf.dispose([trained, atEval as never]);
    }
  };
  // Periodic evaluations: validation data, except in the stream, which follows held-out test
  // digits at the current angle (the validation digits are for choosing learning rates).
  const heldOut = spec.study === 'shift' ? 'test' : 'val';
  const record = (step: number, angle: number, phase: number): void => {
    evals.push({
      step,
      angle,
      phase,
      ...evaluateAt(heldOut, angle, spec.evalSize),
      lrFactor: lrFactor(step),
      ...probe(method, state),
    });
  };

  try {
    record(0, angleAt(spec.shift, 1), 0);
    for (let step = 1; step <= spec.steps; step++) {
      const angle = angleAt(spec.shift, step);
      const loss = trainStep(angle);
      stepsDone = step;
      window += loss;
      windowCount++;
      if (!Number.isFinite(loss)) {
        diverged = true;
        steps.push({ step, loss });
        break;
      }
      if (step % spec.logEvery === 0 || step === spec.steps) {
        steps.push({ step, loss: window / windowCount });
        window = 0;
        windowCount = 0;
      }
      if (step % spec.evalEvery === 0 || step === spec.steps) {
        const phase = phaseAt(spec.shift, step);
        record(step, angle, phase);
        // At a shift, also measure the next distribution before training on it.
        if (step < spec.steps && phaseAt(spec.shift, step + 1) !== phase) {
          record(step, angleAt(spec.shift, step + 1), phase + 1);
        }
      }
      if (step % YIELD_EVERY === 0) {
        onProgress?.(step);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    onProgress?.(stepsDone);
    const lastAngle = angleAt(spec.shift, Math.max(1, stepsDone));
    const final = {
      val: evaluateAt('val', lastAngle, spec.finalEvalSize),
      test: evaluateAt('test', lastAngle, spec.finalEvalSize),
    };
    const wallMs = performance.now() - started;
    return { spec, steps, evals, final, diverged, stepsDone, wallMs, evalMs, evalItems };
  } finally {
    treeDispose(state);
    task.dispose();
  }

  function trainStep(angle: number): number {
    const batch = task.batchLoss(angle);
    const { value, grads } = tf.variableGrads(batch.loss, variables);
    try {
      const loss = value.dataSync()[0] as number;
      if (Number.isFinite(loss)) {
        const tree: Record<string, tf.Tensor> = {};
        names.forEach((name, i) => {
          tree[name] = grads[(variables[i] as tf.Variable).name] as tf.Tensor;
        });
        state = stepVariables(tx, params, tree, state);
      }
      return loss;
    } finally {
      batch.dispose();
      tf.dispose([value]);
      tf.dispose(Object.values(grads));
    }
  }
}
