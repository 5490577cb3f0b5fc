import * as tf from '@tensorflow/tfjs-core';
import {
  chain,
  collectTensors,
  type GradientTransformation,
  InvalidOptionError,
  stepVariables,
  TfoptError,
  type Tree,
  TreeStructureError,
  treeDispose,
  treeFlatten,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { describe, expect, it } from 'vitest';
import {
  adam,
  addDecayedWeights,
  clipByGlobalNorm,
  freeze,
  masked,
  scale,
  selectiveTransform,
  setToZero,
  sgd,
  trace,
} from './index.js';

type Leaves = Record<string, number[]>;
const read = (tree: Tree): Leaves =>
  Object.fromEntries(treeFlatten(tree).map((l) => [l.path, values(l.tensor)]));

/** Records the leaf paths of what it is given (updates, params, context.grads). */
function recorder(seen: string[][]): GradientTransformation<Record<string, never>> {
  return {
    init: () => ({}),
    update: (updates, state, params, context) => {
      seen.push(
        treeFlatten(updates).map((l) => l.path),
        params === undefined ? [] : treeFlatten(params).map((l) => l.path),
        context?.grads === undefined ? [] : treeFlatten(context.grads).map((l) => l.path),
      );
      return [updates, state];
    },
  };
}

describeEachBackend('masked', () => {
  it('matches the first two steps derived by hand; unmasked leaves pass through as they are', () => {
    // masked(chain(trace(0.5), scale(−1)), { w: true, b: false }):
    // step 1, g = { w: [2], b: [7] }:  t = 2,             u.w = −2;   u.b = g.b (the same tensor)
    // step 2, g = { w: [−1], b: [8] }: t = 0.5·2 − 1 = 0, u.w = 0;    u.b = 8
    const tx = masked(chain(trace({ decay: 0.5 }), scale(-1)), { w: true, b: false });
    const g1 = { w: tf.tensor([2]), b: tf.tensor([7]) };
    const g2 = { w: tf.tensor([-1]), b: tf.tensor([8]) };
    const s0 = tx.init(g1);
    // The inner state holds w only.
    expect(read(s0.inner[0].trace as Tree)).toEqual({ '.w': [0] });
    const [u1, s1] = tx.update(g1, s0);
    expect(read(u1)).toEqual({ '.b': [7], '.w': [-2] });
    expect((u1 as typeof g1).b).toBe(g1.b);
    const [u2, s2] = tx.update(g2, s1);
    expect(read(u2)).toEqual({ '.b': [8], '.w': [-0] });
    expect(Object.keys(u2)).toEqual(['w', 'b']);
    treeDispose([g1, g2, s0, u1, s1, u2, s2]);
  });

  it('follows a float64 reference of weight decay on the kernels only over 120 steps', () => {
    // chain(adam-free): masked(addDecayedWeights(wd), kernels), then sgd(lr) on everything:
    // kernel: θ ← θ − lr·(g + wd·θ);  bias: θ ← θ − lr·g.
    const [wd, lr] = [0.1, 0.05];
    const tx = chain(
      masked(addDecayedWeights({ weightDecay: wd }), (p) =>
        Object.fromEntries(Object.keys(p).map((k) => [k, k.endsWith('kernel')])),
      ),
      sgd(lr),
    );
    const init = { 'd/kernel': [1, -2, 3], 'd/bias': [0.5, -0.5] };
    const vars = Object.fromEntries(
      Object.entries(init).map(([k, x]) => [k, tf.variable(tf.tensor(x))]),
    );
    const ref = Object.fromEntries(Object.entries(init).map(([k, x]) => [k, [...x]]));
    let state = tx.init(vars);
    for (let k = 1; k <= 120; k++) {
      const g = Object.fromEntries(
        Object.entries(init).map(([name, x]) => [
          name,
          x.map((_, i) => Math.sin(0.3 * k + i + name.length)),
        ]),
      );
      for (const [name, gi] of Object.entries(g)) {
        const decay = name.endsWith('kernel') ? wd : 0;
        ref[name] = ref[name]!.map((t, i) => t - lr * (gi[i]! + decay * t));
      }
      const gt = Object.fromEntries(Object.entries(g).map(([name, x]) => [name, tf.tensor(x)]));
      state = stepVariables(tx, vars, gt, state);
      treeDispose(gt);
      for (const name of Object.keys(init)) {
        expectArrayClose(
          values(vars[name]!),
          ref[name]!,
          { rtol: 1e-4, atol: 1e-6 },
          `${name} step ${k}`,
        );
      }
    }
    treeDispose([vars, state]);
  });

  it('takes a prefix mask and gives the inner transform only the masked leaves of updates, params and grads', () => {
    const seen: string[][] = [];
    const tx = masked(recorder(seen), { enc: true, head: false, list: [false, true] });
    const make = () => ({
      enc: { w: tf.ones([1]), v: tf.ones([2]) },
      head: { kernel: tf.ones([1]) },
      list: [tf.ones([1]), tf.ones([1])],
    });
    const params = make();
    const g = make();
    const grads = make();
    const [u, s] = tx.update(g, tx.init(params), params, { grads });
    const expected = ['.enc.v', '.enc.w', '.list[1]'];
    expect(seen).toEqual([expected, expected, expected]);
    expect(read(u)).toEqual(read(g));
    treeDispose([params, g, grads, u, s]);
  });

  it('is the same whatever the key insertion order, bit for bit', () => {
    const run = (order: string[]) => {
      const tx = masked(adam(0.1), (p) =>
        Object.fromEntries(Object.keys(p).map((k) => [k, k.length > 1])),
      );
      const make = (base: number) =>
        Object.fromEntries(order.map((k) => [k, tf.tensor([base * k.length, base - k.length])]));
      const params = make(1);
      let state = tx.init(params);
      const out: Leaves[] = [];
      for (let k = 2; k < 5; k++) {
        const g = make(k);
        const [u, next] = tx.update(g, state, params);
        out.push(read(u));
        treeDispose([g, u, state]);
        state = next;
      }
      treeDispose([params, state]);
      return out;
    };
    const keys = ['a', 'bc', '10', '2', 'def'];
    expect(run([...keys].reverse())).toEqual(run(keys));
  });

  it('throws errors that name the path of the mask', () => {
    const params = { w: tf.zeros([2]), list: [tf.zeros([1])] };
    expect(() => masked(sgd(1), { w: 'yes' } as never)).toThrow(
      'masked: mask.w is "yes"; expected true or false, or an array or object of them',
    );
    const missing = masked(sgd(1), { w: true });
    expect(() => missing.init(params)).toThrow(TreeStructureError);
    expect(() => missing.init(params)).toThrow(
      'masked: params.list has no entry in mask (mask has no key "list")',
    );
    const fn = masked(sgd(1), () => ({ w: true, list: [1] }) as never);
    expect(() => fn.init(params)).toThrow(
      /masked: mask\(params\)\.list\[0\] is 1; expected true or false/,
    );
    expect(() => masked({} as never, true)).toThrow(InvalidOptionError);
    expect(() => masked(sgd(1), true).update(params, null as never)).toThrow(
      /masked: expected a state \{ inner \}, got null/,
    );
    treeDispose(params);
  });

  it('records the inner spec and the mask; none when the inner transform has none', () => {
    expect(masked(sgd(0.1), { w: true }).spec).toEqual({
      name: 'masked',
      args: [{ name: 'sgd', args: [0.1] }, { w: true }],
    });
    expect(masked(recorder([]), { w: true }).spec).toBeUndefined();
  });
});

describeEachBackend('setToZero, freeze and selectiveTransform', () => {
  it('setToZero returns zeros of each shape and dtype', () => {
    const tx = setToZero();
    const g = { w: tf.tensor([[1, -2]]), n: tf.tensor([3], [1], 'int32') };
    const [u, s] = tx.update(g, tx.init(g));
    const out = u as typeof g;
    expect(out.w.shape).toEqual([1, 2]);
    expect(values(out.w)).toEqual([0, 0]);
    expect(out.n.dtype).toBe('int32');
    expect(s).toEqual({});
    treeDispose([g, u]);
  });

  it('freeze zeroes the frozen leaves and passes the others through (hand-derived)', () => {
    // chain(sgd(0.1), freeze({ enc: true, head: false })), g = { enc: [1, 2], head: [3] }:
    // sgd gives −0.1·g = { enc: [−0.1, −0.2], head: [−0.3] }; freeze zeroes enc.
    const tx = chain(sgd(0.1), freeze({ enc: true, head: false }));
    const g = { enc: tf.tensor([1, 2]), head: tf.tensor([3]) };
    const [u, s] = tx.update(g, tx.init(g), g);
    expect(read(u)['.enc']).toEqual([0, 0]);
    expectArrayClose(read(u)['.head']!, [-0.3]);
    expect(freeze({ enc: true }).spec).toEqual({ name: 'freeze', args: [{ enc: true }] });
    treeDispose([g, u, s]);
  });

  it('selectiveTransform keeps optimizer state for the trained leaves only (hand-derived)', () => {
    // sgd(0.1, momentum 0.9) on head only; enc frozen. Two steps of g = { enc: [5], head: [1] }:
    // head: t = 1, u = −0.1; then t = 1.9, u = −0.19.  enc: u = 0 both times.
    const tx = selectiveTransform(sgd(0.1, { momentum: 0.9 }), {
      freezeMask: { enc: true, head: false },
    });
    const g = { enc: tf.tensor([5]), head: tf.tensor([1]) };
    const s0 = tx.init(g);
    expect(read(s0.innerStates.train[0].trace as Tree)).toEqual({ '.head': [0] });
    const [u1, s1] = tx.update(g, s0, g);
    const [u2, s2] = tx.update(g, s1, g);
    expect(read(u1)['.enc']).toEqual([0]);
    expectArrayClose(read(u1)['.head']!, [-0.1]);
    expect(read(u2)['.enc']).toEqual([0]);
    expectArrayClose(read(u2)['.head']!, [-0.19]);
    expect(tx.spec).toEqual({
      name: 'selectiveTransform',
      args: [
        { name: 'sgd', args: [0.1, { momentum: 0.9 }] },
        { freezeMask: { enc: true, head: false } },
      ],
    });
    treeDispose([g, s0, u1, s1, u2, s2]);
  });

  it('selectiveTransform takes a mask function, and rejects bad options by name', () => {
    const tx = selectiveTransform(adam(0.1), {
      freezeMask: (p) => Object.fromEntries(Object.keys(p).map((k) => [k, k === 'enc'])),
    });
    const g = { enc: tf.tensor([5]), head: tf.tensor([1]) };
    const s = tx.init(g);
    expect(collectTensors(s.innerStates.train).length).toBe(2); // mu and nu of head
    expect(() => selectiveTransform(adam(0.1), {} as never)).toThrow(
      /selectiveTransform: option "freezeMask" must be a boolean tree or a function/,
    );
    expect(() => selectiveTransform(adam(0.1), { freezeMask: true, mask: true } as never)).toThrow(
      /option "mask" must be absent \(selectiveTransform takes freezeMask\)/,
    );
    expect(() => selectiveTransform(sgd as never, { freezeMask: true })).toThrow(
      /option "optimizer" must be a gradient transformation/,
    );
    treeDispose([g, s]);
  });

  it('leaks no tensor over 500 steps (masked, freeze, selectiveTransform)', () => {
    const tx = chain(
      masked(clipByGlobalNorm(1), { w: true, b: [false] }),
      selectiveTransform(adam(1e-2), { freezeMask: { w: false, b: [true] } }),
      freeze({ w: false, b: false }),
    );
    const vars = { w: tf.variable(tf.tensor([1, -1])), b: [tf.variable(tf.zeros([2, 2]))] };
    const grads = { w: tf.tensor([0.5, 0.1]), b: [tf.fill([2, 2], -0.2)] };
    let state = tx.init(vars);
    let before = 0;
    for (let i = 0; i < 500; i++) {
      if (i === 5) before = tf.memory().numTensors;
      state = stepVariables(tx, vars, grads, state);
    }
    expect(tf.memory().numTensors).toBe(before);
    // b was frozen throughout.
    expect(values(vars.b[0]!)).toEqual([0, 0, 0, 0]);
    treeDispose([vars, grads, state]);
  });
});

describe('masked state', () => {
  it('rejects a state it did not build', () => {
    const tx = freeze(true);
    expect(() => tx.update({}, [] as never)).toThrow(TfoptError);
  });
});
