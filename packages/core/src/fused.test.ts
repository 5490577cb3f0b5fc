import * as tf from '@tensorflow/tfjs-core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { describe, expect, it } from 'vitest';
import {
  chain,
  collectTensors,
  type EmptyState,
  type GradientTransformation,
  getHyperparams,
  InvalidOptionError,
  identity,
  injectHyperparams,
  registerFusedLink,
  type StepOptions,
  setHyperparams,
  stateless,
  step,
  stepVariables,
  TfoptError,
  type Tree,
  TreeStructureError,
  tidy,
  treeDispose,
  treeLeaves,
  treeMap,
  treeMapN,
  treeScale,
  treeSquaredNorm,
  treeZerosLike,
  type UpdateContext,
  whyNotFusable,
  withSpec,
} from './index.js';

// Four small transforms written twice, composable and fused, that together use
// every part of the engine: a slot with a step count (testSum), a reduction
// over the incoming updates (testClipNorm, which needs the links before it in
// its pass), a per-leaf reduction of the raw gradient against a slot that
// remembers the incoming updates (testRemember), and a plain multiply.

/** u ← factor · u. */
function testScale(factor: number): GradientTransformation<EmptyState> {
  return withSpec(
    stateless((u) => treeScale(u, factor)),
    'testScale',
    [factor],
  );
}

interface SumState {
  readonly count: number;
  readonly sum: Tree;
}

/** s ← decay · s + u; u ← s; count ← count + 1. */
function testSum(decay: number): GradientTransformation<SumState> {
  return withSpec(
    {
      init: (params) => tidy(() => ({ count: 0, sum: treeZerosLike(params) })),
      update: (updates, state) =>
        tidy(() => {
          const sum = treeMap((u, s) => tf.add(tf.mul(s, decay), u), updates, state.sum);
          return [sum, { count: state.count + 1, sum }] as const;
        }),
    },
    'testSum',
    [decay],
  );
}

/** u ← u / max(|u|, 1), with |u| the global norm of the incoming updates. */
function testClipNorm(): GradientTransformation<EmptyState> {
  return withSpec(
    stateless((u) => {
      const norm = tf.sqrt(treeSquaredNorm(u));
      const factor = tf.div(1, tf.maximum(norm, 1));
      return treeMap((x) => tf.mul(x, factor), u);
    }),
    'testClipNorm',
    [],
  );
}

interface RememberState {
  readonly last: Tree;
}

/** Per leaf: u ← u / (1 + |<g, last>|) with g the raw gradient; last ← the incoming u. */
function testRemember(): GradientTransformation<RememberState> {
  return withSpec(
    {
      init: (params) => tidy(() => ({ last: treeZerosLike(params) })),
      update: (updates, state, _params, context) =>
        tidy(() => {
          const raw = context?.grads ?? updates;
          const [out, last] = treeMapN(
            2,
            (u, g, l) => {
              const dot = tf.sum(tf.mul(g, l));
              return [tf.div(u, tf.add(1, tf.abs(dot))), tf.clone(u)];
            },
            updates,
            raw,
            state.last,
          );
          return [out as Tree, { last: last as Tree }] as const;
        }),
    },
    'testRemember',
    [],
  );
}

registerFusedLink('testScale', ([factor]) =>
  typeof factor !== 'number'
    ? 'has no factor'
    : {
        prepare: ({ state }) => ({ constants: { factor }, next: () => state }),
        code: ({ u, constant: k }) => `${u} = ${u} * ${k('factor')};`,
      },
);

registerFusedLink('testSum', ([decay]) => ({
  slots: ['sum'],
  updateIsSlot: 'sum',
  prepare: ({ state }) => {
    const { count } = state as SumState;
    return {
      constants: { decay: decay as number },
      next: ({ sum }) => ({ count: count + 1, sum }),
    };
  },
  code: ({ u, slot, store, constant: k }) =>
    `const s = ${slot('sum')} * ${k('decay')} + ${u}; ${store('sum', 's')} ${u} = s;`,
}));

