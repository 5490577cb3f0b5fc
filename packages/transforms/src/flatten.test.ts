import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  InvalidOptionError,
  stepVariables,
  type Tree,
  treeDispose,
  treeFlatten,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { describe, expect, it } from 'vitest';
import { adam, clipByGlobalNorm, flatten, scaleByAdam, sgd } from './index.js';

const read = (tree: Tree) =>
  Object.fromEntries(treeFlatten(tree).map((l) => [l.path, values(l.tensor)]));

/** Records the shape and values of the vectors it is given, returns 2·updates. */
function recorder(seen: unknown[]): GradientTransformation<Record<string, never>> {
  return {
    init: (params) => {
      seen.push({ init: values(params as tf.Tensor) });
      return {};
    },
    update: (updates, state, params, context) => {
      const u = updates as tf.Tensor;
      seen.push({
        shape: u.shape,
        updates: values(u),
        params: params === undefined ? undefined : values(params as tf.Tensor),
        grads: values(context?.grads as tf.Tensor),
      });
      return [tf.mul(u, 2), state];
    },
  };
}

describeEachBackend('flatten', () => {
  it('gives the inner transform one vector in sorted-key order and splits its output back', () => {
    // Leaves in canonical order: .a (2 elements), .b[0] (scalar), .c (2×2).
    const seen: unknown[] = [];
    const tx = flatten(recorder(seen));
    const make = (x: number) => ({
      c: tf.tensor([
        [x, x + 1],
        [x + 2, x + 3],
      ]),
      a: tf.tensor([x + 10, x + 11]),
      b: [tf.scalar(x + 20)],
    });
    const params = make(0);
    const g = make(100);
    const state = tx.init(params);
    const [u] = tx.update(g, state, params);
    expect(seen).toEqual([
      { init: [10, 11, 20, 0, 1, 2, 3] },
      {
        shape: [7],
        updates: [110, 111, 120, 100, 101, 102, 103],
        params: [10, 11, 20, 0, 1, 2, 3],
        // Without a context, the raw gradient is the flattened updates.
        grads: [110, 111, 120, 100, 101, 102, 103],
      },
    ]);
    const out = u as ReturnType<typeof make>;
    expect(out.c.shape).toEqual([2, 2]);
    expect(out.b[0]!.shape).toEqual([]);
    expect(read(u)).toEqual({ '.a': [220, 222], '.b[0]': [240], '.c': [200, 202, 204, 206] });
    expect(Object.keys(out)).toEqual(['c', 'a', 'b']);
    treeDispose([params, g, u]);
  });

  it('makes a per-tensor computation global: clipping by the norm of the whole vector (hand-derived)', () => {
    // clipByGlobalNorm is already global: flatten changes nothing. g = { a: [3], b: [4] }:
    // |g| = 5 > 1, so u = g / 5 = { a: 0.6, b: 0.8 }.
    const tx = flatten(clipByGlobalNorm(1));
    const g = { a: tf.tensor([3]), b: tf.tensor([4]) };
    const [u] = tx.update(g, tx.init(g));
    expectArrayClose(read(u)['.a']!, [0.6]);
    expectArrayClose(read(u)['.b']!, [0.8]);
    treeDispose([g, u]);
  });

  it('follows a float64 reference of Adam over 120 steps; the state is over one vector', () => {
    const [b1, b2, eps] = [0.9, 0.999, 1e-8];
    const tx = flatten(scaleByAdam({ b1, b2, eps }));
    const params = { w: tf.zeros([2, 2]), b: tf.zeros([1]) };
    let state = tx.init(params);
    expect((state.mu as tf.Tensor).shape).toEqual([5]);
    // Flat order: b (1 element), then w (4).
    const m = new Array<number>(5).fill(0);
    const v = new Array<number>(5).fill(0);
    for (let k = 1; k <= 120; k++) {
      const flat = Array.from({ length: 5 }, (_, i) => Math.sin(0.37 * k + i) * (i + 1));
      const expected = flat.map((gi, i) => {
        m[i] = b1 * m[i]! + (1 - b1) * gi;
        v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
        return m[i]! / (1 - b1 ** k) / (Math.sqrt(v[i]! / (1 - b2 ** k)) + eps);
      });
      const g = { w: tf.tensor(flat.slice(1), [2, 2]), b: tf.tensor(flat.slice(0, 1)) };
      const [u, next] = tx.update(g, state, params);
      const got = read(u);
      expectArrayClose(
        [...got['.b']!, ...got['.w']!],
        expected,
        { rtol: 1e-4, atol: 1e-6 },
        `step ${k}`,
      );
      treeDispose([g, u, state]);
      state = next;
    }
    treeDispose([params, state]);
  });

  it('handles an empty tree and leaks no tensor over 500 steps', () => {
    const empty = flatten(adam(0.1));
    const s = empty.init({});
    const [u] = empty.update({}, s, {});
    expect(u).toEqual({});
    treeDispose(s);
    const tx = flatten(sgd(1e-2, { momentum: 0.9 }));
    const vars = { w: tf.variable(tf.tensor([1, -1])), b: [tf.variable(tf.zeros([2, 2]))] };
    const grads = { w: tf.tensor([0.5, 0.1]), b: [tf.fill([2, 2], -0.2)] };
    let state = tx.init(vars);
    let before = 0;
    for (let i = 0; i < 500; i++) {
      if (i === 5) before = tf.memory().numTensors;
      state = stepVariables(tx, vars, grads, state);
    }
    expect(tf.memory().numTensors).toBe(before);
    treeDispose([vars, grads, state]);
  });

  it('throws on leaves of different dtypes, naming both, and on an inner output of the wrong size', () => {
    const tx = flatten(sgd(1));
    const mixed = { a: tf.zeros([1]), b: tf.zeros([1], 'int32') };
    expect(() => tx.init(mixed)).toThrow(
      'flatten: params.b is int32 but params.a is float32; flatten concatenates the leaves into one vector, so they must share a dtype',
    );
    const shrink: GradientTransformation<Record<string, never>> = {
      init: () => ({}),
      update: (u, s) => [tf.slice(u as tf.Tensor, [0], [1]), s],
    };
    const bad = flatten(shrink);
    const g = { a: tf.zeros([2]) };
    expect(() => bad.update(g, {})).toThrow(
      'flatten: the inner transform must return one vector of 2 elements, like the one it was given; got a tensor of shape [1]',
    );
    treeDispose([mixed, g]);
  });
});

describe('flatten options and spec', () => {
  it('rejects a non-transform and records the inner spec', () => {
    expect(() => flatten(adam as never)).toThrow(InvalidOptionError);
    expect(flatten(adam(0.1)).spec).toEqual({
      name: 'flatten',
      args: [{ name: 'adam', args: [0.1] }],
    });
    expect(flatten(recorder([])).spec).toBeUndefined();
  });
});
