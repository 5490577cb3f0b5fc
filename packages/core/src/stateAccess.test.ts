import * as tf from '@tensorflow/tfjs-core';
import { describeEachBackend, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import {
  chain,
  collectTensors,
  disposeReplaced,
  type GradientTransformation,
  injectHyperparams,
  TfoptError,
  type Tree,
  tidy,
  treeDispose,
  treeGet,
  treeGetAll,
  treeMap,
  treeSet,
  treeZerosLike,
} from './index.js';

/** A momentum-like link with a count and a tree, as scaleByAdam's state has. */
function counted(decay: number): GradientTransformation<{ count: number; trace: Tree }> {
  return {
    init: (params) => ({ count: 0, trace: treeZerosLike(params) }),
    update: (updates, state) =>
      tidy(() => {
        const trace = treeMap((t, g) => tf.add(tf.mul(t, decay), g), state.trace, updates);
        return [trace, { count: state.count + 1, trace }];
      }),
  };
}

/** A link with only a count, like scaleByLearningRate's state. */
function countOnly(): GradientTransformation<{ count: number }> {
  return { init: () => ({ count: 0 }), update: (u, s) => [u, { count: s.count + 1 }] };
}

describeEachBackend('treeGet / treeGetAll / treeSet', () => {
  it('finds every field of a name with its path, depth first in sorted key order', () => {
    const tx = chain(
      counted(0.9),
      injectHyperparams(() => countOnly(), { learningRate: 0.1 }),
    );
    const state = tx.init({ w: tf.zeros([2]) });
    // [0] = { count, trace }, [1] = { count (injection's), hyperparams, inner: { count } }.
    const found = treeGetAll(state, 'count');
    expect(found.map((f) => [f.path, f.value])).toEqual([
      ['[0].count', 0],
      ['[1].count', 0],
      ['[1].inner.count', 0],
    ]);
    expect(found[0]!.holder).toBe(state[0]);
    expect(treeGet(state, 'learningRate')).toBe(0.1);
    expect(treeGet(state, 'trace')).toBe(state[0].trace);
    treeDispose(state);
  });

  it('returns the default when nothing matches and throws, listing the paths, when several do', () => {
    const state = [{ count: 3 }, { inner: [{ count: 7 }] }];
    expect(treeGet(state, 'scale')).toBeUndefined();
    expect(treeGet(state, 'scale', { default: 1 })).toBe(1);
    expect(() => treeGet(state, 'count')).toThrow(TfoptError);
    expect(() => treeGet(state, 'count')).toThrow(
      'treeGet: found 2 fields named "count", at [0].count, [1].inner[0].count; pass a filter to pick one',
    );
    // The filter sees path, value and holder; it picks one.
    expect(treeGet(state, 'count', { filter: (path) => path.startsWith('[1]') })).toBe(7);
    expect(treeGet(state, 'count', { filter: (_p, value) => value === 3 })).toBe(3);
    expect(treeGet(state, 'count', { filter: () => false, default: -1 })).toBe(-1);
  });

  it('looks inside a matching value too, as Optax does', () => {
    const state = { inner: { inner: { count: 1 } } };
    expect(treeGetAll(state, 'inner').map((f) => f.path)).toEqual(['.inner', '.inner.inner']);
    expect(() => treeGet(state, 'inner')).toThrow(/found 2 fields named "inner"/);
  });

  it('never looks inside a tensor and finds nothing in numbers or strings', () => {
    const t = tf.tensor([1, 2]);
    expect(treeGetAll(t, 'shape')).toEqual([]);
    expect(treeGetAll({ a: t, b: 'count', c: 3 }, 'count')).toEqual([]);
    expect(treeGetAll(undefined, 'count')).toEqual([]);
    t.dispose();
  });

  it('is the same whatever the key insertion order of the state', () => {
    const a = { y: { count: 1 }, x: { count: 2 } };
    const b = { x: { count: 2 }, y: { count: 1 } };
    const paths = (s: unknown) => treeGetAll(s, 'count').map((f) => [f.path, f.value]);
    expect(paths(a)).toEqual([
      ['.x.count', 2],
      ['.y.count', 1],
    ]);
    expect(paths(b)).toEqual(paths(a));
  });

  it('treeSet replaces every match, shares everything else and leaves the state as it was', () => {
    const tx = chain(counted(0.5), countOnly());
    const params = { w: tf.tensor([1, 2]) };
    const state = tx.init(params);
    const before = tf.memory().numTensors;
    const next = treeSet(state, { count: 5 });
    expect(tf.memory().numTensors).toBe(before);
    expect(treeGetAll(next, 'count').map((f) => f.value)).toEqual([5, 5]);
    expect(treeGetAll(state, 'count').map((f) => f.value)).toEqual([0, 0]);
    expect(next[0].trace).toBe(state[0].trace);
    // Only the filtered match.
    const one = treeSet(state, { count: 9 }, { filter: (_p, _v, holder) => 'trace' in holder });
    expect(treeGetAll(one, 'count').map((f) => f.value)).toEqual([9, 0]);
    expect(one[1]).toBe(state[1]);
    // The replaced state trains on from the new count: trace = 0.5·0 + g = [1, 2].
    const [u, after] = tx.update(params, next, params);
    expect(after[0].count).toBe(6);
    expect(values((u as { w: tf.Tensor }).w)).toEqual([1, 2]);
    treeDispose([params, state, u, after]);
  });

  it('treeSet with a tensor: disposeReplaced frees the old one only', () => {
    const old = tf.scalar(1);
    const state = { scale: old, count: 2 };
    const fresh = tf.scalar(3);
    const next = treeSet(state, { scale: fresh });
    expect(next.scale).toBe(fresh);
    expect(next.count).toBe(2);
    disposeReplaced(state, next);
    expect(old.isDisposed).toBe(true);
    expect(values(next.scale)).toEqual([3]);
    treeDispose(next);
  });

  it('treeSet throws, naming the key, when a key matches nothing, and changes nothing', () => {
    const state = [{ count: 0 }];
    expect(() => treeSet(state, { cuont: 1 })).toThrow(
      'treeSet: the state has no field named "cuont"',
    );
    expect(() => treeSet(state, { count: 1 }, { filter: () => false })).toThrow(
      'treeSet: the state has no field named "count" that passes the filter',
    );
    expect(() => treeSet(state, null as never)).toThrow(/values must be an object/);
    expect(state).toEqual([{ count: 0 }]);
  });

  it('treeSet does not look inside a replaced value, and keeps odd keys as keys', () => {
    const state = { inner: { inner: 1 } };
    expect(treeSet(state, { inner: 0 })).toEqual({ inner: 0 });
    const odd = JSON.parse('{"__proto__": {"count": 1}, "constructor": {"count": 2}}');
    const set = treeSet(odd, { count: 3 });
    expect(Object.keys(set)).toEqual(['__proto__', 'constructor']);
    expect(treeGetAll(set, 'count').map((f) => [f.path, f.value])).toEqual([
      ['.__proto__.count', 3],
      ['.constructor.count', 3],
    ]);
    expect(collectTensors(set)).toEqual([]);
  });
});
