/** The machine and software a run measured on. */
import { arch, cpus, release, totalmem, type } from 'node:os';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import type { Machine } from './types.js';

export function describeMachine(backends: readonly string[]): Machine {
  const list = cpus();
  return {
    os: `${type()} ${release()} ${arch()}`,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpuCount: list.length,
    memoryGiB: totalmem() / 2 ** 30,
    node: process.version,
    tfjs: `tfjs-core ${tf.version_core}, tfjs-backend-wasm ${version_wasm}`,
    backends,
  };
}
