// dog and dowg: options, ownership, first two steps derived by hand, and an
// independent float64 reference of optax.contrib's update rules over 150 steps.
import * as tf from '@tensorflow/tfjs-core';
import {
  chain,
  InvalidOptionError,
  injectHyperparams,
  type StepResult,
  step,
  TfoptError,
  type Tree,
  TreeStructureError,
  treeDispose,
} from '@tfopt/core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { clipByGlobalNorm } from '@tfopt/transforms';
import { describe, expect, it } from 'vitest';
import {
  type DogOptions,
  type DowgOptions,
  dog,
  dowg,
  readDogEta,
  readDogEtas,
  readDowgEta,
} from './dog.js';

describe('dog and dowg options', () => {
  it('validate at construction, naming the option', () => {
    const bad: [() => unknown, RegExp][] = [
      [() => dog(1, { rep: 1e-6 } as DogOptions), /^dog: option "rep" must be absent/],
      [() => dog(-1), /^dog: option "learningRate" must be/],
      [() => dog(1, { repsRel: 0 }), /^dog: option "repsRel" must be a finite number > 0/],
      [() => dog(1, { initDistance: -1 }), /^dog: option "initDistance" must be/],
      [() => dog(1, { initEta: Number.NaN }), /^dog: option "initEta" must be/],
      [() => dog(1, { eps: -1e-8 }), /^dog: option "eps" must be a finite number >= 0/],
      [() => dog(1, { layerWise: 1 as unknown as boolean }), /^dog: option "layerWise"/],
      [() => dog(1, { weightDecay: -0.1 }), /^dog: option "weightDecay"/],
      [
        () => dog(1, { repsRel: 1e-4, initEta: 0.1 }),
        /^dog: option "initEta" must be absent when "repsRel" is given/,
      ],
      [() => dog(1, { mask: true }), /^dog: option "mask" must be absent unless "weightDecay"/],
      [
        () => dog(1, { weightDecay: 0.1, mask: { w: 1 } as never }),
        /^dog: option "mask" must be a tree of booleans/,
      ],
      [() => dog(1, 3 as unknown as DogOptions), /^dog: option "options" must be an object/],
      [() => dowg(1, { eps: 0 }), /^dowg: option "eps" must be a finite number > 0/],
      [() => dowg(1, { initEstimSqDist: 0 }), /^dowg: option "initEstimSqDist"/],
      [() => dowg(1, { repsRel: 1 } as DowgOptions), /^dowg: option "repsRel" must be absent/],
      [() => dowg(Number.POSITIVE_INFINITY), /^dowg: option "learningRate"/],
    ];
    for (const [build, message] of bad) {
      expect(build).toThrow(InvalidOptionError);
      expect(build).toThrow(message);
    }
  });

  it('record their spec under their export names', () => {
    expect(dog().spec).toEqual({ name: 'dog', args: [1] });
    expect(dog(0.5, { layerWise: true }).spec).toEqual({
      name: 'dog',
      args: [0.5, { layerWise: true }],
    });
    expect(dowg(1, { eps: 1e-3 }).spec).toEqual({ name: 'dowg', args: [1, { eps: 1e-3 }] });
  });
});

// The problem of the hand derivations: x0 = { w: [1, 2], b: [2] } (keys
// inserted w first, so not in sorted order), loss = (w0² + w1²)/2 + b0², so
// g = { w: w, b: 2b }; ||x0|| = 3, ||g1||² = 1 + 4 + 16 = 21.
function handGrads(p: Tree): Tree {
  const { w, b } = p as { w: tf.Tensor; b: tf.Tensor };
  return tf.tidy(() => ({ w: tf.clone(w), b: tf.mul(b, 2) }));
}

