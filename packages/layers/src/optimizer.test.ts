import * as tf from '@tensorflow/tfjs';
import {
  chain,
  type GradientTransformation,
  InvalidOptionError,
  injectLearningRate,
  stateless,
  type Tree,
  treeMap,
  type UpdateContext,
} from '@tfopt/core';
import { egAdam } from '@tfopt/eg';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { adam, sgd } from '@tfopt/transforms';
import { expect, it } from 'vitest';
import { TransformOptimizer } from './index.js';

/** Targets and curvatures of a separable quadratic over up to three variables. */
const TARGET: Record<string, number[]> = { a: [1, -2, 0.5], b: [3, 0], c: [-1] };
const CURVE: Record<string, number[]> = { a: [1, 4, 0.5], b: [2, 1], c: [3] };

type Vars = Record<string, tf.Variable>;

function makeVars(start: Record<string, number[]> = { a: [0, 0, 0], b: [1, 1], c: [2] }): Vars {
  return Object.fromEntries(
    Object.entries(start).map(([k, v]) => [k, tf.variable(tf.tensor1d(v))]),
  );
}

/** sum over the variables of curve * (x - target)^2. */
function loss(vars: Vars): tf.Scalar {
  return tf.tidy(
    () =>
      tf.addN(
        Object.entries(vars).map(([k, x]) =>
          tf.sum(tf.mul(tf.tensor1d(CURVE[k]!), tf.square(tf.sub(x, tf.tensor1d(TARGET[k]!))))),
        ),
      ) as tf.Scalar,
  );
}

/** Minimise the full loss, updating only `keys`, in that order. */
function stepOn(opt: tf.Optimizer, vars: Vars, keys: string[]): void {
  opt.minimize(
    () => loss(vars),
    false,
    keys.map((k) => vars[k]!),
  );
}

function snapshot(vars: Vars): Record<string, number[]> {
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, values(v)]));
}

function expectVarsClose(actual: Vars, expected: Vars, tol = { rtol: 1e-5, atol: 1e-6 }): void {
  for (const k of Object.keys(expected))
    expectArrayClose(values(actual[k]!), values(expected[k]!), tol, k);
}

async function weightValues(opt: tf.Optimizer): Promise<[string, number[] | string[]][]> {
  const ws = await opt.getWeights();
  return Promise.all(
    ws.map(async (w) => [w.name, Array.from(await w.tensor.data())] as [string, number[]]),
  );
}

