import * as tf from '@tensorflow/tfjs-core';
import {
  chain,
  disposeReplaced,
  type GradientTransformation,
  InvalidOptionError,
  type Tree,
  TreeStructureError,
  treeDispose,
  treeLeaves,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { clipByGlobalNorm, scale, scaleByLearningRate, trace } from '@tfopt/transforms';
import { describe, expect, it } from 'vitest';
import { egGlobalScale } from './globalScale.js';
import { readEgScale, readEgScaleByPath } from './inspect.js';

type XY = { x: number[]; y: number[] };
const toTree = ({ x, y }: XY) => ({ x: tf.tensor1d(x), y: tf.tensor1d(y) });

/**
 * Feed gradients through `tx` (as updates, with no context unless `inChain`);
 * return the scale after every step and each step's output.
 */
function run<S>(
  tx: GradientTransformation<S>,
  grads: readonly XY[],
): { scales: number[][]; outs: XY[] } {
  const first = toTree(grads[0]!);
  let state = tx.init(first);
  treeDispose(first);
  const scales: number[][] = [];
  const outs: XY[] = [];
  for (const g of grads) {
    const tree = toTree(g);
    const [out, next] = tx.update(tree, state);
    const { x, y } = out as { x: tf.Tensor; y: tf.Tensor };
    outs.push({ x: values(x), y: values(y) });
    // The caller disposes its gradient right away: the state must not need it.
    treeDispose(tree);
    disposeReplaced([state, out], next);
    state = next;
    scales.push(readEgScale(state));
  }
  treeDispose(state);
  return { scales, outs };
}

describeEachBackend('egGlobalScale', () => {
  // Step 1: u1 = {x: [1, 0], y: [2]}; no previous updates, alignment 0, s = 1.
  // Step 2: g2 = {x: [1, 1], y: [-1]} (standalone, so updates = gradient), scaleLearningRate 0.5.
  //   global, cosine:  <g2, u1> = 1 - 2 = -1, |g2| = sqrt(3), |u1| = sqrt(5),
  //                    a = -1/sqrt(15) = -0.2581989, s = exp(-0.1290994) = 0.8788866
  //   per tensor, cosine: x: 1 / (sqrt(2) 1) = 0.7071068, s_x = exp(0.3535534) = 1.4241190
  //                       y: -2 / (1 2) = -1,             s_y = exp(-0.5)      = 0.6065307
  //   global, inner product:     a = -1,                 s = exp(-0.5) = 0.6065307
  //   per tensor, inner product: x: 1, s_x = exp(0.5) = 1.6487213; y: -2, s_y = exp(-1) = 0.3678794
  const grads: XY[] = [
    { x: [1, 0], y: [2] },
    { x: [1, 1], y: [-1] },
  ];
  const tol = { rtol: 1e-5, atol: 1e-6 };
  const handCases = [
    { normalize: true, perTensor: false, scale: [0.8788866] },
    { normalize: true, perTensor: true, scale: [1.424119, 0.6065307] },
    { normalize: false, perTensor: false, scale: [0.6065307] },
    { normalize: false, perTensor: true, scale: [1.6487213, 0.3678794] },
  ];
  for (const { normalize, perTensor, scale: expected } of handCases) {
    it(`matches the hand-derived second step (normalize ${normalize}, perTensor ${perTensor})`, () => {
      const { scales, outs } = run(
        egGlobalScale({ scaleLearningRate: 0.5, normalize, perTensor }),
        grads,
      );
      expect(scales[0]).toEqual(perTensor ? [1, 1] : [1]);
      expect(outs[0]).toEqual(grads[0]);
      expectArrayClose(scales[1]!, expected, tol, 'scale');
      const [sx, sy] = perTensor ? expected : [expected[0]!, expected[0]!];
      expectArrayClose(outs[1]!.x, [sx!, sx!], tol, 'x');
      expectArrayClose(outs[1]!.y, [-sy!], tol, 'y');
    });
  }

  it('keeps a per-tensor scale as a tree of scalars keyed like the params', () => {
    // The hand-derived case above (cosine, per tensor), read by path: x grows, y shrinks.
    const tx = egGlobalScale({ scaleLearningRate: 0.5, perTensor: true });
    // Keys inserted in the other order: the scale is paired with x and y by key.
    const params = { y: tf.zeros([1]), x: tf.zeros([2]) };
    let state = tx.init(params);
    const scale = state.scale as Record<string, tf.Tensor>;
    expect(Object.keys(scale).sort()).toEqual(['x', 'y']);
    expect(scale.x!.shape).toEqual([]);
    expect(scale.y!.shape).toEqual([]);
    for (const g of grads) {
      const tree = toTree(g);
      const [out, next] = tx.update(tree, state);
      treeDispose(tree);
      disposeReplaced([state, out], next);
      state = next;
    }
    const byPath = readEgScaleByPath(state);
    expect(Object.keys(byPath).sort()).toEqual(['.x', '.y']);
    expectArrayClose([byPath['.x']!, byPath['.y']!], [1.424119, 0.6065307], tol, 'by path');
    // readEgScale lists the same numbers in canonical (sorted-key) order: x, y.
    expectArrayClose(readEgScale(state), [1.424119, 0.6065307], tol, 'canonical order');
    treeDispose([params, state]);
  });

  it('rejects a per-tensor scale that does not match the params, naming the path', () => {
    const tx = egGlobalScale({ perTensor: true });
    const state = tx.init({ w: tf.zeros([2]), b: tf.zeros([1]) });
    const u = { w: tf.zeros([2]), b: tf.zeros([1]) };
    const s = state.scale as Record<string, tf.Tensor>;
    const missing = { ...state, scale: { w: s.w! } };
    expect(() => tx.update(u, missing)).toThrow(TreeStructureError);
    expect(() => tx.update(u, missing)).toThrow(/^state\.scale\.b is missing/);
    const vector = tf.ones([2]);
    expect(() => tx.update(u, { ...state, scale: { w: vector, b: s.b! } })).toThrow(
      /^state\.scale\.w has shape \[2\]; expected a scalar/,
    );
    // A global scale's state (one scalar) does not fit a per-tensor transform, nor the reverse.
    expect(() => tx.update(u, { ...state, scale: s.w! })).toThrow(/^state\.scale\.b is missing/);
    const global = egGlobalScale();
    expect(() => global.update(u, state)).toThrow(/^state\.scale is not a scalar tensor/);
    treeDispose([state, u, vector]);
  });

  it('treats the alignment with a zero vector as 0 (no NaN)', () => {
    const zero = { x: [0, 0], y: [0] };
    const some = { x: [1, -2], y: [3] };
    for (const normalize of [true, false]) {
      for (const perTensor of [true, false]) {
        const tx = egGlobalScale({ scaleLearningRate: 0.5, normalize, perTensor });
        const { scales, outs } = run(tx, [zero, some, zero, zero, some, some]);
        const ones = perTensor ? [1, 1] : [1];
        // Steps 1-5 each have a zero vector on one side; step 6 aligns some with some.
        for (let i = 0; i < 5; i++) expect(scales[i]).toEqual(ones);
        expect(scales[5]!.every((s) => s > 1 && Number.isFinite(s))).toBe(true);
        for (const o of outs) expect([...o.x, ...o.y].some(Number.isNaN)).toBe(false);
      }
    }
  });

  it('is invariant to rescaling the gradients when normalized', () => {
    // g and 1000 g through momentum: the cosines, hence the scales, are equal.
    const sequence: XY[] = Array.from({ length: 60 }, (_, t) => ({
      x: [Math.sin(0.3 * t) + 0.2, Math.cos(0.11 * t)],
      y: [(-1) ** t * 0.3 + 0.1],
    }));
    const big = sequence.map(({ x, y }) => ({
      x: x.map((v) => 1000 * v),
      y: y.map((v) => 1000 * v),
    }));
    for (const perTensor of [false, true]) {
      const build = () =>
        chain(
          trace({ decay: 0.9 }),
          egGlobalScale({ scaleLearningRate: 0.05, perTensor }),
          scaleByLearningRate(0.1),
        );
      const a = run(build(), sequence).scales;
      const b = run(build(), big).scales;
      a.forEach((s, t) => {
        expectArrayClose(b[t]!, s, { rtol: 2e-5, atol: 0 }, `step ${t + 1}`);
      });
      expect(Math.max(...a.flat().map((s) => Math.abs(s - 1)))).toBeGreaterThan(0.05);
    }
  });

  for (const normalize of [true, false]) {
    it(`stays finite, positive and within bounds under adversarial gradients (normalize ${normalize})`, () => {
      const adversarial: XY[] = [
        { x: [1e30, -1e30], y: [1e30] },
        { x: [1e30, 1e30], y: [-1e30] },
        { x: [1e-30, -1e-30], y: [1e-30] },
        { x: [-1e-30, 1e-30], y: [-1e-30] },
        { x: [0, 0], y: [0] },
        { x: [3e38, -3e38], y: [3e38] },
        { x: [-3e38, -3e38], y: [3e38] },
        { x: [1, -1], y: [1] },
      ];
      for (const perTensor of [false, true]) {
        const tx = egGlobalScale({ scaleLearningRate: 2, normalize, perTensor, min: 0.1, max: 10 });
        const sequence = Array.from(
          { length: 48 },
          (_, i) => adversarial[(i * 5) % adversarial.length]!,
        );
        const { scales } = run(tx, sequence);
        for (const s of scales.flat()) {
          expect(Number.isFinite(s)).toBe(true);
          expect(s).toBeGreaterThanOrEqual(Math.fround(0.1));
          expect(s).toBeLessThanOrEqual(10);
        }
      }
    });
  }

  it('reaches its bounds exactly: agreement grows the scale to max, oscillation shrinks it to min', () => {
    const agree = Array.from({ length: 12 }, () => ({ x: [1, 2], y: [0.5] }));
    const alternate = agree.map((g, t) => ({
      x: g.x.map((v) => (-1) ** t * v),
      y: g.y.map((v) => (-1) ** t * v),
    }));
    const tx = () => egGlobalScale({ scaleLearningRate: 0.5, min: 0.25, max: 4 });
    // cos = 1 each step from step 2: s = e^(0.5 (t - 1)) until it passes 4 at t = 4.
    expectArrayClose(run(tx(), agree).scales.flat().slice(0, 3), [1, Math.exp(0.5), Math.exp(1)], {
      rtol: 1e-6,
    });
    expect(run(tx(), agree).scales.at(-1)).toEqual([4]);
    expect(run(tx(), alternate).scales.at(-1)).toEqual([0.25]);
  });

  it('with scaleLearningRate 0 returns the updates bit for bit, even when the signal overflows', () => {
    const tx = egGlobalScale({ scaleLearningRate: 0, normalize: false });
    const sequence: XY[] = [
      { x: [3e38, -3e38], y: [0.1] },
      { x: [3e38, 3e38], y: [-7.25] },
      { x: [1e-3, 2], y: [5] },
    ];
    const { scales, outs } = run(tx, sequence);
    expect(scales).toEqual([[1], [1], [1]]);
    outs.forEach((o, i) => {
      expect(o).toEqual({ x: sequence[i]!.x.map(Math.fround), y: sequence[i]!.y.map(Math.fround) });
    });
  });

  it('uses the raw gradient of the step wherever it sits in a chain', () => {
    // chain(scale(0.5), egGlobalScale): previous updates 0.5 g1, raw gradient g2.
    // g1 = [1, 2], g2 = [3, -1]: a = <g2, 0.5 g1> = 0.5 (3 - 2) = 0.5, s = exp(0.1 * 0.5) = 1.0512711.
    // (Aligning the rescaled updates instead would give exp(0.1 * 0.25) = 1.0253151.)
    const seq: XY[] = [
      { x: [1, 2], y: [0] },
      { x: [3, -1], y: [0] },
    ];
    const options = { scaleLearningRate: 0.1, normalize: false };
    const flat = chain(scale(0.5), egGlobalScale(options));
    const nested = chain(scale(0.5), chain(chain(egGlobalScale(options)), scale(1)));
    expectArrayClose(run(flat, seq).scales[1]!, [1.0512711], { rtol: 1e-6 }, 'flat');
    expectArrayClose(run(nested, seq).scales[1]!, [1.0512711], { rtol: 1e-6 }, 'nested');
  });

  it('works before or after clipByGlobalNorm', () => {
    // Clipping after the scale does not change what the scale sees; clipping
    // before it rescales the updates, which the cosine ignores.
    const seq: XY[] = Array.from({ length: 20 }, (_, t) => ({ x: [1 + t, -2], y: [(-1) ** t] }));
    const base = run(
      chain(trace({ decay: 0.5 }), egGlobalScale({ scaleLearningRate: 0.05 })),
      seq,
    ).scales;
    const after = run(
      chain(
        trace({ decay: 0.5 }),
        egGlobalScale({ scaleLearningRate: 0.05 }),
        clipByGlobalNorm(0.01),
      ),
      seq,
    ).scales;
    const before = run(
      chain(
        clipByGlobalNorm(0.01),
        trace({ decay: 0.5 }),
        egGlobalScale({ scaleLearningRate: 0.05 }),
      ),
      seq,
    ).scales;
    // The trace of clipped gradients differs in direction from the trace of raw ones, so
    // "before" is only checked to run and stay in bounds; "after" must match exactly.
    expect(after).toEqual(base);
    for (const s of before.flat()) expect(s >= Math.fround(0.1) && s <= 10).toBe(true);
    expect(before).not.toEqual(base.map((s) => s.map(() => 1)));
  });

  it('keeps its own handle of the updates it remembers, never a tensor it was given', () => {
    const params = { w: tf.zeros([2]) };
    const g = { w: tf.tensor1d([1, 2]) };
    const inChain = chain(trace({ decay: 0.9 }), egGlobalScale());
    const [out1, s1] = inChain.update(g, inChain.init(params));
    // Not the momentum buffer itself (disposing one state part must not break the other) ...
    expect(treeLeaves(s1[1].previous)[0]).not.toBe(treeLeaves(s1[0].trace)[0]);
    // ... but the same values: trace of the first gradient with zero start is the gradient.
    expectArrayClose(values(treeLeaves(s1[1].previous)[0]!), [1, 2]);
    const alone = egGlobalScale();
    const s0 = alone.init(params);
    const [out2, s2] = alone.update(g, s0);
    expect(treeLeaves(s2.previous)[0]).not.toBe(g.w);
    treeDispose(g);
    // The state still works after the caller disposed its gradient.
    const g2 = { w: tf.tensor1d([2, 1]) };
    const [out3, s3] = alone.update(g2, s2);
    expectArrayClose(values(treeLeaves(s3.previous)[0]!), [2, 1]);
    // cos([2, 1], [1, 2]) = 0.8: s = exp(0.001 * 0.8)
    expectArrayClose(readEgScale(s3), [Math.exp(0.0008)], { rtol: 1e-6 });
    treeDispose([params, out1, s1, s0, out2, s2, g2, out3, s3]);
  });

  it('leaks nothing over many steps', () => {
    for (const perTensor of [false, true]) {
      const tx = egGlobalScale({ perTensor, normalize: !perTensor });
      const params = { w: tf.zeros([3]), b: [tf.zeros([2, 2])] };
      let state = tx.init(params);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 200; i++) {
        const grads = { w: tf.tensor1d([1, -2, i]), b: [tf.fill([2, 2], (-1) ** i)] };
        const [out, next] = tx.update(grads, state);
        disposeReplaced([state, out], next);
        treeDispose(grads);
        state = next;
      }
      expect(tf.memory().numTensors).toBe(before);
      treeDispose([params, state]);
    }
  });

  it('names the tree path and the mismatching tree when structures differ', () => {
    const tx = egGlobalScale({ perTensor: true });
    const state = tx.init({ w: tf.zeros([2]), b: tf.zeros([1]) });
    const u = { w: tf.zeros([2]), b: tf.zeros([1]) };
    expect(() => tx.update(u, state, undefined, { grads: { w: tf.zeros([2]) } as Tree })).toThrow(
      TreeStructureError,
    );
    expect(() => tx.update({ w: tf.zeros([2]) }, state)).toThrow(
      /^updates is missing key "b" that state\.previous has \(in egGlobalScale\.update/,
    );
    treeDispose([state, u]);
  });
});

describe('egGlobalScale options', () => {
  const cases: [unknown, string][] = [
    [{ scaleLearningRate: -0.1 }, 'scaleLearningRate'],
    [{ scaleLearningRate: Number.NaN }, 'scaleLearningRate'],
    [{ normalize: 1 }, 'normalize'],
    [{ min: 0 }, 'min'],
    [{ min: 2 }, 'min'],
    [{ max: 0.9 }, 'max'],
    [{ max: Number.POSITIVE_INFINITY }, 'max'],
    [{ perTensor: 'yes' }, 'perTensor'],
    [{ learning_rate: 0.1 }, 'learning_rate'],
    [5, 'options'],
  ];
  for (const [options, option] of cases) {
    it(`rejects ${JSON.stringify(options)} naming "${option}"`, () => {
      expect(() => egGlobalScale(options as never)).toThrow(InvalidOptionError);
      expect(() => egGlobalScale(options as never)).toThrow(
        `egGlobalScale: option "${option}" must be`,
      );
    });
  }
  it('rejects the former name learningRate, naming scaleLearningRate', () => {
    expect(() => egGlobalScale({ learningRate: 0.01 } as never)).toThrow(InvalidOptionError);
    expect(() => egGlobalScale({ learningRate: 0.01 } as never)).toThrow(
      'egGlobalScale: option "learningRate" must be absent (renamed scaleLearningRate; egGlobalScale takes scaleLearningRate, normalize, min, max, perTensor), got 0.01',
    );
  });
  it('records its spec', () => {
    expect(egGlobalScale({ perTensor: true }).spec).toEqual({
      name: 'egGlobalScale',
      args: [{ perTensor: true }],
    });
  });
});