/** Two steps; returns the params, etas and updates after each. */
function twoSteps(
  tx: ReturnType<typeof dog> | ReturnType<typeof dowg>,
  read: (s: unknown) => unknown,
) {
  let params: Tree = { w: tf.tensor1d([1, 2]), b: tf.tensor1d([2]) };
  let state: unknown = tx.init(params);
  const out: { w: number[]; b: number[]; eta: unknown; u: { w: number[]; b: number[] } }[] = [];
  for (let i = 0; i < 2; i++) {
    const grads = handGrads(params);
    const [u] = (tx as ReturnType<typeof dog>).update(grads, state as never, params);
    const { w: uw, b: ub } = u as { w: tf.Tensor; b: tf.Tensor };
    const uValues = { w: values(uw), b: values(ub) };
    treeDispose(u);
    const next: StepResult<any> = step(tx as ReturnType<typeof dog>, params, grads, state as never);
    treeDispose([grads, params]);
    params = next.params;
    state = next.state;
    const { w, b } = params as { w: tf.Tensor; b: tf.Tensor };
    out.push({ w: values(w), b: values(b), eta: read(state), u: uValues });
  }
  treeDispose([params, state]);
  return out;
}

const TIGHT = { rtol: 2e-6, atol: 1e-7 };

describeEachBackend('dog and dowg by hand', () => {
  // dog(1, { initEta: 0.1 }): r_eps = 0, eps = 1e-8.
  // Step 1: eta_1 = initEta = 0.1; G = 21; r̄ = max(0, ||x0 − x0||) = 0.
  //   x1 = x0 − 0.1 g1 = { w: [0.9, 1.8], b: [2 − 0.4] = [1.6] }
  // Step 2: g2 = { w: [0.9, 1.8], b: [3.2] }, ||g2||² = 0.81 + 3.24 + 10.24 = 14.29
  //   r̄ = ||x1 − x0|| = 0.1·sqrt(21) = 0.45825757;  G = 21 + 14.29 = 35.29
  //   eta_2 = 0.45825757 / sqrt(35.29 + 1e-8) = 0.45825757 / 5.9405387 = 0.07714074
  //   x2 = x1 − eta_2 g2 = { w: [0.9 − 0.06942667, 1.8 − 0.13885334] = [0.83057333, 1.66114666],
  //                          b: [1.6 − 0.24685038] = [1.35314962] }
  it('global DoG with initEta: two steps', () => {
    const [s1, s2] = twoSteps(dog(1, { initEta: 0.1 }), readDogEta);
    expect(s1!.eta).toBeCloseTo(0.1, 7);
    expectArrayClose(s1!.u.w, [-0.1, -0.2], TIGHT, 'u1.w');
    expectArrayClose(s1!.u.b, [-0.4], TIGHT, 'u1.b');
    expectArrayClose(s1!.w, [0.9, 1.8], TIGHT, 'x1.w');
    expectArrayClose(s1!.b, [1.6], TIGHT, 'x1.b');
    expectArrayClose([s2!.eta as number], [0.07714074], TIGHT, 'eta2');
    expectArrayClose(s2!.w, [0.83057333, 1.66114666], TIGHT, 'x2.w');
    expectArrayClose(s2!.b, [1.35314962], TIGHT, 'x2.b');
  });

  // dog(1, { initDistance: 0.5 }): r̄_0 = 0.5.
  // Step 1: G = 21, eta_1 = 0.5 / sqrt(21 + 1e-8) = 0.5 / 4.5825757 = 0.10910895
  //   x1 = x0 − eta_1 g1 = { w: [0.89089105, 1.78178211], b: [2 − 0.43643578] = [1.56356422] }
  // Step 2: ||x1 − x0|| = eta_1·sqrt(21) = 0.5 (a hair under), so r̄ stays 0.5.
  //   g2 = { w: [0.89089105, 1.78178211], b: [3.12712844] }
  //   ||g2||² = 0.79368687 + 3.17474746 + 9.77893230 = 13.74736663, G = 34.74736663
  //   eta_2 = 0.5 / sqrt(34.74736663) = 0.5 / 5.8947745 = 0.08482211
  //   x2 = x1 − eta_2 g2 = { w: [0.81532380, 1.63064760], b: [1.29831460] }
  it('global DoG with initDistance: two steps', () => {
    const [s1, s2] = twoSteps(dog(1, { initDistance: 0.5 }), readDogEta);
    expectArrayClose([s1!.eta as number], [0.10910895], TIGHT, 'eta1');
    expectArrayClose(s1!.w, [0.89089105, 1.78178211], TIGHT, 'x1.w');
    expectArrayClose(s1!.b, [1.56356422], TIGHT, 'x1.b');
    expectArrayClose([s2!.eta as number], [0.08482211], TIGHT, 'eta2');
    expectArrayClose(s2!.w, [0.8153238, 1.6306476], TIGHT, 'x2.w');
    expectArrayClose(s2!.b, [1.2983146], TIGHT, 'x2.b');
  });

  // dog() (heuristic, repsRel 1e-6): r_eps = 1e-6·(1 + ||x0||) = 1e-6·(1 + 3) = 4e-6.
  // Step 1: eta_1 = 4e-6 / sqrt(21 + 1e-8) = 8.7287156e-7, u1 = −eta_1 g1 =
  //   { w: [−8.7287156e-7, −1.7457431e-6], b: [−3.4914862e-6] }.
  // Step 2: ||x1 − x0|| = eta_1·sqrt(21) ≈ 4e-6 again, so r̄ = 4e-6;
  //   ||g2||² = 5·(1 − eta_1)² + 16·(1 − 2 eta_1)² = 20.9999354 (b moves twice as
  //   fast), G = 41.9999354, eta_2 = 4e-6 / sqrt(41.9999354) = 6.1721387e-7. In float32, x1 = x0 − u1 is
  //   rounded to 1.2e-7 (half an ulp of 2) while the move is 3.5e-6, so the
  //   measured distance, and r̄, are only good to about 3%: eta_2 is checked
  //   to that, the first step tightly.
  it('global DoG with the default heuristic: first step tight, second within float32 rounding', () => {
    const [s1, s2] = twoSteps(dog(), readDogEta);
    expectArrayClose([s1!.eta as number], [8.7287156e-7], TIGHT, 'eta1');
    expectArrayClose(s1!.u.w, [-8.7287156e-7, -1.7457431e-6], { rtol: 2e-6, atol: 0 }, 'u1.w');
    expectArrayClose(s1!.u.b, [-3.4914862e-6], { rtol: 2e-6, atol: 0 }, 'u1.b');
    expectArrayClose([s2!.eta as number], [6.1721387e-7], { rtol: 0.04, atol: 0 }, 'eta2');
  });

  // dog(1, { layerWise: true, initEta: 0.1 }): one r̄, G, eta per leaf.
  // Step 1: eta = 0.1 for both; x1 = { w: [0.9, 1.8], b: [1.6] };
  //   G_w = 1 + 4 = 5, G_b = 16.
  // Step 2: w: r̄_w = 0.1·sqrt(5) = 0.2236068, G_w = 5 + 0.81 + 3.24 = 9.05,
  //   eta_w = 0.2236068 / sqrt(9.05) = 0.2236068 / 3.0083218 = 0.07432941
  //   x2.w = 0.9·[1, 2]·(1 − 0.07432941) = [0.83310353, 1.66620705]
  //   b: r̄_b = 0.4, G_b = 16 + 10.24 = 26.24, eta_b = 0.4 / 5.1224994 = 0.07808688
  //   x2.b = 1.6 − 0.07808688·3.2 = 1.35012198
  it('layer-wise DoG with initEta: two steps, one eta per leaf', () => {
    const [s1, s2] = twoSteps(dog(1, { layerWise: true, initEta: 0.1 }), readDogEtas);
    expect(s1!.eta).toEqual({ '.b': expect.closeTo(0.1, 7), '.w': expect.closeTo(0.1, 7) });
    expectArrayClose(s1!.w, [0.9, 1.8], TIGHT, 'x1.w');
    const etas = s2!.eta as Record<string, number>;
    expectArrayClose([etas['.w']!, etas['.b']!], [0.07432941, 0.07808688], TIGHT, 'eta2');
    expectArrayClose(s2!.w, [0.83310353, 1.66620705], TIGHT, 'x2.w');
    expectArrayClose(s2!.b, [1.35012198], TIGHT, 'x2.b');
  });

  // dog(1, { layerWise: true }) (heuristic per leaf): r_w = 1e-6·(1 + sqrt(5)) =
  // 3.2360680e-6, eta_w = r_w / sqrt(5) = 1.4472136e-6; r_b = 1e-6·(1 + 2) = 3e-6,
  // eta_b = 3e-6 / sqrt(16) = 7.5e-7.
  it('layer-wise DoG with the heuristic: per-leaf r_eps from each leaf norm', () => {
    const [s1] = twoSteps(dog(1, { layerWise: true }), readDogEtas);
    const etas = s1!.eta as Record<string, number>;
    expectArrayClose([etas['.w']!, etas['.b']!], [1.4472136e-6, 7.5e-7], TIGHT, 'eta1');
    expect(() => {
      const p = { w: tf.tensor1d([1]) };
      const tx = dog(1, { layerWise: true });
      const s = tx.init(p);
      try {
        readDogEta(s);
      } finally {
        treeDispose([p, s]);
      }
    }).toThrow(/layer-wise.*readDogEtas/);
  });

  // dog(1, { initEta: 0.1, weightDecay: 0.5 }): DoG sees g + 0.5 x.
  // Step 1: g'1 = { w: [1.5, 3], b: [4 + 1] = [5] }, ||g'1||² = 2.25 + 9 + 25 = 36.25
  //   x1 = x0 − 0.1 g'1 = { w: [0.85, 1.7], b: [1.5] }
  // Step 2: g'2 = { w: 1.5·[0.85, 1.7] = [1.275, 2.55], b: [3 + 0.75] = [3.75] },
  //   ||g'2||² = 1.625625 + 6.5025 + 14.0625 = 22.190625, G = 58.440625
  //   r̄ = 0.1·sqrt(36.25) = 0.60207973, eta_2 = 0.60207973 / 7.6446468 = 0.07875834
  //   x2 = x1 − eta_2 g'2 = { w: [0.74958311, 1.49916622], b: [1.20465621] }
  it('DoG with weight decay: the decay is part of the gradient', () => {
    const [s1, s2] = twoSteps(dog(1, { initEta: 0.1, weightDecay: 0.5 }), readDogEta);
    expectArrayClose(s1!.w, [0.85, 1.7], TIGHT, 'x1.w');
    expectArrayClose(s1!.b, [1.5], TIGHT, 'x1.b');
    expectArrayClose([s2!.eta as number], [0.07875834], TIGHT, 'eta2');
    expectArrayClose(s2!.w, [0.74958311, 1.49916622], TIGHT, 'x2.w');
    expectArrayClose(s2!.b, [1.20465621], TIGHT, 'x2.b');
  });

  // dowg(1, { initEstimSqDist: 0.25 }), eps 1e-4.
  // Step 1: r̄² = max(0.25, 0) = 0.25, v = 0.25·21 = 5.25,
  //   eta_1 = 0.25 / (sqrt(5.25) + 1e-4) = 0.25 / 2.2913878 = 0.10910418
  //   x1 = x0 − eta_1 g1 = { w: [0.89089582, 1.78179163], b: [1.56358327] }
  // Step 2: ||x1 − x0||² = eta_1²·21 = 0.24997818 < 0.25, so r̄² stays 0.25;
  //   ||g2||² = 0.79369536 + 3.17478142 + 9.77917052 = 13.74764730,
  //   v = 5.25 + 0.25·13.74764730 = 8.68691183,
  //   eta_2 = 0.25 / (2.9473568 + 1e-4) = 0.08481889
  //   x2 = x1 − eta_2 g2 = { w: [0.81533103, 1.63066205], b: [1.29834048] }
  it('DoWG with an initial squared distance: two steps', () => {
    const [s1, s2] = twoSteps(dowg(1, { initEstimSqDist: 0.25 }), readDowgEta);
    expectArrayClose([s1!.eta as number], [0.10910418], TIGHT, 'eta1');
    expectArrayClose(s1!.w, [0.89089582, 1.78179163], TIGHT, 'x1.w');
    expectArrayClose(s1!.b, [1.56358327], TIGHT, 'x1.b');
    expectArrayClose([s2!.eta as number], [0.08481889], TIGHT, 'eta2');
    expectArrayClose(s2!.w, [0.81533103, 1.63066205], TIGHT, 'x2.w');
    expectArrayClose(s2!.b, [1.29834048], TIGHT, 'x2.b');
  });

  // dowg() defaults: r̄² = eps = 1e-4, v = 1e-4·21 = 2.1e-3,
  //   eta_1 = 1e-4 / (sqrt(2.1e-3) + 1e-4) = 1e-4 / 0.04592576 = 2.1774274e-3
  // Step 2: x1 = { w: (1 − eta_1)·[1, 2], b: [2·(1 − 2 eta_1)] }, so
  //   ||x1 − x0||² = eta_1²·21 = 9.9565e-5 < 1e-4 and r̄² stays 1e-4;
  //   ||g2||² = 5·(1 − eta_1)² + 16·(1 − 2 eta_1)² = 4.9782494 + 15.8609481 = 20.8391975,
  //   v = 2.1e-3 + 1e-4·20.8391975 = 4.1839198e-3,
  //   eta_2 = 1e-4 / (0.06468324 + 1e-4) = 1.5436094e-3.
  it('DoWG with its defaults: two steps', () => {
    const [s1, s2] = twoSteps(dowg(), readDowgEta);
    expectArrayClose([s1!.eta as number], [2.1774274e-3], TIGHT, 'eta1');
    expectArrayClose([s2!.eta as number], [1.5436094e-3], TIGHT, 'eta2');
  });
});

