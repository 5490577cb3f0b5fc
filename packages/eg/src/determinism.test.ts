// tfjs-core registers no gradients by itself; the runs use tf.grads.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  joinPath,
  type StepResult,
  step,
  stepVariables,
  type Tree,
  treeDispose,
} from '@tfopt/core';
import { describeEachBackend } from '@tfopt/testing';
import { adam, sgd } from '@tfopt/transforms';
import { expect, it } from 'vitest';
import { egAdam, egSgdm } from './aliases.js';

// Determinism: on one backend, the same seed and inputs give the same
// trajectory bit for bit: every parameter and every state tensor, compared as
// raw bits (the Uint32 view of float32 data) by tree path, at the end and at
// points in between. And a tree is the same tree whatever the insertion order
// of its keys: leaves are paired by key and visited in sorted-key order
// (treeKeys in @tfopt/core), so params and grads built in another key order,
// or each in a different one, give bit-identical results too.

const STEPS = 200;
const SNAPSHOTS = [1, 10, 50, 100, 200];

type Key = 'w1' | 'b1' | 'w2' | 'b2';
const SHAPES: Record<Key, [number] | [number, number]> = {
  w1: [8, 16],
  b1: [16],
  w2: [16, 4],
  b2: [4],
};
/** The loss function's argument order. */
const ARGS: readonly Key[] = ['w1', 'b1', 'w2', 'b2'];
/** Two insertion orders, neither of them the sorted one (b1, b2, w1, w2). */
const ORDER_A: readonly Key[] = ['w1', 'b1', 'w2', 'b2'];
const ORDER_B: readonly Key[] = ['b2', 'w2', 'b1', 'w1'];

/** An object with `keys` inserted in the given order. */
function inOrder<T>(keys: readonly Key[], value: (key: Key) => T): Record<Key, T> {
  const out = {} as Record<Key, T>;
  for (const k of keys) out[k] = value(k);
  return out;
}

/** Seeded parameters of an 8-16-4 MLP, built with keys in `order`. */
function makeParams(order: readonly Key[]): Record<Key, tf.Tensor> {
  const seeds: Record<Key, number> = { w1: 1, b1: 2, w2: 3, b2: 4 };
  return inOrder(order, (k) => {
    const shape = SHAPES[k];
    const std = shape.length === 2 ? 1 / Math.sqrt(shape[0]) : 0.1;
    return tf.randomNormal(shape, 0, std, 'float32', seeds[k]);
  });
}

/** Seeded inputs and targets. */
function makeData(): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  return {
    xs: tf.randomNormal([32, 8], 0, 1, 'float32', 100) as tf.Tensor2D,
    ys: tf.randomNormal([32, 4], 0, 0.5, 'float32', 101) as tf.Tensor2D,
  };
}

/** Bits of a number, as hex of its float64 representation. */
function numberBits(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return `f64:${view.getUint32(0).toString(16)}${view.getUint32(4).toString(16).padStart(8, '0')}`;
}

/** One leaf's identity: dtype, shape and raw bits (Uint32 view of 4-byte data). */
interface LeafBits {
  readonly kind: string;
  readonly bits: readonly number[];
  readonly values: readonly number[];
}

/** Every tensor and number of `value`, keyed by its path (object keys visited sorted). */
function snapshot(value: unknown, path: string, out: Map<string, LeafBits>): Map<string, LeafBits> {
  if (value instanceof tf.Tensor) {
    const data = value.dataSync();
    const bits =
      data.BYTES_PER_ELEMENT === 4
        ? Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length))
        : Array.from(data as Uint8Array);
    out.set(path, {
      kind: `${value.dtype}[${value.shape.join(',')}]`,
      bits,
      values: Array.from(data as Float32Array),
    });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => {
      snapshot(v, joinPath(path, i), out);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const k of Object.keys(value).sort()) {
      snapshot((value as Record<string, unknown>)[k], joinPath(path, k), out);
    }
  } else if (typeof value === 'number') {
    out.set(path, { kind: numberBits(value), bits: [], values: [value] });
  } else {
    out.set(path, { kind: `${typeof value}:${String(value)}`, bits: [], values: [] });
  }
  return out;
}

interface Run {
  /** A snapshot of params and state after each step in SNAPSHOTS. */
  readonly snapshots: ReadonlyMap<number, Map<string, LeafBits>>;
}

interface Layout {
  /** Key order of the params tree. */
  readonly params: readonly Key[];
  /** Key order of the grads tree (rebuilt at every step). */
  readonly grads: readonly Key[];
  /** Train tf.Variables with stepVariables instead of tensors with step. */
  readonly variables?: boolean;
}

