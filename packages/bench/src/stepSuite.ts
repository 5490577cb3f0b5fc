/**
 * The optimizer step alone: fixed gradients, `tf.Variable`s updated in
 * place, each group of contenders timed interleaved against its tf.train
 * reference.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type SizeCase, sizeLabel } from './args.js';
import { type Contender, contendersOf, makeStepper, type Stepper } from './contenders.js';
import { syncOn, type Timed, timeInterleaved } from './timing.js';
import { bytesPerParam, trafficOf } from './traffic.js';
import type { StepRow } from './types.js';

/** Contenders compared with each other: one tf.train reference and the tfopt optimizers beside it. */
export interface StepGroup {
  readonly group: string;
  readonly reference: string;
  readonly optimizers: readonly string[];
}

export const STEP_GROUPS: readonly StepGroup[] = [
  { group: 'adam', reference: 'tf.train.adam', optimizers: ['tf.train.adam', 'adam', 'egAdam'] },
  {
    group: 'momentum',
    reference: 'tf.train.momentum',
    optimizers: ['tf.train.momentum', 'sgd', 'egSgdm'],
  },
  {
    group: 'peers',
    reference: 'tf.train.adam',
    optimizers: ['tf.train.adam', 'prodigy', 'scheduleFreeAdamw'],
  },
];

/** Settings of one step-suite run. */
export interface StepSuiteOptions {
  readonly blocks: number;
  readonly blockMs: number;
  readonly warmupSteps: number;
  readonly log: (line: string) => void;
  /** Told of a group that failed (the other groups still run). */
  readonly onError: (message: string) => void;
}

let serial = 0;

/** The case's variables, all drawn from one seed (so every contender starts alike). */
function makeVariables(layout: SizeCase): Record<string, tf.Variable> {
  const vars: Record<string, tf.Variable> = {};
  const width = String(layout.tensors - 1).length;
  for (let i = 0; i < layout.tensors; i++) {
    const key = `w${String(i).padStart(width, '0')}`;
    vars[key] = tf.tidy(() =>
      tf.variable(
        tf.randomNormal([layout.size], 0, 0.05, 'float32', i + 1),
        true,
        `bench/${key}/${serial++}`,
      ),
    );
  }
  return vars;
}

function makeGradients(layout: SizeCase): Record<string, tf.Tensor> {
  const grads: Record<string, tf.Tensor> = {};
  const width = String(layout.tensors - 1).length;
  for (let i = 0; i < layout.tensors; i++) {
    grads[`w${String(i).padStart(width, '0')}`] = tf.randomNormal(
      [layout.size],
      0,
      0.01,
      'float32',
      1000 + i,
    );
  }
  return grads;
}

interface Running extends Timed {
  readonly contender: Contender;
  readonly stateBytes: number;
  dispose(): void;
}

/** Build one contender with its own variables; two steps create any lazily built state. */
function start(
  contender: Contender,
  layout: SizeCase,
  grads: Readonly<Record<string, tf.Tensor>>,
): Running {
  const vars = makeVariables(layout);
  const before = tf.memory().numBytes;
  const stepper: Stepper = makeStepper(contender, vars);
  stepper.apply(grads);
  stepper.apply(grads);
  const stateBytes = stepper.stateBytes() ?? tf.memory().numBytes - before;
  const first = Object.values(vars)[0] as tf.Variable;
  return {
    contender,
    stateBytes,
    label: contender.optimizer,
    step: () => stepper.apply(grads),
    sync: () => syncOn(first),
    dispose: () => {
      stepper.dispose();
      tf.dispose(Object.values(vars));
    },
  };
}

/** A step row before the copy bandwidth is known (it is measured around the whole run). */
export type MeasuredStep = Omit<StepRow, 'gbPerSec' | 'fractionOfCopy'>;

/** Time every group on `layout` on the current backend. */
export function runStepCase(
  layout: SizeCase,
  backend: string,
  o: StepSuiteOptions,
): MeasuredStep[] {
  const params = layout.tensors * layout.size;
  // At 1e7 parameters a composable step takes seconds on cpu: fewer blocks (of one step each)
  // and one warm-up step.
  const large = params >= 1e7;
  const blocks = large ? Math.min(o.blocks, backend === 'cpu' ? 3 : 5) : o.blocks;
  const warmupSteps = large ? 1 : o.warmupSteps;
  const rows: MeasuredStep[] = [];
  for (const group of STEP_GROUPS) {
    const grads = makeGradients(layout);
    const running: Running[] = [];
    try {
      for (const c of contendersOf(group.optimizers)) running.push(start(c, layout, grads));
      const timings = timeInterleaved(running, {
        warmupSteps,
        blocks,
        blockMs: o.blockMs,
        maxStepsPerBlock: 200,
      });
      const refIndex = running.findIndex((r) => r.contender.optimizer === group.reference);
      const refMs = (timings[refIndex] as { msPerStep: number }).msPerStep;
      running.forEach(({ contender, stateBytes }, i) => {
        const timing = timings[i] as (typeof timings)[number];
        const bytes = bytesPerParam(trafficOf(contender.optimizer));
        rows.push({
          backend,
          case: sizeLabel(layout),
          params,
          tensors: layout.tensors,
          group: group.group,
          optimizer: contender.optimizer,
          path: contender.path,
          reference: group.reference,
          ratio: timing.msPerStep / refMs,
          bytesPerParam: bytes,
          stateBytesPerParam: stateBytes / params,
          ...timing,
        });
      });
    } catch (e) {
      o.onError(
        `${backend} ${sizeLabel(layout)} ${group.group} group failed: ${e instanceof Error ? e.message : e}`,
      );
      continue;
    } finally {
      for (const r of running) r.dispose();
      tf.dispose(Object.values(grads));
    }
    const line = rows
      .filter((r) => r.group === group.group && r.case === sizeLabel(layout))
      .map(
        (r) =>
          `${r.optimizer}${r.path === 'tf.train' ? '' : `/${r.path[0]}`} ${r.msPerStep.toFixed(3)}`,
      )
      .join(', ');
    o.log(`  ${backend} ${sizeLabel(layout)} ${group.group}: ${line} ms`);
  }
  return rows;
}
