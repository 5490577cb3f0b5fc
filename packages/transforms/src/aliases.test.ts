import * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, stepVariables, treeDispose } from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { describe, expect, it } from 'vitest';
import { adagrad, adam, adamw, rmsprop, sgd } from './index.js';

// Two steps from θ0 = [0.5, −1] with the gradients g1 = [1, −2], then g2 = [3, 0.5],
// applied to a tf.Variable with stepVariables. Expected values are derived in the comments.
function twoSteps(tx: GradientTransformation<any>): [number[], number[]] {
  const theta = { w: tf.variable(tf.tensor([0.5, -1])) };
  const g1 = { w: tf.tensor([1, -2]) };
  const g2 = { w: tf.tensor([3, 0.5]) };
  let state = tx.init(theta);
  state = stepVariables(tx, theta, g1, state);
  const first = values(theta.w);
  state = stepVariables(tx, theta, g2, state);
  const second = values(theta.w);
  treeDispose([theta, g1, g2, state]);
  return [first, second];
}

function expectTwoSteps(tx: GradientTransformation<any>, first: number[], second: number[]): void {
  const [a, b] = twoSteps(tx);
  expectArrayClose(a, first, { rtol: 1e-5, atol: 1e-6 }, 'step 1');
  expectArrayClose(b, second, { rtol: 1e-5, atol: 1e-6 }, 'step 2');
}

describeEachBackend('aliases: first two steps by hand', () => {
  it('sgd', () => {
    // θ1 = θ0 − 0.1·g1 = [0.4, −0.8]; θ2 = θ1 − 0.1·g2 = [0.1, −0.85]
    expectTwoSteps(sgd(0.1), [0.4, -0.8], [0.1, -0.85]);
  });

  it('sgd with a learning-rate schedule', () => {
    // lr(c) = 0.1 / (c + 1): θ1 = θ0 − 0.1·g1 = [0.4, −0.8]; θ2 = θ1 − 0.05·g2 = [0.25, −0.825]
    expectTwoSteps(
      sgd((c) => 0.1 / (c + 1)),
      [0.4, -0.8],
      [0.25, -0.825],
    );
  });

  it('sgd + momentum', () => {
    // t1 = g1, θ1 = [0.4, −0.8]; t2 = 0.9·g1 + g2 = [3.9, −1.3], θ2 = θ1 − 0.1·t2 = [0.01, −0.67]
    expectTwoSteps(sgd(0.1, { momentum: 0.9 }), [0.4, -0.8], [0.01, -0.67]);
  });

  it('sgd + nesterov', () => {
    // u1 = g1 + 0.9·t1 = [1.9, −3.8], θ1 = [0.31, −0.62];
    // u2 = g2 + 0.9·t2 = [6.51, −0.67], θ2 = θ1 − 0.1·u2 = [−0.341, −0.553]
    expectTwoSteps(sgd(0.1, { momentum: 0.9, nesterov: true }), [0.31, -0.62], [-0.341, -0.553]);
  });

  it('adam', () => {
    // Step 1: mû = g1, nû = g1², so u1 = g1 / (|g1| + 1e-8) ≈ [1, −1]: θ1 ≈ [0.4, −0.9].
    // Step 2: mu = [0.39, −0.13], nu = [0.009999, 0.004246], corrections 0.19 and 0.001999:
    //   u2 = (mu / 0.19) / (sqrt(nu / 0.001999) + 1e-8) ≈ [0.9177811, −0.4694682].
    const u1 = [1 / (1 + 1e-8), -2 / (2 + 1e-8)];
    const u2 = [
      0.39 / 0.19 / (Math.sqrt(0.009999 / 0.001999) + 1e-8),
      -0.13 / 0.19 / (Math.sqrt(0.004246 / 0.001999) + 1e-8),
    ];
    const theta1 = [0.5 - 0.1 * u1[0]!, -1 - 0.1 * u1[1]!];
    expectTwoSteps(adam(0.1), theta1, [theta1[0]! - 0.1 * u2[0]!, theta1[1]! - 0.1 * u2[1]!]);
  });

  it('adamw', () => {
    // As adam, plus weightDecay·θ before the learning rate (weightDecay 0.1):
    //   θ1 = θ0 − 0.1·(u1 + 0.1·θ0) = [0.5 − 0.1·1.05, −1 − 0.1·(−1.1)] = [0.395, −0.89]
    //   θ2 = θ1 − 0.1·(u2 + 0.1·θ1)
    const u2 = [
      0.39 / 0.19 / (Math.sqrt(0.009999 / 0.001999) + 1e-8),
      -0.13 / 0.19 / (Math.sqrt(0.004246 / 0.001999) + 1e-8),
    ];
    const theta1 = [0.395, -0.89];
    expectTwoSteps(adamw(0.1, { weightDecay: 0.1 }), theta1, [
      theta1[0]! - 0.1 * (u2[0]! + 0.1 * theta1[0]!),
      theta1[1]! - 0.1 * (u2[1]! + 0.1 * theta1[1]!),
    ]);
  });

  it('adagrad', () => {
    // s1 = 0.1 + g1² = [1.1, 4.1], θ1 = θ0 − 0.1·g1 / sqrt(s1 + 1e-7);
    // s2 = s1 + g2² = [10.1, 4.35], θ2 = θ1 − 0.1·g2 / sqrt(s2 + 1e-7)
    const theta1 = [0.5 - 0.1 / Math.sqrt(1.1 + 1e-7), -1 + 0.2 / Math.sqrt(4.1 + 1e-7)];
    expectTwoSteps(adagrad(0.1), theta1, [
      theta1[0]! - 0.3 / Math.sqrt(10.1 + 1e-7),
      theta1[1]! - 0.05 / Math.sqrt(4.35 + 1e-7),
    ]);
  });

  it('rmsprop', () => {
    // nu1 = 0.1·g1² = [0.1, 0.4], r1 = g1 / sqrt(nu1 + 1e-8) ≈ [3.1622776, −3.1622776];
    // nu2 = 0.9·nu1 + 0.1·g2² = [0.99, 0.385], r2 = g2 / sqrt(nu2 + 1e-8) ≈ [3.0151134, 0.8058230]
    const r1 = [1 / Math.sqrt(0.1 + 1e-8), -2 / Math.sqrt(0.4 + 1e-8)];
    const r2 = [3 / Math.sqrt(0.99 + 1e-8), 0.5 / Math.sqrt(0.385 + 1e-8)];
    const theta1 = [0.5 - 0.1 * r1[0]!, -1 - 0.1 * r1[1]!];
    expectTwoSteps(rmsprop(0.1), theta1, [theta1[0]! - 0.1 * r2[0]!, theta1[1]! - 0.1 * r2[1]!]);
  });

  it('rmsprop + momentum', () => {
    // m1 = 0.1·r1, θ1 = θ0 − m1; m2 = 0.5·m1 + 0.1·r2, θ2 = θ1 − m2 (r1, r2 as above)
    const r1 = [1 / Math.sqrt(0.1 + 1e-8), -2 / Math.sqrt(0.4 + 1e-8)];
    const r2 = [3 / Math.sqrt(0.99 + 1e-8), 0.5 / Math.sqrt(0.385 + 1e-8)];
    const m1 = r1.map((r) => 0.1 * r);
    const m2 = m1.map((m, i) => 0.5 * m + 0.1 * r2[i]!);
    const theta1 = [0.5 - m1[0]!, -1 - m1[1]!];
    expectTwoSteps(rmsprop(0.1, { momentum: 0.5 }), theta1, [
      theta1[0]! - m2[0]!,
      theta1[1]! - m2[1]!,
    ]);
  });

  it('rmsprop centered', () => {
    // eps 0. Step 1: mu = [0.1, −0.2], nu = [0.1, 0.4], nu − mu² = [0.09, 0.36]:
    //   θ1 = θ0 − 0.1·g1 / [0.3, 0.6] = [0.5 − 1/3, −1 + 1/3].
    // Step 2: mu = [0.39, −0.13], nu = [0.99, 0.385], nu − mu² = [0.8379, 0.3681]:
    //   θ2 = θ1 − 0.1·g2 / sqrt(nu − mu²).
    const theta1 = [0.5 - 1 / 3, -1 + 1 / 3];
    expectTwoSteps(rmsprop(0.1, { centered: true, eps: 0 }), theta1, [
      theta1[0]! - 0.3 / Math.sqrt(0.8379),
      theta1[1]! - 0.05 / Math.sqrt(0.3681),
    ]);
  });
});