registerFusedLink('testClipNorm', () => ({
  reduction: { readsUpdate: true, terms: ({ u }) => ({ squares: `${u} * ${u}` }) },
  prepare: ({ state }) => ({
    afterSums: ({ total }) => ({
      constants: { factor: 1 / Math.max(Math.sqrt(total.squares as number), 1) },
    }),
    next: () => state,
  }),
  code: ({ u, constant: k }) => `${u} = ${u} * ${k('factor')};`,
}));

registerFusedLink('testRemember', () => ({
  slots: ['last'],
  writes: [],
  slotIsUpdate: 'last',
  readsGradient: true,
  reduction: { readsUpdate: false, terms: ({ g, slot }) => ({ dot: `${g} * ${slot('last')}` }) },
  prepare: () => ({
    afterSums: ({ perLeaf }) => ({
      leafConstants: perLeaf.map((sums) => ({ k: 1 / (1 + Math.abs(sums.dot as number)) })),
    }),
    next: ({ last }) => ({ last }),
  }),
  code: ({ u, constant: k }) => `${u} = ${u} * ${k('k')};`,
}));

const FUSED: StepOptions = { fused: true };
const COMPOSABLE: StepOptions = { fused: false };

/** Both leaves of a `{ a, b }` tree of variables, as numbers. */
const both = (t: Tree) => {
  const { a, b } = t as { a: tf.Tensor; b: tf.Tensor };
  return [...values(a), ...values(b)];
};

// Leaves of 7 and 2 × 4 elements: on wasm the SIMD loop takes four elements at a time and
// JavaScript the rest (a's last 3), so both run.
const A0 = [1, -2, 0.5, 0.3, -0.7, 2.5, -1.1];
const B0 = [0.25, 3, -0.4, 1.2, 0.9, -2.2, 0.05, 0.6];

/** The gradient of step k (1-based): a mix of signs, sizes and frequencies per coordinate. */
function gradValues(k: number): { a: number[]; b: number[] } {
  const at = (j: number) =>
    Math.sin((0.3 + 0.07 * j) * k + j) + 0.4 * Math.cos((1.1 + 0.13 * j) * k) + 0.1 * ((j % 3) - 1);
  return { a: A0.map((_, j) => at(j)), b: B0.map((_, j) => at(j + A0.length)) };
}

function gradTree(k: number): Tree {
  const { a, b } = gradValues(k);
  return { a: tf.tensor1d(a), b: tf.tensor2d(b, [2, 4]) };
}

// In a tidy, so that the initial values do not keep the variables' first buffers alive.
const makeVars = () =>
  tf.tidy(() => ({
    a: tf.variable(tf.tensor1d(A0)),
    b: tf.variable(tf.tensor2d(B0, [2, 4])),
  }));

/** Every engine part in one chain: per-leaf raw reduction, slot, prefix reduction, multiply. */
const everything = () => chain(testRemember(), testSum(0.5), testClipNorm(), testScale(-0.1));

