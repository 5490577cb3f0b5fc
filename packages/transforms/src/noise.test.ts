import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, specOf, type Tree, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { describe, expect, it } from 'vitest';
import { type AddNoiseState, addNoise } from './index.js';
import { gaussianNoise, splitKey } from './noise.js';

const leaf = (t: Tree, key: string) => (t as Record<string, tf.Tensor>)[key] as tf.Tensor;

/** The updates of `steps` updates of `addNoise(options)` on the gradients `grads(k)`. */
function run(
  options: Parameters<typeof addNoise>[0],
  grads: (k: number) => Record<string, tf.Tensor>,
  steps: number,
  start?: AddNoiseState,
): { out: Record<string, number[]>[]; state: AddNoiseState } {
  const tx = addNoise(options);
  let state = start ?? tx.init({});
  const out: Record<string, number[]>[] = [];
  for (let k = 1; k <= steps; k++) {
    const g = grads(k);
    const [u, next] = tx.update(g, state);
    out.push(Object.fromEntries(Object.keys(g).map((key) => [key, values(leaf(u, key))])));
    treeDispose([g, u]);
    state = next;
  }
  return { out, state };
}

describe('the noise stream', () => {
  it('is counter-based: a shorter draw is a prefix of a longer one', () => {
    const long = gaussianNoise(123, 4, 11);
    const short = gaussianNoise(123, 4, 6);
    expect(Array.from(long.slice(0, 6))).toEqual(Array.from(short));
  });

  it('gives different numbers for other keys and other leaves', () => {
    const a = Array.from(gaussianNoise(1, 0, 8));
    expect(Array.from(gaussianNoise(2, 0, 8))).not.toEqual(a);
    expect(Array.from(gaussianNoise(1, 1, 8))).not.toEqual(a);
    const [next, sample] = splitKey(1);
    expect(next).not.toBe(sample);
    expect(Number.isInteger(next) && next >= 0 && next < 2 ** 32).toBe(true);
  });

  it('is standard normal: mean, variance, tails and no correlation between neighbours', () => {
    // 200,000 draws: the sample mean has standard error 0.0022, the variance 0.0032;
    // P(|z| > 2) = 0.0455 (binomial standard error 0.0005); lag-1 and cross-leaf
    // correlations have standard error 0.0022.
    const n = 200_000;
    const z = gaussianNoise(99, 0, n);
    const other = gaussianNoise(99, 1, n);
    let sum = 0;
    let squares = 0;
    let tails = 0;
    let lag = 0;
    let cross = 0;
    for (let i = 0; i < n; i++) {
      const x = z[i]!;
      sum += x;
      squares += x * x;
      if (Math.abs(x) > 2) tails++;
      if (i > 0) lag += x * z[i - 1]!;
      cross += x * other[i]!;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.01);
    expect(Math.abs(squares / n - 1)).toBeLessThan(0.015);
    expect(Math.abs(tails / n - 0.0455)).toBeLessThan(0.003);
    expect(Math.abs(lag / n)).toBeLessThan(0.01);
    expect(Math.abs(cross / n)).toBeLessThan(0.01);
  });
});

