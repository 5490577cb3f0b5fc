import * as tf from '@tensorflow/tfjs';
import {
  chain,
  type GradientTransformation,
  injectHyperparams,
  injectLearningRate,
  treeDispose,
} from '@tfopt/core';
import { egAdam } from '@tfopt/eg';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { quietWasmLeakCheck } from '@tfopt/testing/layers';
import { sgd } from '@tfopt/transforms';
import { expect, it } from 'vitest';
import { decodeValue, encodeValue, type NamedTensor, SKELETON_NAME } from './checkpoint.js';
import { TransformOptimizer } from './index.js';

/** The raw bits of a tensor (32-bit words), or its strings for a string tensor. */
async function bits(t: tf.Tensor): Promise<(number | string)[]> {
  const data = await t.data();
  if (t.dtype === 'string') return Array.from(data as unknown as string[]);
  const typed = data as Float32Array | Int32Array | Uint8Array;
  if (typed instanceof Uint8Array) return Array.from(typed);
  return Array.from(new Uint32Array(typed.buffer, typed.byteOffset, typed.length));
}

/** Every weight as name, dtype, shape and raw bits, for exact comparison. */
async function fingerprint(weights: NamedTensor[]): Promise<unknown[][]> {
  return Promise.all(
    weights.map(async (w) => [w.name, w.tensor.dtype, w.tensor.shape, await bits(w.tensor)]),
  );
}

function cloneWeights(weights: NamedTensor[]): NamedTensor[] {
  return weights.map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) }));
}

