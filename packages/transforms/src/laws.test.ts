import * as tf from '@tensorflow/tfjs-core';
import {
  chain,
  collectTensors,
  type GradientTransformation,
  identity,
  stepVariables,
  type Tree,
  transformMonoid,
  treeDispose,
} from '@tfopt/core';
import { describeEachBackend, expectTreeClose, values } from '@tfopt/testing';
import { concatAll } from 'fp-ts/lib/Monoid.js';
import { describe, expect, it } from 'vitest';
import {
  adagrad,
  adam,
  adamw,
  addDecayedWeights,
  clip,
  clipByGlobalNorm,
  ema,
  rmsprop,
  scale,
  scaleByAdagrad,
  scaleByAdam,
  scaleByLearningRate,
  scaleByRms,
  scaleBySchedule,
  scaleByStddev,
  sgd,
  trace,
} from './index.js';

const exact = { rtol: 0, atol: 0 };

/** A plain copy of any state or tree: tensors become their shape and values. */
const snapshot = (value: unknown): unknown => {
  if (value instanceof tf.Tensor) return { shape: value.shape, values: values(value) };
  if (Array.isArray(value)) return value.map(snapshot);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, snapshot(v)]));
  }
  return value;
};

/** A deterministic gradient tree for step k, shaped like the parameters below. */
const gradsAt = (k: number) => ({
  w: tf.tensor([Math.sin(k) * 3, Math.cos(1.3 * k)]),
  b: [
    tf.tensor([
      [0.1 * k, -0.2, 0.3],
      [Math.sin(0.5 * k), 1, -1],
    ]),
  ],
});
const paramsTree = () => ({
  w: tf.tensor([0.5, -1]),
  b: [
    tf.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]),
  ],
});

/** Run several updates through two transforms side by side and compare them exactly. */
function expectSameUpdates(
  a: GradientTransformation<any>,
  b: GradientTransformation<any>,
  steps = 6,
) {
  const params = paramsTree();
  let sa = a.init(params);
  let sb = b.init(params);
  for (let k = 1; k <= steps; k++) {
    const g = gradsAt(k);
    const [ua, na] = a.update(g, sa, params);
    const [ub, nb] = b.update(g, sb, params);
    expectTreeClose(ua, ub, exact);
    // Nesting may differ (chain(a, chain(b, c)) vs chain(chain(a, b), c)); the tensors may not.
    expect(collectTensors(na).map(snapshot)).toEqual(collectTensors(nb).map(snapshot));
    treeDispose([ua, ub, sa, sb]);
    treeDispose(g);
    sa = na;
    sb = nb;
  }
  treeDispose([sa, sb, params]);
}

describeEachBackend('chain laws with real transforms', () => {
  it('chain() of nothing and identity() hand the updates back unchanged', () => {
    const units: GradientTransformation<any>[] = [
      chain(),
      identity(),
      chain(identity(), identity()),
    ];
    for (const tx of units) {
      const g = gradsAt(1);
      let state = tx.init(g);
      for (let k = 0; k < 3; k++) {
        const [u, next] = tx.update(g, state);
        expect(u).toBe(g);
        state = next;
      }
      treeDispose(g);
    }
  });

  it('identity is a unit on both sides', () => {
    const build = () => chain(scaleByAdam(), scaleByLearningRate(0.1));
    expectSameUpdates(chain(identity(), build()), build());
    expectSameUpdates(chain(build(), identity()), build());
  });

  it('chain is associative: chain(a, chain(b, c)) = chain(chain(a, b), c)', () => {
    const a = () => clipByGlobalNorm(1);
    const b = () => scaleByAdam();
    const c = () => scaleByLearningRate(0.1);
    expectSameUpdates(chain(a(), chain(b(), c())), chain(chain(a(), b()), c()));
    expectSameUpdates(chain(a(), chain(b(), c())), chain(a(), b(), c()));
  });

  it('folding with the fp-ts monoid equals chaining', () => {
    const build = () => [trace({ decay: 0.9 }), clip(0.5), scale(-0.1)];
    expectSameUpdates(concatAll(transformMonoid)(build()), chain(...build()));
  });

  it('an alias equals its chain of transforms', () => {
    expectSameUpdates(adam(0.01), chain(scaleByAdam(), scaleByLearningRate(0.01)));
    expectSameUpdates(
      sgd(0.1, { momentum: 0.9 }),
      chain(trace({ decay: 0.9 }), scaleByLearningRate(0.1)),
    );
  });
});

