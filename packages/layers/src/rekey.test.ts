import * as tf from '@tensorflow/tfjs-core';
import { treeDispose } from '@tfopt/core';
import { describeEachBackend, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { rekeyState } from './index.js';

/** The layout an Adam-like transform has: a shared count and one moment per variable. */
const stateFor = (names: string[], fill: number, count = 0) => ({
  count,
  mu: Object.fromEntries(names.map((n) => [n, tf.fill([2], fill)])),
  flag: 'x',
});

describeEachBackend('rekeyState', () => {
  it('keeps entries by name, starts new variables fresh and parks those that left', () => {
    const previous = stateFor(['a', 'b'], 1, 5);
    const fresh = stateFor(['c', 'a'], 0);
    const { state, dormant } = rekeyState(
      fresh,
      { names: ['a', 'b'], state: previous, dormant: {} },
      ['c', 'a'],
    );
    const s = state as typeof previous;
    expect(Object.keys(s.mu)).toEqual(['c', 'a']);
    expect(s.mu.a).toBe(previous.mu.a); // carried over, not copied
    expect(s.mu.c).toBe(fresh.mu.c);
    expect(s.count).toBe(5); // shared entries come from the previous state
    expect(dormant).toEqual({ b: { '.mu': previous.mu.b } });

    // When b comes back it gets its parked entry, and a (now absent) is parked.
    const again = stateFor(['b'], 0);
    const back = rekeyState(again, { names: ['c', 'a'], state, dormant }, ['b']);
    expect((back.state as typeof previous).mu.b).toBe(previous.mu.b);
    expect(Object.keys(back.dormant).sort()).toEqual(['a', 'c']);
    treeDispose([previous, fresh, again]);
  });

  it('follows renamed variables through sourceOf', () => {
    const previous = stateFor(['dense/kernel'], 2);
    const fresh = stateFor(['dense/kernel_1'], 0);
    const { state, dormant } = rekeyState(
      fresh,
      { names: ['dense/kernel'], state: previous, dormant: {} },
      ['dense/kernel_1'],
      (n) => n.replace(/_1$/, ''),
    );
    expect(values((state as typeof previous).mu['dense/kernel_1'] as tf.Tensor)).toEqual([2, 2]);
    expect(dormant).toEqual({});
    treeDispose([previous, fresh]);
  });

  it('names the path and variable where the previous state does not fit', () => {
    const previous = stateFor(['a'], 1);
    const wrongShape = { count: 0, mu: { a: tf.zeros([3]) }, flag: 'x' };
    expect(() =>
      rekeyState(wrongShape, { names: ['a'], state: previous, dormant: {} }, ['a']),
    ).toThrow(
      /state kept for variable "a" at state path \.mu does not fit the variable: \(entry\) needs a float32 tensor of shape \[3\], found a float32 tensor of shape \[2\]/,
    );
    const otherLayout = [previous];
    expect(() =>
      rekeyState(otherLayout, { names: ['a'], state: previous, dormant: {} }, ['a']),
    ).toThrow(/does not fit the transform at state path \(root\): expected an array of length 1/);
    // One value per variable by position cannot follow a change of the variable set.
    const byPosition = (n: number) => ({ scale: tf.ones([n]) });
    const two = byPosition(2);
    const three = byPosition(3);
    expect(() =>
      rekeyState(three, { names: ['a', 'b'], state: two, dormant: {} }, ['a', 'b', 'c']),
    ).toThrow(
      /state path \.scale: expected a float32 tensor of shape \[3\].*cannot follow a change in the set of trainable variables/,
    );
    treeDispose([previous, wrongShape, two, three]);
  });
});
