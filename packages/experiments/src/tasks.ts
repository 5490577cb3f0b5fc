import * as tf from '@tensorflow/tfjs-core';
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
import {
  type CharModelConfig,
  createCharModel,
  describeCharModel,
  evaluateChars,
} from './lm/charModel.js';
import { type CharCorpus, charCorpus, loadMobyDickText, windowSampler } from './lm/text.js';
import { createModel, crossEntropy, evaluate, MODEL_DESCRIPTIONS } from './models.js';
import { createRng, deriveSeed } from './rng.js';
import { rotateDataset } from './rotate.js';

/** The tasks a study can train on: two MNIST classifiers and a character language model. */
export const TASK_IDS = ['mlp', 'cnn', 'lm'] as const;
export type TaskId = (typeof TASK_IDS)[number];

/** How a task's headline metric reads, so summaries and findings need not know which task it is. */
export interface TaskMetric {
  /** Column title, e.g. "test accuracy %" or "test bits/char". */
  readonly name: string;
  /** Short unit for tables: "%" or "bits/char". */
  readonly unit: string;
  readonly higherIsBetter: boolean;
  /** Display multiplier (100 for a percentage) and decimals. */
  readonly scale: number;
  readonly digits: number;
  /**
   * A grid point is "near the best" when within this much (in metric units)
   * of the best tuned method: the robustness count of the grid tables.
   */
  readonly nearBest: number;
}

/** One row of the task table. A new task joins every study, table and plot by adding a row. */
export interface TaskEntry {
  readonly id: TaskId;
  readonly label: string;
  /** Which data the task reads; only MNIST tasks can run the rotating-digit shift study. */
  readonly data: 'mnist' | 'text';
  readonly metric: TaskMetric;
  /** One line for the report. */
  describe(config: DataConfig): string;
}

const ACCURACY: TaskMetric = {
  name: 'accuracy %',
  unit: '%',
  higherIsBetter: true,
  scale: 100,
  digits: 2,
  nearBest: 0.02,
};

const BITS_PER_CHAR: TaskMetric = {
  name: 'bits/char',
  unit: 'bits/char',
  higherIsBetter: false,
  scale: 1,
  digits: 3,
  nearBest: 0.05,
};

/** Every task, in table order. */
export const TASKS: readonly TaskEntry[] = [
  {
    id: 'mlp',
    label: 'MNIST MLP',
    data: 'mnist',
    metric: ACCURACY,
    describe: () => MODEL_DESCRIPTIONS.mlp,
  },
  {
    id: 'cnn',
    label: 'MNIST CNN',
    data: 'mnist',
    metric: ACCURACY,
    describe: () => MODEL_DESCRIPTIONS.cnn,
  },
  {
    id: 'lm',
    label: 'Moby Dick char-LM',
    data: 'text',
    metric: BITS_PER_CHAR,
    describe: (config) => describeCharModel(config.lm.model),
  },
];

/** The entry with this id; throws listing the known ids otherwise. */
export function taskById(id: string): TaskEntry {
  const found = TASKS.find((t) => t.id === id);
  if (found === undefined) {
    throw new RangeError(`unknown task "${id}"; known: ${TASKS.map((t) => t.id).join(', ')}`);
  }
  return found;
}

/** The character corpus and model of the language-model task. */
export interface LmDataConfig {
  readonly corpus: {
    readonly valFraction: number;
    readonly testFraction: number;
    /** Keep only the first characters (tests); default the whole book. */
    readonly maxChars?: number;
  };
  readonly model: CharModelConfig;
}

/** Which samples and text the runs train and evaluate on; every worker prepares the same. */
export interface DataConfig {
  readonly mnist: { readonly sizes: SplitSizes; readonly splitSeed: number };
  readonly lm: LmDataConfig;
}

/** The data every run of a process shares, loaded on first use; rotated digits are made once per angle. */
export interface StudyData {
  readonly config: DataConfig;
  mnist(): Split;
  mnistAt(part: 'train' | 'val' | 'test', angle: number): Dataset;
  corpus(): CharCorpus;
}

/** Prepare the data lazily: a process that runs only MNIST never reads the book, and the reverse. */
export function prepareData(config: DataConfig): StudyData {
  let split: Split | undefined;
  let corpus: CharCorpus | undefined;
  const rotated = new Map<string, Dataset>();
  const mnist = (): Split => {
    split ??= splitDataset(loadMnist(), config.mnist.sizes, config.mnist.splitSeed);
    return split;
  };
  return {
    config,
    mnist,
    mnistAt: (part, angle) => {
      const key = `${part}/${angle}`;
      let found = rotated.get(key);
      if (found === undefined) {
        found = rotateDataset(mnist()[part], angle);
        rotated.set(key, found);
      }
      return found;
    },
    corpus: () => {
      corpus ??= charCorpus(loadMobyDickText(), config.lm.corpus);
      return corpus;
    },
  };
}

