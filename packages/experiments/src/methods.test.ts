import * as tf from '@tensorflow/tfjs-core';
import { stepVariables, type Tree, treeDispose } from '@tfopt/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { type EgRates, METHODS, methodById, probe } from './methods.js';

// Every row of the method table builds an optimizer that trains, its probe
// reads finite numbers, and its evaluation parameters (when it has them) are
// new tensors of the parameters' shapes.
describe.each(['cpu', 'wasm'] as const)('method table [%s]', (backend) => {
  beforeAll(async () => {
    expect(await initBackend(backend)).toBe(backend);
  });

  for (const method of METHODS) {
    it(`${method.id}: trains a quadratic for 20 steps with a finite, falling loss`, () => {
      const target = tf.tensor2d([1, -2, 0.5, 3], [2, 2]);
      const vars = { w: tf.variable(tf.zeros([2, 2])), b: tf.variable(tf.ones([3])) };
      const loss = () =>
        tf.tidy(() =>
          tf.add(tf.sum(tf.square(tf.sub(vars.w, target))), tf.sum(tf.square(vars.b))),
        ) as tf.Scalar;
      const first = loss();
      const initial = first.dataSync()[0] as number;
      first.dispose();
      const tx = method.build({ learningRate: method.defaultLr, totalSteps: 20 });
      let state = tx.init(vars);
      for (let i = 0; i < 20; i++) {
        const { value, grads } = tf.variableGrads(loss, [vars.w, vars.b]);
        const tree = { w: grads[vars.w.name] as tf.Tensor, b: grads[vars.b.name] as tf.Tensor };
        state = stepVariables(tx, vars, tree, state, { loss: value });
        tf.dispose([value, grads]);
      }
      const last = loss();
      const final = last.dataSync()[0] as number;
      last.dispose();
      expect(Number.isFinite(final)).toBe(true);
      expect(final).toBeLessThan(initial);
      for (const v of Object.values(probe(method, state))) expect(Number.isFinite(v)).toBe(true);
      if (method.evalParams !== undefined) {
        const x = method.evalParams(state, vars) as Record<string, tf.Tensor>;
        expect(x.w?.shape).toEqual([2, 2]);
        expect(x.w).not.toBe(vars.w);
        treeDispose(x as Tree);
      }
      treeDispose([state as Tree, vars, target]);
    });
  }
});

describe('EG rates from the run context', () => {
  beforeAll(async () => {
    expect(await initBackend('cpu')).toBe('cpu');
  });

  /** The probe after 5 steps on a quadratic whose gradient keeps its direction. */
  function probeAfter(id: string, egRates?: EgRates) {
    const vars = { w: tf.variable(tf.tensor1d([3, -2, 1])) };
    const tx = methodById(id).build({ learningRate: 1e-2, totalSteps: 5, egRates });
    let state = tx.init(vars);
    for (let i = 0; i < 5; i++) {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.square(vars.w)) as tf.Scalar,
        [vars.w],
      );
      state = stepVariables(tx, vars, { w: grads[vars.w.name] as tf.Tensor }, state);
      tf.dispose([value, grads]);
    }
    const out = probe(methodById(id), state);
    treeDispose([state as Tree, vars]);
    return out;
  }

  it('passes scaleLearningRate and gainLearningRate to the EG parts', () => {
    // Rate 0: every factor is exp(0 · a) = 1, so scale and gains stay exactly at 1.
    const frozen = probeAfter('eg-adam', { scaleLearningRate: 0, gainLearningRate: 0 });
    expect([frozen.scale, frozen.gainMin, frozen.gainMax]).toEqual([1, 1, 1]);
    // At the library defaults the steps agree in sign, so both grow.
    const moving = probeAfter('eg-adam');
    expect(moving.scale).toBeGreaterThan(1);
    expect(moving.gainMin).toBeGreaterThan(1);
    // A row without the scale ignores the scale rate and keeps its gains' rate.
    const local = probeAfter('eg-sgdm-local', { scaleLearningRate: 0.5, gainLearningRate: 0 });
    expect(local.scale).toBeUndefined();
    expect([local.gainMin, local.gainMax]).toEqual([1, 1]);
  });
});