describeEachBackend('addNoise', () => {
  it('matches the first two steps derived by hand', () => {
    // eta = 0.25, gamma = 2, seed 5, g = [1, −2, 3] on both steps.
    // Step 1 (t = 1): sigma = sqrt(0.25 / 1²) = 0.5; the key 5 splits into (k1, s1) and
    //   u = g + 0.5·z(s1, leaf 0); the state holds count 1 and rngKey k1.
    // Step 2 (t = 2): sigma = sqrt(0.25 / 2²) = 0.25; k1 splits into (k2, s2),
    //   u = g + 0.25·z(s2, leaf 0); count 2, rngKey k2.
    const g = [1, -2, 3];
    const [k1, s1] = splitKey(5);
    const [k2, s2] = splitKey(k1);
    const z1 = Array.from(gaussianNoise(s1, 0, 3));
    const z2 = Array.from(gaussianNoise(s2, 0, 3));
    const tx = addNoise({ eta: 0.25, gamma: 2, seed: 5 });
    const s0 = tx.init({ w: tf.zeros([3]) });
    expect(s0).toEqual({ count: 0, rngKey: 5 });
    const grads = { w: tf.tensor(g) };
    const [u1, st1] = tx.update(grads, s0);
    expectArrayClose(
      values(leaf(u1, 'w')),
      g.map((x, i) => x + 0.5 * z1[i]!),
    );
    expect(st1).toEqual({ count: 1, rngKey: k1 });
    const [u2, st2] = tx.update(grads, st1);
    expectArrayClose(
      values(leaf(u2, 'w')),
      g.map((x, i) => x + 0.25 * z2[i]!),
    );
    expect(st2).toEqual({ count: 2, rngKey: k2 });
    treeDispose([grads, u1, u2]);
  });

  it('is deterministic given the seed, and the seed matters', () => {
    const grads = () => ({ w: tf.tensor([0.5, -0.5, 0, 1]), b: tf.zeros([2, 2]) });
    const a = run({ eta: 0.1, gamma: 0.55, seed: 11 }, grads, 5).out;
    const b = run({ eta: 0.1, gamma: 0.55, seed: 11 }, grads, 5).out;
    const c = run({ eta: 0.1, gamma: 0.55, seed: 12 }, grads, 5).out;
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    // A fresh draw every step: step 2's noise is not step 1's.
    expect(a[1]!.b).not.toEqual(a[0]!.b);
  });

  it('draws each leaf by its key, whatever the order the keys were inserted in', () => {
    const ab = run({ eta: 1, gamma: 0 }, () => ({ a: tf.zeros([3]), b: tf.zeros([2]) }), 3).out;
    const ba = run({ eta: 1, gamma: 0 }, () => ({ b: tf.zeros([2]), a: tf.zeros([3]) }), 3).out;
    expect(ba).toEqual(ab);
    // The two leaves get different noise.
    expect(ab[0]!.a!.slice(0, 2)).not.toEqual(ab[0]!.b);
  });

  it('resumes the same stream from a state saved as JSON', () => {
    const grads = () => ({ w: tf.tensor([1, 2, 3]) });
    const options = { eta: 0.3, gamma: 0.55, seed: 2024 };
    const whole = run(options, grads, 6).out;
    const first = run(options, grads, 3);
    const saved = JSON.parse(JSON.stringify(first.state)) as AddNoiseState;
    const rest = run(options, grads, 3, saved).out;
    expect([...first.out, ...rest]).toEqual(whole);
    expect(run(options, grads, 3, saved).state).toEqual(run(options, grads, 6).state);
  });

  it('anneals the variance as eta / t^gamma', () => {
    // With g = 0 the update is the noise itself. eta = 0.5, gamma = 0.55:
    //   t = 1: 0.5; t = 4: 0.5 / 4^0.55 = 0.2333; t = 16: 0.5 / 16^0.55 = 0.1088.
    // 40,000 draws estimate a variance within about 1.5% (3 standard errors).
    const eta = 0.5;
    const gamma = 0.55;
    const n = 40_000;
    const { out } = run({ eta, gamma, seed: 3 }, () => ({ w: tf.zeros([n]) }), 16);
    for (const t of [1, 4, 16]) {
      const z = out[t - 1]!.w!;
      const mean = z.reduce((a, b) => a + b, 0) / n;
      const variance = z.reduce((a, b) => a + b * b, 0) / n;
      const expected = eta / t ** gamma;
      expect(Math.abs(mean), `mean at t = ${t}`).toBeLessThan(4 * Math.sqrt(expected / n));
      expect(Math.abs(variance / expected - 1), `variance at t = ${t}`).toBeLessThan(0.03);
    }
  });

  it('adds nothing when eta is 0, and records its options', () => {
    const { out } = run({ eta: 0, gamma: 1 }, () => ({ w: tf.tensor([1, -1]) }), 2);
    expect(out).toEqual([{ w: [1, -1] }, { w: [1, -1] }]);
    const options = { eta: 0.01, gamma: 0.55, seed: 4 };
    expect(specOf(addNoise(options))).toEqual({ name: 'addNoise', args: [options] });
  });

  it('rejects bad options, naming them', () => {
    const bad = (build: () => unknown, message: RegExp) => {
      expect(build).toThrow(InvalidOptionError);
      expect(build).toThrow(message);
    };
    bad(
      () => addNoise({ gamma: 0.55 } as never),
      /addNoise: option "eta" must be a finite number >= 0, got undefined/,
    );
    bad(() => addNoise({ eta: -0.1, gamma: 0.55 }), /addNoise: option "eta" .* got -0.1/);
    bad(() => addNoise({ eta: 0.1, gamma: Number.NaN }), /addNoise: option "gamma" .* got NaN/);
    bad(
      () => addNoise({ eta: 0.1, gamma: 0.55, seed: 1.5 }),
      /addNoise: option "seed" must be an integer >= 0, got 1.5/,
    );
    bad(
      () => addNoise({ eta: 0.1, gamma: 0.55, seed: 2 ** 32 }),
      /addNoise: option "seed" must be an integer in \[0, 2\^32\), got 4294967296/,
    );
    bad(() => addNoise({ eta: 0.1, gamma: 0.55, key: 0 } as never), /option "key" must be absent/);
  });
});
