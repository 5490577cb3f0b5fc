// The defects of issue "Correctness and reliability of the core", each as a test:
// leaves paired by key, all-or-nothing steps, no borrowed tensors in a state,
// errors from the user's point of view.
import * as tf from '@tensorflow/tfjs-core';
import { describeEachBackend, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import {
  applyUpdatesToVariables,
  chain,
  type GradientTransformation,
  stateless,
  step,
  stepVariables,
  TreeStructureError,
  tidy,
  treeDispose,
  treeGlobalNorm,
  treeMap,
  treeScale,
  treeVdot,
  treeZerosLike,
} from './index.js';

/** Plain SGD as a chain, written here so core's tests need no other package. */
const sgd = (lr: number) => stateless((u) => treeScale(u, -lr));

/** A per-leaf running sum whose leaves differ in shape; returned as the update. */
interface SumState {
  readonly sum: Record<string, tf.Tensor>;
}

function runningSum(): GradientTransformation<SumState> {
  return {
    init: (params) => ({ sum: treeZerosLike(params) as SumState['sum'] }),
    update: (updates, state) =>
      tidy(() => {
        const sum = treeMap((s, u) => tf.add(s, u as tf.Tensor), state.sum, updates);
        return [sum, { sum: sum as SumState['sum'] }] as const;
      }),
  };
}

/** Keeps the last updates it saw in its state by reference: breaks the ownership rule on purpose. */
function remembersInput(): GradientTransformation<{ last: unknown }> {
  return {
    init: (params) => ({ last: treeZerosLike(params) }),
    update: (updates) => [updates, { last: updates }],
  };
}

describeEachBackend('pairing by key', () => {
  it('stepVariables moves each variable by its own gradient when the keys come in another order', () => {
    // Same shapes, so pairing by position would silently swap them.
    const vars = { w: tf.variable(tf.tensor1d([1, 1])), b: tf.variable(tf.tensor1d([0, 0])) };
    const grads = { b: tf.tensor1d([10, 20]), w: tf.tensor1d([1, 2]) };
    const tx = sgd(0.1);
    stepVariables(tx, vars, grads, tx.init(vars));
    // w <- [1, 1] - 0.1 * [1, 2] = [0.9, 0.8]; b <- [0, 0] - 0.1 * [10, 20] = [-1, -2]
    expect(values(vars.w)).toEqual([Math.fround(0.9), Math.fround(0.8)]);
    expect(values(vars.b)).toEqual([-1, -2]);
    treeDispose([vars, grads]);
  });

  it('stepVariables pairs leaves of different shapes by key, nested, with a stateful transform', () => {
    const vars = {
      layer: { kernel: tf.variable(tf.zeros([2, 2])), bias: tf.variable(tf.zeros([2])) },
      out: tf.variable(tf.zeros([1])),
    };
    const grads = {
      out: tf.tensor1d([3]),
      layer: { bias: tf.tensor1d([1, 2]), kernel: tf.tensor2d([1, 2, 3, 4], [2, 2]) },
    };
    const tx = chain(runningSum(), sgd(1));
    let state = tx.init(vars);
    state = stepVariables(tx, vars, grads, state);
    state = stepVariables(tx, vars, grads, state);
    // Two steps of -sum: after step 1 the sum is g, after step 2 it is 2g, so x = -g - 2g = -3g.
    expect(values(vars.layer.kernel)).toEqual([-3, -6, -9, -12]);
    expect(values(vars.layer.bias)).toEqual([-3, -6]);
    expect(values(vars.out)).toEqual([-9]);
    treeDispose([vars, grads, state]);
  });

  it('treeVdot and treeGlobalNorm do not depend on key order', () => {
    const a = { a: tf.tensor1d([1, 2]), b: tf.tensor1d([3]) };
    const b = { b: tf.tensor1d([10]), a: tf.tensor1d([100, 1000]) };
    // <a, b> by key: 1*100 + 2*1000 + 3*10 = 2130 (by position it would throw or pair a with b).
    const dot = treeVdot(a, b);
    expect(values(dot)).toEqual([2130]);
    const n1 = treeGlobalNorm({ x: tf.tensor1d([3]), y: tf.tensor1d([4]) });
    const n2 = treeGlobalNorm({ y: tf.tensor1d([4]), x: tf.tensor1d([3]) });
    expect(values(n1)).toEqual([5]);
    expect(values(n2)).toEqual(values(n1));
    treeDispose([a, b, dot, n1, n2]);
  });

  it('applyUpdatesToVariables pairs by key', () => {
    const vars = { p: tf.variable(tf.tensor1d([1])), q: tf.variable(tf.tensor1d([2])) };
    const u = { q: tf.tensor1d([20]), p: tf.tensor1d([10]) };
    applyUpdatesToVariables(vars, u);
    expect(values(vars.p)).toEqual([11]);
    expect(values(vars.q)).toEqual([22]);
    treeDispose([vars, u]);
  });
});

describeEachBackend('all-or-nothing steps', () => {
  it('a failing step changes no variable, no state and no tensor count, whichever leaf fails', () => {
    const tx = chain(runningSum(), sgd(0.5));
    const vars = { a: tf.variable(tf.tensor1d([1])), z: tf.variable(tf.tensor1d([2, 3])) };
    const good = { a: tf.tensor1d([1]), z: tf.tensor1d([1, 1]) };
    let state = tx.init(vars);
    state = stepVariables(tx, vars, good, state);
    const snap = [values(vars.a), values(vars.z), values(state[0].sum.a!), values(state[0].sum.z!)];
    const disposedGrad = tf.tensor1d([1, 1]);
    disposedGrad.dispose();
    const bad: [unknown, RegExp][] = [
      [{ a: tf.tensor1d([1]), z: tf.tensor1d([1, 1, 1]) }, /grads\.z has shape \[3\]/],
      [{ a: tf.tensor1d([1]) }, /grads is missing key "z" that variables has/],
      [{ a: tf.tensor1d([1]), z: disposedGrad }, /grads\.z was disposed/],
      [{ a: tf.tensor1d([1]), z: tf.tensor1d([1, 1], 'int32') }, /grads\.z is int32/],
      [
        { a: tf.tensor1d([1]), z: tf.tensor1d([1, 1]), extra: tf.scalar(1) },
        /grads has key "extra"/,
      ],
    ];
    for (const [grads, message] of bad) {
      const before = tf.memory().numTensors;
      expect(() => stepVariables(tx, vars, grads as never, state)).toThrow(message);
      expect(tf.memory().numTensors).toBe(before);
      expect([
        values(vars.a),
        values(vars.z),
        values(state[0].sum.a!),
        values(state[0].sum.z!),
      ]).toEqual(snap);
      treeDispose(grads);
    }
    treeDispose([vars, good, state]);
  });

  it('a transform that allocates outside tf.tidy and then throws leaves no tensor behind', () => {
    const leaky: GradientTransformation<null> = {
      init: () => null,
      update: (updates) => {
        treeMap((u) => tf.mul(u, 2), updates); // not tidied
        throw new Error('boom');
      },
    };
    const vars = { w: tf.variable(tf.tensor1d([1, 2])) };
    const grads = { w: tf.tensor1d([1, 1]) };
    const before = tf.memory().numTensors;
    expect(() => stepVariables(leaky, vars, grads, null)).toThrow('boom');
    expect(() => step(leaky, vars, grads, null)).toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
    expect(values(vars.w)).toEqual([1, 2]);
    treeDispose([vars, grads]);
  });

  it('updates that fail the check on a later leaf leave earlier variables unassigned', () => {
    // The transform's update for "z" (sorted after "a") has the wrong dtype.
    const wrongDtype: GradientTransformation<null> = {
      init: () => null,
      update: (updates) =>
        tidy(() => {
          const u = updates as { a: tf.Tensor; z: tf.Tensor };
          return [{ a: tf.neg(u.a), z: tf.cast(u.z, 'int32') }, null] as const;
        }),
    };
    const vars = { a: tf.variable(tf.tensor1d([1])), z: tf.variable(tf.tensor1d([2])) };
    const grads = { a: tf.tensor1d([5]), z: tf.tensor1d([5]) };
    const before = tf.memory().numTensors;
    expect(() => stepVariables(wrongDtype, vars, grads, null)).toThrow(
      'updates.z is int32; expected float32 (the dtype of variables.z)',
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(values(vars.a)).toEqual([1]);
    treeDispose([vars, grads]);
  });

  it('checkFinite rejects a NaN update before any variable moves', () => {
    const vars = { a: tf.variable(tf.tensor1d([1])), b: tf.variable(tf.tensor1d([2])) };
    const grads = { a: tf.tensor1d([1]), b: tf.tensor1d([Number.NaN]) };
    const tx = sgd(0.1);
    const before = tf.memory().numTensors;
    expect(() =>
      stepVariables(tx, vars, grads, tx.init(vars), undefined, { checkFinite: true }),
    ).toThrow('updates.b contains NaN or Infinity; the step was not applied');
    expect(tf.memory().numTensors).toBe(before);
    expect(values(vars.a)).toEqual([1]);
    treeDispose([vars, grads]);
  });
});

describeEachBackend('ownership', () => {
  it('a state returned by step never holds a tensor the caller passed in', () => {
    const tx = remembersInput();
    const params = { w: tf.tensor1d([1, 2]) };
    const grads = { w: tf.tensor1d([0.5, 0.5]) };
    const ctxGrads = { w: tf.tensor1d([9, 9]) };
    const first = step(tx, params, grads, tx.init(params), { grads: ctxGrads });
    const held = (first.state.last as { w: tf.Tensor }).w;
    expect(held).not.toBe(grads.w);
    treeDispose([grads, ctxGrads]); // the caller may free what it passed in
    expect(values(held)).toEqual([0.5, 0.5]);
    const grads2 = { w: tf.tensor1d([1, 1]) };
    const second = step(tx, first.params, grads2, first.state);
    // The transform passes its updates through: [1, 2] + [0.5, 0.5] + [1, 1].
    expect(values((second.params as { w: tf.Tensor }).w)).toEqual([2.5, 3.5]);
    treeDispose([params, first, grads2, second]);
  });

  it('stepVariables never leaves the variables or the gradients in the state', () => {
    const tx = remembersInput();
    const vars = { w: tf.variable(tf.tensor1d([1, 2])) };
    const before = tf.memory().numTensors;
    let state = tx.init(vars);
    for (let i = 0; i < 50; i++) {
      const grads = { w: tf.tensor1d([i, i]) };
      state = stepVariables(tx, vars, grads, state);
      treeDispose(grads);
    }
    // 1 + 2 + ... + 49 = 1225 added to each coordinate; the state holds the last gradient, 49.
    expect(values(vars.w)).toEqual([1226, 1227]);
    expect(values((state.last as { w: tf.Tensor }).w)).toEqual([49, 49]);
    expect(tf.memory().numTensors).toBe(before + 1);
    treeDispose([vars, state]);
  });
});

describeEachBackend('errors from the user side', () => {
  it('names the tree and the path', () => {
    const params = { w: tf.zeros([2, 2]), b: tf.zeros([1]) };
    const tx = sgd(0.1);
    const cases: [unknown, string][] = [
      [{ w: tf.zeros([2, 2]) }, 'grads is missing key "b" that params has'],
      [{ w: tf.zeros([4]), b: tf.zeros([1]) }, 'grads.w has shape [4] but params.w has [2, 2]'],
      [
        { w: tf.zeros([2, 2], 'int32'), b: tf.zeros([1]) },
        'grads.w is int32; expected float32 (the dtype of params.w)',
      ],
      [
        { w: [tf.zeros([2, 2])], b: tf.zeros([1]) },
        'grads.w is an array of length 1 but params.w is a float32 tensor of shape [2, 2]',
      ],
      [{ w: tf.zeros([2, 2]), b: 0.1 }, 'grads.b is number; expected a tensor'],
    ];
    for (const [grads, message] of cases) {
      const err = (() => {
        try {
          step(tx, params, grads as never, tx.init(params));
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(TreeStructureError);
      expect((err as Error).message.startsWith(message), (err as Error).message).toBe(true);
      treeDispose(grads);
    }
    treeDispose(params);
  });

  it('points a LayerVariable at read() and TransformOptimizer', () => {
    // The shape of a tfjs-layers LayerVariable: a class instance with read/write around a tf.Variable.
    class LayerVariable {
      readonly originalName = 'dense/kernel';
      readonly dtype = 'float32';
      readonly shape = [2];
      read() {
        return tf.zeros([2]);
      }
      write() {}
    }
    const tx = sgd(0.1);
    expect(() => tx.init([new LayerVariable()] as never)).not.toThrow(); // stateless: init ignores params
    expect(() => treeZerosLike([new LayerVariable()] as never)).toThrow(
      /^trees\[0\]\[0\] is a tfjs-layers LayerVariable .*layerVariable\.read\(\).*TransformOptimizer/,
    );
    expect(() => stepVariables(tx, [new LayerVariable()] as never, [tf.zeros([2])], {})).toThrow(
      /^variables\[0\] is a tfjs-layers LayerVariable/,
    );
  });
});
