import * as tf from '@tensorflow/tfjs-core';
import { stepVariables, type Tree, treeDispose } from '@tfopt/core';
import { adam } from '@tfopt/transforms';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { createRng } from '../rng.js';
import {
  type CharModel,
  type CharModelConfig,
  charModelParamCount,
  createCharModel,
  describeCharModel,
  evaluateChars,
} from './charModel.js';
import { charCorpus, loadMobyDickText, unigramBits, windowSampler } from './text.js';

const TINY: CharModelConfig = { kind: 'transformer', context: 8, width: 16, layers: 1, heads: 2 };
const VOCAB = 20;

/** Seeded token ids in [0, vocab). */
function randomTokens(n: number, vocab: number, seed: number): Int32Array {
  const rng = createRng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(rng() * vocab));
}

/**
 * The same network written with plain tfjs ops and tfjs's own gradients:
 * moments-based LayerNorm, built-in matMul and broadcasting, and the causal
 * mask from bandPart/where, to check the model's hand-written gradients.
 */
function referenceLoss(
  params: Readonly<Record<string, tf.Variable>>,
  config: CharModelConfig,
  inputs: tf.Tensor2D,
  targets: tf.Tensor2D,
): tf.Scalar {
  const p = (name: string) => params[name] as tf.Tensor;
  const [b, t] = inputs.shape;
  const d = config.width;
  const h = config.heads ?? 4;
  const dh = d / h;
  const layerNorm = (x: tf.Tensor, prefix: string) => {
    const { mean, variance } = tf.moments(x, -1, true);
    const n = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5)));
    return tf.add(tf.mul(n, p(`${prefix}/scale`)), p(`${prefix}/offset`)) as tf.Tensor2D;
  };
  const linear = (x: tf.Tensor2D, prefix: string) =>
    tf.add(tf.matMul(x, p(`${prefix}/kernel`) as tf.Tensor2D), p(`${prefix}/bias`)) as tf.Tensor2D;
  const split = (x: tf.Tensor2D) => tf.transpose(tf.reshape(x, [b, t, h, dh]), [0, 2, 1, 3]);
  const allowed = tf.cast(tf.linalg.bandPart(tf.ones([t, t]), -1, 0), 'bool');
  const oneHot = tf.cast(tf.oneHot(tf.reshape(inputs, [b * t]), VOCAB), 'float32') as tf.Tensor2D;
  let x = tf.reshape(
    tf.add(
      tf.reshape(tf.matMul(oneHot, p('embed/tokens') as tf.Tensor2D), [b, t, d]),
      p('embed/positions'),
    ),
    [b * t, d],
  ) as tf.Tensor2D;
  for (let l = 0; l < config.layers; l++) {
    const a = layerNorm(x, `block${l}/ln1`);
    const q = split(linear(a, `block${l}/attn/query`));
    const k = split(tf.matMul(a, p(`block${l}/attn/key/kernel`) as tf.Tensor2D));
    const v = split(linear(a, `block${l}/attn/value`));
    const scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(dh));
    const masked = tf.where(
      tf.broadcastTo(allowed, scores.shape),
      scores,
      tf.fill(scores.shape, -1e9),
    );
    const mixed = tf.reshape(tf.transpose(tf.matMul(tf.softmax(masked), v), [0, 2, 1, 3]), [
      b * t,
      d,
    ]) as tf.Tensor2D;
    x = tf.add(x, linear(mixed, `block${l}/attn/out`));
    const hidden = tf.relu(linear(layerNorm(x, `block${l}/ln2`), `block${l}/mlp/hidden`));
    x = tf.add(x, linear(hidden, `block${l}/mlp/out`));
  }
  const logits = linear(layerNorm(x, 'ln'), 'output');
  const y = tf.oneHot(tf.reshape(targets, [b * t]), VOCAB);
  return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(logits)), 1))) as tf.Scalar;
}

/** log p(target) at each position of one window, from the model's logits. */
function positionLogProbs(model: CharModel, inputs: Int32Array, targets: Int32Array): number[] {
  return tf.tidy(() => {
    const logits = model.logits(tf.tensor2d(inputs, [1, inputs.length], 'int32'));
    const logp = tf.logSoftmax(logits).arraySync() as number[][];
    return Array.from(targets, (target, i) => logp[i]?.[target] as number);
  });
}

