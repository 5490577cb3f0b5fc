import * as tf from '@tensorflow/tfjs-core';
import { stepVariables, type Tree, treeDispose } from '@tfopt/core';
import {
  batchSampler,
  type Dataset,
  head,
  loadMnist,
  PIXELS,
  type Split,
  type SplitSizes,
  splitDataset,
} from './data.js';
import { cosineSchedule, methodById, probe } from './methods.js';
import { createModel, crossEntropy, type Evaluation, evaluate, type ModelKind } from './models.js';
import { createRng, deriveSeed } from './rng.js';
import { rotateDataset } from './rotate.js';

/** The two studies. */
export const STUDIES = ['no-schedule', 'shift'] as const;
export type StudyName = (typeof STUDIES)[number];

/** Which samples the runs train and evaluate on. */
export interface DataConfig {
  readonly sizes: SplitSizes;
  readonly splitSeed: number;
}

/** The rotating stream: the angle changes every `every` steps. */
export interface ShiftConfig {
  readonly angles: readonly number[];
  readonly every: number;
}

/** One training run: a method at one learning rate, one seed, one model. */
export interface RunSpec {
  /** Unique within a study run; used as the run's name in the raw files. */
  readonly key: string;
  readonly study: StudyName;
  readonly model: ModelKind;
  readonly method: string;
  readonly lr: number;
  readonly seed: number;
  readonly steps: number;
  readonly batchSize: number;
  /** Steps between periodic evaluations. */
  readonly evalEvery: number;
  /** Held-out samples per periodic evaluation. */
  readonly evalSize: number;
  /** Steps averaged into one logged training loss. */
  readonly logEvery: number;
  readonly shift?: ShiftConfig;
}

/** Mean training loss over the `logEvery` steps ending at `step`. */
export interface StepLog {
  readonly step: number;
  readonly loss: number;
}

/** A periodic evaluation, with what the optimizer state showed at that point. */
export interface EvalLog {
  readonly step: number;
  /** Rotation of the evaluated data (0 in the no-schedule study). */
  readonly angle: number;
  /** Index of the stream phase this evaluation belongs to (0 in the no-schedule study). */
  readonly phase: number;
  readonly accuracy: number;
  readonly loss: number;
  /** The base learning rate's current value divided by its peak (1 when constant). */
  readonly lrFactor: number;
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
}

/** The data every run of a process shares, with rotated copies made on demand. */
export interface StudyData {
  readonly split: Split;
  trainAt(angle: number): Dataset;
  valAt(angle: number): Dataset;
  testAt(angle: number): Dataset;
}

/** Load MNIST and split it; rotated copies are computed once per angle. */
export function prepareData(config: DataConfig): StudyData {
  const split = splitDataset(loadMnist(), config.sizes, config.splitSeed);
  const train = new Map<number, Dataset>();
  const val = new Map<number, Dataset>();
  const test = new Map<number, Dataset>();
  const memo = (cache: Map<number, Dataset>, base: Dataset, angle: number): Dataset => {
    let found = cache.get(angle);
    if (found === undefined) {
      found = rotateDataset(base, angle);
      cache.set(angle, found);
    }
    return found;
  };
  return {
    split,
    trainAt: (angle) => memo(train, split.train, angle),
    valAt: (angle) => memo(val, split.val, angle),
    testAt: (angle) => memo(test, split.test, angle),
  };
}

/** The angle of the stream at a 1-based step (0 outside the shift study). */
export function angleAt(shift: ShiftConfig | undefined, step: number): number {
  if (shift === undefined) return 0;
  return phaseAt(shift, step) === -1 ? 0 : (shift.angles[phaseAt(shift, step)] as number);
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
  const ctx = { learningRate: spec.lr, totalSteps: spec.steps };
  const tx = method.build(ctx);
  const lrFactor =
    method.lrShape === 'warmup-cosine'
      ? (() => {
          const schedule = cosineSchedule(ctx);
          return (step: number) => schedule(Math.max(0, step - 1)) / spec.lr;
        })()
      : () => 1;
  const model = createModel(spec.model, deriveSeed(spec.seed, `init/${spec.model}`));
  const params = model.params as unknown as Tree;
  const names = Object.keys(model.params);
  const variables = names.map((k) => model.params[k] as tf.Variable);
  let state: unknown = tx.init(params);
  const sampler = batchSampler(
    data.split.train.size,
    spec.batchSize,
    createRng(deriveSeed(spec.seed, 'batches')),
  );

  const steps: StepLog[] = [];
  const evals: EvalLog[] = [];
  let diverged = false;
  let stepsDone = 0;
  let window = 0;
  let windowCount = 0;

  /** Evaluate at the method's evaluation parameters (Schedule-Free's x), then restore the trained ones. */
  const evaluateAt = (set: Dataset): Evaluation => {
    if (method.evalParams === undefined) return evaluate(model, set);
    const trained = variables.map((v) => tf.clone(v));
    const atEval = method.evalParams(state, params) as Record<string, tf.Tensor>;
    try {
      names.forEach((name, i) => {
        (variables[i] as tf.Variable).assign(atEval[name] as tf.Tensor);
      });
      return evaluate(model, set);
    } finally {
      variables.forEach((v, i) => {
        v.assign(trained[i] as tf.Tensor);
      });
      tf.dispose([trained, atEval as never]);
    }
  };
  const record = (step: number, angle: number, phase: number, set: Dataset): void => {
    const result = evaluateAt(head(set, spec.evalSize));
    evals.push({
      step,
      angle,
      phase,
      ...result,
      lrFactor: lrFactor(step),
      ...probe(method, state),
    });
  };
  const heldOut = (angle: number): Dataset =>
    spec.study === 'shift' ? data.testAt(angle) : data.split.val;

  try {
    record(0, angleAt(spec.shift, 1), 0, heldOut(angleAt(spec.shift, 1)));
    for (let step = 1; step <= spec.steps; step++) {
      const angle = angleAt(spec.shift, step);
      const loss = trainStep(data.trainAt(angle), sampler(), spec.batchSize);
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
        record(step, angle, phase, heldOut(angle));
        // At a shift, also measure the next distribution before training on it.
        const nextAngle = angleAt(spec.shift, step + 1);
        if (step < spec.steps && phaseAt(spec.shift, step + 1) !== phase) {
          record(step, nextAngle, phase + 1, heldOut(nextAngle));
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
      val: evaluateAt(data.valAt(lastAngle)),
      test: evaluateAt(data.testAt(lastAngle)),
    };
    return { spec, steps, evals, final, diverged, stepsDone, wallMs: performance.now() - started };
  } finally {
    treeDispose(state);
    model.dispose();
  }

  function trainStep(set: Dataset, indices: Int32Array, batchSize: number): number {
    const images = new Float32Array(batchSize * PIXELS);
    const labels = new Int32Array(batchSize);
    indices.forEach((j, i) => {
      images.set(set.images.subarray(j * PIXELS, (j + 1) * PIXELS), i * PIXELS);
      labels[i] = set.labels[j] as number;
    });
    const x = tf.tensor2d(images, [batchSize, PIXELS]);
    const y = tf.tensor1d(labels, 'int32');
    const { value, grads } = tf.variableGrads(() => crossEntropy(model.logits(x), y), variables);
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
      tf.dispose([x, y, value]);
      tf.dispose(Object.values(grads));
    }
  }
}
