import * as tf from '@tensorflow/tfjs-core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { expect, it } from 'vitest';
import {
  chain,
  type GradientTransformation,
  getHyperparams,
  InvalidOptionError,
  injectHyperparams,
  injectLearningRate,
  isInjectHyperparamsState,
  setHyperparams,
  stepVariables,
  TfoptError,
  type Tree,
  tidy,
  treeDispose,
  treeMap,
  treeZerosLike,
} from './index.js';

/**
 * Heavy-ball momentum written for this test only: v <- decay * v + g,
 * update = -learningRate * v. Its state `v` must survive every change of
 * learning rate, which is what injection promises.
 */
function momentum({
  learningRate,
  decay,
}: {
  learningRate: number;
  decay: number;
}): GradientTransformation<{ v: Tree }> {
  if (!(learningRate > 0))
    throw new InvalidOptionError('momentum', 'learningRate', learningRate, '> 0');
  return {
    init: (params) => ({ v: treeZerosLike(params) }),
    update: (updates, state) =>
      tidy(() => {
        const v = treeMap((v0, g) => tf.add(tf.mul(v0, decay), g), state.v, updates);
        return [treeMap((x) => tf.mul(x, -learningRate), v), { v }] as const;
      }),
  };
}

/** Reference in plain numbers: the same recurrence, with the learning rate per step given. */
function referenceMomentum(grads: number[], lrs: number[], decay: number, w0: number): number {
  let v = 0;
  let w = w0;
  grads.forEach((g, t) => {
    v = decay * v + g;
    w -= (lrs[t] as number) * v;
  });
  return w;
}