describeEachBackend('the fused path', () => {
  it('matches the first two steps derived by hand', () => {
    // chain(testSum(0.5), testClipNorm(), testScale(-0.1)) on w = [1, 1].
    // Step 1, g = [3, 4]: s = [3, 4]; |s| = 5, so u = s / 5 = [0.6, 0.8]; times -0.1:
    //   w = [1 − 0.06, 1 − 0.08] = [0.94, 0.92].
    // Step 2, g = [0, 1]: s = 0.5·[3, 4] + [0, 1] = [1.5, 3]; |s| = sqrt(11.25) = 3.3541020;
    //   u = −0.1 · s / 3.3541020 = [−0.0447214, −0.0894427]; w = [0.8952786, 0.8305573].
    const tx = chain(testSum(0.5), testClipNorm(), testScale(-0.1));
    const vars = { w: tf.variable(tf.tensor1d([1, 1])) };
    let state = tx.init(vars);
    const g1 = { w: tf.tensor1d([3, 4]) };
    state = stepVariables(tx, vars, g1, state, undefined, FUSED);
    expectArrayClose(values(vars.w), [0.94, 0.92]);
    expectArrayClose(values((state[0].sum as { w: tf.Tensor }).w), [3, 4]);
    expect(state[0].count).toBe(1);
    const g2 = { w: tf.tensor1d([0, 1]) };
    state = stepVariables(tx, vars, g2, state, undefined, FUSED);
    const norm = Math.sqrt(11.25);
    expectArrayClose(values(vars.w), [0.94 - (0.1 * 1.5) / norm, 0.92 - (0.1 * 3) / norm]);
    // ≈ [0.8952786, 0.8305573]
    expectArrayClose(values((state[0].sum as { w: tf.Tensor }).w), [1.5, 3]);
    expect(state[0].count).toBe(2);
    treeDispose([vars, state, g1, g2]);
  });

  it('follows a float64 reference of the chain for 150 steps, as the composable path does', () => {
    // testRemember, testSum(0.5), testClipNorm, testScale(-0.1) in plain JS doubles.
    const leaves = (v: { a: number[]; b: number[] }) => [v.a, v.b];
    let p = [[...A0], [...B0]];
    let last = [A0.map(() => 0), B0.map(() => 0)];
    let sum = [A0.map(() => 0), B0.map(() => 0)];
    const tx = everything();
    const fusedVars = makeVars();
    const plainVars = makeVars();
    let fusedState = tx.init(fusedVars);
    let plainState = tx.init(plainVars);
    for (let k = 1; k <= 150; k++) {
      const g = leaves(gradValues(k));
      const scaled = g.map((gl, l) => {
        const dot = gl.reduce((acc, x, i) => acc + x * (last[l]?.[i] as number), 0);
        return gl.map((x) => x / (1 + Math.abs(dot)));
      });
      last = g.map((gl) => [...gl]);
      sum = scaled.map((sl, l) => sl.map((x, i) => 0.5 * (sum[l]?.[i] as number) + x));
      const norm = Math.sqrt(sum.flat().reduce((acc, x) => acc + x * x, 0));
      p = p.map((pl, l) =>
        pl.map((x, i) => x - (0.1 * (sum[l]?.[i] as number)) / Math.max(norm, 1)),
      );
      const grads = gradTree(k);
      fusedState = stepVariables(tx, fusedVars, grads, fusedState, undefined, FUSED);
      plainState = stepVariables(tx, plainVars, grads, plainState, undefined, COMPOSABLE);
      treeDispose(grads);
      const tol = { rtol: 1e-4, atol: 1e-5 };
      expectArrayClose(both(fusedVars), p.flat(), tol, `fused, step ${k}`);
      expectArrayClose(both(plainVars), p.flat(), tol, `composable, step ${k}`);
    }
    treeDispose([fusedVars, plainVars, fusedState, plainState]);
  });

  it('keeps the composable state layout, so a state moves between the paths', () => {
    const tx = everything();
    const vars = makeVars();
    const control = makeVars();
    let state = tx.init(vars);
    let controlState = tx.init(control);
    for (let k = 1; k <= 40; k++) {
      const grads = gradTree(k);
      // Alternate: fused for 10 steps, composable for 10, ...
      const path = Math.floor((k - 1) / 10) % 2 === 0 ? FUSED : COMPOSABLE;
      state = stepVariables(tx, vars, grads, state, undefined, path);
      controlState = stepVariables(tx, control, grads, controlState, undefined, COMPOSABLE);
      treeDispose(grads);
      expect(signature(state), `layout after step ${k}`).toEqual(signature(controlState));
    }
    expectArrayClose(both(vars), both(control), { rtol: 1e-5, atol: 1e-6 });
    treeDispose([vars, control, state, controlState]);
  });

  it('shares the remembered update with the slot it equals, as tf.clone does', () => {
    // After testSum the update is the new sum itself: testRemember stores no copy of it.
    const tx = chain(testSum(0.9), testRemember(), testScale(-0.1));
    const vars = makeVars();
    let state = tx.init(vars);
    const grads = gradTree(1);
    state = stepVariables(tx, vars, grads, state, undefined, FUSED);
    const sum = state[0].sum as { a: tf.Tensor };
    const last = state[1].last as { a: tf.Tensor };
    expect(last.a).not.toBe(sum.a);
    expect(last.a.dataId).toBe(sum.a.dataId);
    expect(values(last.a)).toEqual(values(sum.a));
    treeDispose([vars, state, grads]);
  });

  it('runs step on plain tensors too, leaving the params as they were', () => {
    const tx = everything();
    const params = { a: tf.tensor1d(A0), b: tf.tensor2d(B0, [2, 4]) };
    const before = both(params);
    let fused = { params: params as Tree, state: tx.init(params) };
    let plain = { params: params as Tree, state: tx.init(params) };
    for (let k = 1; k <= 20; k++) {
      const grads = gradTree(k);
      const f = step(tx, fused.params, grads, fused.state, undefined, FUSED);
      const c = step(tx, plain.params, grads, plain.state, undefined, COMPOSABLE);
      if (fused.params !== params) treeDispose([fused.params, plain.params]);
      fused = f;
      plain = c;
      treeDispose(grads);
    }
    expect(both(params)).toEqual(before);
    expectArrayClose(both(fused.params), both(plain.params), { rtol: 1e-5, atol: 1e-6 });
    treeDispose([params, fused, plain]);
  });

  it('reads the raw gradient from context.grads when it is given', () => {
    const tx = everything();
    const fusedVars = makeVars();
    const plainVars = makeVars();
    let fusedState = tx.init(fusedVars);
    let plainState = tx.init(plainVars);
    for (let k = 1; k <= 10; k++) {
      const grads = gradTree(k);
      const context: UpdateContext = { grads: gradTree(k + 7) };
      fusedState = stepVariables(tx, fusedVars, grads, fusedState, context, FUSED);
      plainState = stepVariables(tx, plainVars, grads, plainState, context, COMPOSABLE);
      treeDispose([grads, context]);
    }
    expectArrayClose(both(fusedVars), both(plainVars), { rtol: 1e-5, atol: 1e-6 });
    treeDispose([fusedVars, plainVars, fusedState, plainState]);
  });

  it('gives bit-identical results whatever the key insertion order', () => {
    const tx = everything();
    const ab = makeVars();
    const ba = {
      b: tf.variable(tf.tensor2d(B0, [2, 4])),
      a: tf.variable(tf.tensor1d(A0)),
    };
    let s1 = tx.init(ab);
    let s2 = tx.init(ba);
    for (let k = 1; k <= 10; k++) {
      const grads = gradTree(k) as { a: tf.Tensor; b: tf.Tensor };
      s1 = stepVariables(tx, ab, grads, s1, undefined, FUSED);
      s2 = stepVariables(tx, ba, { b: grads.b, a: grads.a }, s2, undefined, FUSED);
      treeDispose(grads);
    }
    expect(both(ba)).toEqual(both(ab));
    treeDispose([ab, ba, s1, s2]);
  });

  it('handles empty leaves and an empty tree', () => {
    const tx = everything();
    const vars = { a: tf.variable(tf.zeros([0])), b: tf.variable(tf.tensor1d([1])) };
    let state = tx.init(vars);
    const grads = { a: tf.zeros([0]), b: tf.tensor1d([2]) };
    state = stepVariables(tx, vars, grads, state, undefined, FUSED);
    // b: remember gives 2 (last was 0), sum 2, norm 2 → u = 1, times −0.1: b = 0.9.
    expectArrayClose(values(vars.b), [0.9]);
    expect(vars.a.shape).toEqual([0]);
    let empty = tx.init({});
    empty = stepVariables(tx, {}, {}, empty, undefined, FUSED);
    expect(empty[1].count).toBe(1);
    treeDispose([vars, state, grads, empty]);
  });
});