describeEachBackend('TransformOptimizer with free variables', () => {
  it('matches tf.train.adam however the variables are ordered', () => {
    const ours = makeVars();
    const theirs = makeVars();
    const opt = new TransformOptimizer(adam(0.05, { eps: 1e-7 }));
    const ref = tf.train.adam(0.05, 0.9, 0.999, 1e-7);
    for (let i = 0; i < 30; i++) {
      // Reversing the list every other step would misalign state kept by position.
      stepOn(opt, ours, i % 2 === 0 ? ['a', 'b', 'c'] : ['c', 'b', 'a']);
      stepOn(ref, theirs, ['a', 'b', 'c']);
    }
    expectVarsClose(ours, theirs, { rtol: 1e-4, atol: 1e-5 });
    expect(opt.iterations).toBe(30);
    opt.dispose();
    ref.dispose();
    tf.dispose([ours, theirs]);
  });

  it('passes the variables as params and the raw gradients and loss as context', () => {
    const vars = makeVars({ a: [0, 0, 0] });
    const seen: { keys: string[]; loss: number; grads: number[]; paramsAreVars: boolean }[] = [];
    const spy = stateless((updates: Tree, params?: Tree, context?: UpdateContext) => {
      const grads = context?.grads as Record<string, tf.Tensor>;
      seen.push({
        keys: Object.keys(grads),
        loss: (context!.loss as tf.Scalar).dataSync()[0]!,
        grads: values(grads[vars.a!.name]!),
        paramsAreVars: (params as Record<string, tf.Tensor>)[vars.a!.name] === vars.a,
      });
      return updates;
    });
    const opt = new TransformOptimizer(chain(spy, sgd(0.1)));
    opt.minimize(() => loss(vars), false, [vars.a!]);
    // loss = 1*(0-1)^2 + 4*(0+2)^2 + 0.5*(0-0.5)^2 = 1 + 16 + 0.125; grad = 2*curve*(x - target) = [-2, 16, -0.5]
    expect(seen).toEqual([
      { keys: [vars.a!.name], loss: 17.125, grads: [-2, 16, -0.5], paramsAreVars: true },
    ]);
    expectArrayClose(values(vars.a!), [0.2, -1.6, 0.05]);
    opt.dispose();
    tf.dispose(vars);
  });

  it('keys state by variable name as variables come, go and come back', () => {
    const ours = makeVars();
    const theirs = makeVars();
    const opt = new TransformOptimizer(sgd(0.05, { momentum: 0.9 }));
    // Reference: one tf.train.momentum per variable, stepped only when its variable is.
    const refs = Object.fromEntries(
      Object.keys(theirs).map((k) => [k, tf.train.momentum(0.05, 0.9)]),
    );
    const phase = (keys: string[], steps: number) => {
      for (let i = 0; i < steps; i++) {
        stepOn(opt, ours, keys);
        const { value, grads } = tf.variableGrads(() => loss(theirs));
        for (const k of keys) {
          refs[k]!.applyGradients([{ name: theirs[k]!.name, tensor: grads[theirs[k]!.name]! }]);
        }
        tf.dispose([value, grads]);
      }
      expectVarsClose(ours, theirs);
    };
    phase(['a', 'b'], 3);
    const aBefore = values(ours.a!);
    phase(['b', 'c'], 3); // a leaves, c arrives
    expect(values(ours.a!)).toEqual(aBefore);
    expect(opt.inactiveVariables).toEqual([ours.a!.name]);
    phase(['c', 'a', 'b'], 3); // a returns with its momentum
    expect(opt.inactiveVariables).toEqual([]);
    phase(['b'], 1);
    const count = tf.memory().numTensors;
    opt.pruneState();
    expect(opt.inactiveVariables).toEqual([]);
    expect(tf.memory().numTensors).toBe(count - 2); // the parked momenta of a and c
    opt.dispose();
    for (const r of Object.values(refs)) r.dispose();
    tf.dispose([ours, theirs]);
  });

  it('leaves variables and state as they were when a step fails', async () => {
    type Mode = 'ok' | 'throw' | 'mismatch' | 'nan';
    let mode = 'ok' as Mode;
    const saboteur = stateless((u: Tree) => {
      const tree = u as Record<string, tf.Tensor>;
      if (mode === 'throw') throw new Error('boom');
      if (mode === 'mismatch') return { [Object.keys(tree)[0]!]: Object.values(tree)[0]! };
      if (mode === 'nan') return treeMap((x) => tf.mul(x, Number.NaN), u);
      return u;
    });
    const vars = makeVars();
    const control = makeVars();
    const opt = new TransformOptimizer(chain(adam(0.1), saboteur), { checkFinite: true });
    const ref = new TransformOptimizer(chain(adam(0.1), saboteur));
    const keys = ['a', 'b', 'c'];
    for (let i = 0; i < 3; i++) {
      stepOn(opt, vars, keys);
      stepOn(ref, control, keys);
    }
    const before = { vars: snapshot(vars), state: await weightValues(opt) };
    const tensors = tf.memory().numTensors;
    const failures: [Mode, RegExp][] = [
      ['throw', /boom/],
      ['mismatch', /^updates is missing key "\w+" that variables has$/],
      ['nan', /^updates(\.\w+|\["[^"]+"\]) contains NaN or Infinity; the step was not applied$/],
    ];
    for (const [m, message] of failures) {
      mode = m;
      expect(() => stepOn(opt, vars, keys)).toThrow(message);
      mode = 'ok';
      expect(snapshot(vars)).toEqual(before.vars);
      expect(await weightValues(opt)).toEqual(before.state);
      expect(tf.memory().numTensors).toBe(tensors);
    }
    expect(opt.iterations).toBe(3);
    // Training goes on exactly as if the failed steps had not been tried.
    for (let i = 0; i < 2; i++) {
      stepOn(opt, vars, keys);
      stepOn(ref, control, keys);
    }
    for (const k of keys) expect(values(vars[k]!)).toEqual(values(control[k]!));
    opt.dispose();
    ref.dispose();
    tf.dispose([vars, control]);
  });

  it('reads and changes injected hyperparameters, before and between steps', () => {
    const ours = makeVars();
    const theirs = makeVars();
    const opt = new TransformOptimizer(injectLearningRate(sgd, 0.1));
    expect(opt.learningRate).toBe(0.1);
    opt.learningRate = 0.2; // before any state exists
    expect(opt.getHyperparams()).toEqual({ learningRate: 0.2 });
    const ref = tf.train.sgd(0.2);
    for (let i = 0; i < 4; i++) {
      if (i === 2) {
        opt.setHyperparams({ learningRate: 0.05 });
        ref.setLearningRate(0.05);
      }
      stepOn(opt, ours, ['a', 'b']);
      stepOn(ref, theirs, ['a', 'b']);
    }
    expectVarsClose(ours, theirs);
    expect(opt.learningRate).toBe(0.05);
    expect(() => opt.setHyperparams({ momentum: 0.9 })).toThrow(
      /no injected hyperparameter "momentum"; known: learningRate/,
    );

    const plain = new TransformOptimizer(adam(0.1));
    expect(plain.learningRate).toBeUndefined();
    expect(plain.getHyperparams()).toEqual({});
    expect(() => {
      plain.learningRate = 0.5;
    }).toThrow(/build the transform with injectHyperparams/);
    opt.dispose();
    ref.dispose();
    tf.dispose([ours, theirs]);
  });

  it('continues exactly from getWeights in a new optimizer', async () => {
    const vars = makeVars();
    const build = () => new TransformOptimizer(egAdam(0.05, { scale: { scaleLearningRate: 0.1 } }));
    const first = build();
    for (let i = 0; i < 4; i++) stepOn(first, vars, ['a', 'b', 'c']);
    const at4 = snapshot(vars);
    const saved = (await first.getWeights()).map((w) => ({
      name: w.name,
      tensor: tf.clone(w.tensor),
    }));
    for (let i = 0; i < 3; i++) stepOn(first, vars, ['a', 'b', 'c']);
    const uninterrupted = snapshot(vars);

    for (const [k, v] of Object.entries(at4)) vars[k]!.assign(tf.tensor1d(v));
    const second = build();
    await second.setWeights(saved);
    tf.dispose(saved.map((w) => w.tensor)); // the optimizer keeps copies
    expect(second.iterations).toBe(4);
    for (let i = 0; i < 3; i++) stepOn(second, vars, ['a', 'b', 'c']);
    expect(snapshot(vars)).toEqual(uninterrupted);
    first.dispose();
    second.dispose();
    tf.dispose(vars);
  });

  it('frees all of its tensors on dispose and leaks none per step', async () => {
    const vars = makeVars();
    const start = tf.memory().numTensors;
    const opt = new TransformOptimizer(egAdam(0.01));
    stepOn(opt, vars, ['a', 'b', 'c']);
    const afterOne = tf.memory().numTensors;
    for (let i = 0; i < 40; i++) stepOn(opt, vars, ['a', 'b', 'c']);
    expect(tf.memory().numTensors).toBe(afterOne);
    stepOn(opt, vars, ['a']); // b and c parked
    await opt.getWeights();
    expect(tf.memory().numTensors).toBeGreaterThan(start);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(start);
    tf.dispose(vars);
  });

  it('rejects bad input at the boundary', () => {
    expect(() => new TransformOptimizer({} as GradientTransformation)).toThrow(InvalidOptionError);
    expect(() => new TransformOptimizer(adam(0.1), { checkFinite: 'yes' as never })).toThrow(
      /checkFinite/,
    );
    const opt = new TransformOptimizer(adam(0.1));
    const g = tf.ones([2]);
    expect(() => opt.applyGradients({ 'no such variable': g })).toThrow(
      /no tf.Variable named "no such variable"/,
    );
    const v = tf.variable(tf.zeros([3]));
    expect(() => opt.applyGradients({ [v.name]: g })).toThrow(
      new RegExp(`gradient for variable "${v.name}" has shape \\[2\\], the variable \\[3\\]`),
    );
    expect(values(v)).toEqual([0, 0, 0]);
    opt.dispose();
    tf.dispose([g, v]);
  });
});
