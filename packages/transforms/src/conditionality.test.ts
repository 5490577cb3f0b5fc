import * as tf from '@tensorflow/tfjs-core';
import {
  chain,
  collectTensors,
  type GradientTransformation,
  InvalidOptionError,
  identity,
  type StateOf,
  type StepResult,
  step,
  stepVariables,
  TfoptError,
  type Tree,
  treeDispose,
  treeFlatten,
  type UpdateContext,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { describe, expect, it } from 'vitest';
import {
  type ApplyIfFiniteState,
  adam,
  applyIfFinite,
  clipByGlobalNorm,
  scale,
  scaleByLearningRate,
  sgd,
  trace,
} from './index.js';

const w = (t: Tree) => values((t as { w: tf.Tensor }).w);
const counts = (s: ApplyIfFiniteState) => [s.notfiniteCount, s.totalNotfinite, s.lastFinite];

/** Close for finite expectations; NaN and ±Infinity must match exactly. */
function expectValues(actual: number[], expected: number[], label = ''): void {
  expect(actual.length, label).toBe(expected.length);
  expected.forEach((e, i) => {
    if (Number.isFinite(e)) expectArrayClose([actual[i]!], [e], {}, `${label}[${i}]`);
    else expect(actual[i], `${label}[${i}]`).toBe(e);
  });
}

describeEachBackend('applyIfFinite', () => {
  it('skips a NaN step of sgd with momentum without touching the trace', () => {
    // sgd(0.1, momentum 0.9), maxConsecutiveErrors 2:
    // step 1, g = [1, 2]:    t = [1, 2],                  u = −0.1·t = [−0.1, −0.2]
    // step 2, g = [NaN, 2]:  skipped: u = [0, 0], inner state the same object
    // step 3, g = [1, 2]:    t = 0.9·[1, 2] + [1, 2] = [1.9, 3.8], u = [−0.19, −0.38]
    // (without the skip, t would be NaN from step 2 on).
    const tx = applyIfFinite(sgd(0.1, { momentum: 0.9 }), { maxConsecutiveErrors: 2 });
    const good = { w: tf.tensor([1, 2]) };
    const bad = { w: tf.tensor([Number.NaN, 2]) };
    const s0 = tx.init(good);
    expect(counts(s0)).toEqual([0, 0, true]);
    const [u1, s1] = tx.update(good, s0);
    expectArrayClose(w(u1), [-0.1, -0.2]);
    expect(counts(s1)).toEqual([0, 0, true]);
    const [u2, s2] = tx.update(bad, s1);
    expect(w(u2)).toEqual([0, 0]);
    expect(s2.inner).toBe(s1.inner);
    expect(counts(s2)).toEqual([1, 1, false]);
    const [u3, s3] = tx.update(good, s2);
    expectArrayClose(w(u3), [-0.19, -0.38]);
    expect(counts(s3)).toEqual([0, 1, true]);
    treeDispose([good, bad, s0, u1, s1, u2, s2, u3, s3]);
  });

  it('makes adam behave as if the NaN step never happened', () => {
    // adam(0.1), b1 0.9, b2 0.999, constant g = [0.5, −1]:
    // step 1: mu = 0.1·g, nu = 0.001·g²; mû = g, nû = g²; u = −0.1·g/|g| = [−0.1, 0.1].
    // step 2 (g = [NaN, 0]) is skipped, so step 3 is adam's second step on the same g:
    // mu = 0.19·g, nu = 0.001999·g²; mû = 0.19g / (1 − 0.81) = g, nû = g²; u = [−0.1, 0.1]
    // again, and adam's own count is 2, not 3.
    const tx = applyIfFinite(adam(0.1), { maxConsecutiveErrors: 3 });
    const good = { w: tf.tensor([0.5, -1]) };
    const bad = { w: tf.tensor([Number.NaN, 0]) };
    const s0 = tx.init(good);
    const [u1, s1] = tx.update(good, s0);
    expectArrayClose(w(u1), [-0.1, 0.1]);
    const [u2, s2] = tx.update(bad, s1);
    expect(w(u2)).toEqual([0, 0]);
    expect(s2.inner).toBe(s1.inner);
    expect(s2.inner[0].count).toBe(1);
    expect(counts(s2)).toEqual([1, 1, false]);
    const [u3, s3] = tx.update(good, s2);
    expectArrayClose(w(u3), [-0.1, 0.1]);
    expect(s3.inner[0].count).toBe(2);
    expectArrayClose(w(s3.inner[0].mu), [0.19 * 0.5, 0.19 * -1]);
    expectArrayClose(w(s3.inner[0].nu), [0.001999 * 0.25, 0.001999 * 1]);
    expect(counts(s3)).toEqual([0, 1, true]);
    treeDispose([good, bad, s0, u1, s1, u2, s2, u3, s3]);
  });

  it('gives up after maxConsecutiveErrors bad steps in a row, and a finite step resets only the run', () => {
    // sgd(0.1) (u = −0.1·g), maxConsecutiveErrors 2. Per step: g, then the expected
    // u, notfiniteCount, totalNotfinite, lastFinite and the inner learning-rate count:
    //  1  [−Inf, 1]   skipped   [0, 0]          1 1 false  0
    //  2  [NaN, 1]    skipped   [0, 0]          2 2 false  0
    //  3  [Inf, 1]    3 > 2: through  [−Inf, −0.1]    3 3 false  1
    //  4  [1, NaN]    4 > 2: through  [−0.1, NaN]     4 4 false  2
    //  5  [1, 2]      finite    [−0.1, −0.2]    0 4 true   3
    //  6  [NaN, 1]    skipped again (run of 1) [0, 0]  1 5 false  3
    const tx = applyIfFinite(sgd(0.1), { maxConsecutiveErrors: 2 });
    const steps: [number[], number[], number, number, boolean, number][] = [
      [[-Infinity, 1], [0, 0], 1, 1, false, 0],
      [[Number.NaN, 1], [0, 0], 2, 2, false, 0],
      [[Infinity, 1], [-Infinity, -0.1], 3, 3, false, 1],
      [[1, Number.NaN], [-0.1, Number.NaN], 4, 4, false, 2],
      [[1, 2], [-0.1, -0.2], 0, 4, true, 3],
      [[Number.NaN, 1], [0, 0], 1, 5, false, 3],
    ];
    const params = { w: tf.zeros([2]) };
    let state = tx.init(params);
    const skipped = [true, true, false, false, false, true];
    steps.forEach(([g, expected, n, total, last, innerCount], i) => {
      const grads = { w: tf.tensor(g) };
      const [u, next] = tx.update(grads, state, params);
      expectValues(w(u), expected, `step ${i + 1}`);
      expect(counts(next), `step ${i + 1}`).toEqual([n, total, last]);
      expect(next.inner[1].count, `step ${i + 1}`).toBe(innerCount);
      expect(next.inner === state.inner, `step ${i + 1}`).toBe(skipped[i]);
      treeDispose([grads, u]);
      state = next;
    });
    treeDispose([params, state]);
  });

  it('with maxConsecutiveErrors 0, lets every step through and still counts the bad ones', () => {
    // sgd(1): u = −g; the Inf step passes straight through as −Inf.
    const tx = applyIfFinite(sgd(1), { maxConsecutiveErrors: 0 });
    const bad = { w: tf.tensor([Infinity, 3]) };
    const s0 = tx.init(bad);
    const [u1, s1] = tx.update(bad, s0);
    expect(w(u1)).toEqual([-Infinity, -3]);
    expect(counts(s1)).toEqual([1, 1, false]);
    expect(s1.inner[1].count).toBe(1);
    const [u2, s2] = tx.update(bad, s1);
    expect(counts(s2)).toEqual([2, 2, false]);
    treeDispose([bad, s0, u1, s1, u2, s2]);
  });

  it('rejects NaN, Inf and −Inf in any leaf of a nested tree, returning zeros of the same layout', () => {
    const build = (): Record<string, any> => ({
      dense: { kernel: tf.ones([2, 3]), bias: tf.fill([3], 0.5) },
      layers: [tf.scalar(2), { w: tf.tensor([[1, -1]]) }],
      steps: tf.tensor([1, 2], [2], 'int32'),
    });
    const tx = applyIfFinite(identity(), { maxConsecutiveErrors: 100 });
    const clean = build();
    const s0 = tx.init(clean);
    // Finite, including the largest float32 values: passes through unchanged (identity).
    const big = {
      ...build(),
      dense: { kernel: tf.fill([2, 3], 3.4e38), bias: tf.fill([3], -3.4e38) },
    };
    const [same, sBig] = tx.update(big, s0);
    expect(same).toBe(big);
    expect(counts(sBig)).toEqual([0, 0, true]);

    const floatLeaves = ['dense.kernel', 'dense.bias', 'layers.0', 'layers.1.w'];
    let state = s0;
    let total = 0;
    for (const where of floatLeaves) {
      for (const poison of [Number.NaN, Infinity, -Infinity]) {
        const tree = build();
        const path = where.split('.');
        const last = path.pop() as string;
        const parent = path.reduce((node, key) => node[key], tree);
        const leaf = parent[last] as tf.Tensor;
        const data = Array.from(leaf.dataSync());
        data[data.length - 1] = poison;
        parent[last] = tf.tensor(data, leaf.shape);
        leaf.dispose();
        const [u, next] = tx.update(tree, state);
        total++;
        expect(counts(next), `${poison} at ${where}`).toEqual([total, total, false]);
        const got = treeFlatten(u);
        const want = treeFlatten(tree);
        expect(got.map((l) => l.path)).toEqual(want.map((l) => l.path));
        got.forEach((l, i) => {
          const ref = want[i]!.tensor;
          expect(l.tensor).not.toBe(ref);
          expect(l.tensor.shape).toEqual(ref.shape);
          expect(l.tensor.dtype).toBe(ref.dtype);
          expect(values(l.tensor).every((x) => x === 0)).toBe(true);
        });
        treeDispose([tree, u]);
        state = next;
      }
    }
    treeDispose([clean, big, s0]);
  });

  it('treats a tree with the same keys in another order the same way', () => {
    // adam(0.1) on {a, b} and on {b, a}: identical decisions, counts and updates per key.
    const make = (order: string[], a: number[], b: number[]): Record<string, tf.Tensor> =>
      Object.fromEntries(order.map((k) => [k, tf.tensor(k === 'a' ? a : b)]));
    const grads: [number[], number[]][] = [
      [
        [0.5, -1],
        [2, 3, -4],
      ],
      [
        [0.5, Number.NaN],
        [2, 3, -4],
      ],
      [
        [0.5, -1],
        [2, -Infinity, -4],
      ],
      [
        [1, -1],
        [2, 3, 4],
      ],
    ];
    const run = (order: string[]) => {
      const tx = applyIfFinite(adam(0.1), { maxConsecutiveErrors: 1 });
      const params = make(order, [0, 0], [0, 0, 0]);
      let state = tx.init(params);
      const out: unknown[] = [];
      for (const [a, b] of grads) {
        const g = make(order, a, b);
        const [u, next] = tx.update(g, state, params);
        const keyed = u as Record<string, tf.Tensor>;
        out.push({ a: values(keyed.a!), b: values(keyed.b!), counts: counts(next) });
        treeDispose([g, u]);
        state = next;
      }
      treeDispose([params, state]);
      return out;
    };
    const forward = run(['a', 'b']);
    expect(run(['b', 'a'])).toEqual(forward);
    // Step 2 is skipped; step 3 makes a run of 2 > 1 and goes through; step 4 resets the run.
    expect((forward as { counts: unknown }[]).map((r) => r.counts)).toEqual([
      [0, 0, true],
      [1, 1, false],
      [2, 2, false],
      [0, 2, true],
    ]);
    expect((forward[1] as { a: number[] }).a).toEqual([0, 0]);
  });

  it('passes params and context to the inner transform unchanged', () => {
    const seen: unknown[] = [];
    const spy: GradientTransformation<{ calls: number }> = {
      init: () => ({ calls: 0 }),
      update: (updates, state, params, context) => {
        seen.push(params, context);
        return [updates, { calls: state.calls + 1 }];
      },
    };
    const tx = applyIfFinite(spy, { maxConsecutiveErrors: 0 });
    const params = { w: tf.zeros([2]) };
    const g = { w: tf.ones([2]) };
    const context: UpdateContext = { grads: g, loss: 3, custom: 'x' };
    const s0 = tx.init(params);
    const [, s1] = tx.update(g, s0, params, context);
    expect(seen).toEqual([params, context]);
    expect(seen[0]).toBe(params);
    expect(seen[1]).toBe(context);
    expect(s1.inner.calls).toBe(1);
    treeDispose([params, g]);
  });

  it('keeps none of the tensors it was given in its state', () => {
    // An inner transform that stores its inputs by reference.
    const hoarder: GradientTransformation<{ p: Tree; u?: Tree; g?: Tree; loss?: tf.Tensor }> = {
      init: (params) => ({ p: params }),
      update: (updates, _state, params, context) => [
        updates,
        {
          p: params as Tree,
          u: updates,
          g: context?.grads as Tree,
          loss: context?.loss as tf.Tensor,
        },
      ],
    };
    const tx = applyIfFinite(hoarder, { maxConsecutiveErrors: 1 });
    const params = { w: tf.tensor([1, 2]) };
    const g = { w: tf.tensor([3, 4]) };
    const loss = tf.scalar(5);
    const s0 = tx.init(params);
    const [u, s1] = tx.update(g, s0, params, { grads: g, loss });
    expect(u).toBe(g);
    const given = new Set(collectTensors([params, g, loss]));
    expect(collectTensors(s0).some((t) => given.has(t))).toBe(false);
    expect(collectTensors(s1).some((t) => given.has(t))).toBe(false);
    treeDispose([params, g, loss]);
    // The state's own handles still read the values.
    expect(w(s1.inner.p)).toEqual([1, 2]);
    expect(w(s1.inner.u!)).toEqual([3, 4]);
    expect(w(s1.inner.g!)).toEqual([3, 4]);
    expect(values(s1.inner.loss!)).toEqual([5]);
    treeDispose([s0, s1]);
  });

  it('works at the head of a chain: a skipped step leaves the parameters as they were (step)', () => {
    // chain(applyIfFinite(adam(0.1)), scale(0.5)) from p = [1, −1] with g = [2, −3]:
    // step 1: adam gives −0.1·sign(g) = [−0.1, 0.1], halved: p = [0.95, −0.95]
    // step 2 (g = [2, NaN]): zeros, so p stays exactly [0.95, −0.95]
    // step 3: adam's second step on the same g is again [−0.1, 0.1]: p = [0.9, −0.9].
    const tx = chain(applyIfFinite(adam(0.1), { maxConsecutiveErrors: 1 }), scale(0.5));
    let params: Tree = { w: tf.tensor([1, -1]) };
    let state: StateOf<typeof tx> = tx.init(params);
    const good = { w: tf.tensor([2, -3]) };
    const bad = { w: tf.tensor([2, Number.NaN]) };
    const trail: number[][] = [];
    for (const g of [good, bad, good]) {
      const next: StepResult<StateOf<typeof tx>> = step(tx, params, g, state);
      treeDispose(params);
      params = next.params;
      state = next.state;
      trail.push(w(params));
    }
    expectArrayClose(trail[0]!, [0.95, -0.95]);
    expect(trail[1]).toEqual(trail[0]);
    expectArrayClose(trail[2]!, [0.9, -0.9]);
    expect(counts(state[0])).toEqual([0, 1, true]);
    treeDispose([params, state, good, bad]);
  });

  it('wraps a chain: a skipped step leaves the variables and every link state as they were (stepVariables)', () => {
    // applyIfFinite(chain(clipByGlobalNorm(1), trace(0.9), scaleByLearningRate(0.1))), p = [1, 2]:
    // step 1, g = [3, 4]: |g| = 5, clipped to [0.6, 0.8]; t = [0.6, 0.8]; p = [0.94, 1.92]
    // step 2, g = [NaN, 1]: skipped; p stays [0.94, 1.92], the chain state is the same object
    // step 3, g = [3, 4]: t = 0.9·[0.6, 0.8] + [0.6, 0.8] = [1.14, 1.52]; p = [0.826, 1.768].
    const inner = chain(clipByGlobalNorm(1), trace({ decay: 0.9 }), scaleByLearningRate(0.1));
    const tx = applyIfFinite(inner, { maxConsecutiveErrors: 5 });
    const vars = { w: tf.variable(tf.tensor([1, 2])) };
    const good = { w: tf.tensor([3, 4]) };
    const bad = { w: tf.tensor([Number.NaN, 1]) };
    let state = tx.init(vars);
    state = stepVariables(tx, vars, good, state);
    expectArrayClose(w(vars), [0.94, 1.92]);
    const before = w(vars);
    const innerBefore = state.inner;
    state = stepVariables(tx, vars, bad, state);
    expect(w(vars)).toEqual(before);
    expect(state.inner).toBe(innerBefore);
    expectArrayClose(w(state.inner[1].trace), [0.6, 0.8]);
    state = stepVariables(tx, vars, good, state);
    expectArrayClose(w(vars), [0.826, 1.768]);
    expect(state.inner[2].count).toBe(2);
    expect(counts(state)).toEqual([0, 1, true]);
    treeDispose([vars, state, good, bad]);
  });

  it('leaks no tensor over 1,000 steps with finite, skipped and let-through steps', () => {
    // In every 4 steps: finite, NaN (skipped), Inf (skipped), −Inf (3 > 2: let through).
    const tx = chain(
      clipByGlobalNorm(10),
      applyIfFinite(adam(1e-3), { maxConsecutiveErrors: 2 }),
      scale(0.5),
    );
    const vars = { w: tf.variable(tf.tensor1d([-3, 4])), b: [tf.variable(tf.zeros([2, 3]))] };
    const grads = [
      { w: tf.tensor1d([0.5, -0.25]), b: [tf.fill([2, 3], 0.1)] },
      { w: tf.tensor1d([Number.NaN, -0.25]), b: [tf.fill([2, 3], 0.1)] },
      { w: tf.tensor1d([0.5, -0.25]), b: [tf.fill([2, 3], Infinity)] },
      { w: tf.tensor1d([-Infinity, -0.25]), b: [tf.fill([2, 3], 0.1)] },
    ];
    let state = tx.init(vars);
    let before = 0;
    for (let i = 0; i < 1000; i++) {
      if (i === 8) before = tf.memory().numTensors;
      state = stepVariables(tx, vars, grads[i % 4]!, state);
    }
    expect(tf.memory().numTensors).toBe(before);
    // 250 runs of three bad steps: the run never exceeds 3 and the total is 750.
    expect(counts(state[1])).toEqual([3, 750, false]);
    treeDispose([state, grads, vars]);
  });

  it('throws on a state it did not build', () => {
    const tx = applyIfFinite(adam(0.1), { maxConsecutiveErrors: 1 });
    const g = { w: tf.ones([2]) };
    expect(() => tx.update(g, [] as never)).toThrow(TfoptError);
    expect(() => tx.update(g, { inner: [] } as never)).toThrow(
      /applyIfFinite: expected a state \{ notfiniteCount, lastFinite, totalNotfinite, inner \}/,
    );
    treeDispose(g);
  });

  it('checks an empty tree as finite', () => {
    const tx = applyIfFinite(identity(), { maxConsecutiveErrors: 0 });
    const s0 = tx.init({});
    const [u, s1] = tx.update({}, s0);
    expect(u).toEqual({});
    expect(counts(s1)).toEqual([0, 0, true]);
  });
});

describe('applyIfFinite options and spec', () => {
  it('rejects bad options at construction, naming the option', () => {
    const inner = adam(0.1);
    const cases: [unknown, RegExp][] = [
      [
        undefined,
        /applyIfFinite: option "options" must be an object such as \{ maxConsecutiveErrors \}, got undefined/,
      ],
      [3, /option "options" must be an object/],
      [
        {},
        /option "maxConsecutiveErrors" must be an integer >= 0 \(it has no default\), got undefined/,
      ],
      [
        { maxConsecutiveErrors: -1 },
        /option "maxConsecutiveErrors" must be an integer >= 0, got -1/,
      ],
      [
        { maxConsecutiveErrors: 1.5 },
        /option "maxConsecutiveErrors" must be an integer >= 0, got 1.5/,
      ],
      [
        { maxConsecutiveErrors: Number.NaN },
        /"maxConsecutiveErrors" must be an integer >= 0, got NaN/,
      ],
      [
        { maxConsecutiveErrors: Infinity },
        /"maxConsecutiveErrors" must be an integer >= 0, got Infinity/,
      ],
      [{ maxConsecutiveErrors: '3' }, /"maxConsecutiveErrors" must be an integer >= 0, got "3"/],
      [
        { maxConsecutiveError: 3 },
        /option "maxConsecutiveError" must be absent \(applyIfFinite takes maxConsecutiveErrors\)/,
      ],
    ];
    for (const [options, message] of cases) {
      expect(() => applyIfFinite(inner, options as never)).toThrow(InvalidOptionError);
      expect(() => applyIfFinite(inner, options as never)).toThrow(message);
    }
  });

  it('rejects an inner value that is not a transform', () => {
    for (const inner of [undefined, null, {}, { init: () => ({}) }, adam]) {
      expect(() => applyIfFinite(inner as never, { maxConsecutiveErrors: 1 })).toThrow(
        /applyIfFinite: option "inner" must be a gradient transformation \(an object with init and update\)/,
      );
    }
  });

  it('records the inner spec, and has none when the inner transform has none', () => {
    const tx = applyIfFinite(adam(0.1), { maxConsecutiveErrors: 3 });
    expect(tx.spec).toEqual({
      name: 'applyIfFinite',
      args: [{ name: 'adam', args: [0.1] }, { maxConsecutiveErrors: 3 }],
    });
    const noSpec: GradientTransformation<Record<string, never>> = {
      init: () => ({}),
      update: (u) => [u, {}],
    };
    expect(applyIfFinite(noSpec, { maxConsecutiveErrors: 3 }).spec).toBeUndefined();
    expect(chain(applyIfFinite(adam(0.1), { maxConsecutiveErrors: 0 }), scale(2)).spec).toEqual({
      name: 'chain',
      args: [
        {
          name: 'applyIfFinite',
          args: [{ name: 'adam', args: [0.1] }, { maxConsecutiveErrors: 0 }],
        },
        { name: 'scale', args: [2] },
      ],
    });
  });
});
