import * as tf from '@tensorflow/tfjs-core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import {
  applyUpdates,
  applyUpdatesToVariables,
  assertFinite,
  chain,
  disposeReplaced,
  type GradientTransformation,
  identity,
  type StepResult,
  stateless,
  step,
  stepVariables,
  TfoptError,
  type Tree,
  TreeStructureError,
  tidy,
  treeDispose,
  treeMap,
  treeScale,
  treeZerosLike,
  type UpdateContext,
} from './index.js';

interface SumState {
  /** Set at init and never changed: shared between old and new states. */
  readonly frozen: Tree;
  /** Running sum of the updates; returned as the update too. */
  readonly sum: Tree;
}

/** Momentum-like test transform whose new state shares `frozen` with the old one. */
function accumulate(): GradientTransformation<SumState> {
  return {
    init: (params) => ({ frozen: treeZerosLike(params), sum: treeZerosLike(params) }),
    update: (updates, state) =>
      tidy(() => {
        const sum = treeMap((s, u) => tf.add(s, u as tf.Tensor), state.sum, updates);
        return [sum, { frozen: state.frozen, sum }] as const;
      }),
  };
}

/** SGD on the running sum: with a constant gradient g, step k moves by -lr * (k + 1) * g. */
const summedSgd = (lr: number) =>
  chain(
    accumulate(),
    stateless((u) => treeScale(u, -lr)),
  );

/** Allocates, then throws inside its update. */
function throwing(): GradientTransformation<SumState> {
  const inner = accumulate();
  return {
    init: inner.init,
    update: (updates, state) =>
      tidy(() => {
        inner.update(updates, state);
        throw new Error('boom');
      }),
  };
}

/** Returns updates for `.w` only (the params also have `.b`) and a partly fresh state. */
function dropsAKey(): GradientTransformation<SumState> {
  return {
    init: (params) => ({ frozen: treeZerosLike(params), sum: treeZerosLike(params) }),
    update: (updates, state) =>
      tidy(() => {
        const sum = treeMap((s) => tf.add(s, 1), state.sum);
        return [
          { w: tf.mul((updates as { w: tf.Tensor }).w, 2) },
          { frozen: state.frozen, sum },
        ] as const;
      }),
  };
}

/** Asserts every tensor in `value` is alive and returns their values, for later comparison. */
function snapshot(value: unknown): number[][] {
  return collect(value).map((t) => {
    expect(t.isDisposed).toBe(false);
    return values(t);
  });
}

function collect(value: unknown): tf.Tensor[] {
  if (value instanceof tf.Tensor) return [value];
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(collect);
  return [];
}

describeEachBackend('applyUpdates', () => {
  it('adds leaf by leaf into new tensors and leaves the inputs alone', () => {
    const params = { w: tf.tensor1d([1, 2]), b: [tf.scalar(3)] };
    const updates = { w: tf.tensor1d([0.5, -1]), b: [tf.scalar(-3)] };
    const before = tf.memory().numTensors;
    const next = applyUpdates(params, updates) as typeof params;
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(values(next.w)).toEqual([1.5, 1]);
    expect(values(next.b[0]!)).toEqual([0]);
    expect(values(params.w)).toEqual([1, 2]);
    expect(updates.w.isDisposed).toBe(false);
    treeDispose([params, updates, next]);
  });

  it("rejects updates of another dtype than the params' instead of casting them", () => {
    const p = { w: tf.tensor1d([1, 2], 'float32') };
    const u = { w: tf.tensor1d([2, -1], 'int32') };
    const before = tf.memory().numTensors;
    expect(() => applyUpdates(p, u)).toThrow(
      'updates.w is int32; expected float32 (the dtype of params.w)',
    );
    expect(tf.memory().numTensors).toBe(before);
    treeDispose([p, u]);
  });

  it('rejects updates shaped unlike the params', () => {
    const p = { w: tf.zeros([2]) };
    const u = { w: tf.zeros([2]), extra: tf.zeros([1]) };
    expect(() => applyUpdates(p, u)).toThrow('updates has key "extra" that params does not have');
    treeDispose([p, u]);
  });
});

