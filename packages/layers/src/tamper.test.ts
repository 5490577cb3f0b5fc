import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, injectLearningRate } from '@tfopt/core';
import { egAdam } from '@tfopt/eg';
import { describeEachBackend } from '@tfopt/testing';
import { adam, sgd } from '@tfopt/transforms';
import { describe, expect, it } from 'vitest';
import { type NamedTensor, SKELETON_NAME } from './checkpoint.js';
import { TransformOptimizer } from './index.js';

type Vars = { a: tf.Variable; b: tf.Variable };

const START = { a: [0.5, -1, 2], b: [1, 1, -3, 0.25] };

let serial = 0;
/** Variables `<prefix>/a` (shape [3]) and `<prefix>/b` (shape [2, 2]) under a name not used before. */
function makeVars(prefix = `tamper${++serial}`): Vars {
  return {
    a: tf.variable(tf.tensor1d(START.a), true, `${prefix}/a`),
    b: tf.variable(tf.tensor2d(START.b, [2, 2]), true, `${prefix}/b`),
  };
}

/** sum of (x - 1)^2 * (1 + index): a different curvature for every entry. */
function loss(vars: Vars, keys: (keyof Vars)[]): tf.Scalar {
  return tf.tidy(
    () =>
      tf.addN(
        keys.map((k) => {
          const x = vars[k];
          const w = tf.reshape(tf.add(tf.range(0, x.size), 1), x.shape);
          return tf.sum(tf.mul(w, tf.square(tf.sub(x, 1))));
        }),
      ) as tf.Scalar,
  );
}

function stepOn(opt: tf.Optimizer, vars: Vars, keys: (keyof Vars)[] = ['a', 'b']): void {
  opt.minimize(
    () => loss(vars, keys),
    false,
    keys.map((k) => vars[k]),
  );
}

/** Raw 32-bit words of every variable, for exact comparison. */
function bits(vars: Vars): number[][] {
  return [vars.a, vars.b].map((v) => Array.from(new Uint32Array(v.dataSync().slice().buffer)));
}

async function fingerprint(opt: TransformOptimizer<any>): Promise<unknown[]> {
  return Promise.all(
    (await opt.getWeights()).map(async (w) => [
      w.name,
      w.tensor.dtype,
      w.tensor.shape,
      Array.from((await w.tensor.data()) as ArrayLike<number>),
    ]),
  );
}

function copyOf(weights: NamedTensor[]): NamedTensor[] {
  return weights.map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) }));
}

function skeletonOf(weights: NamedTensor[]): any {
  const text = weights.find((w) => w.name === SKELETON_NAME)!.tensor.dataSync()[0] as unknown;
  return JSON.parse(text as string);
}

/** `weights` with the skeleton replaced by `edit`'s change of it (other tensors shared). */
function withSkeleton(weights: NamedTensor[], edit: (skeleton: any) => void): NamedTensor[] {
  const skeleton = skeletonOf(weights);
  edit(skeleton);
  return weights.map((w) =>
    w.name === SKELETON_NAME ? { name: w.name, tensor: tf.scalar(JSON.stringify(skeleton)) } : w,
  );
}

/** `weights` with the weight `name` carrying `tensor` instead. */
function replaced(weights: NamedTensor[], name: string, tensor: tf.Tensor): NamedTensor[] {
  expect(weights.some((w) => w.name === name)).toBe(true);
  return weights.map((w) => (w.name === name ? { name, tensor } : w));
}

/** Tensors of `list` that are not in `base`, to free after a test. */
function made(list: NamedTensor[], base: NamedTensor[]): tf.Tensor[] {
  const own = new Set(base.map((w) => w.tensor));
  return list.map((w) => w.tensor).filter((t) => !own.has(t));
}

/** setWeights throws `message`; state, iterations and the tensor count stay as they were. */
async function expectRejected(
  opt: TransformOptimizer<any>,
  weights: NamedTensor[],
  message: string | RegExp,
): Promise<void> {
  const before = await fingerprint(opt);
  const iterations = opt.iterations;
  const count = tf.memory().numTensors;
  await expect(opt.setWeights(weights)).rejects.toThrow(message);
  expect(tf.memory().numTensors).toBe(count);
  expect(opt.iterations).toBe(iterations);
  expect(await fingerprint(opt)).toEqual(before);
}

