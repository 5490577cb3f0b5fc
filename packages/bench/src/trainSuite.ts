/**
 * The whole training step of the experiments' MNIST models (forward,
 * backward with `tf.variableGrads`, update) with each optimizer, timed
 * interleaved on one synthetic batch of MNIST's shape.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  createModel,
  crossEntropy,
  MODEL_DESCRIPTIONS,
  type Model,
  type ModelKind,
} from '@tfopt/experiments/dist/models.js';
import { type Contender, contendersOf, makeStepper } from './contenders.js';
import { syncOn, type Timed, timeInterleaved } from './timing.js';
import type { StepPath, TrainRow } from './types.js';

/**
 * The optimizers of the training-step benchmark, per model. The CNN has few
 * parameters (its optimizer step is a small part of a slow step), so it is
 * timed with the optimizers the targets name only.
 */
export const TRAIN_OPTIMIZERS: Readonly<Record<ModelKind, readonly string[]>> = {
  mlp: ['tf.train.adam', 'adam', 'egAdam', 'sgd', 'egSgdm', 'prodigy', 'scheduleFreeAdamw'],
  cnn: ['tf.train.adam', 'adam', 'egAdam'],
};

/** The experiments' batch size. */
export const BATCH_SIZE = 64;
const PIXELS = 784;
const CLASSES = 10;

/** Settings of one training-suite run. */
export interface TrainSuiteOptions {
  readonly blocks: number;
  readonly blockMs: number;
  readonly warmupSteps: number;
  readonly log: (line: string) => void;
}

interface Running extends Timed {
  readonly contender: Contender;
  readonly params: number;
  dispose(): void;
}

function start(contender: Contender, kind: ModelKind, x: tf.Tensor2D, y: tf.Tensor1D): Running {
  const model: Model = createModel(kind, 1);
  const keys = Object.keys(model.params);
  const variables = keys.map((k) => model.params[k] as tf.Variable);
  const stepper = makeStepper(contender, model.params);
  return {
    contender,
    params: variables.reduce((sum, v) => sum + v.size, 0),
    label: contender.optimizer,
    step: () => {
      const { value, grads } = tf.variableGrads(() => crossEntropy(model.logits(x), y), variables);
      const tree: Record<string, tf.Tensor> = {};
      keys.forEach((k, i) => {
        tree[k] = grads[(variables[i] as tf.Variable).name] as tf.Tensor;
      });
      stepper.apply(tree);
      tf.dispose([value, grads]);
    },
    sync: () => syncOn(variables[0] as tf.Variable),
    dispose: () => {
      stepper.dispose();
      model.dispose();
    },
  };
}

/** Time every optimizer's training step of `kind` on the current backend. */
export function runTrainCase(kind: ModelKind, backend: string, o: TrainSuiteOptions): TrainRow[] {
  const x = tf.randomUniform([BATCH_SIZE, PIXELS], 0, 1, 'float32', 7) as tf.Tensor2D;
  const y = tf.tidy(() =>
    tf.cast(tf.floor(tf.randomUniform([BATCH_SIZE], 0, CLASSES, 'float32', 8)), 'int32'),
  ) as tf.Tensor1D;
  const running: Running[] = [];
  try {
    for (const c of contendersOf(TRAIN_OPTIMIZERS[kind])) running.push(start(c, kind, x, y));
    const params = (running[0] as Running).params;
    // A CNN step on cpu takes seconds: fewer blocks, one warm-up step.
    const slow = kind === 'cnn' && backend === 'cpu';
    const timings = timeInterleaved(running, {
      warmupSteps: slow ? 1 : o.warmupSteps,
      blocks: slow ? Math.min(o.blocks, 3) : o.blocks,
      blockMs: o.blockMs,
      maxStepsPerBlock: 200,
    });
    const adamMs = (path: StepPath): number => {
      const i = running.findIndex(
        (r) =>
          r.contender.optimizer === 'adam' &&
          r.contender.path === (path === 'tf.train' ? 'fused' : path),
      );
      return (timings[i] as { msPerStep: number }).msPerStep;
    };
    const rows = running.map(({ contender }, i): TrainRow => {
      const timing = timings[i] as (typeof timings)[number];
      return {
        backend,
        model: kind,
        description: MODEL_DESCRIPTIONS[kind],
        params,
        batchSize: BATCH_SIZE,
        optimizer: contender.optimizer,
        path: contender.path,
        ratioVsAdam: timing.msPerStep / adamMs(contender.path),
        ...timing,
      };
    });
    o.log(
      `  ${backend} ${kind}: ${rows
        .map(
          (r) =>
            `${r.optimizer}${r.path === 'tf.train' ? '' : `/${r.path[0]}`} ${r.msPerStep.toFixed(2)}`,
        )
        .join(', ')} ms`,
    );
    return rows;
  } finally {
    for (const r of running) r.dispose();
    tf.dispose([x, y]);
  }
}
