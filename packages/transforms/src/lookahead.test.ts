import * as tf from '@tensorflow/tfjs-core';
import {
  chain,
  collectTensors,
  InvalidOptionError,
  type StepResult,
  step,
  stepVariables,
  TfoptError,
  type Tree,
  treeDispose,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { describe, expect, it } from 'vitest';
import { adam, isLookaheadState, lookahead, lookaheadEvalParams, sgd } from './index.js';

const w = (t: Tree) => values((t as { w: tf.Tensor }).w);

describeEachBackend('lookahead', () => {
  it('matches the first three steps derived by hand', () => {
    // lookahead(sgd(0.1), syncPeriod 2, slowStepSize 0.5); θ = φ = 1 at the start.
    // step 1, g = 2: u = −0.2, no sync:          θ = 0.8, φ = 1
    // step 2, g = 4: u = −0.4, sync: d = 0.8 − 0.4 − 1 = −0.6;
    //                φ = 1 + 0.5·(−0.6) = 0.7;  update = −0.4 − 0.5·(−0.6) = −0.1, θ = 0.7 = φ
    // step 3, g = 1: u = −0.1, no sync:          θ = 0.6, φ = 0.7
    const tx = lookahead(sgd(0.1), { syncPeriod: 2, slowStepSize: 0.5 });
    let params: Tree = { w: tf.tensor([1]) };
    let state = tx.init(params);
    expect(w(state.slow)).toEqual([1]);
    expect(collectTensors(state.slow)[0]).not.toBe((params as { w: tf.Tensor }).w);
    const trail: [number[], number[], number][] = [];
    for (const g of [2, 4, 1]) {
      const grads = { w: tf.tensor([g]) };
      const next: StepResult<typeof state> = step(tx, params, grads, state);
      treeDispose([params, grads]);
      ({ params, state } = next);
      trail.push([w(params), w(state.slow), state.stepsSinceSync]);
    }
    expectArrayClose(trail[0]![0], [0.8]);
    expect(trail[0]!.slice(1)).toEqual([[1], 1]);
    expectArrayClose(trail[1]![0], [0.7]);
    expectArrayClose(trail[1]![1], [0.7]);
    expect(trail[1]![2]).toBe(0);
    expectArrayClose(trail[2]![0], [0.6]);
    expectArrayClose(trail[2]![1], [0.7]);
    expect(w(lookaheadEvalParams(state))).toEqual(w(state.slow));
    treeDispose([params, state]);
  });

  it("follows a float64 reference of the paper's two loops (momentum SGD inside) over 150 steps", () => {
    // Loss ½·Σ aᵢ·θᵢ², gradient aᵢ·θᵢ. Paper: repeat { θ ← φ; k fast steps; φ ← φ + α(θ − φ) }.
    const [lr, momentum, k, alpha] = [0.05, 0.9, 5, 0.6];
    const a = [1, 3, 0.5];
    const start = [2, -1, 4];
    const tx = lookahead(sgd(lr, { momentum }), { syncPeriod: k, slowStepSize: alpha });
    const vars = { w: tf.variable(tf.tensor(start)) };
    let state = tx.init(vars);
    const theta = [...start];
    const phi = [...start];
    const trace = [0, 0, 0];
    for (let s = 1; s <= 150; s++) {
      const g = theta.map((t, i) => a[i]! * t);
      const grads = { w: tf.tensor(g) };
      state = stepVariables(tx, vars, grads, state);
      treeDispose(grads);
      theta.forEach((t, i) => {
        trace[i] = momentum * trace[i]! + g[i]!;
        theta[i] = t - lr * trace[i]!;
      });
      if (s % k === 0) {
        phi.forEach((p, i) => {
          phi[i] = p + alpha * (theta[i]! - p);
          theta[i] = phi[i]!;
        });
      }
      expectArrayClose(values(vars.w), theta, { rtol: 1e-4, atol: 1e-6 }, `θ at step ${s}`);
      expectArrayClose(
        w(lookaheadEvalParams(state)),
        phi,
        { rtol: 1e-4, atol: 1e-6 },
        `φ at step ${s}`,
      );
    }
    treeDispose([vars, state]);
  });

  it('with resetState, restarts the fast optimizer at every synchronisation', () => {
    // sgd momentum 0.9: the trace is back to its init (zeros) right after each sync.
    const tx = lookahead(sgd(0.1, { momentum: 0.9 }), {
      syncPeriod: 2,
      slowStepSize: 0.5,
      resetState: true,
    });
    const vars = { w: tf.variable(tf.tensor([1, 2])) };
    const g = { w: tf.tensor([1, 1]) };
    let state = tx.init(vars);
    state = stepVariables(tx, vars, g, state);
    expect(w(state.fastState[0].trace as Tree)).toEqual([1, 1]);
    state = stepVariables(tx, vars, g, state);
    expect(w(state.fastState[0].trace as Tree)).toEqual([0, 0]);
    expect(state.fastState[1].count).toBe(0);
    treeDispose([vars, g, state]);
  });

  it('finds the slow params inside any nesting, and says when there are none or several', () => {
    const params = { w: tf.tensor([3]) };
    const inner = lookahead(adam(0.1), { syncPeriod: 3, slowStepSize: 0.5 });
    const nested = chain(sgd(1), inner);
    const state = nested.init(params);
    expect(w(lookaheadEvalParams(state))).toEqual([3]);
    expect(isLookaheadState(state[1])).toBe(true);
    expect(() => lookaheadEvalParams(state[0])).toThrow(
      'lookaheadEvalParams: the state holds no lookahead state (build the optimizer with lookahead(fast, options))',
    );
    const other = nested.init(params);
    expect(() => lookaheadEvalParams([state, other])).toThrow(
      /lookaheadEvalParams: the state holds 2 lookahead states \(slow parameters at \[0\]\[1\]\.slow, \[1\]\[1\]\.slow\)/,
    );
    treeDispose([params, state, other]);
  });

  it('leaks no tensor over 500 steps', () => {
    const tx = lookahead(adam(1e-2), { syncPeriod: 4, slowStepSize: 0.5 });
    const vars = { w: tf.variable(tf.tensor([1, -1])), b: [tf.variable(tf.zeros([2, 2]))] };
    const grads = { w: tf.tensor([0.5, 0.1]), b: [tf.fill([2, 2], -0.2)] };
    let state = tx.init(vars);
    let before = 0;
    for (let i = 0; i < 500; i++) {
      if (i === 8) before = tf.memory().numTensors;
      state = stepVariables(tx, vars, grads, state);
    }
    expect(tf.memory().numTensors).toBe(before);
    treeDispose([vars, grads, state]);
  });
});

describe('lookahead options, state and spec', () => {
  it('rejects bad options, naming the option', () => {
    const cases: [unknown, RegExp][] = [
      [undefined, /lookahead: option "syncPeriod" must be an integer >= 1 \(it has no default\)/],
      [
        { slowStepSize: 0.5 },
        /option "syncPeriod" must be an integer >= 1 \(it has no default\), got undefined/,
      ],
      [
        { syncPeriod: 5 },
        /option "slowStepSize" must be a number in \[0, 1\] \(it has no default\)/,
      ],
      [{ syncPeriod: 0, slowStepSize: 0.5 }, /option "syncPeriod" must be an integer >= 1, got 0/],
      [
        { syncPeriod: 5, slowStepSize: 1.5 },
        /option "slowStepSize" must be a number in \[0, 1\], got 1.5/,
      ],
      [
        { syncPeriod: 5, slowStepSize: 0.5, resetState: 1 },
        /option "resetState" must be true or false/,
      ],
      [{ syncPeriod: 5, slowStepSize: 0.5, k: 5 }, /option "k" must be absent/],
    ];
    for (const [options, message] of cases) {
      expect(() => lookahead(sgd(1), options as never)).toThrow(InvalidOptionError);
      expect(() => lookahead(sgd(1), options as never)).toThrow(message);
    }
  });

  it('needs the params, checks its state and records the fast spec and options', () => {
    const tx = lookahead(sgd(1), { syncPeriod: 2, slowStepSize: 0.5 });
    const g = { w: tf.ones([1]) };
    const state = tx.init(g);
    expect(() => tx.update(g, state)).toThrow(/lookahead: needs the \(fast\) parameters/);
    expect(() => tx.update(g, {} as never, g)).toThrow(TfoptError);
    expect(tx.spec).toEqual({
      name: 'lookahead',
      args: [
        { name: 'sgd', args: [1] },
        { syncPeriod: 2, slowStepSize: 0.5 },
      ],
    });
    treeDispose([g, state]);
  });
});
