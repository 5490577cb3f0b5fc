/**
 * Interleaved timing: every contender runs one block in turn, round-robin,
 * so that drift (other processes, clock changes, heap growth) hits all of
 * them alike; each contender's figure is the median of its blocks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { median } from './traffic.js';
import type { Timing } from './types.js';

/** Something to time: one step, and a cheap read-back that waits for it. */
export interface Timed {
  readonly label: string;
  step(): void;
  /** Wait for pending work (a one-element read-back). */
  sync(): void;
}

/** Settings of {@link timeInterleaved}. */
export interface TimingOptions {
  readonly warmupSteps: number;
  readonly blocks: number;
  /** Steps per block are chosen so that a block lasts about this long. */
  readonly blockMs: number;
  readonly maxStepsPerBlock: number;
}

/**
 * Run a full garbage collection when Node was started with `--expose-gc`
 * (the bench script does), so that a contender that frees large buffers
 * (tf.train's per-step intermediates) does not leave its collection to be
 * timed in the next contender's block.
 */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') gc();
}

/** Steps per block for a contender whose step takes `msPerStep`. */
export function stepsPerBlock(msPerStep: number, blockMs: number, max: number): number {
  if (!(msPerStep > 0)) return max;
  return Math.min(max, Math.max(1, Math.round(blockMs / msPerStep)));
}

/**
 * Warm up each contender (its fastest warm-up step sets its steps per
 * block), then time `blocks` rounds; round `b` starts at contender `b` so
 * that no contender always runs right after the same one.
 */
export function timeInterleaved(items: readonly Timed[], options: TimingOptions): Timing[] {
  const steps = items.map((item) => {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < Math.max(1, options.warmupSteps); i++) {
      const t0 = performance.now();
      item.step();
      item.sync();
      best = Math.min(best, performance.now() - t0);
    }
    return stepsPerBlock(best, options.blockMs, options.maxStepsPerBlock);
  });
  const blockMs: number[][] = items.map(() => []);
  const growth = items.map(() => 0);
  for (let b = 0; b < options.blocks; b++) {
    for (let k = 0; k < items.length; k++) {
      const i = (b + k) % items.length;
      const item = items[i] as Timed;
      const n = steps[i] as number;
      collectGarbage();
      const before = tf.memory().numTensors;
      const t0 = performance.now();
      for (let s = 0; s < n; s++) item.step();
      item.sync();
      const ms = performance.now() - t0;
      (blockMs[i] as number[]).push(ms / n);
      growth[i] = (growth[i] as number) + tf.memory().numTensors - before;
    }
  }
  return items.map((_, i) => ({
    msPerStep: median(blockMs[i] as number[]),
    blockMs: blockMs[i] as number[],
    stepsPerBlock: steps[i] as number,
    tensorGrowth: growth[i] as number,
  }));
}

/**
 * Wait for `t` by reading back one element (not the whole tensor). On wasm a
 * gather: tfjs's wasm slice first copies its whole input out of the heap
 * (about 15 ms for 1e6 floats), which would dwarf a fused step.
 */
export function syncOn(t: tf.Tensor): void {
  const one = tf.tidy(() => {
    const flat = tf.reshape(t, [-1]);
    return tf.getBackend() === 'wasm' ? tf.gather(flat, [0]) : tf.slice(flat, 0, 1);
  });
  one.dataSync();
  one.dispose();
}
