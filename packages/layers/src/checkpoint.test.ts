import * as tf from '@tensorflow/tfjs-core';
import { treeDispose } from '@tfopt/core';
import { describeEachBackend, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import { decodeValue, encodeValue, SKELETON_NAME } from './checkpoint.js';

describeEachBackend('state checkpoints', () => {
  it('round-trips tensors, numbers, strings and empty containers under path names', async () => {
    const value = {
      names: ['dense/kernel', 'b'],
      state: [
        { count: 7, mu: { 'dense/kernel': tf.tensor2d([[1, 2]]), b: tf.tensor1d([3]) } },
        {},
        [],
        {
          lr: 0.001,
          big: 2 ** 40,
          nan: Number.NaN,
          flag: true,
          mode: 'cos_x',
          none: null,
          gone: undefined,
        },
        { idx: tf.tensor1d([1, 2], 'int32') },
      ],
    };
    const { weights, created } = encodeValue(value);
    expect(weights[0]?.name).toBe(SKELETON_NAME);
    expect(weights.map((w) => w.name).slice(1)).toEqual([
      'tfopt.state[0].count',
      'tfopt.state[0].mu["dense/kernel"]',
      'tfopt.state[0].mu.b',
      'tfopt.state[3].lr',
      'tfopt.state[3].big',
      'tfopt.state[3].nan',
      'tfopt.state[4].idx',
    ]);
    // Tensors are passed through, numbers become scalars: int32 when they are integers that fit.
    expect(weights[2]?.tensor).toBe((value.state[0] as any).mu['dense/kernel']);
    expect(weights.find((w) => w.name.endsWith('count'))?.tensor.dtype).toBe('int32');
    expect(weights.find((w) => w.name.endsWith('lr'))?.tensor.dtype).toBe('float32');
    expect(created).toHaveLength(5); // four numbers and the skeleton

    // What model.save writes survives the caller disposing it after loading.
    const copies = weights.map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) }));
    const back = (await decodeValue(copies)) as any;
    tf.dispose(copies.map((c) => c.tensor));
    expect(back.names).toEqual(value.names);
    expect(values(back.state[0].mu['dense/kernel'])).toEqual([1, 2]);
    expect(back.state[0].mu['dense/kernel'].shape).toEqual([1, 2]);
    expect(back.state[0].count).toBe(7);
    expect(back.state[1]).toEqual({});
    expect(back.state[2]).toEqual([]);
    expect(back.state[3].lr).toBeCloseTo(0.001, 10); // float32 rounding
    expect(back.state[3].big).toBe(2 ** 40);
    expect(back.state[3].nan).toBeNaN();
    expect(back.state[3]).toMatchObject({ flag: true, mode: 'cos_x', none: null });
    expect('gone' in back.state[3]).toBe(true);
    expect(back.state[4].idx.dtype).toBe('int32');
    treeDispose([value, back, created]);
  });

  it('refuses weights it did not write and values it cannot hold', async () => {
    const stray = tf.scalar(1);
    await expect(decodeValue([{ name: 'm', tensor: stray }])).rejects.toThrow(
      /not written by TransformOptimizer/,
    );
    const { weights, created } = encodeValue({ a: tf.scalar(1) });
    await expect(decodeValue(weights.slice(0, 1))).rejects.toThrow(
      /the weight "tfopt.a" is missing/,
    );
    expect(() => encodeValue({ when: new Date(0) })).toThrow(/at \.when holds a Date/);
    const before = tf.memory().numTensors;
    expect(() => encodeValue({ n: 1, when: new Map() })).toThrow(/cannot be saved/);
    expect(tf.memory().numTensors).toBe(before);
    treeDispose([weights, created, stray]);
  });
});
