import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  step,
  stepVariables,
  type Tree,
  treeDispose,
  treeFlatten,
} from '@tfopt/core';
import { describe, expect, it } from 'vitest';
import { describeEachBackend } from './backends.js';
import { stateSignature, values } from './compare.js';

/** One row of the optimizer table: how to build it for each problem. */
export interface OptimizerCase {
  /** Name shown in the test titles. */
  name: string;
  /** Build the transform for the parabola problem. */
  parabola: () => GradientTransformation<any>;
  /** Build the transform for the Rosenbrock problem. */
  rosenbrock: () => GradientTransformation<any>;
  /** Steps allowed for each problem (defaults 500 and 2000). */
  parabolaSteps?: number;
  rosenbrockSteps?: number;
  /** Distance to the optimum that counts as converged (default 1e-2 and 5e-2). */
  parabolaTol?: number;
  rosenbrockTol?: number;
}

type Loss = (params: Record<string, tf.Tensor>) => tf.Scalar;

/** Minimise `loss` from `start` for `steps` steps, returning final params as arrays. */
export function runProblem(
  tx: GradientTransformation<any>,
  loss: Loss,
  start: Record<string, number[]>,
  steps: number,
): Record<string, number[]> {
  let params: Record<string, tf.Tensor> = Object.fromEntries(
    Object.entries(start).map(([k, v]) => [k, tf.tensor1d(v)]),
  );
  let state = tx.init(params);
  const keys = Object.keys(params);
  for (let i = 0; i < steps; i++) {
    const gradsArr = tf.grads((...xs: tf.Tensor[]) =>
      loss(Object.fromEntries(keys.map((k, j) => [k, xs[j]!]))),
    )(keys.map((k) => params[k]!));
    const grads = Object.fromEntries(keys.map((k, j) => [k, gradsArr[j]!]));
    const next = step(tx, params, grads, state);
    treeDispose(grads);
    treeDispose(params);
    params = next.params as Record<string, tf.Tensor>;
    state = next.state;
  }
  const out = Object.fromEntries(keys.map((k) => [k, values(params[k]!)]));
  treeDispose(params);
  treeDispose(state);
  return out;
}

/** A separable quadratic with different curvatures; optimum at w = [1, -2]. */
export const parabola: Loss = ({ w }) =>
  tf.tidy(() => {
    const d = tf.sub(w!, tf.tensor1d([1, -2]));
    return tf.sum(tf.mul(tf.tensor1d([1, 4]), tf.square(d))) as tf.Scalar;
  });

/** Rosenbrock's banana, optimum at (1, 1). */
export const rosenbrock: Loss = ({ xy }) =>
  tf.tidy(() => {
    const [x, y] = tf.split(xy!, 2);
    const a = tf.square(tf.sub(1, x!));
    const b = tf.mul(100, tf.square(tf.sub(y!, tf.square(x!))));
    return tf.sum(tf.add(a, b)) as tf.Scalar;
  });

function distance(a: number[], b: number[]): number {
  return Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]!) ** 2, 0));
}

/**
 * The property table: every optimizer in `table` must converge on a parabola
 * and on Rosenbrock, keep its state's structure across steps, not leak
 * tensors over 1,000 steps, and be pure. Runs on every backend.
 */
export function optimizerPropertySuite(title: string, table: readonly OptimizerCase[]): void {
  describeEachBackend(title, () => {
    for (const row of table) {
      describe(row.name, () => {
        it('converges on a parabola', () => {
          const out = runProblem(
            row.parabola(),
            parabola,
            { w: [-3, 4] },
            row.parabolaSteps ?? 500,
          );
          expect(distance(out.w!, [1, -2])).toBeLessThan(row.parabolaTol ?? 1e-2);
        });

        it('converges on Rosenbrock', () => {
          const out = runProblem(
            row.rosenbrock(),
            rosenbrock,
            { xy: [-1.2, 1] },
            row.rosenbrockSteps ?? 2000,
          );
          expect(distance(out.xy!, [1, 1])).toBeLessThan(row.rosenbrockTol ?? 5e-2);
        });

        it('keeps the state structure and leaks no tensor over 1,000 steps', () => {
          const tx = row.parabola();
          const params = {
            w: tf.variable(tf.tensor1d([-3, 4])),
            b: [tf.variable(tf.zeros([2, 3]))],
          };
          let state = tx.init(params);
          const signature = JSON.stringify(stateSignature(state));
          const grads = { w: tf.tensor1d([0.5, -0.25]), b: [tf.fill([2, 3], 0.1)] };
          let before = 0;
          for (let i = 0; i < 1000; i++) {
            if (i === 10) before = tf.memory().numTensors;
            state = stepVariables(tx, params, grads, state);
            if (i === 0) expect(JSON.stringify(stateSignature(state))).toBe(signature);
          }
          expect(tf.memory().numTensors).toBe(before);
          expect(JSON.stringify(stateSignature(state))).toBe(signature);
          treeDispose([state, grads, params]);
        });

        it('is pure: the same inputs give the same outputs and inputs survive', () => {
          const tx = row.parabola();
          const params = { w: tf.tensor1d([0.3, -0.7]) };
          const g1 = { w: tf.tensor1d([0.2, -0.1]) };
          const g2 = { w: tf.tensor1d([-0.4, 0.3]) };
          const s0 = tx.init(params);
          const [u1, s1] = tx.update(g1, s0, params);
          const [a, sa] = tx.update(g2, s1, params);
          const [b, sb] = tx.update(g2, s1, params);
          for (const t of treeFlatten([g1, g2, params] as Tree))
            expect(t.tensor.isDisposed).toBe(false);
          expect(values(treeFlatten(a)[0]!.tensor)).toEqual(values(treeFlatten(b)[0]!.tensor));
          expect(JSON.stringify(stateSignature(sa))).toBe(JSON.stringify(stateSignature(sb)));
          treeDispose([params, g1, g2, s0, u1, s1, a, sa, b, sb]);
        });
      });
    }
  });
}