/** Train the MLP from scratch for STEPS steps with `tx`, snapshotting as it goes. */
function run(tx: GradientTransformation<unknown>, layout: Layout): Run {
  const before = tf.memory().numTensors;
  const { xs, ys } = makeData();
  const initial = makeParams(layout.params);
  let params: Record<Key, tf.Tensor> = layout.variables
    ? inOrder(layout.params, (k) => tf.variable(initial[k]))
    : initial;
  if (layout.variables) treeDispose(initial);
  const lossGrads = tf.grads((w1, b1, w2, b2) => {
    const h = tf.tanh(tf.add(tf.matMul(xs, w1 as tf.Tensor2D), b1));
    const out = tf.add(tf.matMul(h, w2 as tf.Tensor2D), b2);
    return tf.mean(tf.square(tf.sub(out, ys)));
  });
  let state = tx.init(params);
  const snapshots = new Map<number, Map<string, LeafBits>>();
  for (let i = 1; i <= STEPS; i++) {
    const list = lossGrads(ARGS.map((k) => params[k]));
    const grads = inOrder(layout.grads, (k) => list[ARGS.indexOf(k)] as tf.Tensor);
    if (layout.variables) {
      state = stepVariables(tx, params, grads, state);
      treeDispose(grads);
    } else {
      const next: StepResult<unknown> = step(tx, params, grads, state);
      treeDispose([grads, params]);
      params = next.params as Record<Key, tf.Tensor>;
      state = next.state;
    }
    if (SNAPSHOTS.includes(i)) {
      const snap = new Map<string, LeafBits>();
      snapshot(params, 'params', snap);
      snapshot(state, 'state', snap);
      snapshots.set(i, snap);
    }
  }
  treeDispose([params, state as Tree, xs, ys]);
  expect(tf.memory().numTensors, 'tensors left behind by the run').toBe(before);
  return { snapshots };
}

/** Fail at the first path, element and step where two runs differ in a single bit. */
function expectBitIdentical(actual: Run, expected: Run, label: string): void {
  for (const s of SNAPSHOTS) {
    const a = actual.snapshots.get(s)!;
    const e = expected.snapshots.get(s)!;
    expect([...a.keys()], `${label}: paths after step ${s}`).toEqual([...e.keys()]);
    for (const [path, leaf] of e) {
      const other = a.get(path)!;
      expect(other.kind, `${label}: ${path} after step ${s}`).toBe(leaf.kind);
      const i = leaf.bits.findIndex((b, j) => b !== other.bits[j]);
      if (i >= 0 || other.bits.length !== leaf.bits.length) {
        expect.fail(
          `${label}: ${path}[${i}] differs after step ${s}: ` +
            `0x${other.bits[i]?.toString(16)} (${other.values[i]}) vs ` +
            `0x${leaf.bits[i]?.toString(16)} (${leaf.values[i]})`,
        );
      }
    }
  }
}

const OPTIMIZERS: [string, () => GradientTransformation<any>][] = [
  ['egAdam', () => egAdam(1e-2)],
  ['egAdam perTensor', () => egAdam(1e-2, { scale: { perTensor: true } })],
  ['egSgdm', () => egSgdm(0.05)],
  ['egSgdm perTensor', () => egSgdm(0.05, { scale: { perTensor: true } })],
  ['adam', () => adam(1e-2)],
  ['sgd momentum', () => sgd(0.05, { momentum: 0.9 })],
];

describeEachBackend('determinism', (backend) => {
  for (const [name, build] of OPTIMIZERS) {
    it(`${name}: ${STEPS} steps, bit-identical from scratch and in any key order`, () => {
      const reference = run(build(), { params: ORDER_A, grads: ORDER_A });

      // Not vacuous: every parameter and state tensor moves over the run.
      const first = reference.snapshots.get(SNAPSHOTS[0]!)!;
      const end = reference.snapshots.get(STEPS)!;
      for (const [path, leaf] of end) {
        if (leaf.bits.length === 0) continue;
        expect(leaf.bits, `${path} moved between step 1 and ${STEPS}`).not.toEqual(
          first.get(path)!.bits,
        );
      }

      expectBitIdentical(
        run(build(), { params: ORDER_A, grads: ORDER_A }),
        reference,
        `${name} [${backend}] second run`,
      );
      expectBitIdentical(
        run(build(), { params: ORDER_B, grads: ORDER_B }),
        reference,
        `${name} [${backend}] params and grads in order ${ORDER_B.join(',')}`,
      );
      expectBitIdentical(
        run(build(), { params: ORDER_A, grads: ORDER_B }),
        reference,
        `${name} [${backend}] params in order ${ORDER_A.join(',')}, grads in ${ORDER_B.join(',')}`,
      );
      expectBitIdentical(
        run(build(), { params: ORDER_B, grads: ORDER_A, variables: true }),
        reference,
        `${name} [${backend}] tf.Variables with stepVariables, in order ${ORDER_B.join(',')}`,
      );
    });
  }
});