describeEachBackend('state checkpoints', () => {
  it('round-trips tensors and numbers exactly, and strings, booleans, null, undefined, empty containers', async () => {
    const value = {
      names: ['dense/kernel', 'b'],
      state: [
        { count: 7, mu: { 'dense/kernel': tf.tensor2d([[1, 2]]), b: tf.tensor1d([3]) } },
        {},
        [],
        {
          lr: 0.001,
          tenth: 0.1,
          big: 2 ** 40,
          huge: Number.MAX_VALUE,
          tiny: Number.MIN_VALUE,
          nan: Number.NaN,
          inf: Number.POSITIVE_INFINITY,
          ninf: Number.NEGATIVE_INFINITY,
          negZero: -0,
          zero: 0,
          flag: true,
          mode: 'cos_x',
          none: null,
          gone: undefined,
        },
        { idx: tf.tensor1d([1, 2], 'int32'), on: tf.tensor1d([true, false], 'bool') },
        JSON.parse('{"__proto__": 4}'),
      ],
    };
    const { weights, created } = encodeValue(value);
    expect(weights[0]?.name).toBe(SKELETON_NAME);
    // Only tensors become weights; numbers live in the skeleton.
    expect(weights.map((w) => w.name).slice(1)).toEqual([
      'tfopt.state[0].mu["dense/kernel"]',
      'tfopt.state[0].mu.b',
      'tfopt.state[4].idx',
      'tfopt.state[4].on',
    ]);
    expect(weights[1]?.tensor).toBe((value.state[0] as any).mu['dense/kernel']);
    expect(created).toHaveLength(1); // the skeleton

    // What model.save writes survives the caller disposing it after loading.
    const copies = cloneWeights(weights);
    const back = (await decodeValue(copies)) as any;
    tf.dispose(copies.map((c) => c.tensor));
    expect(back.names).toEqual(value.names);
    expect(values(back.state[0].mu['dense/kernel'])).toEqual([1, 2]);
    expect(back.state[0].mu['dense/kernel'].shape).toEqual([1, 2]);
    expect(back.state[0].count).toBe(7);
    expect(back.state[1]).toEqual({});
    expect(back.state[2]).toEqual([]);
    const n = back.state[3];
    expect(n.lr).toBe(0.001); // not float32-rounded: Math.fround(0.001) !== 0.001
    expect(n.tenth).toBe(0.1);
    expect(n.big).toBe(2 ** 40);
    expect(n.huge).toBe(Number.MAX_VALUE);
    expect(n.tiny).toBe(Number.MIN_VALUE);
    expect(n.nan).toBeNaN();
    expect(n.inf).toBe(Number.POSITIVE_INFINITY);
    expect(n.ninf).toBe(Number.NEGATIVE_INFINITY);
    expect(Object.is(n.negZero, -0)).toBe(true);
    expect(Object.is(n.zero, 0)).toBe(true);
    expect(n).toMatchObject({ flag: true, mode: 'cos_x', none: null });
    expect('gone' in n && n.gone === undefined).toBe(true);
    expect(back.state[4].idx.dtype).toBe('int32');
    expect(back.state[4].on.dtype).toBe('bool');
    expect(values(back.state[4].on)).toEqual([1, 0]);
    // A key named "__proto__" stays a key and does not become the prototype.
    expect(Object.hasOwn(back.state[5], '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(back.state[5])).toBe(Object.prototype);
    treeDispose([value, back, created]);
  });

  it('refuses weights it did not write and values it cannot hold', async () => {
    const stray = tf.scalar(1);
    await expect(decodeValue([{ name: 'm', tensor: stray }])).rejects.toThrow(
      /no "tfopt\/skeleton" weight; these optimizer weights were not written by TransformOptimizer/,
    );
    const { weights, created } = encodeValue({ a: tf.scalar(1) });
    await expect(decodeValue(weights.slice(0, 1))).rejects.toThrow(
      /the weight "tfopt.a" is missing \(the skeleton references it; the checkpoint is truncated/,
    );
    expect(() => encodeValue({ when: new Date(0) })).toThrow(/at \.when holds a Date/);
    const before = tf.memory().numTensors;
    expect(() => encodeValue({ n: 1, when: new Map() })).toThrow(/cannot be saved/);
    expect(tf.memory().numTensors).toBe(before);
    treeDispose([weights, created, stray]);
  });

  it('reads a version-1 checkpoint, whose numbers were float32 or int32 scalar weights', async () => {
    // Written out by hand as the version-1 writer laid it out.
    const skeleton = {
      format: 'tfopt-optimizer-state',
      version: 1,
      root: {
        o: {
          count: { n: 'tfopt.count' },
          lr: { n: 'tfopt.lr' },
          mu: { o: { 'dense/kernel': { t: 'tfopt.mu["dense/kernel"]' } } },
          mode: { v: 'x' },
          gone: { u: 1 },
        },
      },
    };
    const weights: NamedTensor[] = [
      { name: SKELETON_NAME, tensor: tf.scalar(JSON.stringify(skeleton)) },
      { name: 'tfopt.count', tensor: tf.scalar(12, 'int32') },
      { name: 'tfopt.lr', tensor: tf.scalar(0.1, 'float32') },
      { name: 'tfopt.mu["dense/kernel"]', tensor: tf.tensor2d([[0.5, -1]]) },
    ];
    const back = (await decodeValue(weights)) as any;
    expect(back.count).toBe(12);
    expect(back.lr).toBe(Math.fround(0.1)); // what a float32 scalar holds
    expect(back.lr).not.toBe(0.1);
    expect(back.mu['dense/kernel'].shape).toEqual([1, 2]);
    expect(values(back.mu['dense/kernel'])).toEqual([0.5, -1]);
    expect(back.mu['dense/kernel']).not.toBe(weights[3]?.tensor); // a copy
    expect(back.mode).toBe('x');
    expect('gone' in back).toBe(true);
    treeDispose([back, weights]);
  });

  it('a TransformOptimizer resumes from a version-1 checkpoint and saves version 2', async () => {
    const x = tf.variable(tf.tensor1d([1, 2]), true, `v1-${tf.getBackend()}/x`);
    const n = x.name;
    // sgd with momentum over one variable, as the version-1 writer saved it after 5 steps.
    const skeleton = {
      format: 'tfopt-optimizer-state',
      version: 1,
      root: {
        o: {
          names: { a: [{ v: n }] },
          state: {
            a: [
              { o: { trace: { o: { [n]: { t: `tfopt.state[0].trace["${n}"]` } } } } },
              { o: { count: { n: 'tfopt.state[1].count' } } },
            ],
          },
          dormant: { o: {} },
          pending: { o: {} },
        },
      },
    };
    const weights: NamedTensor[] = [
      { name: 'iter', tensor: tf.scalar(5, 'int32') },
      { name: SKELETON_NAME, tensor: tf.scalar(JSON.stringify(skeleton)) },
      { name: `tfopt.state[0].trace["${n}"]`, tensor: tf.tensor1d([0.5, -1]) },
      { name: 'tfopt.state[1].count', tensor: tf.scalar(5, 'int32') },
    ];
    const opt = new TransformOptimizer(sgd(0.1, { momentum: 0.9 }));
    await opt.setWeights(weights);
    treeDispose(weights);
    expect(opt.iterations).toBe(5);
    // grad = [2, 4]; trace = grad + 0.9 * [0.5, -1] = [2.45, 3.1]; x -= 0.1 * trace.
    opt.minimize(() => tf.sum(tf.mul(x, tf.tensor1d([2, 4]))), false, [x]);
    expect(opt.iterations).toBe(6);
    const state = opt.getState() as any;
    expectArrayClose(values(state[0].trace[n]), [2.45, 3.1]);
    expectArrayClose(values(x), [0.755, 1.69]);
    const written = await opt.getWeights();
    const text = JSON.parse(written[1]!.tensor.dataSync()[0] as unknown as string);
    expect(text.version).toBe(2);
    expect(text.root.o.state.a[0].o.trace.o[n]).toEqual({
      t: `tfopt.state[0].trace["${n}"]`,
      s: [2],
      d: 'float32',
    });
    expect(written.map((w) => w.name)).toEqual([
      'iter',
      SKELETON_NAME,
      `tfopt.state[0].trace["${n}"]`,
    ]);
    opt.dispose();
    x.dispose();
  });
});

/** Holds numbers JSON cannot write and numbers float32 cannot hold, plus int and bool tensors. */
function oddState(): GradientTransformation<any> {
  return {
    init: () => ({
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      ninf: Number.NEGATIVE_INFINITY,
      negZero: -0,
      tenth: 0.1,
      beyondInt32: 2 ** 31 + 0.5,
      mode: 'odd',
      flag: false,
      none: null,
      gone: undefined,
      idx: tf.tensor1d([3, -4], 'int32'),
      on: tf.tensor1d([true, false, true], 'bool'),
    }),
    update: (updates, state) => [updates, state],
  };
}

describeEachBackend('TransformOptimizer checkpoints are bit-exact', (backend) => {
  quietWasmLeakCheck(backend);

  it('getWeights, setWeights on a new optimizer, getWeights gives the same bytes and numbers', async () => {
    const build = () =>
      new TransformOptimizer(
        injectHyperparams(
          ({ learningRate }) => chain(oddState(), sgd(learningRate, { momentum: 0.9 })),
          { learningRate: 1e-3 },
        ),
      );
    const vars: tf.Variable[] = [
      tf.variable(tf.tensor1d([1, -2, 3])),
      tf.variable(tf.tensor2d([[0.5, 4]])),
    ];
    const loss = () => tf.addN(vars.map((v) => tf.sum(tf.mul(v, v)))) as tf.Scalar;
    const first = build();
    for (let i = 0; i < 3; i++) first.minimize(loss, false, vars);
    const saved = await first.getWeights();
    const expected = await fingerprint(saved);
    const copies = cloneWeights(saved);
    const atSave = vars.map((v) => v.dataSync().slice());

    const second = build();
    await second.setWeights(copies);
    tf.dispose(copies.map((c) => c.tensor));
    expect(second.iterations).toBe(3);
    expect(await fingerprint(await second.getWeights())).toEqual(expected);

    // The numbers are the very ones the transform holds, not float32 neighbours.
    expect(second.learningRate).toBe(1e-3);
    const odd = (second.getState() as any).inner[0];
    expect(odd.nan).toBeNaN();
    expect(odd.inf).toBe(Number.POSITIVE_INFINITY);
    expect(odd.ninf).toBe(Number.NEGATIVE_INFINITY);
    expect(Object.is(odd.negZero, -0)).toBe(true);
    expect(odd.tenth).toBe(0.1);
    expect(odd.beyondInt32).toBe(2147483648.5);
    expect(odd).toMatchObject({ mode: 'odd', flag: false, none: null });
    expect('gone' in odd).toBe(true);
    expect(odd.idx.dtype).toBe('int32');
    expect(values(odd.on)).toEqual([1, 0, 1]);

    // Both continue to the same bits.
    for (let i = 0; i < 2; i++) first.minimize(loss, false, vars);
    const uninterrupted = await Promise.all(vars.map(bits));
    vars.forEach((v, i) => {
      v.assign(tf.tensor(atSave[i]!, v.shape));
    });
    for (let i = 0; i < 2; i++) second.minimize(loss, false, vars);
    expect(await Promise.all(vars.map(bits))).toEqual(uninterrupted);
    first.dispose();
    second.dispose();
    tf.dispose(vars);
  });

  it('model.save and tf.loadLayersModel resume training bit for bit', async () => {
    const x = Array.from({ length: 32 * 3 }, (_, i) => Math.cos(0.9 * i + 0.2));
    const y = Array.from({ length: 32 }, (_, i) => x[3 * i]! - 0.5 * x[3 * i + 2]!);
    const xs = tf.tensor2d(x, [32, 3]);
    const ys = tf.tensor2d(y, [32, 1]);
    const fit = { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 } as const;
    const a = tf.sequential({
      layers: [
        tf.layers.dense({
          units: 4,
          inputShape: [3],
          activation: 'tanh',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 11 }),
        }),
        tf.layers.dense({
          units: 1,
          kernelInitializer: tf.initializers.glorotUniform({ seed: 12 }),
        }),
      ],
    });
    const optimizer = new TransformOptimizer(
      injectLearningRate(egAdam, 0.02, { scale: { scaleLearningRate: 0.05 } }),
    );
    a.compile({ optimizer, loss: 'meanSquaredError' });
    await a.fit(xs, ys, fit);
    optimizer.learningRate = 0.003; // float32 cannot hold it
    let artifacts: tf.io.ModelArtifacts | undefined;
    await a.save(
      tf.io.withSaveHandler(async (saved) => {
        artifacts = saved;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
      { includeOptimizer: true },
    );
    await a.fit(xs, ys, fit);

    const b = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const loaded = b.optimizer as TransformOptimizer;
    expect(loaded.iterations).toBe(8);
    expect(loaded.learningRate).toBe(0.003);
    await b.fit(xs, ys, fit);
    const got = await Promise.all(b.getWeights().map(bits));
    const want = await Promise.all(a.getWeights().map(bits));
    expect(got).toEqual(want);
    // The optimizer states match too (their names differ: b's variables carry a "_1" suffix).
    const stateBits = async (o: TransformOptimizer<any>) =>
      (await fingerprint((await o.getWeights()).filter((w) => w.name !== SKELETON_NAME))).map(
        ([, ...rest]) => rest,
      );
    expect(await stateBits(loaded)).toEqual(await stateBits(optimizer));
    for (const m of [a, b]) {
      m.optimizer.dispose();
      m.dispose();
    }
    tf.dispose([xs, ys]);
  });
});
