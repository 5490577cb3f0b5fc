import * as tf from '@tensorflow/tfjs-core';
import { describeEachBackend, expectArrayClose, useBackend } from '@tfopt/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  chain,
  type GradientTransformation,
  registerFusedLink,
  type StepOptions,
  stateless,
  stepVariables,
  type Tree,
  tidy,
  treeDispose,
  treeMap,
  treeMapN,
  treeScale,
  treeZerosLike,
  withSpec,
} from './index.js';

// The buffers of a fused step: a long tensor runs in several chunks on cpu (and a tail of
// n mod 4 elements as JavaScript on both backends); on cpu a buffer is rewritten in place only
// when the fused step made it and nothing outside the tensors can see it.

interface TraceState {
  readonly trace: Tree;
}

/** t ← decay · t + u; u ← t (momentum without Nesterov). */
function testTrace(decay: number): GradientTransformation<TraceState> {
  return withSpec(
    {
      init: (params) => tidy(() => ({ trace: treeZerosLike(params) })),
      update: (updates, state) =>
        tidy(() => {
          const trace = treeMap((u, t) => tf.add(tf.mul(t, decay), u), updates, state.trace);
          return [trace, { trace }] as const;
        }),
    },
    'testRunTrace',
    [decay],
  );
}

/** u ← factor · u. */
function testScale(factor: number): GradientTransformation<Record<string, never>> {
  return withSpec(
    stateless((u) => treeScale(u, factor)),
    'testRunScale',
    [factor],
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
            (u, g, l) => [tf.div(u, tf.add(1, tf.abs(tf.sum(tf.mul(g, l))))), tf.clone(u)],
            updates,
            raw,
            state.last,
          );
          return [out as Tree, { last: last as Tree }] as const;
        }),
    },
    'testRunRemember',
    [],
  );
}