describeEachBackend('the fused path keeps the guarantees of stepVariables', () => {
  it('checks the gradients first, with the same errors', () => {
    const tx = everything();
    const vars = makeVars();
    const state = tx.init(vars);
    const missing = { a: tf.tensor1d([1, 2, 3]) };
    for (const options of [FUSED, COMPOSABLE]) {
      expect(() => stepVariables(tx, vars, missing, state, undefined, options)).toThrow(
        'grads is missing key "b" that variables has',
      );
      expect(() => stepVariables(tx, vars, missing, state, undefined, options)).toThrow(
        TreeStructureError,
      );
    }
    treeDispose([vars, state, missing]);
  });

  it('leaves variables, state and the tensor count as they were when an update is not finite', () => {
    const tx = chain(testSum(0.5), testScale(-0.1));
    const vars = makeVars();
    let state = tx.init(vars);
    const ok = gradTree(1);
    state = stepVariables(tx, vars, ok, state, undefined, FUSED);
    const before = both(vars);
    const sumBefore = both(state[0].sum);
    const tensors = tf.memory().numTensors;
    const buffers = tf.memory().numDataBuffers;
    const bad = { a: tf.tensor1d(A0), b: tf.tensor2d([1, 2, Number.NaN, 1, 1, 1, 1, 1], [2, 4]) };
    const count = tf.memory().numTensors;
    expect(() =>
      stepVariables(tx, vars, bad, state, undefined, { checkFinite: true, fused: true }),
    ).toThrow(new TfoptError('updates.b contains NaN or Infinity; the step was not applied'));
    expect(tf.memory().numTensors).toBe(count);
    expect(both(vars)).toEqual(before);
    expect(both(state[0].sum)).toEqual(sumBefore);
    expect(state[0].count).toBe(1);
    treeDispose(bad);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.memory().numDataBuffers).toBe(buffers);
    treeDispose([vars, state, ok]);
  });

  it('leaks no tensor over many steps and frees the old state as the composable path does', () => {
    const tx = everything();
    const vars = makeVars();
    let state = tx.init(vars);
    const start = tf.memory().numTensors;
    const startBuffers = tf.memory().numDataBuffers;
    for (let k = 1; k <= 60; k++) {
      const grads = gradTree(k);
      const old = collectTensors(state);
      state = stepVariables(tx, vars, grads, state, undefined, FUSED);
      expect(old.every((t) => t.isDisposed)).toBe(true);
      treeDispose(grads);
      expect(tf.memory().numTensors).toBe(start);
      expect(tf.memory().numDataBuffers).toBe(startBuffers);
    }
    treeDispose([vars, state]);
  });

  it('never keeps a tensor of the caller in the state, and never writes into a shared buffer', () => {
    const tx = everything();
    // tf.variable(x) shares x's data; the step must not change x.
    const x = tf.tensor1d(A0);
    const vars = { a: tf.variable(x), b: tf.tidy(() => tf.variable(tf.tensor2d(B0, [2, 4]))) };
    let state = tx.init(vars);
    const held = vars.a.dataSync();
    const heldCopy = Array.from(held);
    for (let k = 1; k <= 3; k++) {
      const grads = gradTree(k);
      state = stepVariables(tx, vars, grads, state, { grads }, FUSED);
      const callers = new Set(collectTensors([vars, grads]));
      expect(collectTensors(state).filter((t) => callers.has(t))).toEqual([]);
      treeDispose(grads);
    }
    expectArrayClose(values(x), A0);
    expect(Array.from(held)).toEqual(heldCopy);
    expect(values(vars.a)).not.toEqual(heldCopy);
    treeDispose([x, vars, state]);
  });

  it('rewrites a buffer in place only when nothing else refers to it, and kernels see the new values', () => {
    const tx = chain(testSum(0.5), testScale(-0.1));
    const vars = makeVars();
    let state = tx.init(vars);
    // A clone is another handle (cpu: on the same data): it keeps the values it had.
    const snapshot = tf.clone(vars.a);
    const grads = gradTree(1);
    state = stepVariables(tx, vars, grads, state, undefined, FUSED);
    expectArrayClose(values(snapshot), A0);
    // The variable as matMul weights (wasm caches packed weights per tensor): the product uses
    // the new values, step after step.
    const x = tf.ones([1, 7]);
    for (let k = 2; k <= 4; k++) {
      const g = gradTree(k);
      const times = () => tf.tidy(() => tf.matMul(x, tf.reshape(vars.a, [7, 1])));
      const product = times();
      expectArrayClose(values(product), [values(vars.a).reduce((s, v) => s + v, 0)]);
      state = stepVariables(tx, vars, g, state, undefined, FUSED);
      const after = times();
      expectArrayClose(values(after), [values(vars.a).reduce((s, v) => s + v, 0)]);
      treeDispose([g, product, after]);
    }
    treeDispose([vars, state, snapshot, grads, x]);
  });

  it('keeps a slot its link does not write, as the composable update returns it', () => {
    registerFusedLink('testFrozenSum', () => ({
      slots: ['sum'],
      writes: [],
      prepare: ({ state }) => ({ next: ({ sum }) => ({ ...(state as SumState), sum }) }),
      code: ({ u, slot }) => `${u} = ${u} + ${slot('sum')};`,
    }));
    const frozen = withSpec(
      {
        init: (params: Tree) => tidy(() => ({ count: 0, sum: treeZerosLike(params) })),
        update: (updates: Tree, state: SumState) =>
          [tidy(() => treeMap((u, s) => tf.add(u, s), updates, state.sum)), state] as const,
      },
      'testFrozenSum',
      [],
    );
    const vars = makeVars();
    const state = frozen.init(vars);
    const grads = gradTree(1);
    const next = stepVariables(frozen, vars, grads, state, undefined, FUSED);
    expect(next.sum).toBe(state.sum);
    expect(treeLeaves(next.sum).some((t) => t.isDisposed)).toBe(false);
    treeDispose([vars, next, grads]);
  });

  it('falls back to the composable path for a state of another layout, which then throws', () => {
    const tx = chain(testSum(0.5), testScale(-0.1));
    const vars = makeVars();
    const state = [{ count: 0, sum: { a: tf.zeros([3]) } }, {}] as never;
    const grads = gradTree(1);
    const count = tf.memory().numTensors;
    expect(() => stepVariables(tx, vars, grads, state, undefined, FUSED)).toThrow(
      /cannot fuse this step \(fused: true\): state\[0\]\.sum does not have the params' layout/,
    );
    expect(() => stepVariables(tx, vars, grads, state)).toThrow(TreeStructureError);
    expect(tf.memory().numTensors).toBe(count);
    treeDispose([vars, state, grads]);
  });
});