describeEachBackend('applyUpdatesToVariables', () => {
  it('adds in place without disposing the updates', () => {
    const vars = { w: tf.variable(tf.tensor1d([1, 2])) };
    const u = { w: tf.tensor1d([0.25, -0.5]) };
    const before = tf.memory().numTensors;
    applyUpdatesToVariables(vars, u);
    expect(tf.memory().numTensors).toBe(before);
    expect(values(vars.w)).toEqual([1.25, 1.5]);
    expect(u.w.isDisposed).toBe(false);
    treeDispose([vars, u]);
  });

  it('changes no variable when the structures differ or a leaf is not a variable', () => {
    const vars = { a: tf.variable(tf.tensor1d([1])), b: tf.variable(tf.tensor1d([2, 3])) };
    const bad = { a: tf.tensor1d([10]), b: tf.tensor1d([1, 1, 1]) };
    expect(() => applyUpdatesToVariables(vars, bad)).toThrow(TreeStructureError);
    expect(() => applyUpdatesToVariables(vars, bad)).toThrow(
      'updates.b has shape [3] but variables.b has [2]',
    );
    expect(values(vars.a)).toEqual([1]);

    const mixed = { a: vars.a, b: tf.tensor1d([2, 3]) };
    const ok = { a: tf.tensor1d([10]), b: tf.tensor1d([1, 1]) };
    expect(() => applyUpdatesToVariables(mixed, ok)).toThrow(
      'variables.b is a tensor, not a tf.Variable (use step or applyUpdates for plain tensors)',
    );
    expect(values(vars.a)).toEqual([1]);
    treeDispose([vars, bad, mixed.b, ok]);
  });
});

describeEachBackend('disposeReplaced', () => {
  it('frees only what the new state and the kept values do not share', () => {
    const shared = tf.zeros([2]);
    const old = tf.ones([2]);
    const kept = tf.ones([3]);
    const fresh = tf.zeros([2]);
    const previous = { count: 3, m: shared, v: old, extra: [kept], name: 'x' };
    const next = { count: 4, m: shared, v: fresh };
    disposeReplaced(previous, next, { unrelated: kept });
    expect(old.isDisposed).toBe(true);
    expect(shared.isDisposed).toBe(false);
    expect(kept.isDisposed).toBe(false);
    expect(fresh.isDisposed).toBe(false);
    // Calling again is harmless: the disposed tensor is skipped.
    expect(() => disposeReplaced(previous, next, kept)).not.toThrow();
    treeDispose([shared, kept, fresh]);
  });
});