// Every transform and alias, for the purity and leak checks.
const schedule = (c: number) => 0.1 / (1 + c);
const everything: [string, () => GradientTransformation<any>][] = [
  ['scale', () => scale(0.5)],
  ['scaleBySchedule', () => scaleBySchedule(schedule)],
  ['scaleByLearningRate', () => scaleByLearningRate(0.1)],
  ['scaleByLearningRate (schedule)', () => scaleByLearningRate(schedule)],
  ['scaleByAdam', () => scaleByAdam()],
  ['scaleByAdam (epsRoot)', () => scaleByAdam({ epsRoot: 1e-8 })],
  ['scaleByRms', () => scaleByRms()],
  ['scaleByRms (eps after sqrt)', () => scaleByRms({ epsInSqrt: false, initialScale: 1 })],
  ['scaleByStddev', () => scaleByStddev()],
  ['scaleByAdagrad', () => scaleByAdagrad()],
  ['scaleByAdagrad (guarded)', () => scaleByAdagrad({ initialAccumulatorValue: 0, eps: 0 })],
  ['trace', () => trace({ decay: 0.9 })],
  ['trace (nesterov)', () => trace({ decay: 0.9, nesterov: true })],
  ['ema', () => ema({ decay: 0.9 })],
  ['ema (no debias)', () => ema({ decay: 0.9, debias: false })],
  ['addDecayedWeights', () => addDecayedWeights({ weightDecay: 0.01 })],
  [
    'addDecayedWeights (mask)',
    () => addDecayedWeights({ weightDecay: 0.01, mask: { w: true, b: [false] } }),
  ],
  ['clipByGlobalNorm', () => clipByGlobalNorm(1)],
  ['clip', () => clip(0.5)],
  ['sgd', () => sgd(0.1)],
  ['sgd + nesterov', () => sgd(0.1, { momentum: 0.9, nesterov: true })],
  ['adam', () => adam(0.01)],
  [
    'adamw (mask)',
    () => adamw(0.01, { mask: (p) => ({ w: true, b: (p as { b: Tree[] }).b.map(() => false) }) }),
  ],
  ['adagrad', () => adagrad(0.1)],
  ['rmsprop centered + momentum', () => rmsprop(0.01, { centered: true, momentum: 0.9 })],
];

describeEachBackend('every transform', () => {
  for (const [name, build] of everything) {
    describe(name, () => {
      it('is pure: same inputs, same outputs; inputs neither disposed nor changed', () => {
        const tx = build();
        const params = paramsTree();
        const [u0, s1] = tx.update(gradsAt(1), tx.init(params), params);
        const g = gradsAt(2);
        const before = snapshot([g, params, s1]);
        const [a, sa] = tx.update(g, s1, params);
        const [b, sb] = tx.update(g, s1, params);
        expectTreeClose(a, b, exact);
        expect(snapshot(sa)).toEqual(snapshot(sb));
        for (const t of collectTensors([g, params, s1])) expect(t.isDisposed).toBe(false);
        expect(snapshot([g, params, s1])).toEqual(before);
        treeDispose([u0, s1, g, params, a, sa, b, sb]);
      });

      it('leaks no tensor over 200 steps on variables', () => {
        const tx = build();
        const variables = {
          w: tf.variable(tf.tensor([0.5, -1])),
          b: [tf.variable(tf.ones([2, 3]))],
        };
        let state = tx.init(variables);
        let after1 = 0;
        for (let k = 1; k <= 200; k++) {
          const g = gradsAt(k);
          state = stepVariables(tx, variables, g, state);
          treeDispose(g);
          if (k === 1) after1 = tf.memory().numTensors;
        }
        expect(tf.memory().numTensors).toBe(after1);
        treeDispose([state, variables]);
      });
    });
  }
});