describeEachBackend('the fused path under injectHyperparams', () => {
  it('rebuilds the inner transform from the state each step, as the composable update does', () => {
    const build = () =>
      injectHyperparams(
        ({ learningRate, decay }) => chain(testSum(decay), testScale(-learningRate)),
        { learningRate: 0.1, decay: (count: number) => 0.5 + 0.01 * count },
      );
    const tx = build();
    expect(whyNotFusable(tx)).toBeUndefined();
    const fusedVars = makeVars();
    const plainVars = makeVars();
    let fusedState = tx.init(fusedVars);
    let plainState = tx.init(plainVars);
    for (let k = 1; k <= 20; k++) {
      if (k === 10) {
        // A value set by hand between steps is used by the next one.
        fusedState = setHyperparams(fusedState, { learningRate: 0.02 });
        plainState = setHyperparams(plainState, { learningRate: 0.02 });
      }
      const grads = gradTree(k);
      fusedState = stepVariables(tx, fusedVars, grads, fusedState, undefined, FUSED);
      plainState = stepVariables(tx, plainVars, grads, plainState, undefined, COMPOSABLE);
      treeDispose(grads);
      expect(getHyperparams(fusedState)).toEqual(getHyperparams(plainState));
      expect(fusedState.count).toBe(k);
    }
    expectArrayClose(both(fusedVars), both(plainVars), { rtol: 1e-5, atol: 1e-6 });
    treeDispose([fusedVars, plainVars, fusedState, plainState]);
  });

  it('fuses as the whole transform only', () => {
    const inner = injectHyperparams(({ factor }) => testScale(factor), { factor: 2 });
    expect(whyNotFusable(chain(inner, testScale(1)))).toBe(
      'injectHyperparams fuses as the whole transform only, not as a link of a chain',
    );
    expect(whyNotFusable(injectHyperparams(() => chain(stateless((u) => u)), { factor: 1 }))).toBe(
      'a link has no spec (built by stateless() or by hand)',
    );
  });
});