describe('char model shape', () => {
  beforeAll(async () => {
    expect(await initBackend('cpu')).toBe('cpu');
  });

  it('counts parameters as worked out by hand', () => {
    // vocab 20, width 16, context 8, 1 block, MLP 64:
    // embeddings 20·16 + 8·16 = 448; block: two LayerNorms 2·32, four 16x16 projections with
    // biases (the key's excepted) 4·272 - 16, MLP 16·64+64 + 64·16+16 = 2128, so 3264;
    // final LayerNorm 32; output 16·20+20 = 340.
    expect(charModelParamCount(TINY, VOCAB)).toBe(448 + 3264 + 32 + 340);
    const model = createCharModel(TINY, VOCAB, 0);
    const actual = Object.values(model.params).reduce((n, v) => n + v.size, 0);
    expect(actual).toBe(4084);
    expect(describeCharModel(TINY, VOCAB)).toBe(
      'causal Transformer 1×16 (pre-LayerNorm, 2 heads, ReLU MLP 64, learned positions), context 8, 4k params',
    );
    model.dispose();
  });

  it('names its variables by block and role', () => {
    const model = createCharModel(TINY, VOCAB, 0);
    expect(Object.keys(model.params)).toEqual([
      'embed/tokens',
      'embed/positions',
      'block0/ln1/scale',
      'block0/ln1/offset',
      'block0/attn/query/kernel',
      'block0/attn/query/bias',
      'block0/attn/key/kernel',
      'block0/attn/value/kernel',
      'block0/attn/value/bias',
      'block0/attn/out/kernel',
      'block0/attn/out/bias',
      'block0/ln2/scale',
      'block0/ln2/offset',
      'block0/mlp/hidden/kernel',
      'block0/mlp/hidden/bias',
      'block0/mlp/out/kernel',
      'block0/mlp/out/bias',
      'ln/scale',
      'ln/offset',
      'output/kernel',
      'output/bias',
    ]);
    model.dispose();
  });

  it('rejects configurations it cannot build, naming the option', () => {
    expect(() => createCharModel({ ...TINY, heads: 3 }, VOCAB, 0)).toThrow(
      /heads \(3\) must divide width \(16\)/,
    );
    expect(() => createCharModel({ ...TINY, kind: 'lstm' }, VOCAB, 0)).toThrow(
      /kind 'lstm' is not built/,
    );
    expect(() => createCharModel({ ...TINY, layers: 0 }, VOCAB, 0)).toThrow(/layers must be/);
    expect(() => createCharModel(TINY, 1, 0)).toThrow(/vocabSize must be an integer > 1/);
  });
});