/** A held-out measurement: the task's metric, its mean loss, and the share of right predictions. */
export interface Evaluation {
  /** Accuracy for MNIST, bits per character for the language model. */
  readonly metric: number;
  /** Mean cross-entropy in nats. */
  readonly loss: number;
  /** Share of samples (digits) or characters predicted right. */
  readonly accuracy: number;
}

/** What a run of a task needs: a model, its seeded batches and its held-out data. */
export interface TaskRun {
  /** Trainable variables by name (the optimizer's tree). */
  readonly params: Readonly<Record<string, tf.Variable>>;
  /** The loss of the next training batch, drawn from the data at `angle`; the caller disposes. */
  batchLoss(angle: number): { readonly loss: () => tf.Scalar; dispose(): void };
  /** Evaluate the current params on `size` held-out samples or windows (all when undefined). */
  evaluate(part: 'val' | 'test', angle: number, size?: number): Evaluation;
  /** How many samples or windows `evaluate(part, angle, size)` covers. */
  heldOutSize(part: 'val' | 'test', size?: number): number;
  /** What a model that knows nothing scores (counted for a run whose evaluation is not finite). */
  readonly chance: Evaluation;
  dispose(): void;
}

/** How a run draws its batches: task, seed and batch size. */
export interface TaskRunSpec {
  readonly task: TaskId;
  readonly seed: number;
  readonly batchSize: number;
}

/**
 * Build the model of `spec.task` from its seed, with its own batch stream
 * (seeded separately from the initialisation). Owns the model's variables
 * until `dispose`.
 */
export function openTask(spec: TaskRunSpec, data: StudyData): TaskRun {
  const task = taskById(spec.task);
  return task.data === 'mnist' ? openMnist(spec, data) : openText(spec, data);
}

function openMnist(spec: TaskRunSpec, data: StudyData): TaskRun {
  const kind = spec.task === 'cnn' ? 'cnn' : 'mlp';
  const model = createModel(kind, deriveSeed(spec.seed, `init/${kind}`));
  const train = data.mnist().train;
  const sampler = batchSampler(
    train.size,
    spec.batchSize,
    createRng(deriveSeed(spec.seed, 'batches')),
  );
  const n = spec.batchSize;
  return {
    params: model.params,
    batchLoss: (angle) => {
      const set = data.mnistAt('train', angle);
      const images = new Float32Array(n * PIXELS);
      const labels = new Int32Array(n);
      sampler().forEach((j, i) => {
        images.set(set.images.subarray(j * PIXELS, (j + 1) * PIXELS), i * PIXELS);
        labels[i] = set.labels[j] as number;
      });
      const x = tf.tensor2d(images, [n, PIXELS]);
      const y = tf.tensor1d(labels, 'int32');
      return {
        loss: () => crossEntropy(model.logits(x), y),
        dispose: () => tf.dispose([x, y]),
      };
    },
    evaluate: (part, angle, size) => {
      const set = data.mnistAt(part, angle);
      const result = evaluate(model, size === undefined ? set : head(set, size));
      return { metric: result.accuracy, loss: result.loss, accuracy: result.accuracy };
    },
    heldOutSize: (part, size) =>
      Math.min(size ?? Number.POSITIVE_INFINITY, data.mnist()[part].size),
    chance: { metric: 0.1, loss: Math.log(10), accuracy: 0.1 },
    dispose: () => model.dispose(),
  };
}

function openText(spec: TaskRunSpec, data: StudyData): TaskRun {
  const corpus = data.corpus();
  const { model: config } = data.config.lm;
  const vocab = corpus.vocab.length;
  const model = createCharModel(config, vocab, deriveSeed(spec.seed, 'init/lm'));
  const sampler = windowSampler(
    corpus.train,
    config.context,
    spec.batchSize,
    createRng(deriveSeed(spec.seed, 'batches')),
  );
  return {
    params: model.params,
    batchLoss: () => {
      const batch = sampler();
      const x = tf.tensor2d(batch.inputs, [spec.batchSize, config.context], 'int32');
      const y = tf.tensor2d(batch.targets, [spec.batchSize, config.context], 'int32');
      return { loss: () => model.loss(x, y), dispose: () => tf.dispose([x, y]) };
    },
    evaluate: (part, _angle, size) => {
      const result = evaluateChars(model, corpus[part], config.context, size);
      return { metric: result.bitsPerChar, loss: result.loss, accuracy: result.accuracy };
    },
    heldOutSize: (part, size) =>
      Math.min(
        size ?? Number.POSITIVE_INFINITY,
        Math.floor((corpus[part].length - 1) / config.context),
      ),
    chance: { metric: Math.log2(vocab), loss: Math.log(vocab), accuracy: 1 / vocab },
    dispose: () => model.dispose(),
  };
}