describe('choosing the path', () => {
  it('says why a transform has no fused form', () => {
    expect(whyNotFusable(everything())).toBeUndefined();
    expect(whyNotFusable(chain(identity(), testScale(2)))).toBeUndefined();
    expect(
      whyNotFusable(
        chain(
          stateless((u) => u),
          testScale(2),
        ),
      ),
    ).toBe('a link has no spec (built by stateless() or by hand)');
    expect(whyNotFusable(withSpec(identity(), 'testUnknown', []))).toBe(
      '"testUnknown" has no fused form',
    );
    expect(whyNotFusable(withSpec(identity(), 'testScale', ['two']))).toBe(
      '"testScale" has no factor',
    );
  });

  it('sees a link registered after a transform was first compiled', () => {
    const late = withSpec(identity(), 'testLate', []);
    expect(whyNotFusable(late)).toBe('"testLate" has no fused form');
    registerFusedLink('testLate', () => ({
      prepare: ({ state }) => ({ next: () => state }),
      code: () => '',
    }));
    expect(whyNotFusable(late)).toBeUndefined();
  });

  it('with fused: true, throws saying why, and changes nothing', () => {
    const tx = chain(
      stateless((u) => u),
      testScale(-0.1),
    );
    const vars = makeVars();
    const state = tx.init(vars);
    const grads = gradTree(1);
    const before = both(vars);
    expect(() => stepVariables(tx, vars, grads, state, undefined, FUSED)).toThrow(
      new TfoptError(
        'stepVariables: cannot fuse this step (fused: true): a link has no spec (built by stateless() or by hand)',
      ),
    );
    expect(() => step(tx, vars, grads, state, undefined, FUSED)).toThrow(/^step: cannot fuse/);
    expect(both(vars)).toEqual(before);
    // By default the composable path runs.
    const next = stepVariables(tx, vars, grads, state);
    expectArrayClose(
      values(vars.a),
      A0.map((p, i) => p - 0.1 * (gradValues(1).a[i] as number)),
    );
    treeDispose([vars, next, grads]);
  });

  it('rejects a fused option that is not a boolean, naming it', () => {
    const tx = testScale(1);
    const vars = makeVars();
    const grads = gradTree(1);
    expect(() => stepVariables(tx, vars, grads, {}, undefined, { fused: 'yes' as never })).toThrow(
      new InvalidOptionError('stepVariables', 'fused', 'yes', 'true, false or absent'),
    );
    expect(() => step(tx, vars, grads, {}, undefined, { fused: 1 as never })).toThrow(
      'step: option "fused" must be true, false or absent, got 1',
    );
    treeDispose([vars, grads]);
  });

  it('rejects a bad registration, naming what is wrong', () => {
    expect(() => registerFusedLink('', () => 'none')).toThrow(
      'registerFusedLink: name must be a non-empty string, got ',
    );
    expect(() => registerFusedLink('testBad', 3 as never)).toThrow(
      'registerFusedLink: the factory for "testBad" must be a function',
    );
  });
});

/** The layout of a state: tensors as shape and dtype, numbers as "number". */
function signature(value: unknown): unknown {
  if (value instanceof tf.Tensor) return `${value.dtype}[${value.shape.join(',')}]`;
  if (Array.isArray(value)) return value.map(signature);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, signature(v)]));
  }
  return typeof value;
}
