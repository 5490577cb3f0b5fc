import * as tf from '@tensorflow/tfjs-core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import {
  assertSameStructure,
  collectTensors,
  joinPath,
  type Tree,
  TreeStructureError,
  tidy,
  treeDispose,
  treeFlatten,
  treeFull,
  treeGlobalNorm,
  treeLeaves,
  treeMap,
  treeMapN,
  treeOnesLike,
  treeScale,
  treeSquaredNorm,
  treeVdot,
  treeZerosLike,
} from './index.js';

/** The TreeStructureError `fn` throws, for checking its path and detail. */
function structureError(fn: () => unknown): TreeStructureError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TreeStructureError) return e;
    throw e;
  }
  throw new Error('expected a TreeStructureError, nothing was thrown');
}

describeEachBackend('tree helpers', () => {
  it('joinPath spells identifier keys, odd keys and indices', () => {
    expect(joinPath('', 'w')).toBe('.w');
    expect(joinPath('', 'dense/kernel')).toBe('["dense/kernel"]');
    expect(joinPath('.layers', 1)).toBe('.layers[1]');
    expect(joinPath('', '0')).toBe('["0"]');
  });

  it('treeFlatten lists leaves with paths in canonical (sorted-key) order', () => {
    const t1 = tf.scalar(1);
    const t2 = tf.scalar(2);
    const t3 = tf.scalar(3);
    const tree = { w: t1, b: [t2, { 'dense/kernel': t3 }] };
    // "b" sorts before "w"; arrays keep their index order.
    expect(treeFlatten(tree).map((l) => l.path)).toEqual(['.b[0]', '.b[1]["dense/kernel"]', '.w']);
    expect(treeLeaves(tree)).toEqual([t2, t3, t1]);
    // The same keys inserted in another order flatten identically.
    expect(treeLeaves({ b: [t2, { 'dense/kernel': t3 }], w: t1 })).toEqual([t2, t3, t1]);
    expect(treeFlatten(t1)).toEqual([{ path: '', tensor: t1 }]);
    treeDispose(tree);
  });

  it('treeMap maps nested objects and arrays and keeps the structure', () => {
    const before = tf.memory().numTensors;
    const tree = {
      a: tf.tensor1d([1, 2]),
      b: [tf.tensor1d([3]), { c: tf.tensor2d([1, 2, 3, 4], [2, 2]) }],
    };
    const doubled = treeMap((x) => tf.mul(x, 2), tree) as typeof tree;
    expect(Object.keys(doubled)).toEqual(['a', 'b']);
    expect(values(doubled.a)).toEqual([2, 4]);
    expect(values(doubled.b[0] as tf.Tensor)).toEqual([6]);
    const c = (doubled.b[1] as { c: tf.Tensor }).c;
    expect(c.shape).toEqual([2, 2]);
    expect(values(c)).toEqual([2, 4, 6, 8]);
    // Several trees at once: leaf-wise a - b.
    const diff = treeMap((x, y) => tf.sub(x as tf.Tensor, y as tf.Tensor), tree, doubled);
    expect(values((diff as typeof tree).a)).toEqual([-1, -2]);
    treeDispose([tree, doubled, diff]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('treeMap handles NamedTensorMaps with odd keys, including inherited names', () => {
    const keys = ['dense/kernel', 'dense/bias:0', '0', '', 'constructor', 'toString', '__proto__'];
    const map: tf.NamedTensorMap = Object.fromEntries(keys.map((k, i) => [k, tf.scalar(i)]));
    const out = treeMap((x) => tf.add(x, 10), map) as tf.NamedTensorMap;
    // JS orders integer-like keys first; the output must follow the input's order.
    expect(Object.keys(out)).toEqual(Object.keys(map));
    for (const [i, k] of keys.entries()) {
      expect(Object.hasOwn(out, k), k).toBe(true);
      expect(values(out[k] as tf.Tensor), k).toEqual([i + 10]);
    }
    expect(treeFlatten(map).map((l) => l.path)).toContain('["dense/bias:0"]');
    treeDispose([map, out]);
  });

  it('names the path of a missing key', () => {
    const a = { w: tf.zeros([2]), b: tf.zeros([1]) };
    const e = structureError(() => treeMap((x) => x, a, { w: a.w }));
    expect(e.path).toBe('.b');
    expect(e.message).toBe('trees[1] is missing key "b" that trees[0] has');
    treeDispose(a);
  });

  it('names the path of an extra key', () => {
    const w = tf.zeros([2]);
    const e = structureError(() => treeMap((x) => x, { w }, { w, 'dense/extra': w }));
    expect(e.path).toBe('["dense/extra"]');
    expect(e.message).toBe('trees[1] has key "dense/extra" that trees[0] does not have');
    w.dispose();
  });

  it('does not mistake an inherited property for a key', () => {
    const w = tf.zeros([2]);
    // Same number of keys, but "toString" exists on the second only through its prototype.
    const missing = structureError(() => treeMap((x) => x, { toString: w }, { w }));
    expect(missing.path).toBe('.toString');
    expect(missing.detail).toBe('is missing key "toString" that trees[0] has');
    const extra = structureError(() => treeMap((x) => x, { w }, { w, constructor: w }));
    expect(extra.path).toBe('.constructor');
    expect(extra.detail).toBe('has key "constructor" that trees[0] does not have');
    w.dispose();
  });

  it('names the path of an array length mismatch', () => {
    const t = tf.zeros([1]);
    const e = structureError(() => treeMap((x) => x, { layers: [t, t] }, { layers: [t] }));
    expect(e.path).toBe('.layers');
    expect(e.message).toBe(
      'trees[1].layers is an array of length 1 but trees[0].layers is an array of length 2',
    );
    t.dispose();
  });

  it('names the path of a shape mismatch deep in the tree', () => {
    const a = { layers: [{ w: tf.zeros([2]) }, { w: tf.zeros([2, 3]) }] };
    const b = { layers: [{ w: tf.zeros([2]) }, { w: tf.zeros([3, 2]) }] };
    const e = structureError(() => treeMap((x) => x, a, b));
    expect(e.path).toBe('.layers[1].w');
    expect(e.message).toBe(
      'trees[1].layers[1].w has shape [3, 2] but trees[0].layers[1].w has [2, 3]',
    );
    treeDispose([a, b]);
  });

  it('names the path of a leaf that is not a tensor', () => {
    const w = tf.zeros([2]);
    const first = structureError(() => treeMap((x) => x, { w, lr: 0.1 } as unknown as Tree));
    expect(first.path).toBe('.lr');
    expect(first.message).toBe(
      'trees[0].lr is number; expected a tensor, or an array or plain object of them',
    );
    const second = structureError(() => treeMap((x) => x, { w }, { w: [w] }));
    expect(second.message).toBe(
      'trees[1].w is an array of length 1 but trees[0].w is a float32 tensor of shape [2]',
    );
    const root = structureError(() => treeFlatten(null as unknown as Tree));
    expect(root.message).toBe(
      'tree is null; expected a tensor, or an array or plain object of them',
    );
    w.dispose();
  });

  it('assertSameStructure labels the trees in its message', () => {
    const p = { w: tf.zeros([2]) };
    const u = { w: tf.zeros([3]) };
    expect(() => assertSameStructure(p, u, ['params', 'updates'])).toThrow(
      'updates.w has shape [3] but params.w has [2]',
    );
    expect(() => assertSameStructure(p, p)).not.toThrow();
    treeDispose([p, u]);
  });

  it('treeMapN returns n trees of the same structure', () => {
    const before = tf.memory().numTensors;
    const g = { a: tf.tensor1d([1, -2]), b: [tf.tensor1d([3])] };
    const m = { a: tf.tensor1d([10, 20]), b: [tf.tensor1d([30])] };
    const [sum, square] = tidy(() =>
      treeMapN(
        2,
        (x, y) => [tf.add(x as tf.Tensor, y as tf.Tensor), tf.square(x as tf.Tensor)],
        g,
        m,
      ),
    ) as [typeof g, typeof g];
    expect(values(sum.a)).toEqual([11, 18]);
    expect(values(sum.b[0] as tf.Tensor)).toEqual([33]);
    expect(values(square.a)).toEqual([1, 4]);
    expect(values(square.b[0] as tf.Tensor)).toEqual([9]);
    expect(() => treeMapN(2, (x) => [x], g)).toThrow(
      'treeMapN: expected 2 outputs per leaf, got 1',
    );
    treeDispose([g, m, sum, square]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('treeVdot, treeSquaredNorm and treeGlobalNorm match hand-computed values', () => {
    const before = tf.memory().numTensors;
    const a = { x: tf.tensor1d([1, 2]), y: [tf.tensor2d([1, 2, 3, 4], [2, 2])] };
    const b = { x: tf.tensor1d([3, 4]), y: [tf.tensor2d([1, 0, 0, 1], [2, 2])] };
    // <a, b> = 1*3 + 2*4 + (1*1 + 2*0 + 3*0 + 4*1) = 11 + 5 = 16
    const dot = treeVdot(a, b);
    expect(dot.shape).toEqual([]);
    expectArrayClose(values(dot), [16]);
    // |n|^2 = 9 + 16 + 144 = 169, |n| = 13
    const n = { p: tf.tensor1d([3]), q: tf.tensor1d([4, 12]) };
    const sq = treeSquaredNorm(n);
    const norm = treeGlobalNorm(n);
    expectArrayClose(values(sq), [169]);
    expectArrayClose(values(norm), [13]);
    // A single leaf and the empty tree.
    const one = treeGlobalNorm(tf.tensor1d([-6, 8]) as Tree);
    expectArrayClose(values(one), [10]);
    const empty = treeGlobalNorm({});
    expect(values(empty)).toEqual([0]);
    expect(() => treeVdot(a, n)).toThrow(TreeStructureError);
    treeDispose([a, b, n, dot, sq, norm, one, empty]);
    // The one-leaf norm's input was made inline; it is the only tensor left.
    expect(tf.memory().numTensors).toBe(before + 1);
  });

  it('zeros, ones, full and scale keep shapes and dtypes', () => {
    const tree = { f: tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), i: tf.tensor1d([1, 2], 'int32') };
    const zeros = treeZerosLike(tree) as typeof tree;
    const ones = treeOnesLike(tree) as typeof tree;
    const full = treeFull(tree, 0.5) as typeof tree;
    const scaled = treeScale({ f: tree.f }, 2) as { f: tf.Tensor };
    const byScalar = tf.scalar(-1);
    const negated = treeScale({ f: tree.f }, byScalar) as { f: tf.Tensor };
    expect(zeros.f.shape).toEqual([2, 3]);
    expect(values(zeros.f)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(zeros.i.dtype).toBe('int32');
    expect(values(ones.i)).toEqual([1, 1]);
    expect(values(full.f)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(full.i.dtype).toBe('float32');
    expect(values(scaled.f)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(values(negated.f)).toEqual([-1, -2, -3, -4, -5, -6]);
    treeDispose([tree, zeros, ones, full, scaled, byScalar, negated]);
  });

  it('collectTensors finds each tensor once in any value', () => {
    const m = tf.zeros([2]);
    const v = tf.ones([2]);
    const state: Record<string, unknown> = {
      count: 3,
      name: 'adam',
      nothing: null,
      mu: m,
      nested: [{ mu: m }, [v, m], undefined],
      fn: () => m,
    };
    state.self = state; // a cycle must not loop
    const found = collectTensors(state);
    expect(found).toHaveLength(2);
    expect(new Set(found)).toEqual(new Set([m, v]));
    expect(collectTensors(5)).toEqual([]);
    expect(collectTensors(m)).toEqual([m]);
    treeDispose([m, v]);
  });

  it('treeDispose frees every reachable tensor once and skips disposed ones', () => {
    const before = tf.memory().numTensors;
    const shared = tf.zeros([3]);
    const other = tf.ones([1]);
    const gone = tf.ones([1]);
    gone.dispose();
    treeDispose({ a: shared, b: [shared, other], c: gone, count: 1 });
    expect(shared.isDisposed).toBe(true);
    expect(other.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});
