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
  namedChain,
  partition,
  scale,
  scaleByAdam,
  scaleByLearningRate,
  sgd,
  trace,
} from './index.js';

type Leaves = Record<string, number[]>;

/** Every leaf of a tree by path, as plain numbers. */
function read(tree: Tree): Leaves {
  return Object.fromEntries(treeFlatten(tree).map((l) => [l.path, values(l.tensor)]));
}

/** A stateless spy that records what it is given and returns its updates unchanged. */
function spy(seen: { updates: string[]; params?: string[]; grads?: Leaves }[]) {
  const tx: GradientTransformation<{ calls: number }> = {
    init: () => ({ calls: 0 }),
    update: (updates, state, params, context) => {
      seen.push({
        updates: treeFlatten(updates).map((l) => l.path),
        ...(params === undefined ? {} : { params: treeFlatten(params).map((l) => l.path) }),
        ...(context?.grads === undefined ? {} : { grads: read(context.grads) }),
      });
      return [updates, { calls: state.calls + 1 }];
    },
  };
  return tx;
}

describeEachBackend('namedChain', () => {
  it('matches the first two steps derived by hand, with each state under its name', () => {
    // momentum = trace(decay 0.5), then lr = scaleByLearningRate(0.1) (u = −0.1·t).
    // g1 = [1, 2]:  t = [1, 2],                     u = [−0.1, −0.2]
    // g2 = [3, −1]: t = 0.5·[1, 2] + [3, −1] = [3.5, 0], u = [−0.35, 0]
    const tx = namedChain([
      ['momentum', trace({ decay: 0.5 })],
      ['lr', scaleByLearningRate(0.1)],
    ]);
    const g1 = { w: tf.tensor([1, 2]) };
    const g2 = { w: tf.tensor([3, -1]) };
    const s0 = tx.init(g1);
    expect(Object.keys(s0)).toEqual(['momentum', 'lr']);
    const [u1, s1] = tx.update(g1, s0);
    expectArrayClose(values((u1 as typeof g1).w), [-0.1, -0.2]);
    expect(s1.lr.count).toBe(1);
    const [u2, s2] = tx.update(g2, s1);
    expectArrayClose(values((u2 as typeof g1).w), [-0.35, 0]);
    expectArrayClose(values((s2.momentum.trace as typeof g1).w), [3.5, 0]);
    expect(s2.lr.count).toBe(2);
    treeDispose([g1, g2, s0, u1, s1, u2, s2]);
  });

  it('follows a float64 reference of momentum then Adam then the learning rate over 120 steps', () => {
    const decay = 0.8;
    const [b1, b2, eps, lr] = [0.9, 0.99, 1e-6, 0.05];
    const n = 3;
    const t = new Array<number>(n).fill(0);
    const m = new Array<number>(n).fill(0);
    const v = new Array<number>(n).fill(0);
    const tx = namedChain({
      momentum: trace({ decay }),
      adam: scaleByAdam({ b1, b2, eps }),
      lr: scaleByLearningRate(lr),
    });
    let state = tx.init({ w: tf.zeros([n]) });
    for (let k = 1; k <= 120; k++) {
      const g = Array.from({ length: n }, (_, i) => Math.cos(0.3 * k + i) * (i + 1));
      const expected = g.map((gi, i) => {
        t[i] = decay * t[i]! + gi;
        m[i] = b1 * m[i]! + (1 - b1) * t[i]!;
        v[i] = b2 * v[i]! + (1 - b2) * t[i]! ** 2;
        return (-lr * (m[i]! / (1 - b1 ** k))) / (Math.sqrt(v[i]! / (1 - b2 ** k)) + eps);
      });
      const gt = { w: tf.tensor(g) };
      const [u, next] = tx.update(gt, state);
      expectArrayClose(
        values((u as typeof gt).w),
        expected,
        { rtol: 1e-4, atol: 1e-6 },
        `step ${k}`,
      );
      treeDispose([gt, u, state]);
      state = next;
    }
    treeDispose(state);
  });

  it('pairs the state with the links by name: a state with its keys in another order works the same', () => {
    const tx = namedChain([
      ['momentum', trace({ decay: 0.9 })],
      ['lr', scaleByLearningRate(0.1)],
    ]);
    const g = { w: tf.tensor([1, -2]) };
    const s0 = tx.init(g);
    const [, s1] = tx.update(g, s0);
    // The same entries, inserted lr first (as a state read back from elsewhere could be).
    const reordered = { lr: s1.lr, momentum: s1.momentum } as typeof s1;
    const [a, sa] = tx.update(g, s1);
    const [b, sb] = tx.update(g, reordered);
    expect(read(b)).toEqual(read(a));
    expect(read(sb.momentum.trace)).toEqual(read(sa.momentum.trace));
    expect(sb.lr.count).toBe(2);
    treeDispose([g, s0, s1, a, sa, b, sb]);
  });

  it('gives every link the raw gradient in context.grads, as chain does', () => {
    const seen: { updates: string[]; grads?: Leaves }[] = [];
    const tx = namedChain([
      ['double', scale(2)],
      ['spy', spy(seen)],
    ]);
    const g = { w: tf.tensor([1, 2]) };
    const [u, s] = tx.update(g, tx.init(g));
    expect(seen[0]!.grads).toEqual({ '.w': [1, 2] });
    expect(read(u)).toEqual({ '.w': [2, 4] });
    treeDispose([g, u, s]);
  });

  it('leaks no tensor over 500 steps through stepVariables', () => {
    const tx = namedChain({ momentum: trace({ decay: 0.9 }), adam: adam(1e-2) });
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
});

describeEachBackend('partition', () => {
  it('matches the first two steps derived by hand, each group on its own leaves', () => {
    // weights: sgd(0.1): u = −0.1·g.   biases: sgd(0.01, momentum 0.9): t = 0.9·t + g, u = −0.01·t.
    // step 1, g = { w: [1, 2], b: [4] }:  w: [−0.1, −0.2];  b: t = 4, u = −0.04
    // step 2, g = { w: [−1, 0], b: [2] }: w: [0.1, 0];      b: t = 0.9·4 + 2 = 5.6, u = −0.056
    const tx = partition(
      { weights: sgd(0.1), biases: sgd(0.01, { momentum: 0.9 }) },
      { w: 'weights', b: 'biases' },
    );
    const params = { w: tf.zeros([2]), b: tf.zeros([1]) };
    const g1 = { w: tf.tensor([1, 2]), b: tf.tensor([4]) };
    const g2 = { w: tf.tensor([-1, 0]), b: tf.tensor([2]) };
    const s0 = tx.init(params);
    // The momentum trace is held for b only; w is an empty subtree there.
    expect(read(s0.innerStates.biases[0].trace as Tree)).toEqual({ '.b': [0] });
    expect((s0.innerStates.biases[0].trace as { w: unknown }).w).toEqual({});
    const [u1, s1] = tx.update(g1, s0, params);
    expectArrayClose(read(u1)['.w']!, [-0.1, -0.2]);
    expectArrayClose(read(u1)['.b']!, [-0.04]);
    const [u2, s2] = tx.update(g2, s1, params);
    expectArrayClose(read(u2)['.w']!, [0.1, 0]);
    expectArrayClose(read(u2)['.b']!, [-0.056]);
    expectArrayClose(read(s2.innerStates.biases[0].trace as Tree)['.b']!, [5.6]);
    expect(s2.innerStates.weights[1].count).toBe(2);
    expect(Object.keys(u2)).toEqual(['w', 'b']);
    treeDispose([params, g1, g2, s0, u1, s1, u2, s2]);
  });

  it('follows a float64 reference (Adam on the kernels, momentum SGD on the biases) over 120 steps', () => {
    const [b1, b2, eps, lrA] = [0.9, 0.999, 1e-8, 0.01];
    const [mom, lrS] = [0.5, 0.1];
    const tx = partition(
      { kernel: adam(lrA, { b1, b2, eps }), bias: sgd(lrS, { momentum: mom }) },
      (p) =>
        Object.fromEntries(
          Object.keys(p).map((k) => [k, k.endsWith('kernel') ? 'kernel' : 'bias']),
        ),
    );
    const shapes: Record<string, number> = { 'd/kernel': 4, 'd/bias': 2, 'e/kernel': 3 };
    const params = Object.fromEntries(Object.entries(shapes).map(([k, n]) => [k, tf.zeros([n])]));
    const ref = Object.fromEntries(
      Object.entries(shapes).map(([k, n]) => [
        k,
        { m: new Array(n).fill(0), v: new Array(n).fill(0) },
      ]),
    );
    let state = tx.init(params);
    for (let k = 1; k <= 120; k++) {
      const g = Object.fromEntries(
        Object.entries(shapes).map(([name, n], j) => [
          name,
          Array.from({ length: n }, (_, i) => Math.sin(0.41 * k + i + 2 * j) * (1 + i)),
        ]),
      );
      const gt = Object.fromEntries(Object.entries(g).map(([name, x]) => [name, tf.tensor(x)]));
      const [u, next] = tx.update(gt, state, params);
      const got = u as Record<string, tf.Tensor>;
      for (const [name, gi] of Object.entries(g)) {
        const r = ref[name]!;
        const expected = gi.map((x, i) => {
          if (name.endsWith('kernel')) {
            r.m[i] = b1 * r.m[i] + (1 - b1) * x;
            r.v[i] = b2 * r.v[i] + (1 - b2) * x * x;
            return (-lrA * (r.m[i] / (1 - b1 ** k))) / (Math.sqrt(r.v[i] / (1 - b2 ** k)) + eps);
          }
          r.m[i] = mom * r.m[i] + x;
          return -lrS * r.m[i];
        });
        expectArrayClose(
          values(got[name]!),
          expected,
          { rtol: 1e-4, atol: 1e-6 },
          `${name} step ${k}`,
        );
      }
      treeDispose([gt, u, state]);
      state = next;
    }
    treeDispose([params, state]);
  });

  it('gives each group only its leaves of updates, params and context.grads (the raw gradient)', () => {
    const seenA: { updates: string[]; params?: string[]; grads?: Leaves }[] = [];
    const seenB: typeof seenA = [];
    const tx = chain(
      scale(10),
      partition(
        { a: spy(seenA), b: spy(seenB) },
        { enc: 'a', head: { kernel: 'b', bias: 'a' }, list: ['b', 'a'] },
      ),
    );
    const make = (x: number) => ({
      enc: { w: tf.tensor([x]), v: tf.tensor([x + 1]) },
      head: { kernel: tf.tensor([x + 2]), bias: tf.tensor([x + 3]) },
      list: [tf.tensor([x + 4]), tf.tensor([x + 5])],
    });
    const params = make(0);
    const g = make(1);
    const [u, s] = tx.update(g, tx.init(params), params);
    expect(seenA[0]).toEqual({
      updates: ['.enc.v', '.enc.w', '.head.bias', '.list[1]'],
      params: ['.enc.v', '.enc.w', '.head.bias', '.list[1]'],
      // The raw gradient, not the scaled updates.
      grads: { '.enc.v': [2], '.enc.w': [1], '.head.bias': [4], '.list[1]': [6] },
    });
    expect(seenB[0]).toEqual({
      updates: ['.head.kernel', '.list[0]'],
      params: ['.head.kernel', '.list[0]'],
      grads: { '.head.kernel': [3], '.list[0]': [5] },
    });
    // Outputs merged back by key: here every group returns its updates, so u = 10·g.
    expect(read(u)).toEqual(
      Object.fromEntries(Object.entries(read(g)).map(([k, x]) => [k, x.map((y) => 10 * y)])),
    );
    treeDispose([params, g, u, s]);
  });

  it('treats trees with the same keys in another order the same way, bit for bit', () => {
    const build = (order: string[], base: number) =>
      Object.fromEntries(
        order.map((k) => [k, tf.tensor([base + k.length, base + k.charCodeAt(0) / 100])]),
      );
    const run = (order: string[]) => {
      const tx = partition({ x: adam(0.1), y: sgd(0.1, { momentum: 0.9 }) }, (p) =>
        Object.fromEntries(Object.keys(p).map((k) => [k, k.length % 2 === 0 ? 'x' : 'y'])),
      );
      const params = build(order, 0);
      let state = tx.init(params);
      const out: Leaves[] = [];
      for (let k = 0; k < 3; k++) {
        const g = build(order, k + 1);
        const [u, next] = tx.update(g, state, params);
        out.push(read(u));
        treeDispose([g, u, state]);
        state = next;
      }
      treeDispose([params, state]);
      return out;
    };
    const keys = ['ab', 'c', 'de', 'fgh', '10', '2'];
    expect(run([...keys].reverse())).toEqual(run(keys));
  });

  it('lets a transform with no leaves run on an empty tree', () => {
    const tx = partition({ used: sgd(1), unused: adam(1) }, { w: 'used' });
    const g = { w: tf.tensor([1]) };
    const s0 = tx.init(g);
    const [u, s1] = tx.update(g, s0, g);
    expect(read(u)).toEqual({ '.w': [-1] });
    expect(s1.innerStates.unused[0].count).toBe(1);
    expect(collectTensors(s1.innerStates.unused)).toEqual([]);
    treeDispose([g, s0, u, s1]);
  });

  it('throws errors that name the path: structure, unknown label, not a label', () => {
    const params = { dense: { kernel: tf.zeros([2]), bias: tf.zeros([1]) }, list: [tf.zeros([1])] };
    const groups = { decay: sgd(0.1), noDecay: sgd(0.1) };
    const cases: [unknown, RegExp][] = [
      [
        { dense: { kernel: 'decay' }, list: ['decay'] },
        /partition: params\.dense\.bias has no entry in labels \(labels\.dense has no key "bias"\)/,
      ],
      [
        { dense: { kernel: 'decay', bias: 'noDecay', extra: 'decay' }, list: ['decay'] },
        /partition: params\.dense has no key "extra", but labels\.dense\.extra is given/,
      ],
      [
        { dense: 'decay', list: ['decay', 'decay'] },
        /partition: params\.list is an array of length 1 but labels\.list is an array of length 2/,
      ],
      [
        { dense: { kernel: { deeper: 'decay' }, bias: 'decay' }, list: 'decay' },
        /partition: params\.dense\.kernel is a tensor of shape \[2\] but labels\.dense\.kernel is an object/,
      ],
    ];
    for (const [labels, message] of cases) {
      const tx = partition(groups, labels as never);
      expect(() => tx.init(params)).toThrow(TreeStructureError);
      expect(() => tx.init(params)).toThrow(message);
    }
    // Checked at construction for a tree, at init and update for a function.
    expect(() => partition(groups, { dense: { kernel: 'decya', bias: 'decay' } })).toThrow(
      'partition: labels.dense.kernel is "decya", which names no transform (the transforms are "decay", "noDecay")',
    );
    expect(() => partition(groups, { dense: 3 } as never)).toThrow(
      /partition: labels\.dense is 3; expected a label \(one of "decay", "noDecay"\), or an array or object of them/,
    );
    const bad = partition(groups, () => ({ dense: 'nope', list: 'decay' }));
    expect(() => bad.init(params)).toThrow(
      /partition: labels\.dense is "nope", which names no transform/,
    );
    treeDispose(params);
  });

  it('rejects bad transforms and states, naming the option', () => {
    expect(() => partition({}, 'a')).toThrow(InvalidOptionError);
    expect(() => partition({}, 'a')).toThrow(
      /partition: option "transforms" must be a non-empty object/,
    );
    expect(() => partition({ a: sgd(1), b: sgd } as never, 'a')).toThrow(
      /partition: option "transforms\.b" must be a gradient transformation/,
    );
    const tx = partition({ a: sgd(1) }, 'a');
    const g = { w: tf.ones([1]) };
    expect(() => tx.update(g, [] as never)).toThrow(TfoptError);
    expect(() => tx.update(g, { innerStates: {} } as never)).toThrow(
      'partition: the state has no entry for group "a"; was it built by this transform\'s init?',
    );
    treeDispose(g);
  });

  it("records the groups' specs and the labels; none when a group has no spec", () => {
    const labels = { w: 'a', b: ['b'] };
    expect(partition({ a: adam(0.1), b: sgd(0.2) }, labels).spec).toEqual({
      name: 'partition',
      args: [{ a: { name: 'adam', args: [0.1] }, b: { name: 'sgd', args: [0.2] } }, labels],
    });
    expect(partition({ a: adam(0.1), b: spy([]) }, labels).spec).toBeUndefined();
  });

  it('leaks no tensor over 500 steps through stepVariables', () => {
    const tx = partition({ a: adam(1e-2), b: sgd(1e-2, { momentum: 0.9 }) }, { w: 'a', b: ['b'] });
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
});

describe('namedChain options and spec', () => {
  it('rejects bad links, naming them', () => {
    const cases: [unknown, RegExp][] = [
      [
        3,
        /namedChain: option "transforms" must be an array of \[name, transform\] pairs or an object/,
      ],
      [[['a', sgd(1)], 'b'], /option "transforms\[1\]" must be a \[name, transform\] pair/],
      [
        [
          ['a', sgd(1)],
          ['a', sgd(1)],
        ],
        /option "transforms\[1\]\[0\]" must be a name used once, got "a"/,
      ],
      [[['', sgd(1)]], /option "transforms\[0\]\[0\]" must be a non-empty name/],
      [[['a', {}]], /option "transforms\[0\]\[1\]" must be a gradient transformation/],
      [{ a: sgd(1), b: 'sgd' }, /option "transforms\.b" must be a gradient transformation/],
      [{ 0: sgd(1) }, /option "transforms\["0"\]" must be under a name that is not an array index/],
    ];
    for (const [transforms, message] of cases) {
      expect(() => namedChain(transforms as never)).toThrow(InvalidOptionError);
      expect(() => namedChain(transforms as never)).toThrow(message);
    }
  });

  it("records the links' specs in the form it was given; none when a link has no spec", () => {
    expect(namedChain([['lr', scale(2)]]).spec).toEqual({
      name: 'namedChain',
      args: [[['lr', { name: 'scale', args: [2] }]]],
    });
    expect(namedChain({ lr: scale(2) }).spec).toEqual({
      name: 'namedChain',
      args: [{ lr: { name: 'scale', args: [2] } }],
    });
    expect(namedChain([['spy', spy([])]]).spec).toBeUndefined();
  });

  it('throws on a state it did not build', () => {
    const tx = namedChain({ lr: scaleByLearningRate(1) });
    expect(() => tx.update({}, [] as never)).toThrow(
      /namedChain: expected a state record keyed by link name/,
    );
    expect(() => tx.update({}, {} as never)).toThrow(
      'namedChain: the state has no entry for link "lr"; was it built by this transform\'s init?',
    );
  });
});
