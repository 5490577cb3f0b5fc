/**
 * The optimizers under test and how one step of each is applied: tf.train's
 * through `optimizer.applyGradients` on `tf.Variable`s, tfopt's through
 * `stepVariables` on the fused path (the default: fuse where possible) or
 * forced onto the composable path (`{ fused: false }`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { prodigy, scheduleFreeAdamw } from '@tfopt/contrib';
import * as core from '@tfopt/core';
import {
  collectTensors,
  type GradientTransformation,
  type StepOptions,
  stepVariables,
  treeDispose,
} from '@tfopt/core';
import { egAdam, egSgdm } from '@tfopt/eg';
import { adam, sgd } from '@tfopt/transforms';
import type { StepPath } from './types.js';

const LR = 1e-3;
// tf.train's default epsilon on cpu and wasm; tfopt's adam is given the same.
const EPS = 1e-7;
const MOMENTUM = 0.9;

/** One optimizer as the report names it, and how to build it. */
export interface OptimizerDef {
  readonly name: string;
  /** The settings, for the report. */
  readonly settings: string;
  readonly tfTrain?: () => tf.Optimizer;
  readonly tfopt?: () => GradientTransformation<any>;
}

export const OPTIMIZERS: Readonly<Record<string, OptimizerDef>> = {
  'tf.train.adam': {
    name: 'tf.train.adam',
    settings: `lr ${LR}, b1 0.9, b2 0.999, eps ${EPS}`,
    tfTrain: () => tf.train.adam(LR, 0.9, 0.999, EPS),
  },
  'tf.train.momentum': {
    name: 'tf.train.momentum',
    settings: `lr ${LR}, momentum ${MOMENTUM}`,
    tfTrain: () => tf.train.momentum(LR, MOMENTUM),
  },
  adam: { name: 'adam', settings: `lr ${LR}, eps ${EPS}`, tfopt: () => adam(LR, { eps: EPS }) },
  sgd: {
    name: 'sgd',
    settings: `lr ${LR}, momentum ${MOMENTUM}`,
    tfopt: () => sgd(LR, { momentum: MOMENTUM }),
  },
  egAdam: {
    name: 'egAdam',
    settings: `lr ${LR}, eps ${EPS}, default gains and scale`,
    tfopt: () => egAdam(LR, { eps: EPS }),
  },
  egSgdm: {
    name: 'egSgdm',
    settings: `lr ${LR}, momentum ${MOMENTUM}, default gains and scale`,
    tfopt: () => egSgdm(LR, { momentum: MOMENTUM }),
  },
  prodigy: { name: 'prodigy', settings: 'lr 1 (defaults)', tfopt: () => prodigy(1) },
  scheduleFreeAdamw: {
    name: 'scheduleFreeAdamw',
    settings: 'lr 0.0025 (defaults)',
    tfopt: () => scheduleFreeAdamw(0.0025),
  },
};

/** An optimizer on one path. */
export interface Contender {
  readonly optimizer: string;
  readonly path: StepPath;
}

/** Every tfopt optimizer of `names` on both paths, after the tf.train ones. */
export function contendersOf(names: readonly string[]): Contender[] {
  return names.flatMap((optimizer): Contender[] => {
    const def = OPTIMIZERS[optimizer];
    if (def === undefined) throw new Error(`unknown optimizer ${optimizer}`);
    if (def.tfTrain !== undefined) return [{ optimizer, path: 'tf.train' }];
    return [
      { optimizer, path: 'fused' },
      { optimizer, path: 'composable' },
    ];
  });
}

/** `optimizer (path)`, or just the name for tf.train's. */
export function contenderLabel({ optimizer, path }: Contender): string {
  return path === 'tf.train' ? optimizer : `${optimizer} (${path})`;
}

/** Applies one step's gradients (keyed like the variables) and owns the optimizer state. */
export interface Stepper {
  apply(grads: Readonly<Record<string, tf.Tensor>>): void;
  /**
   * Bytes of the distinct buffers the state holds (tensors sharing data count
   * once, which `tf.memory().numBytes` does not do); `undefined` for tf.train,
   * whose state is private (its buffers are its own, so `numBytes` counts them).
   */
  stateBytes(): number | undefined;
  dispose(): void;
}

/** Bytes of the distinct data buffers reachable in `value`. */
export function distinctBytes(value: unknown): number {
  const buffers = new Map<object, number>();
  for (const t of collectTensors(value)) {
    buffers.set(t.dataId, t.size * tf.util.bytesPerElement(t.dtype));
  }
  return [...buffers.values()].reduce((a, b) => a + b, 0);
}

// stepVariables' `fused` option (absent from older builds of @tfopt/core, which ignore it).
type FusedStepOptions = StepOptions & { readonly fused?: boolean };

type WhyNotFusable = (transform: GradientTransformation<any>) => string | undefined;
const whyNotFusable = (core as Record<string, unknown>).whyNotFusable as WhyNotFusable | undefined;

/**
 * True when this build of `@tfopt/core` has the fused path; otherwise the
 * "fused" rows ran the composable path too.
 */
export function fusedAvailable(): boolean {
  return typeof whyNotFusable === 'function' || stepVariables.toString().includes('fused');
}

/**
 * Why `optimizer` has no fused form (so its "fused" rows ran the composable
 * path), or `undefined` when it has one or the build cannot tell.
 */
export function notFusable(optimizer: string): string | undefined {
  const def = OPTIMIZERS[optimizer];
  if (def?.tfopt === undefined) return undefined;
  if (typeof whyNotFusable !== 'function') return 'this build of @tfopt/core has no fused path';
  return whyNotFusable(def.tfopt());
}

/** A stepper for `contender` over `vars` (which it updates in place but does not own). */
export function makeStepper(
  contender: Contender,
  vars: Readonly<Record<string, tf.Variable>>,
): Stepper {
  const def = OPTIMIZERS[contender.optimizer];
  if (def === undefined) throw new Error(`unknown optimizer ${contender.optimizer}`);
  if (contender.path === 'tf.train') {
    const optimizer = (def.tfTrain as () => tf.Optimizer)();
    const names = Object.entries(vars).map(([key, v]) => [key, v.name] as const);
    return {
      apply: (grads) => {
        const named: Record<string, tf.Tensor> = {};
        for (const [key, name] of names) named[name] = grads[key] as tf.Tensor;
        optimizer.applyGradients(named);
      },
      stateBytes: () => undefined,
      dispose: () => {
        optimizer.dispose();
        // tfjs 4.22: MomentumOptimizer.dispose() frees its momentum scalar but not the
        // learning-rate scalar it inherits from SGDOptimizer; free it so that the run's
        // leak check sees only what the contenders themselves leave behind.
        if (optimizer instanceof tf.MomentumOptimizer) {
          (optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
        }
      },
    };
  }
  const tx = (def.tfopt as () => GradientTransformation<any>)();
  // Omitted: the default, fuse where possible. false forces the composable path.
  const options: FusedStepOptions = contender.path === 'composable' ? { fused: false } : {};
  let state = tx.init(vars);
  return {
    apply: (grads) => {
      state = stepVariables(tx, vars, grads, state, undefined, options);
    },
    stateBytes: () => distinctBytes(state),
    dispose: () => treeDispose(state),
  };
}