describeEachBackend('dog and dowg ownership and errors', () => {
  it('throw a clear error naming the transform when params are missing', () => {
    for (const [name, tx] of [
      ['dog', dog()],
      ['dowg', dowg()],
    ] as const) {
      const p = { w: tf.tensor1d([1, 2]) };
      const s = tx.init(p);
      const before = tf.memory().numTensors;
      expect(() => tx.update(p, s as never)).toThrow(TfoptError);
      expect(() => tx.update(p, s as never)).toThrow(
        new RegExp(`^${name}: update needs the current params`),
      );
      expect(tf.memory().numTensors).toBe(before);
      treeDispose([p, s]);
    }
  });

  it('name the tree and path on a structure mismatch', () => {
    const p = { w: tf.tensor1d([1, 2]), b: tf.tensor1d([1]) };
    const tx = dog();
    const s = tx.init(p);
    const g = { w: tf.tensor1d([1, 2]) };
    expect(() => tx.update(g, s, p)).toThrow(TreeStructureError);
    expect(() => tx.update(g, s, p)).toThrow(
      /^updates is missing key "b" that state\.x0 has \(in dog\.update/,
    );
    treeDispose([p, s, g]);
  });

  it('keep x0 as their own copy: the caller may dispose its params', () => {
    for (const tx of [dog(1, { initEta: 0.1 }), dog(1, { layerWise: true }), dowg()]) {
      const p = { w: tf.tensor1d([1, 2]), b: tf.tensor1d([3]) };
      const s = tx.init(p) as unknown as { x0: { w: tf.Tensor; b: tf.Tensor } };
      expect(s.x0.w).not.toBe(p.w);
      expect(s.x0.b).not.toBe(p.b);
      treeDispose(p);
      expect(values(s.x0.w)).toEqual([1, 2]);
      const p2 = { w: tf.tensor1d([0.5, 2]), b: tf.tensor1d([3]) };
      const [u, s2] = (tx as ReturnType<typeof dog>).update(p2, s as never, p2);
      expect(values((u as { w: tf.Tensor }).w).every(Number.isFinite)).toBe(true);
      treeDispose([s, s2, u, p2]);
    }
  });

  it('readDogEta finds DoG inside a chain and injectHyperparams, and is undefined elsewhere', () => {
    const p = { w: tf.tensor1d([1, 2]), b: tf.tensor1d([2]) };
    const g = handGrads(p);
    const tx = injectHyperparams(
      ({ learningRate }) => chain(clipByGlobalNorm(100), dog(learningRate, { initEta: 0.1 })),
      { learningRate: 1 },
    );
    const s0 = tx.init(p);
    expect(readDogEta(s0)).toBe(0);
    const [u, s1] = tx.update(g, s0, p);
    expect(readDogEta(s1)).toBeCloseTo(0.1, 7);
    expect(readDogEtas(s1)).toEqual({ '.b': expect.closeTo(0.1, 7), '.w': expect.closeTo(0.1, 7) });
    expect(readDowgEta(s1)).toBeUndefined();
    expect(readDogEta({ count: 1 })).toBeUndefined();
    treeDispose([p, g, s0, u, s1]);
  });
});

// ---------------------------------------------------------------------------
// Independent float64 reference, written from optax.contrib's definitions in
// plain JS. What the tensors store is rounded to float32 as they are (the
// gradient, each update, the parameters: Math.fround); every reduction, norm,
// max and eta is float64.

/** A tree as named flat leaves, in the order the problem lists them. */
type Leaves = Record<string, number[]>;

// Noisy quadratic on { w: [2, 3], b: [2] } (inserted w first: not sorted):
// loss = 0.5 Σ c_i (x_i − t_i)², g_i = c_i (x_i − t_i) + 0.3 sin(0.9 t + 1.7 i),
// i numbering w's six coordinates then b's two.
const X0: Leaves = { w: [0.5, -1.2, 2.0, 0.3, -0.7, 1.1], b: [-0.4, 0.9] };
const CURV: Leaves = { w: [1, 0.5, 2, 1.5, 0.8, 3], b: [0.3, 1.2] };
const TARGET: Leaves = { w: [1.5, -0.5, 1.0, -1.0, 0.2, 0.6], b: [1.0, -0.3] };
const KEYS = ['w', 'b'] as const;
/** x0 as the float32 tensors hold it: the reference measures distances from these values. */
const X0F: Leaves = { w: X0.w!.map(Math.fround), b: X0.b!.map(Math.fround) };

function noisyGrad(x: Leaves, t: number): Leaves {
  let i = 0;
  const out: Leaves = {};
  for (const k of KEYS) {
    out[k] = x[k]!.map((xi, j) => {
      const gi = CURV[k]![j]! * (xi - TARGET[k]![j]!) + 0.3 * Math.sin(0.9 * t + 1.7 * i);
      i++;
      return gi;
    });
  }
  return out;
}

/**
 * x + factor·g as the tensors store it: the gradient, the update and the new
 * parameters are float32 (each rounded once), the factor is computed in float64.
 */
const applyF32 = (x: number[], g: number[], factor: number) =>
  x.map((xi, j) => Math.fround(xi + Math.fround(factor * g[j]!)));
const sq = (a: number[]) => a.reduce((s, v) => s + v * v, 0);
const sqDiff = (a: number[], b: number[]) => a.reduce((s, v, j) => s + (v - b[j]!) ** 2, 0);

interface RefCase {
  readonly title: string;
  readonly build: () => ReturnType<typeof dog> | ReturnType<typeof dowg>;
  /** One reference step: returns the new params and the eta(s) used. */
  readonly makeStep: () => (x: Leaves, g: Leaves) => { x: Leaves; eta: number[] };
  readonly read: (state: unknown) => number[];
}

function refDog(o: {
  lr?: number;
  repsRel?: number;
  initDistance?: number;
  initEta?: number;
  eps?: number;
  weightDecay?: number;
  layerWise?: boolean;
}) {
  return () => {
    const lr = o.lr ?? 1;
    const eps = o.eps ?? 1e-8;
    const wd = o.weightDecay ?? 0;
    const groups: (readonly string[])[] = o.layerWise ? KEYS.map((k) => [k]) : [KEYS];
    const rEps = (ks: readonly string[]) =>
      o.initEta !== undefined
        ? 0
        : o.initDistance !== undefined
          ? o.initDistance
          : (o.repsRel ?? 1e-6) * (1 + Math.sqrt(ks.reduce((s, k) => s + sq(X0F[k]!), 0)));
    const rbar = groups.map(rEps);
    const G = groups.map(() => 0);
    let t = 0;
    return (x: Leaves, g0: Leaves) => {
      const g: Leaves = {};
      for (const k of KEYS) g[k] = g0[k]!.map((gi, j) => Math.fround(gi) + wd * x[k]![j]!);
      const out: Leaves = {};
      const etas = groups.map((ks, n) => {
        const dist = Math.sqrt(ks.reduce((s, k) => s + sqDiff(x[k]!, X0F[k]!), 0));
        rbar[n] = Math.max(rbar[n]!, dist);
        G[n] = G[n]! + ks.reduce((s, k) => s + sq(g[k]!), 0);
        const eta =
          t === 0 && o.initEta !== undefined ? o.initEta : rbar[n]! / Math.sqrt(G[n]! + eps);
        for (const k of ks) out[k] = applyF32(x[k]!, g[k]!, -lr * eta);
        return eta;
      });
      t++;
      return { x: out, eta: etas };
    };
  };
}

function refDowg(o: { lr?: number; initEstimSqDist?: number; eps?: number; weightDecay?: number }) {
  return () => {
    const lr = o.lr ?? 1;
    const eps = o.eps ?? 1e-4;
    const wd = o.weightDecay ?? 0;
    let r2 = o.initEstimSqDist ?? eps;
    let v = 0;
    return (x: Leaves, g0: Leaves) => {
      const g: Leaves = {};
      for (const k of KEYS) g[k] = g0[k]!.map((gi, j) => Math.fround(gi) + wd * x[k]![j]!);
      r2 = Math.max(
        r2,
        KEYS.reduce((s, k) => s + sqDiff(x[k]!, X0F[k]!), 0),
      );
      v += r2 * KEYS.reduce((s, k) => s + sq(g[k]!), 0);
      const eta = r2 / (Math.sqrt(v) + eps);
      const out: Leaves = {};
      for (const k of KEYS) out[k] = applyF32(x[k]!, g[k]!, -lr * eta);
      return { x: out, eta: [eta] };
    };
  };
}

const globalEta = (s: unknown) => [readDogEta(s)!];
const leafEtas = (s: unknown) => {
  const e = readDogEtas(s)!;
  return KEYS.map((k) => e[`.${k}`]!);
};

const REF_CASES: readonly RefCase[] = [
  { title: 'dog()', build: () => dog(), makeStep: refDog({}), read: globalEta },
  {
    title: 'dog(0.8, { initDistance: 1e-2 })',
    build: () => dog(0.8, { initDistance: 1e-2 }),
    makeStep: refDog({ lr: 0.8, initDistance: 1e-2 }),
    read: globalEta,
  },
  {
    title: 'dog(1, { initEta: 1e-3, weightDecay: 1e-2, eps: 1e-6 })',
    build: () => dog(1, { initEta: 1e-3, weightDecay: 1e-2, eps: 1e-6 }),
    makeStep: refDog({ initEta: 1e-3, weightDecay: 1e-2, eps: 1e-6 }),
    read: globalEta,
  },
  {
    title: 'dog(1, { layerWise: true, repsRel: 1e-4 })',
    build: () => dog(1, { layerWise: true, repsRel: 1e-4 }),
    makeStep: refDog({ layerWise: true, repsRel: 1e-4 }),
    read: leafEtas,
  },
  { title: 'dowg()', build: () => dowg(), makeStep: refDowg({}), read: (s) => [readDowgEta(s)!] },
  {
    title: 'dowg(0.5, { initEstimSqDist: 1e-6, weightDecay: 1e-2 })',
    build: () => dowg(0.5, { initEstimSqDist: 1e-6, weightDecay: 1e-2 }),
    makeStep: refDowg({ lr: 0.5, initEstimSqDist: 1e-6, weightDecay: 1e-2 }),
    read: (s) => [readDowgEta(s)!],
  },
];

const STEPS = 150;
// float32 tolerance: params |a − e| <= 1e-5 + 1e-4 |e| (the params are ~1), eta relative 1e-4. DoG
// measures ||x − x0|| from float32 params of size ~1 while the distance is ~1e-3
// early on, so one ulp of a parameter (6e-8; cpu and wasm round differently)
// moves the distance, and eta, by ~1e-5 relative; that is the scale allowed.
// Worst errors seen are logged (relative errors over |e| >= 1e-2).
const PARAM_TOL = { rtol: 1e-4, atol: 1e-5 };
const ETA_TOL = { rtol: 1e-4, atol: 0 };

describeEachBackend('dog and dowg follow the float64 reference', (backend) => {
  for (const c of REF_CASES) {
    it(`${c.title}: ${STEPS} steps on a noisy quadratic`, () => {
      const before = tf.memory().numTensors;
      const tx = c.build();
      let params: Tree = { w: tf.tensor2d(X0.w!, [2, 3]), b: tf.tensor1d(X0.b!) };
      let state: unknown = tx.init(params);
      const refStep = c.makeStep();
      let ref: Leaves = X0F;
      let worstAbs = 0;
      let worstRel = 0;
      let worstEta = 0;
      const etaFirst: number[] = [];
      let etaLast: number[] = [];
      for (let t = 0; t < STEPS; t++) {
        const r = refStep(ref, noisyGrad(ref, t));
        ref = r.x;
        const cur = params as { w: tf.Tensor; b: tf.Tensor };
        const gv = noisyGrad({ w: values(cur.w), b: values(cur.b) }, t);
        const grads = { w: tf.tensor2d(gv.w!, [2, 3]), b: tf.tensor1d(gv.b!) };
        const next: StepResult<any> = step(
          tx as ReturnType<typeof dog>,
          params,
          grads,
          state as never,
        );
        treeDispose([grads, params]);
        params = next.params;
        state = next.state;
        const now = params as { w: tf.Tensor; b: tf.Tensor };
        for (const k of KEYS) {
          const got = values(now[k]);
          expectArrayClose(got, ref[k]!, PARAM_TOL, `step ${t + 1} ${k}`);
          got.forEach((a, j) => {
            const e = ref[k]![j]!;
            worstAbs = Math.max(worstAbs, Math.abs(a - e));
            if (Math.abs(e) >= 1e-2) worstRel = Math.max(worstRel, Math.abs(a - e) / Math.abs(e));
          });
        }
        const eta = c.read(state);
        expectArrayClose(eta, r.eta, ETA_TOL, `step ${t + 1} eta`);
        eta.forEach((a, j) => {
          worstEta = Math.max(worstEta, Math.abs(a - r.eta[j]!) / Math.abs(r.eta[j]!));
        });
        if (t === 0) etaFirst.push(...r.eta);
        etaLast = r.eta;
      }
      // The run must exercise the adaptation: eta moves by more than 2x.
      etaLast.forEach((e, j) => {
        const ratio = e / etaFirst[j]!;
        expect(ratio > 2 || ratio < 0.5, `eta ${etaFirst[j]} -> ${e}`).toBe(true);
      });
      console.log(
        `[${backend}] ${c.title}: params worst abs error ${worstAbs.toExponential(2)}, worst rel error ${worstRel.toExponential(2)}, worst eta error ${worstEta.toExponential(2)}; eta ${etaFirst.map((e) => e.toExponential(2))} -> ${etaLast.map((e) => e.toExponential(2))}`,
      );
      treeDispose([params, state]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