registerFusedLink('testRunRemember', () => ({
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

/** u ← u + 0.25 · last, with last the incoming update of the step before; last ← the incoming u. */
function testLag(): GradientTransformation<RememberState> {
  return withSpec(
    {
      init: (params) => tidy(() => ({ last: treeZerosLike(params) })),
      update: (updates, state) =>
        tidy(() => {
          const [out, last] = treeMapN(
            2,
            (u, l) => [tf.add(u, tf.mul(l, 0.25)), tf.clone(u)],
            updates,
            state.last,
          );
          return [out as Tree, { last: last as Tree }] as const;
        }),
    },
    'testRunLag',
    [],
  );
}

registerFusedLink('testRunLag', () => ({
  slots: ['last'],
  writes: [],
  slotIsUpdate: 'last',
  prepare: () => ({ next: ({ last }) => ({ last }) }),
  code: ({ u, slot }) => `${u} = ${u} + ${slot('last')} * 0.25;`,
}));

registerFusedLink('testRunTrace', ([decay]) => ({
  slots: ['trace'],
  updateIsSlot: 'trace',
  prepare: () => ({ constants: { decay: decay as number }, next: ({ trace }) => ({ trace }) }),
  code: ({ u, slot, store, constant: k }) =>
    `const t = ${slot('trace')} * ${k('decay')} + ${u}; ${store('trace', 't')} ${u} = t;`,
}));

registerFusedLink('testRunScale', ([factor]) => ({
  prepare: ({ state }) => ({ constants: { factor: factor as number }, next: () => state }),
  code: ({ u, constant: k }) => `${u} = ${u} * ${k('factor')};`,
}));

const FUSED: StepOptions = { fused: true };
const COMPOSABLE: StepOptions = { fused: false };
const DECAY = 0.5;
const LR = 0.1;
const momentum = () => chain(testTrace(DECAY), testScale(-LR));

// 20003 elements: two full chunks of 8192 and one of 3616 (the SIMD part), then 3 in JavaScript.
const N = 20003;
const start = (i: number) => Math.sin(0.001 * i) + 0.01 * (i % 7);
const gradAt = (k: number, i: number) => Math.cos(0.002 * i + k) * (1 + (i % 5));

function gradTree(k: number, n = N): { w: tf.Tensor } {
  return { w: tf.tensor1d(Float32Array.from({ length: n }, (_, i) => gradAt(k, i))) };
}

function makeVars(n = N): { w: tf.Variable } {
  return tf.tidy(() => ({
    w: tf.variable(tf.tensor1d(Float32Array.from({ length: n }, (_, i) => start(i)))),
  }));
}

/** A copy of `t`'s values read through a new tensor, so that the read hands out none of its buffer. */
function peek(t: tf.Tensor): Float32Array {
  const copy = tf.tidy(() => tf.add(t, 0));
  const out = Float32Array.from(copy.dataSync());
  copy.dispose();
  return out;
}

/** The cpu backend's buffer under `t` (internal: whether a step rewrote it in place). */
function bufferOf(t: tf.Tensor): ArrayBufferLike {
  const backend = tf.backend() as unknown as {
    data: { get(id: object): { values: Float32Array } };
  };
  return backend.data.get(t.dataId).values.buffer;
}

describeEachBackend('the fused path on long tensors', () => {
  it('follows a float64 reference over several chunks and a tail, as the composable path does', () => {
    // Momentum in plain JS doubles: t ← 0.5 t + g; w ← w − 0.1 t.
    const w = Array.from({ length: N }, (_, i) => start(i));
    const t = new Array<number>(N).fill(0);
    const tx = momentum();
    const fusedVars = makeVars();
    const plainVars = makeVars();
    let fusedState = tx.init(fusedVars);
    let plainState = tx.init(plainVars);
    for (let k = 1; k <= 6; k++) {
      for (let i = 0; i < N; i++) {
        t[i] = DECAY * (t[i] as number) + gradAt(k, i);
        w[i] = (w[i] as number) - LR * (t[i] as number);
      }
      const grads = gradTree(k);
      fusedState = stepVariables(tx, fusedVars, grads, fusedState, undefined, FUSED);
      plainState = stepVariables(tx, plainVars, grads, plainState, undefined, COMPOSABLE);
      treeDispose(grads);
    }
    const tol = { rtol: 1e-5, atol: 1e-5 };
    expectArrayClose(peek(fusedVars.w), w, tol, 'fused');
    expectArrayClose(peek(plainVars.w), w, tol, 'composable');
    expectArrayClose(peek((fusedState[0].trace as { w: tf.Tensor }).w), t, tol, 'fused trace');
    treeDispose([fusedVars, plainVars, fusedState, plainState]);
  });
});

describeEachBackend("the fused path with a slot that shares another slot's data", () => {
  it('rewrites the shared buffer after the reduction has read it, as a float64 reference does', () => {
    // chain(trace 0.5, remember, scale −0.1): last is the trace itself (no copy), and the
    // reduction <g, last> must see the trace of the step before. In plain JS doubles:
    // t ← 0.5 t + g; u ← t / (1 + |<g, last>|); last ← t; w ← w − 0.1 u.
    const w = Array.from({ length: N }, (_, i) => start(i));
    const t = new Array<number>(N).fill(0);
    let last = new Array<number>(N).fill(0);
    const tx = chain(testTrace(DECAY), testRemember(), testScale(-LR));
    const vars = makeVars();
    let state = tx.init(vars);
    let traceBuffer: unknown;
    for (let k = 1; k <= 6; k++) {
      let dot = 0;
      for (let i = 0; i < N; i++) dot += gradAt(k, i) * (last[i] as number);
      for (let i = 0; i < N; i++) {
        t[i] = DECAY * (t[i] as number) + gradAt(k, i);
        w[i] = (w[i] as number) - (LR * (t[i] as number)) / (1 + Math.abs(dot));
      }
      last = [...t];
      const grads = gradTree(k);
      state = stepVariables(tx, vars, grads, state, undefined, FUSED);
      treeDispose(grads);
      const trace = (state[0].trace as { w: tf.Tensor }).w;
      expect((state[1].last as { w: tf.Tensor }).w.dataId).toBe(trace.dataId);
      // From the third step on, the trace's buffer is rewritten in place.
      if (k >= 3) expect(tf.getBackend() !== 'cpu' || bufferOf(trace) === traceBuffer).toBe(true);
      traceBuffer = tf.getBackend() === 'cpu' ? bufferOf(trace) : undefined;
    }
    const tol = { rtol: 1e-4, atol: 1e-5 };
    expectArrayClose(peek(vars.w), w, tol, 'params');
    expectArrayClose(peek((state[0].trace as { w: tf.Tensor }).w), t, tol, 'trace');
    treeDispose([vars, state]);
  });
});

describeEachBackend(
  "the fused path with a slot read in its pass that shares another's data",
  () => {
    it('keeps the old values for the slot that reads them, as a float64 reference does', () => {
      // chain(trace 0.5, lag, scale −0.1): last is the trace itself, and lag reads it in the same
      // pass that writes the new trace, so the trace cannot be rewritten in place. In doubles:
      // t ← 0.5 t + g; u ← t + 0.25 last; last ← t; w ← w − 0.1 u.
      const w = Array.from({ length: N }, (_, i) => start(i));
      const t = new Array<number>(N).fill(0);
      let last = new Array<number>(N).fill(0);
      const tx = chain(testTrace(DECAY), testLag(), testScale(-LR));
      const vars = makeVars();
      let state = tx.init(vars);
      for (let k = 1; k <= 5; k++) {
        for (let i = 0; i < N; i++) {
          t[i] = DECAY * (t[i] as number) + gradAt(k, i);
          w[i] = (w[i] as number) - LR * ((t[i] as number) + 0.25 * (last[i] as number));
        }
        last = [...t];
        const grads = gradTree(k);
        state = stepVariables(tx, vars, grads, state, undefined, FUSED);
        treeDispose(grads);
      }
      expectArrayClose(peek(vars.w), w, { rtol: 1e-4, atol: 1e-5 }, 'params');
      treeDispose([vars, state]);
    });
  },
);

describe('the fused path on cpu rewrites only the buffers nothing else can see', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  /** Variables and a state after two fused steps: the buffers are then the step's own. */
  function warmed() {
    const tx = momentum();
    const vars = makeVars();
    let state = tx.init(vars);
    for (let k = 1; k <= 2; k++) {
      const grads = gradTree(k);
      state = stepVariables(tx, vars, grads, state, undefined, FUSED);
      treeDispose(grads);
    }
    const next = (k: number) => {
      const grads = gradTree(k);
      state = stepVariables(tx, vars, grads, state, undefined, FUSED);
      treeDispose(grads);
    };
    return { vars, state: () => state, next, trace: () => (state[0].trace as { w: tf.Tensor }).w };
  }

  it('rewrites its own buffers in place, step after step', () => {
    const run = warmed();
    const param = bufferOf(run.vars.w);
    const trace = bufferOf(run.trace());
    const before = peek(run.vars.w);
    run.next(3);
    expect(bufferOf(run.vars.w)).toBe(param);
    expect(bufferOf(run.trace())).toBe(trace);
    expect(Array.from(peek(run.vars.w))).not.toEqual(Array.from(before));
    treeDispose([run.vars, run.state()]);
  });

  it('never changes an array that dataSync handed out, of a variable or of the state', () => {
    const run = warmed();
    const heldParam = run.vars.w.dataSync();
    const heldTrace = run.trace().dataSync();
    const param = Array.from(heldParam);
    const trace = Array.from(heldTrace);
    run.next(3);
    run.next(4);
    expect(Array.from(heldParam)).toEqual(param);
    expect(Array.from(heldTrace)).toEqual(trace);
    expect(Array.from(peek(run.vars.w))).not.toEqual(param);
    treeDispose([run.vars, run.state()]);
  });

  it('never changes a slice, a clone or a reshape the caller keeps, and resumes once they are freed', () => {
    const run = warmed();
    const before = Array.from(peek(run.vars.w));
    // A contiguous slice is a view of the variable's buffer; a clone and a reshape share its data.
    const slice = tf.slice(run.vars.w, 100, 9000);
    const clone = tf.clone(run.vars.w);
    const reshaped = tf.reshape(run.vars.w, [1, N]);
    const traceSlice = tf.slice(run.trace(), 0, 5);
    const traceBefore = Array.from(peek(run.trace()));
    run.next(3);
    expect(Array.from(peek(slice))).toEqual(before.slice(100, 9100));
    expect(Array.from(peek(clone))).toEqual(before);
    expect(Array.from(peek(reshaped))).toEqual(before);
    expect(Array.from(peek(traceSlice))).toEqual(traceBefore.slice(0, 5));
    expect(Array.from(peek(run.vars.w))).not.toEqual(before);
    treeDispose([slice, clone, reshaped, traceSlice]);
    // With nothing else holding them, the step's own buffers are rewritten in place again.
    run.next(4);
    const param = bufferOf(run.vars.w);
    run.next(5);
    expect(bufferOf(run.vars.w)).toBe(param);
    treeDispose([run.vars, run.state()]);
  });

  it('keeps rewriting in place after a one-element read-back of a slice, which keeps its value', () => {
    const run = warmed();
    const param = bufferOf(run.vars.w);
    const one = tf.tidy(() => tf.slice(tf.reshape(run.vars.w, [-1]), 0, 1));
    const read = one.dataSync();
    const value = read[0] as number;
    expect(value).toBe(peek(run.vars.w)[0] as number);
    run.next(3);
    expect(read[0]).toBe(value);
    expect(Array.from(one.dataSync())).toEqual([value]);
    expect(bufferOf(run.vars.w)).toBe(param);
    expect(peek(run.vars.w)[0]).not.toBe(value);
    one.dispose();
    treeDispose([run.vars, run.state()]);
  });

  it('never rewrites a buffer the caller made', () => {
    // tf.tensor keeps a Float32Array it is given as the backend's buffer.
    const mine = Float32Array.from({ length: N }, (_, i) => start(i));
    const copy = Array.from(mine);
    const x = tf.tensor1d(mine);
    const vars = { w: tf.variable(x) };
    x.dispose();
    const tx = momentum();
    let state = tx.init(vars);
    for (let k = 1; k <= 3; k++) {
      const grads = gradTree(k);
      state = stepVariables(tx, vars, grads, state, undefined, FUSED);
      treeDispose(grads);
    }
    expect(Array.from(mine)).toEqual(copy);
    expect(Array.from(peek(vars.w))).not.toEqual(copy);
    treeDispose([vars, state]);
  });

  it('leaves everything as it was when a check fails after steps in place', () => {
    const run = warmed();
    run.next(3);
    const param = Array.from(peek(run.vars.w));
    const trace = Array.from(peek(run.trace()));
    const tensors = tf.memory().numTensors;
    const bad = gradTree(4);
    const poisoned = tf.tidy(() =>
      tf.where(tf.equal(tf.range(0, N), 15000), tf.fill([N], Number.NaN), bad.w),
    );
    expect(() =>
      stepVariables(momentum(), run.vars, { w: poisoned }, run.state(), undefined, {
        checkFinite: true,
        fused: true,
      }),
    ).toThrow('updates.w contains NaN or Infinity; the step was not applied');
    expect(Array.from(peek(run.vars.w))).toEqual(param);
    expect(Array.from(peek(run.trace()))).toEqual(trace);
    treeDispose([bad, poisoned]);
    expect(tf.memory().numTensors).toBe(tensors);
    treeDispose([run.vars, run.state()]);
  });

  it('leaks no tensor or buffer over many steps, with reads in between', () => {
    const run = warmed();
    const tensors = tf.memory().numTensors;
    const buffers = tf.memory().numDataBuffers;
    for (let k = 3; k <= 30; k++) {
      run.next(k);
      if (k % 3 === 0) run.vars.w.dataSync();
      if (k % 4 === 0) tf.tidy(() => tf.slice(run.trace(), 10, 3)).dispose();
      expect(tf.memory().numTensors).toBe(tensors);
      expect(tf.memory().numDataBuffers).toBe(buffers);
    }
    treeDispose([run.vars, run.state()]);
  });
});
