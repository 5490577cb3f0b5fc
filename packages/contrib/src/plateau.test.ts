import * as tf from '@tensorflow/tfjs-core';
import { chain, InvalidOptionError, stepVariables, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { adam } from '@tfopt/transforms';
import { expect, it } from 'vitest';
import {
  type ReduceOnPlateauOptions,
  type ReduceOnPlateauState,
  reduceOnPlateau,
} from './plateau.js';

/**
 * Feed `losses` one per update (as numbers or as scalar tensors) with the
 * incoming updates u = [2, −4]; return the state after each update and the
 * factor the updates came out multiplied by.
 */
function run(
  options: ReduceOnPlateauOptions | undefined,
  losses: readonly number[],
  asTensor: boolean,
): { states: ReduceOnPlateauState[]; applied: number[] } {
  const before = tf.memory().numTensors;
  const tx = reduceOnPlateau(options);
  const params = { w: tf.tensor1d([0.5, 0.5]) };
  const u = { w: tf.tensor1d([2, -4]) };
  let state = tx.init(params);
  const states: ReduceOnPlateauState[] = [];
  const applied: number[] = [];
  for (const value of losses) {
    const loss = asTensor ? tf.scalar(value) : value;
    const [out, next] = tx.update(u, state, params, { loss });
    const [a, b] = values((out as { w: tf.Tensor }).w);
    // Both entries scaled by the same factor.
    expectArrayClose([b as number], [-2 * (a as number)], { rtol: 1e-6, atol: 0 });
    applied.push((a as number) / 2);
    treeDispose(out);
    if (typeof loss !== 'number') loss.dispose();
    state = next;
    states.push(next);
  }
  treeDispose([params, u]);
  expect(tf.memory().numTensors).toBe(before);
  return { states, applied };
}

describeEachBackend('reduceOnPlateau', () => {
  it('validates its options at construction, naming the option', () => {
    const bad: [ReduceOnPlateauOptions, string][] = [
      [{ mode: 'min' } as never, 'mode'],
      [{ factor: 0 }, 'factor'],
      [{ factor: 1 }, 'factor'],
      [{ factor: Number.NaN }, 'factor'],
      [{ patience: -1 }, 'patience'],
      [{ patience: 1.5 }, 'patience'],
      [{ rtol: -0.1 }, 'rtol'],
      [{ rtol: 1.5 }, 'rtol'],
      [{ atol: -1 }, 'atol'],
      [{ rtol: 0, atol: 0 }, 'atol'],
      [{ cooldown: 0.5 }, 'cooldown'],
      [{ cooldown: -1 }, 'cooldown'],
      [{ accumulationSize: 0 }, 'accumulationSize'],
      [{ accumulationSize: 2.5 }, 'accumulationSize'],
      [{ minScale: -1 }, 'minScale'],
      [7 as never, 'options'],
    ];
    for (const [options, name] of bad) {
      expect(() => reduceOnPlateau(options), name).toThrow(InvalidOptionError);
      expect(() => reduceOnPlateau(options), name).toThrow(new RegExp(`option "${name}"`));
    }
    expect(() => reduceOnPlateau({ rtol: 0, atol: 0.1 })).not.toThrow();
    expect(() => reduceOnPlateau({ patience: 0 })).not.toThrow();
    expect(reduceOnPlateau({ patience: 3 }).spec).toEqual({
      name: 'reduceOnPlateau',
      args: [{ patience: 3 }],
    });
  });

  it('starts at scale 1 with an infinite best value', () => {
    expect(reduceOnPlateau().init({})).toEqual({
      scale: 1,
      bestValue: Number.POSITIVE_INFINITY,
      plateauCount: 0,
      cooldownCount: 0,
      count: 0,
      avgValue: 0,
    });
  });

  for (const asTensor of [false, true]) {
    const kind = asTensor ? 'a scalar tensor' : 'a number';

    it(`defaults (factor 0.1, patience 10, rtol 1e-4): a hand-derived sequence, loss as ${kind}`, () => {
      // Improvement means loss < (1 − 1e-4)·best = 0.9999·best (atol 0).
      // step 1, loss 1:        1 < inf → best 1, plateau 0                   scale 1
      // steps 2–10, loss 1:    1 < 0.9999? no → plateau 1..9                 scale 1
      // step 11, loss 1:       plateau 10 == patience → scale 0.1, plateau 0 scale 0.1
      //   (the scale applies to the step on which it changed, as in optax)
      // step 12, loss 0.99995: 0.99995 < 0.9999? no (inside rtol) → plateau 1 scale 0.1
      // step 13, loss 0.9998:  0.9998 < 0.9999 → best 0.9998, plateau 0       scale 0.1
      // steps 14–22, loss 0.9998: plateau 1..9;  step 23: plateau 10 → scale 0.1·0.1 = 0.01
      const losses = [1, ...new Array(10).fill(1), 0.99995, 0.9998, ...new Array(10).fill(0.9998)];
      const expected = [...new Array(10).fill(1), 0.1, 0.1, 0.1, ...new Array(9).fill(0.1), 0.01];
      const plateau = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0];
      const { states, applied } = run(undefined, losses, asTensor);
      expectArrayClose(applied, expected, { rtol: 1e-6, atol: 0 }, 'applied');
      expectArrayClose(
        states.map((s) => s.scale),
        expected,
        { rtol: 1e-12, atol: 0 },
        'scale',
      );
      expect(states.map((s) => s.plateauCount)).toEqual(plateau);
      expect(states[12]!.bestValue).toBeCloseTo(0.9998, 6);
      expect(states[11]!.bestValue).toBe(1);
    });

    it(`patience, cooldown, atol and the minScale floor: a hand-derived sequence, loss as ${kind}`, () => {
      // { factor 0.5, patience 2, cooldown 1, minScale 0.2, rtol 0, atol 0.1 }:
      // improvement means loss < best − 0.1.
      //  1  loss 5     5 < inf → best 5, plateau 0                          scale 1
      //  2  4.95       4.95 < 4.9? no → plateau 1                           1
      //  3  4.95       plateau 2 == patience → 1·0.5, plateau 0, cooldown 1 0.5
      //  4  4.95       cooldown: plateau 0, cooldown 0                      0.5
      //  5  4.8        4.8 < 4.9 → best 4.8, plateau 0                      0.5
      //  6  4.8        plateau 1                                            0.5
      //  7  4.8        plateau 2 → 0.25 (≥ 0.2), cooldown 1                 0.25
      //  8  1          cooldown: plateau 0, cooldown 0; best still updated to 1 (as in optax)
      //  9  0.95       0.95 < 0.9? no → plateau 1 (had best stayed 4.8 it would improve)
      // 10  0.95       plateau 2 → max(0.25·0.5, 0.2) = 0.2 (the floor), cooldown 1
      // 11  0.95       cooldown → 0                                         0.2
      // 12  0.95       plateau 1                                            0.2
      // 13  0.95       plateau 2 → max(0.2·0.5, 0.2) = 0.2                  0.2
      const options = { factor: 0.5, patience: 2, cooldown: 1, minScale: 0.2, rtol: 0, atol: 0.1 };
      const losses = [5, 4.95, 4.95, 4.95, 4.8, 4.8, 4.8, 1, 0.95, 0.95, 0.95, 0.95, 0.95];
      const expected = [1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2];
      const plateau = [0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0];
      const cooldown = [0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1];
      const best = [5, 5, 5, 5, 4.8, 4.8, 4.8, 1, 1, 1, 1, 1, 1];
      const { states, applied } = run(options, losses, asTensor);
      expectArrayClose(applied, expected, { rtol: 1e-6, atol: 0 }, 'applied');
      expect(states.map((s) => s.scale)).toEqual(expected);
      expect(states.map((s) => s.plateauCount)).toEqual(plateau);
      expect(states.map((s) => s.cooldownCount)).toEqual(cooldown);
      expectArrayClose(
        states.map((s) => s.bestValue),
        best,
        { rtol: asTensor ? 1e-7 : 0, atol: 0 },
        'best',
      );
    });

    it(`accumulationSize averages the losses before deciding, loss as ${kind}`, () => {
      // { accumulationSize 3, patience 1, factor 0.5 }, rtol 1e-4:
      // 1: 3  count 1, avg 3     2: 6  count 2, avg (3 + 6)/2 = 4.5
      // 3: 0  count 3 → avg (2·4.5 + 0)/3 = 3: 3 < inf → best 3, plateau 0; 0 ≠ 1 → scale 1; reset
      // 4: 2  avg 2    5: 4  avg 3    6: 3.5 → avg (2·3 + 3.5)/3 = 3.1667: not < 0.9999·3
      //   → plateau 1 == patience → scale 0.5, plateau 0; reset
      // 7: 1   8: 1   (scale stays 0.5 while accumulating)   9: 1 → avg 1 < 2.9997 → best 1, scale 0.5
      const options = { accumulationSize: 3, patience: 1, factor: 0.5 };
      const losses = [3, 6, 0, 2, 4, 3.5, 1, 1, 1];
      const { states, applied } = run(options, losses, asTensor);
      const expected = [1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5];
      expectArrayClose(applied, expected, { rtol: 1e-6, atol: 0 }, 'applied');
      expect(states.map((s) => s.count)).toEqual([1, 2, 0, 1, 2, 0, 1, 2, 0]);
      expectArrayClose(
        states.map((s) => s.avgValue),
        [3, 4.5, 0, 2, 3, 0, 1, 1, 0],
        { rtol: 1e-7, atol: 0 },
        'avg',
      );
      expect(states.map((s) => s.scale)).toEqual(expected);
      expectArrayClose(
        [states[2]!.bestValue, states[5]!.bestValue, states[8]!.bestValue],
        [3, 3, 1],
        { rtol: 1e-7, atol: 0 },
        'best',
      );
    });
  }

  it('patience 0 reduces at every decision outside a cooldown, even after an improvement (as optax)', () => {
    // plateau == patience with patience 0 holds whenever the loss improved (plateau reset to 0):
    // 1: loss 4, improved → 0.5;  2: loss 2, improved → 0.25;  3: loss 2, plateau 1 ≠ 0 → 0.25
    const { applied } = run({ patience: 0, factor: 0.5 }, [4, 2, 2], false);
    expectArrayClose(applied, [0.5, 0.25, 0.25], { rtol: 1e-6, atol: 0 });
  });

  it('needs context.loss: a clear error when it is missing or not a scalar', () => {
    const tx = reduceOnPlateau();
    const p = { w: tf.tensor1d([1, 2]) };
    const s = tx.init(p);
    expect(() => tx.update(p, s, p)).toThrow(
      /reduceOnPlateau: update needs the loss in context\.loss/,
    );
    expect(() => tx.update(p, s, p, { grads: p })).toThrow(/context\.loss.*got none/);
    expect(() => tx.update(p, s, p, { loss: 'low' as never })).toThrow(/got string/);
    const vector = tf.tensor1d([1, 2]);
    expect(() => tx.update(p, s, p, { loss: vector as never })).toThrow(/shape \[2\]/);
    const gone = tf.scalar(1);
    gone.dispose();
    expect(() => tx.update(p, s, p, { loss: gone })).toThrow(/disposed/);
    treeDispose([p, vector]);
  });

  it('inside chain(adam(0.1), reduceOnPlateau(...)) through stepVariables with context { loss }', () => {
    // A constant gradient g = [1, −1]: adam's step is −0.1·g/(|g| + 1e-8) ≈ −0.1·sign(g) every
    // step (mu/(1 − b1^t) = g, sqrt(nu/(1 − b2^t)) = |g|). reduceOnPlateau({ patience: 2,
    // factor: 0.5 }) with losses 3, 3, 3, 3, 2, 2, 2:
    //   1: best 3 → 1;  2: plateau 1 → 1;  3: plateau 2 → 0.5;  4: plateau 1 → 0.5
    //   5: 2 improves → 0.5;  6: plateau 1 → 0.5;  7: plateau 2 → 0.25
    // Σ scale = 1 + 1 + 0.5 + 0.5 + 0.5 + 0.5 + 0.25 = 4.25, so w = [1, 2] − 0.1·4.25·[1, −1]
    //   = [0.575, 2.425].
    const before = tf.memory().numTensors;
    const tx = chain(adam(0.1), reduceOnPlateau({ patience: 2, factor: 0.5 }));
    const init = tf.tensor1d([1, 2]);
    const w = { w: tf.variable(init) };
    init.dispose();
    const g = { w: tf.tensor1d([1, -1]) };
    let state = tx.init(w);
    const scales: number[] = [];
    for (const [i, value] of [3, 3, 3, 3, 2, 2, 2].entries()) {
      // Alternate number and tensor losses.
      const loss = i % 2 === 0 ? value : tf.scalar(value);
      state = stepVariables(tx, w, g, state, { grads: g, loss });
      if (typeof loss !== 'number') loss.dispose();
      scales.push(state[1].scale);
    }
    expect(scales).toEqual([1, 1, 0.5, 0.5, 0.5, 0.5, 0.25]);
    expectArrayClose(values(w.w), [0.575, 2.425], { rtol: 1e-6, atol: 1e-6 }, 'w');
    treeDispose([w, g, state]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaks no tensor over 1,000 steps (number and tensor losses)', () => {
    const tx = chain(
      adam(1e-2),
      reduceOnPlateau({ patience: 5, cooldown: 2, accumulationSize: 3 }),
    );
    const w = { b: tf.variable(tf.zeros([2, 3])), a: tf.variable(tf.tensor1d([1, -1])) };
    const g = { b: tf.fill([2, 3], 0.1), a: tf.tensor1d([0.5, -0.25]) };
    let state = tx.init(w);
    let before = 0;
    for (let i = 0; i < 1000; i++) {
      if (i === 10) before = tf.memory().numTensors;
      // A loss that falls, then plateaus: the scale does drop along the way.
      const value = Math.max(1, 100 - i);
      const loss = i % 2 === 0 ? value : tf.scalar(value);
      state = stepVariables(tx, w, g, state, { loss });
      if (typeof loss !== 'number') loss.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(state[1].scale).toBeLessThan(1e-6);
    treeDispose([w, g, state]);
  });
});