describeEachBackend('tampered checkpoints', () => {
  it('are rejected before anything is replaced, and the old state trains on exactly', async () => {
    // The checkpoint: Adam over p/a and p/b after 3 steps.
    const p = makeVars();
    const source = new TransformOptimizer(adam(0.05));
    for (let i = 0; i < 3; i++) stepOn(source, p);
    const saved = copyOf(await source.getWeights());
    const pa = p.a.name;
    const pb = p.b.name;
    const muA = `tfopt.state[0].mu["${pa}"]`;
    const muB = `tfopt.state[0].mu["${pb}"]`;
    const nuB = `tfopt.state[0].nu["${pb}"]`;
    expect(saved.map((w) => w.name)).toEqual([
      'iter',
      SKELETON_NAME,
      muA,
      muB,
      `tfopt.state[0].nu["${pa}"]`,
      nuB,
    ]);

    // The optimizer that must survive every bad load, and a reference that never sees one.
    const q = makeVars();
    const control = makeVars();
    const opt = new TransformOptimizer(adam(0.05));
    const ref = new TransformOptimizer(adam(0.05));
    for (let i = 0; i < 2; i++) {
      stepOn(opt, q);
      stepOn(ref, control);
    }

    const mu = (s: any) => s.root.o.state.a[0].o.mu.o;
    const cases: [string, NamedTensor[], string | RegExp][] = [
      ['no weights', [], 'expected the weights written by getWeights, starting with "iter"'],
      [
        'truncated to iter',
        saved.slice(0, 1),
        'no "tfopt/skeleton" weight; these optimizer weights were not written by TransformOptimizer',
      ],
      [
        'truncated by one weight',
        saved.slice(0, -1),
        `the weight "${nuB}" is missing (the skeleton references it; the checkpoint is truncated or incomplete)`,
      ],
      [
        'a weight of another shape',
        replaced(saved, muA, tf.zeros([4])),
        `TransformOptimizer.setWeights: weight "${muA}" has shape [4] but the checkpoint recorded [3]`,
      ],
      [
        'a weight of another dtype',
        replaced(saved, muB, tf.zeros([2, 2], 'int32')),
        `TransformOptimizer.setWeights: weight "${muB}" has dtype int32 but the checkpoint recorded float32`,
      ],
      [
        'a cut skeleton',
        replaced(saved, SKELETON_NAME, tf.scalar('{"format":"tfopt-optimizer-st')),
        /the "tfopt\/skeleton" weight is not valid JSON \(.*\); the checkpoint is corrupted/,
      ],
      [
        'a skeleton that is not text',
        replaced(saved, SKELETON_NAME, tf.scalar(3)),
        'the "tfopt/skeleton" weight must be a string scalar, got a float32 tensor of shape []',
      ],
      [
        'a skeleton of an unknown version',
        withSkeleton(saved, (s) => {
          s.version = 3;
        }),
        'unknown state format "tfopt-optimizer-state" version 3',
      ],
      [
        'a number that is not one',
        withSkeleton(saved, (s) => {
          s.root.o.state.a[0].o.count = { n: 'three' };
        }),
        'the skeleton is malformed at .state[0].count: a number must be a JSON number or one of',
      ],
      [
        'an extra weight',
        [...saved, { name: 'tfopt.state[0].ghost', tensor: tf.zeros([3]) }],
        'the checkpoint has weights its skeleton does not mention: "tfopt.state[0].ghost"',
      ],
      [
        'a record without names',
        withSkeleton(saved, (s) => {
          delete s.root.o.names;
        }),
        'the saved record is malformed: names must be an array of variable names',
      ],
      [
        'a state tensor of the wrong shape for its variable (recorded consistently)',
        withSkeleton(replaced(saved, muA, tf.zeros([5])), (s) => {
          mu(s)[pa].s = [5];
        }),
        `the checkpoint does not fit this optimizer's transform: the state kept for variable "${pa}" at state path [0].mu does not fit the variable: (entry) needs a float32 tensor of shape [3], found a float32 tensor of shape [5]`,
      ],
      [
        'per-variable entries missing a variable',
        withSkeleton(
          saved.filter((w) => w.name !== muB),
          (s) => {
            delete mu(s)[pb];
          },
        ),
        `at state path [0].mu: expected an object keyed by variable name, found an object with keys ${pa}; no entry for variable "${pb}"`,
      ],
      [
        'per-variable entries under another name',
        withSkeleton(saved, (s) => {
          mu(s)[q.a.name] = mu(s)[pb];
          delete mu(s)[pb];
        }),
        `no entry for variable "${pb}"; entries for "${q.a.name}", not among the state's variables`,
      ],
    ];
    for (const [title, weights, message] of cases) {
      try {
        await expectRejected(opt, weights, message);
      } catch (e) {
        throw new Error(`${title}: ${(e as Error).message}`);
      }
    }

    // The old state is intact: the next step is the reference's, bit for bit.
    stepOn(opt, q);
    stepOn(ref, control);
    expect(bits(q)).toEqual(bits(control));

    // The untampered checkpoint loads, is checked against p's variables at once, and trains on
    // exactly as the source does.
    const atSave = [p.a.dataSync().slice(), p.b.dataSync().slice()];
    for (let i = 0; i < 2; i++) stepOn(source, p);
    const uninterrupted = bits(p);
    p.a.assign(tf.tensor1d(atSave[0]!));
    p.b.assign(tf.tensor2d(atSave[1]!, [2, 2]));
    await opt.setWeights(saved);
    expect(opt.iterations).toBe(3);
    for (let i = 0; i < 2; i++) stepOn(opt, p);
    expect(bits(p)).toEqual(uninterrupted);

    for (const [, weights] of cases) tf.dispose(made(weights, saved));
    tf.dispose(saved.map((w) => w.tensor));
    for (const o of [source, opt, ref]) o.dispose();
    tf.dispose([p, q, control].flatMap((v) => [v.a, v.b]));
  });

  it("rejects another transform's state: adam into egAdam, sgd into adam", async () => {
    const p = makeVars();
    const fromAdam = new TransformOptimizer(adam(0.05));
    const fromSgd = new TransformOptimizer(sgd(0.05));
    stepOn(fromAdam, p);
    stepOn(fromSgd, p);
    const adamWeights = copyOf(await fromAdam.getWeights());
    const sgdWeights = copyOf(await fromSgd.getWeights());

    const q = makeVars();
    const control = makeVars();
    const eg = new TransformOptimizer(egAdam(0.05));
    const egRef = new TransformOptimizer(egAdam(0.05));
    const ad = new TransformOptimizer(adam(0.05));
    const adRef = new TransformOptimizer(adam(0.05));
    for (const [o, v] of [
      [eg, q],
      [egRef, control],
    ] as const) {
      stepOn(o, v);
      stepOn(o, v);
    }
    // egAdam chains four transforms (Adam, gains, scale, learning rate); adam two.
    await expectRejected(
      eg,
      adamWeights,
      "TransformOptimizer.setWeights: the checkpoint does not fit this optimizer's transform: the optimizer state does not fit the transform at state path (root): expected an array of length 4, found an array of length 2",
    );
    // sgd without momentum keeps no moments: its first state is empty where adam's has count, mu, nu.
    await expectRejected(
      ad,
      sgdWeights,
      'does not fit the transform at state path [0]: expected an object with keys count, mu, nu, found an empty object',
    );
    stepOn(eg, q);
    stepOn(egRef, control);
    expect(bits(q)).toEqual(bits(control));
    // The adam optimizer had no state; it still starts as a fresh one.
    const q2 = makeVars();
    const control2 = makeVars();
    stepOn(ad, q2);
    stepOn(adRef, control2);
    expect(bits(q2)).toEqual(bits(control2));

    tf.dispose([...adamWeights, ...sgdWeights].map((w) => w.tensor));
    for (const o of [fromAdam, fromSgd, eg, egRef, ad, adRef]) o.dispose();
    tf.dispose([p, q, control, q2, control2].flatMap((v) => [v.a, v.b]));
  });

  it('checks the entries of variables set aside, and hyperparameters saved before the first step', async () => {
    const p = makeVars();
    const source = new TransformOptimizer(adam(0.05));
    stepOn(source, p);
    stepOn(source, p, ['a']); // b's moments are set aside
    expect(source.inactiveVariables).toEqual([p.b.name]);
    const saved = copyOf(await source.getWeights());
    const parked = saved.filter((w) => w.name.startsWith('tfopt.dormant'));
    expect(parked.map((w) => w.tensor.shape)).toEqual([
      [2, 2],
      [2, 2],
    ]);
    const target = new TransformOptimizer(adam(0.05));
    const name = parked[0]!.name;
    const bad = withSkeleton(replaced(saved, name, tf.zeros([3])), (s) => {
      const entries = s.root.o.dormant.o[p.b.name].o;
      const key = Object.keys(entries).find((k) => entries[k].t === name)!;
      entries[key].s = [3];
    });
    await expectRejected(
      target,
      bad,
      `the state kept for variable "${p.b.name}" at state path [0].mu does not fit the variable: (entry) needs a float32 tensor of shape [2, 2], found a float32 tensor of shape [3]`,
    );
    await target.setWeights(saved); // the untampered one loads
    expect(target.inactiveVariables).toEqual([p.b.name]);

    // Saved before any step: only the pending learning rate; a transform without one refuses it.
    const early = new TransformOptimizer(injectLearningRate(sgd, 0.1));
    early.learningRate = 0.25;
    const pending = copyOf(await early.getWeights());
    await expectRejected(
      new TransformOptimizer(adam(0.05)),
      pending,
      `the checkpoint's hyperparameters do not fit this optimizer's transform: setHyperparams: no injected hyperparameter "learningRate"`,
    );
    const other = new TransformOptimizer(injectLearningRate(sgd, 0.1));
    await other.setWeights(pending);
    expect(other.learningRate).toBe(0.25);

    tf.dispose([...saved, ...pending].map((w) => w.tensor));
    tf.dispose(made(bad, saved));
    for (const o of [source, target, early, other]) o.dispose();
    tf.dispose([p.a, p.b]);
  });

  it('defers the layout check to the first step when saved names do not resolve unambiguously', async () => {
    const prefix = `tamper${++serial}`;
    const p = makeVars(prefix);
    const source = new TransformOptimizer(adam(0.05));
    for (let i = 0; i < 3; i++) stepOn(source, p);
    const saved = copyOf(await source.getWeights());
    const atSave = { a: Array.from(p.a.dataSync()), b: Array.from(p.b.dataSync()) };
    for (let i = 0; i < 2; i++) stepOn(source, p);
    const uninterrupted = bits(p);
    tf.dispose([p.a, p.b]);

    // The saved names are free: a loaded model got "_1" names. A misfit surfaces at the step.
    const renamed = {
      a: tf.variable(tf.tensor1d(atSave.a), true, `${prefix}/a_1`),
      b: tf.variable(tf.tensor2d(atSave.b, [2, 2]), true, `${prefix}/b_1`),
    };
    const eg = new TransformOptimizer(egAdam(0.05));
    await eg.setWeights(saved); // not checkable yet
    const count = tf.memory().numTensors;
    const before = bits(renamed);
    expect(() => stepOn(eg, renamed)).toThrow(
      'does not fit the transform at state path (root): expected an array of length 4, found an array of length 2',
    );
    expect(bits(renamed)).toEqual(before);
    expect(tf.memory().numTensors).toBe(count);
    expect(eg.iterations).toBe(3);

    // The saved names belong to other variables (another model, other shapes) while the
    // loaded model has "_1" names: loading must not check against the wrong variables.
    const unrelated = {
      a: tf.variable(tf.zeros([7]), true, `${prefix}/a`),
      b: tf.variable(tf.zeros([5]), true, `${prefix}/b`),
    };
    const right = new TransformOptimizer(adam(0.05));
    await right.setWeights(saved);
    for (let i = 0; i < 2; i++) stepOn(right, renamed);
    expect(bits(renamed)).toEqual(uninterrupted);
    expect(right.inactiveVariables).toEqual([]);

    tf.dispose(saved.map((w) => w.tensor));
    for (const o of [source, eg, right]) o.dispose();
    tf.dispose([renamed.a, renamed.b, unrelated.a, unrelated.b]);
  });
});

describe('TransformOptimizer options', () => {
  it('rejects an unknown option, naming it and listing what it takes', () => {
    const build = () =>
      new TransformOptimizer(adam(0.1), { checkfinite: true } as unknown as { checkFinite: true });
    expect(build).toThrow(InvalidOptionError);
    expect(build).toThrow(
      'TransformOptimizer: option "checkfinite" must be absent (TransformOptimizer takes checkFinite, fused), got true',
    );
    expect(() => new TransformOptimizer(adam(0.1), { checkFinite: true })).not.toThrow();
  });
});