describeEachBackend('step', () => {
  it('matches hand-computed parameters and leaks nothing over many steps', () => {
    // Step k moves by -0.1 * (k + 1) * g; after n steps by -0.1 * n(n + 1)/2 * g.
    // With g = [1, -2], n = 3: p = [1, 2] - 0.6 * [1, -2] = [0.4, 3.2].
    const tx = summedSgd(0.1);
    const grads = { w: tf.tensor1d([1, -2]) };
    let params: Tree = { w: tf.tensor1d([1, 2]) };
    let state = tx.init(params);
    let before = 0;
    for (let i = 0; i < 200; i++) {
      if (i === 3) {
        expectArrayClose(values((params as { w: tf.Tensor }).w), [0.4, 3.2]);
        before = tf.memory().numTensors;
      }
      const next: StepResult<typeof state> = step(tx, params, grads, state);
      treeDispose(params); // the caller owns the old params
      params = next.params;
      state = next.state;
    }
    expect(tf.memory().numTensors).toBe(before);
    // n = 200: 0.1 * 200 * 201 / 2 = 2010 -> [1 - 2010, 2 + 4020]
    expectArrayClose(values((params as { w: tf.Tensor }).w), [-2009, 4022], { rtol: 1e-4 });
    expect(grads.w.isDisposed).toBe(false);
    treeDispose([params, state, grads]);
  });

  it('keeps the grads and params when the updates alias them', () => {
    const params = { w: tf.tensor1d([1, 2]) };
    const grads = { w: tf.tensor1d([3, 4]) };
    for (const tx of [identity(), stateless((_u, p) => p as Tree)]) {
      const next = step(tx, params, grads, tx.init(params));
      expect(grads.w.isDisposed).toBe(false);
      expect(params.w.isDisposed).toBe(false);
      expect(values(params.w)).toEqual([1, 2]);
      treeDispose(next.params);
    }
    treeDispose([params, grads]);
  });

  it('passes the context to the transform', () => {
    const seen: (UpdateContext | undefined)[] = [];
    const tx: GradientTransformation<object> = {
      init: () => ({}),
      update: (u, s, _p, context) => {
        seen.push(context);
        return [u, s];
      },
    };
    const p = tf.tensor1d([1]);
    const next = step(tx, p, p, {}, { loss: 2 });
    expect(seen[0]?.loss).toBe(2);
    treeDispose([p, next.params]);
  });

  it('leaves params and state intact when the transform throws', () => {
    const tx = throwing();
    const params = { w: tf.tensor1d([1, 2]) };
    const grads = { w: tf.tensor1d([0.5, 0.5]) };
    const state = tx.init(params);
    const snapParams = snapshot(params);
    const snapState = snapshot(state);
    const before = tf.memory().numTensors;
    expect(() => step(tx, params, grads, state)).toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
    expect(snapshot(params)).toEqual(snapParams);
    expect(snapshot(state)).toEqual(snapState);
    treeDispose([params, grads, state]);
  });

  it('leaves params and state intact and frees the step when the updates do not fit', () => {
    const tx = dropsAKey();
    const params = { w: tf.tensor1d([1, 2]), b: tf.tensor1d([3]) };
    const grads = { w: tf.tensor1d([0.5, 0.5]), b: tf.tensor1d([1]) };
    const state = tx.init(params);
    const snapParams = snapshot(params);
    const snapState = snapshot(state);
    const before = tf.memory().numTensors;
    expect(() => step(tx, params, grads, state)).toThrow(
      'updates is missing key "b" that params has',
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(snapshot(params)).toEqual(snapParams);
    expect(snapshot(state)).toEqual(snapState); // including the shared `frozen`
    treeDispose([params, grads, state]);
  });
});

describeEachBackend('stepVariables', () => {
  it('updates the variables in place and leaks nothing over many steps', () => {
    const tx = summedSgd(0.1);
    const vars = { w: tf.variable(tf.tensor1d([1, 2])) };
    const grads = { w: tf.tensor1d([1, -2]) };
    let state = tx.init(vars);
    const frozen = state[0].frozen as { w: tf.Tensor };
    let before = 0;
    for (let i = 0; i < 200; i++) {
      if (i === 3) {
        expectArrayClose(values(vars.w), [0.4, 3.2]); // as in the step test above
        before = tf.memory().numTensors;
      }
      state = stepVariables(tx, vars, grads, state);
    }
    expect(tf.memory().numTensors).toBe(before);
    expectArrayClose(values(vars.w), [-2009, 4022], { rtol: 1e-4 });
    expect(frozen.w.isDisposed).toBe(false); // shared by every state, never freed
    treeDispose([vars, grads, state]);
  });

  it('changes no variable and keeps the state when the transform throws', () => {
    const tx = throwing();
    const vars = { w: tf.variable(tf.tensor1d([1, 2])) };
    const grads = { w: tf.tensor1d([1, 1]) };
    const state = tx.init(vars);
    const snapState = snapshot(state);
    const before = tf.memory().numTensors;
    expect(() => stepVariables(tx, vars, grads, state)).toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
    expect(values(vars.w)).toEqual([1, 2]);
    expect(snapshot(state)).toEqual(snapState);
    treeDispose([vars, grads, state]);
  });

  it('changes no variable and frees the step when the updates do not fit', () => {
    const tx = dropsAKey();
    const vars = { w: tf.variable(tf.tensor1d([1, 2])), b: tf.variable(tf.tensor1d([3])) };
    const grads = { w: tf.tensor1d([1, 1]), b: tf.tensor1d([1]) };
    const state = tx.init(vars);
    const snapState = snapshot(state);
    const before = tf.memory().numTensors;
    expect(() => stepVariables(tx, vars, grads, state)).toThrow(
      'updates is missing key "b" that variables has',
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(values(vars.w)).toEqual([1, 2]);
    expect(values(vars.b)).toEqual([3]);
    expect(snapshot(state)).toEqual(snapState);
    treeDispose([vars, grads, state]);
  });

  it('rejects plain tensors and leaves them and the state alone', () => {
    const tx = summedSgd(0.1);
    const params = { w: tf.tensor1d([1, 2]) };
    const grads = { w: tf.tensor1d([1, 1]) };
    const state = tx.init(params);
    const before = tf.memory().numTensors;
    expect(() => stepVariables(tx, params, grads, state)).toThrow(
      'variables.w is a tensor, not a tf.Variable',
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(values(params.w)).toEqual([1, 2]);
    expect(snapshot(state)).toEqual([
      [0, 0],
      [0, 0],
    ]);
    treeDispose([params, grads, state]);
  });
});

describeEachBackend('assertFinite', () => {
  it('names the first leaf holding NaN or Infinity', () => {
    const ok = { a: tf.tensor1d([1, 2]) };
    const bad = { a: tf.tensor1d([1]), b: [tf.tensor1d([0, Number.NaN])] };
    const inf = { c: tf.tensor1d([Number.NEGATIVE_INFINITY]) };
    const before = tf.memory().numTensors;
    expect(() => assertFinite(ok)).not.toThrow();
    expect(() => assertFinite(bad, 'params')).toThrow(TfoptError);
    expect(() => assertFinite(bad, 'params')).toThrow('params.b[0] contains NaN or Infinity');
    expect(() => assertFinite(inf)).toThrow('tree.c contains NaN or Infinity');
    expect(tf.memory().numTensors).toBe(before);
    treeDispose([ok, bad, inf]);
  });
});