describe.each(['cpu', 'wasm'] as const)('char model [%s]', (backend) => {
  beforeAll(async () => {
    expect(await initBackend(backend)).toBe(backend);
  });

  it('builds the same weights from the same seed', () => {
    const [a, b, c] = [
      createCharModel(TINY, VOCAB, 4),
      createCharModel(TINY, VOCAB, 4),
      createCharModel(TINY, VOCAB, 5),
    ];
    const k = (m: CharModel) => Array.from(m.params['block0/attn/query/kernel']!.dataSync());
    expect(k(a)).toEqual(k(b));
    expect(k(a)).not.toEqual(k(c));
    for (const m of [a, b, c]) m.dispose();
  });

  it('starts near the uniform loss ln(vocab)', () => {
    // The final LayerNorm gives each position a feature vector h with |h|² ≈ width, and the
    // output kernel is N(0, 0.02²) with zero bias, so each logit is about N(0, 0.02²·16) =
    // N(0, 0.08²). For logits z with a small spread, -log softmax(z)_y = logsumexp(z) - z_y
    // ≈ ln V + mean(z) - z_y + var(z)/2, whose average over positions is ln V + ~0.003,
    // give or take 0.08/sqrt(64 positions) = 0.01 for z_y. So within 0.05 of ln 20 = 2.9957.
    const model = createCharModel(TINY, VOCAB, 1);
    const tokens = randomTokens(8 * 8 + 1, VOCAB, 2);
    const loss = tf.tidy(
      () =>
        model
          .loss(
            tf.tensor2d(tokens.subarray(0, 64), [8, 8], 'int32'),
            tf.tensor2d(tokens.subarray(1, 65), [8, 8], 'int32'),
          )
          .dataSync()[0],
    ) as number;
    expect(Math.abs(loss - Math.log(VOCAB))).toBeLessThan(0.05);
    model.dispose();
  });

  it('matches a plain-ops reference in loss and every gradient', () => {
    const config: CharModelConfig = { ...TINY, layers: 2 };
    const model = createCharModel(config, VOCAB, 3);
    const tokens = randomTokens(3 * 8 + 1, VOCAB, 4);
    const x = tf.tensor2d(tokens.subarray(0, 24), [3, 8], 'int32');
    const y = tf.tensor2d(tokens.subarray(1, 25), [3, 8], 'int32');
    // Perturb LayerNorm and bias parameters away from 1 and 0 so their gradients are exercised fully.
    for (const [name, v] of Object.entries(model.params)) {
      if (!name.includes('kernel') && !name.startsWith('embed/')) {
        v.assign(tf.tidy(() => tf.add(v, tf.randomUniform(v.shape, -0.5, 0.5, 'float32', 7))));
      }
    }
    const vars = Object.values(model.params);
    const ours = tf.variableGrads(() => model.loss(x, y), vars);
    const reference = tf.variableGrads(() => referenceLoss(model.params, config, x, y), vars);
    expect(ours.value.dataSync()[0]).toBeCloseTo(reference.value.dataSync()[0] as number, 5);
    for (const v of vars) {
      const a = ours.grads[v.name]!.dataSync();
      const b = reference.grads[v.name]!.dataSync();
      const scale = Math.max(...Array.from(b, Math.abs), 1e-6);
      expect(scale).toBeGreaterThan(1e-6);
      a.forEach((value, i) => {
        expect(Math.abs(value - (b[i] as number)) / scale).toBeLessThan(1e-4);
      });
    }
    tf.dispose([
      x,
      y,
      ours.value,
      reference.value,
      ...Object.values(ours.grads),
      ...Object.values(reference.grads),
    ]);
    model.dispose();
  });

  it('is causal: a later token changes no earlier prediction, but does change its own', () => {
    const model = createCharModel(TINY, VOCAB, 6);
    const tokens = randomTokens(9, VOCAB, 7);
    const inputs = tokens.subarray(0, 8);
    const targets = tokens.subarray(1, 9);
    const before = positionLogProbs(model, inputs, targets);
    const changed = Int32Array.from(inputs);
    changed[5] = ((changed[5] as number) + 1) % VOCAB;
    const after = positionLogProbs(model, changed, targets);
    for (let i = 0; i < 5; i++) expect(after[i]).toBeCloseTo(before[i] as number, 5);
    // Positions 5..7 see the changed token (through its embedding or attention).
    for (let i = 5; i < 8; i++)
      expect(Math.abs((after[i] as number) - (before[i] as number))).toBeGreaterThan(1e-6);
    model.dispose();
  });

  it('evaluates non-overlapping windows deterministically, without leaking tensors', () => {
    const model = createCharModel(TINY, VOCAB, 8);
    // 3 full windows of 8 + the 1 extra target; the trailing 5 tokens form no window.
    const tokens = randomTokens(3 * 8 + 1 + 5, VOCAB, 9);
    const before = tf.memory().numTensors;
    const first = evaluateChars(model, tokens, 8);
    const second = evaluateChars(model, tokens, 8);
    expect(tf.memory().numTensors).toBe(before);
    expect(second).toEqual(first);
    expect(first.bitsPerChar).toBeCloseTo(first.loss / Math.LN2, 12);
    // Independently: the model's own mean loss over the same three windows, and accuracy by argmax in JS.
    const [reference, logits] = tf.tidy(() => {
      const x = tf.tensor2d(tokens.subarray(0, 24), [3, 8], 'int32');
      const y = tf.tensor2d(tokens.subarray(1, 25), [3, 8], 'int32');
      return [model.loss(x, y).dataSync()[0] as number, model.logits(x).arraySync() as number[][]];
    });
    expect(first.loss).toBeCloseTo(reference, 5);
    let hits = 0;
    logits.forEach((row, i) => {
      if (row.indexOf(Math.max(...row)) === tokens[i + 1]) hits++;
    });
    expect(first.accuracy).toBeCloseTo(hits / 24, 12);
    // maxWindows keeps the first windows only.
    const one = evaluateChars(model, tokens, 8, 1);
    const firstWindow = evaluateChars(model, tokens.subarray(0, 9), 8);
    expect(one).toEqual(firstWindow);
    expect(() => evaluateChars(model, tokens.subarray(0, 8), 8)).toThrow(
      /8 tokens hold no window of context 8 \+ 1/,
    );
    model.dispose();
  });

  it('learns Moby Dick with Adam: validation bits/char falls well below the unigram entropy', () => {
    const corpus = charCorpus(loadMobyDickText(), { maxChars: 100_000 });
    const config: CharModelConfig = { kind: 'transformer', context: 16, width: 32, layers: 1 };
    const model = createCharModel(config, corpus.vocab.length, 1);
    const names = Object.keys(model.params);
    const variables = names.map((n) => model.params[n] as tf.Variable);
    const params = model.params as unknown as Tree;
    const tx = adam(3e-3);
    let state = tx.init(params);
    const next = windowSampler(corpus.train, 16, 16, createRng(2));
    const initial = evaluateChars(model, corpus.val, 16, 64);
    const tensorsBefore = tf.memory().numTensors;
    for (let step = 0; step < 120; step++) {
      const batch = next();
      const x = tf.tensor2d(batch.inputs, [16, 16], 'int32');
      const y = tf.tensor2d(batch.targets, [16, 16], 'int32');
      const { value, grads } = tf.variableGrads(() => model.loss(x, y), variables);
      const tree: Record<string, tf.Tensor> = {};
      names.forEach((name, i) => {
        tree[name] = grads[(variables[i] as tf.Variable).name] as tf.Tensor;
      });
      state = stepVariables(tx, params, tree, state);
      tf.dispose([x, y, value, ...Object.values(grads)]);
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const final = evaluateChars(model, corpus.val, 16, 64);
    // The first 100k characters hold 77 symbols: log2(77) = 6.27 bits per character at the start.
    // Their training part's unigram entropy is 4.54 bits; 120 steps reach about 3.7.
    expect(initial.bitsPerChar).toBeGreaterThan(6);
    expect(final.bitsPerChar).toBeLessThan(unigramBits(corpus.train, corpus.vocab.length) - 0.4);
    treeDispose(state);
    model.dispose();
    // ~20 s on an idle cpu backend (a few seconds on wasm); the margin is for loaded machines.
  }, 400_000);
});
