import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

// Shared by the soak tests (packages/eg/src/soak.test.ts with stepVariables,
// packages/layers/src/soak.test.ts through TransformOptimizer): the run
// length, the fixed data, and the check that memory stayed exactly flat.

/** Memory is measured (and the loss read) every this many steps. */
export const SOAK_CHECK_EVERY = 500;

/**
 * Steps per soak run: `TFOPT_SOAK_STEPS` (a multiple of {@link SOAK_CHECK_EVERY};
 * `npm run soak` sets 20,000), else 2,000 so `npm test` stays fast.
 */
export function soakSteps(): number {
  const raw = process.env.TFOPT_SOAK_STEPS;
  if (raw === undefined || raw.trim() === '') return 2000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < SOAK_CHECK_EVERY || n % SOAK_CHECK_EVERY !== 0) {
    throw new Error(`TFOPT_SOAK_STEPS must be a multiple of ${SOAK_CHECK_EVERY}, got "${raw}"`);
  }
  return n;
}

/** Per-test timeout for a soak of `steps` steps: the shared 120 s, or 20 ms a step. */
export function soakTimeout(steps: number): number {
  return Math.max(120_000, steps * 20);
}

/** Deterministic numbers in [-1, 1), the same on every backend. */
export function lcgNumbers(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

/** 64 fixed inputs in 8 dimensions and the targets of a fixed teacher, y = sin(x·A) in 4. */
export function soakData(): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  const [n, din, dout] = [64, 8, 4];
  const x = lcgNumbers(n * din, 1);
  const a = lcgNumbers(din * dout, 2);
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dout; j++) {
      let dot = 0;
      for (let k = 0; k < din; k++) dot += (x[i * din + k] as number) * (a[k * dout + j] as number);
      y.push(Math.sin(dot));
    }
  }
  return { xs: tf.tensor2d(x, [n, din]), ys: tf.tensor2d(y, [n, dout]) };
}

/** Memory and loss at one step of a soak run. */
export interface SoakCheckpoint {
  readonly step: number;
  readonly numTensors: number;
  readonly numBytes: number;
  readonly loss: number;
}

/** What a soak run measured. */
export interface SoakResult {
  /** The loss before the first update. */
  readonly initialLoss: number;
  /** After the warm-up, then every SOAK_CHECK_EVERY steps and after the last step. */
  readonly checkpoints: readonly SoakCheckpoint[];
  /** Live tensors before the run created anything, and after it freed everything. */
  readonly tensorsBefore: number;
  readonly tensorsAfter: number;
  readonly seconds: number;
}

/**
 * Print one line about the run, then assert: `steps` steps done, tensors and
 * bytes equal to the baseline at every checkpoint, everything freed at the
 * end, a finite loss throughout that ends below a quarter of where it began.
 */
export function expectSoakHeld(label: string, r: SoakResult, steps: number): void {
  const base = r.checkpoints[0] as SoakCheckpoint;
  const last = r.checkpoints[r.checkpoints.length - 1] as SoakCheckpoint;
  const lowest = r.checkpoints.reduce((m, c) => (c.loss < m.loss ? c : m));
  console.log(
    `[soak] ${label}: ${last.step} steps in ${r.seconds.toFixed(1)} s; ` +
      `numTensors ${base.numTensors} (step ${base.step}) -> ${last.numTensors}, ` +
      `numBytes ${base.numBytes} -> ${last.numBytes}; ` +
      `loss ${r.initialLoss.toPrecision(6)} -> ${last.loss.toPrecision(6)} ` +
      `(lowest ${lowest.loss.toPrecision(6)} at step ${lowest.step})`,
  );
  expect(last.step).toBe(steps);
  // Exactly flat: every checkpoint holds the baseline's tensors and bytes.
  const at = (key: 'numTensors' | 'numBytes') =>
    r.checkpoints.map((c) => `step ${c.step}: ${c[key]}`);
  const flat = (key: 'numTensors' | 'numBytes') =>
    r.checkpoints.map((c) => `step ${c.step}: ${base[key]}`);
  expect(at('numTensors')).toEqual(flat('numTensors'));
  expect(at('numBytes')).toEqual(flat('numBytes'));
  expect(r.tensorsAfter).toBe(r.tensorsBefore);
  expect(Number.isFinite(r.initialLoss)).toBe(true);
  for (const c of r.checkpoints) {
    expect(Number.isFinite(c.loss), `loss at step ${c.step} is ${c.loss}`).toBe(true);
  }
  expect(last.loss).toBeLessThan(0.25 * r.initialLoss);
}