describeEachBackend('adamw against a float64 reference', () => {
  it('follows textbook AdamW in plain JS doubles for 100 steps', () => {
    // tfjs has no AdamW, so the reference is written out here:
    //   θ ← θ − lr·(mû / (sqrt(nû) + eps) + wd·θ), on loss = Σ c_i (θ_i − 1)².
    const lr = 0.02;
    const wd = 0.05;
    const c = [1, 3, 0.5];
    const ref = [2, -1, 0.3];
    const m = [0, 0, 0];
    const v = [0, 0, 0];
    const theta = { w: tf.variable(tf.tensor(ref)) };
    const tx = adamw(lr, { weightDecay: wd });
    let state = tx.init(theta);
    for (let k = 1; k <= 100; k++) {
      const g = ref.map((x, i) => 2 * c[i]! * (x - 1));
      g.forEach((gi, i) => {
        m[i] = 0.9 * m[i]! + 0.1 * gi;
        v[i] = 0.999 * v[i]! + 0.001 * gi * gi;
        const u = m[i]! / (1 - 0.9 ** k) / (Math.sqrt(v[i]! / (1 - 0.999 ** k)) + 1e-8);
        ref[i] = ref[i]! - lr * (u + wd * ref[i]!);
      });
      const grads = { w: tf.tidy(() => tf.mul(tf.mul(tf.sub(theta.w, 1), 2), tf.tensor(c))) };
      state = stepVariables(tx, theta, grads, state);
      treeDispose(grads);
      expectArrayClose(values(theta.w), ref, { rtol: 1e-4, atol: 1e-5 }, `step ${k}`);
    }
    treeDispose([theta, state]);
  });
});

describe('alias specs', () => {
  it('record the factory name and the exact arguments', () => {
    const schedule = (c: number) => 0.1 / (c + 1);
    expect(sgd(0.1).spec).toEqual({ name: 'sgd', args: [0.1] });
    expect(sgd(schedule, { momentum: 0.9 }).spec).toEqual({
      name: 'sgd',
      args: [schedule, { momentum: 0.9 }],
    });
    expect(adam(1e-3, { b2: 0.99 }).spec).toEqual({ name: 'adam', args: [1e-3, { b2: 0.99 }] });
    expect(adamw(1e-3).spec).toEqual({ name: 'adamw', args: [1e-3] });
    expect(adagrad(0.1, { eps: 0 }).spec).toEqual({ name: 'adagrad', args: [0.1, { eps: 0 }] });
    expect(rmsprop(0.01, { centered: true }).spec).toEqual({
      name: 'rmsprop',
      args: [0.01, { centered: true }],
    });
  });
});