describeEachBackend('injectHyperparams', () => {
  it('changing the learning rate mid-run equals two runs with fixed rates', () => {
    const grads = [0.5, -0.25, 1, 0.75, -0.5];
    const tx = injectHyperparams(momentum, { learningRate: 0.1 }, { decay: 0.9 });
    const w = tf.variable(tf.tensor1d([2]));
    let state = tx.init(w);
    for (let t = 0; t < grads.length; t++) {
      // Lower the rate after two steps, as a plateau callback would.
      if (t === 2) state = setHyperparams(state, { learningRate: 0.01 });
      const g = tf.tensor1d([grads[t] as number]);
      state = stepVariables(tx, w, g, state);
      g.dispose();
    }
    // By hand: v = 0.5, -0.25+0.45=0.2, 1+0.18=1.18, 0.75+1.062=1.812, -0.5+1.6308=1.1308
    // w = 2 - 0.1*0.5 - 0.1*0.2 - 0.01*(1.18+1.812+1.1308) = 1.93 - 0.041228 = 1.888772
    const expected = referenceMomentum(grads, [0.1, 0.1, 0.01, 0.01, 0.01], 0.9, 2);
    expect(expected).toBeCloseTo(1.888772, 9);
    expectArrayClose(values(w), [expected], { rtol: 1e-6 });
    expect(getHyperparams(state)).toEqual({ learningRate: 0.01 });
    expect(state.count).toBe(5);
    treeDispose([state, w]);
  });

  it('evaluates scheduled hyperparameters at the update count', () => {
    const lr = (count: number) => 0.1 / (count + 1);
    const tx = injectHyperparams(momentum, { learningRate: lr, decay: 0.5 });
    const w = tf.variable(tf.tensor1d([1]));
    let state = tx.init(w);
    expect(getHyperparams(state)).toEqual({ learningRate: 0.1, decay: 0.5 });
    const grads = [1, 2, -1];
    for (const gv of grads) {
      const g = tf.tensor1d([gv]);
      state = stepVariables(tx, w, g, state);
      g.dispose();
    }
    // lrs 0.1, 0.05, 0.0333..; v = 1, 2.5, 0.25; w = 1 - 0.1 - 0.125 - 0.008333.. = 0.766666..
    const expected = referenceMomentum(grads, [0.1, 0.05, 0.1 / 3], 0.5, 1);
    expect(expected).toBeCloseTo(0.7666667, 6);
    expectArrayClose(values(w), [expected], { rtol: 1e-6 });
    // The state holds the value used by the last update.
    expect(getHyperparams(state).learningRate).toBeCloseTo(0.1 / 3, 12);
    treeDispose([state, w]);
  });

  it('reads and sets hyperparameters nested in a chain without touching the original state', () => {
    const tx = chain(
      injectHyperparams(momentum, { learningRate: 0.1, decay: 0.9 }),
      injectHyperparams(momentum, { learningRate: 1, decay: 0 }),
    );
    const params = { a: tf.zeros([2]) };
    const s0 = tx.init(params);
    expect(getHyperparams(s0)).toEqual({ learningRate: 0.1, decay: 0.9 });
    const s1 = setHyperparams(s0, { learningRate: 0.2 });
    // Both links declare learningRate, so both change; decay is unchanged.
    expect(s1[0].hyperparams).toEqual({ learningRate: 0.2, decay: 0.9 });
    expect(s1[1].hyperparams).toEqual({ learningRate: 0.2, decay: 0 });
    expect(s0[0].hyperparams.learningRate).toBe(0.1);
    // Tensors are shared, not copied.
    expect((s1[0].inner as { v: { a: tf.Tensor } }).v.a).toBe(
      (s0[0].inner as { v: { a: tf.Tensor } }).v.a,
    );
    treeDispose([s0, params]);
  });

  it('finds injected states nested inside another injected transform', () => {
    const tx = injectHyperparams(
      () => chain(injectHyperparams(momentum, { learningRate: 0.3, decay: 0 })),
      { clip: 1 },
    );
    const s = tx.init({ w: tf.zeros([1]) });
    expect(getHyperparams(s)).toEqual({ clip: 1, learningRate: 0.3, decay: 0 });
    const s2 = setHyperparams(s, { learningRate: 0.4 });
    expect(getHyperparams(s2).learningRate).toBe(0.4);
    expect(isInjectHyperparamsState(s2)).toBe(true);
    treeDispose(s);
  });

  it('rejects unknown names, bad values and bad options with clear errors', () => {
    const tx = injectHyperparams(momentum, { learningRate: 0.1 }, { decay: 0 });
    const s = tx.init({ w: tf.zeros([1]) });
    expect(() => setHyperparams(s, { lr: 0.1 })).toThrow(
      /no injected hyperparameter "lr"; known: learningRate/,
    );
    expect(() => setHyperparams(s, { learningRate: Number.NaN })).toThrow(InvalidOptionError);
    expect(() => setHyperparams({ count: tf.scalar(1) }, { lr: 1 })).toThrow(/holds none/);
    expect(() => injectHyperparams(momentum, {} as never)).toThrow(
      /"hyperparams" must be a non-empty object/,
    );
    expect(() =>
      injectHyperparams(momentum, { learningRate: Number.POSITIVE_INFINITY, decay: 0 }),
    ).toThrow(/"hyperparams.learningRate" must be a finite number or a schedule/);
    expect(() =>
      injectHyperparams(momentum, { learningRate: 0.1 }, { learningRate: 2, decay: 0 } as never),
    ).toThrow(/staticArgs.learningRate/);
    // The factory's own validation runs at construction.
    expect(() => injectHyperparams(momentum, { learningRate: -1, decay: 0 })).toThrow(
      /momentum: option "learningRate"/,
    );
    expect(() => tx.update(tf.zeros([1]), { inner: {} } as never)).toThrow(TfoptError);
    treeDispose(s);
  });

  it('records a spec with the factory, hyperparameters and static arguments', () => {
    const hp = { learningRate: 0.1 };
    const tx = injectHyperparams(momentum, hp, { decay: 0.9 });
    expect(tx.spec).toEqual({ name: 'injectHyperparams', args: [momentum, hp, { decay: 0.9 }] });
    expect(injectHyperparams(momentum, { learningRate: 0.1, decay: 0 }).spec?.args).toHaveLength(2);
  });

  it('injectLearningRate wraps an alias called as alias(learningRate, options)', () => {
    const alias = (lr: number | ((c: number) => number), options?: { decay: number }) =>
      momentum({ learningRate: lr as number, decay: options?.decay ?? 0 });
    const tx = injectLearningRate(alias, 0.1, { decay: 0.9 });
    expect(tx.spec).toEqual({ name: 'injectLearningRate', args: [alias, 0.1, { decay: 0.9 }] });
    const w = tf.variable(tf.tensor1d([2]));
    let state = tx.init(w);
    const grads = [0.5, -0.25, 1];
    grads.forEach((gv, t) => {
      if (t === 1) state = setHyperparams(state, { learningRate: 0.2 });
      const g = tf.tensor1d([gv]);
      state = stepVariables(tx, w, g, state);
      g.dispose();
    });
    // v = 0.5, 0.2, 1.18; w = 2 - 0.05 - 0.04 - 0.236 = 1.674
    expectArrayClose(values(w), [referenceMomentum(grads, [0.1, 0.2, 0.2], 0.9, 2)], {
      rtol: 1e-6,
    });
    expectArrayClose(values(w), [1.674], { rtol: 1e-6 });
    expect(() => injectLearningRate(42 as never, 0.1)).toThrow(
      /"alias" must be an optimizer factory/,
    );
    treeDispose([state, w]);
  });

  it('leaks no tensor over many steps', () => {
    const tx = injectHyperparams(momentum, {
      learningRate: (c: number) => 0.1 / (1 + c),
      decay: 0.9,
    });
    const params = { w: tf.variable(tf.ones([3])) };
    const g = { w: tf.fill([3], 0.1) };
    let state = tx.init(params);
    state = stepVariables(tx, params, g, state);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) state = stepVariables(tx, params, g, state);
    expect(tf.memory().numTensors).toBe(before);
    treeDispose([state, params, g]);
  });
});
