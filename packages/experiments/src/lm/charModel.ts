import * as tf from '@tensorflow/tfjs-core';
import { createRng, normalSamples } from '../rng.js';
import { MOBY_DICK_VOCAB_SIZE } from './text.js';

/** The character-model families. */
export const CHAR_MODEL_KINDS = ['transformer'] as const;

/** Shape of a character model. */
export interface CharModelConfig {
  /** Only `'transformer'` is built; `'lstm'` is reserved. */
  readonly kind: 'transformer' | 'lstm';
  /** Characters per window, and the number of learned positions. */
  readonly context: number;
  /** Width of the residual stream. */
  readonly width: number;
  /** Transformer blocks. */
  readonly layers: number;
  /** Attention heads; must divide `width`. Default 4. */
  readonly heads?: number;
  /** Hidden width of each block's MLP as a multiple of `width`. Default 4. */
  readonly mlpRatio?: number;
}

/**
 * A next-character model as plain variables. The model owns its variables;
 * `dispose` releases them.
 */
export interface CharModel {
  /** Trainable variables by name (the optimizer's tree); the names depend on the config only. */
  readonly params: Readonly<Record<string, tf.Variable>>;
  /** Next-character scores `[b * t, vocab]`, row-major over `[b, t]`, for int32 inputs `[b, t]`, `t <= context`. */
  logits(inputs: tf.Tensor2D): tf.Tensor2D;
  /** Mean next-character cross-entropy in nats over the batch; inputs/targets int32 `[b, context]`. */
  loss(inputs: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar;
  dispose(): void;
}

/** Added to attention scores of future positions; exp of it underflows to exactly 0. */
const MASKED = -1e9;
const LN_EPSILON = 1e-5;
/** Standard deviation of the embeddings and of the output kernel, so the first logits are near 0. */
const SMALL_INIT = 0.02;

interface Shape {
  readonly context: number;
  readonly width: number;
  readonly layers: number;
  readonly heads: number;
  readonly hidden: number;
}

function resolve(config: CharModelConfig): Shape {
  if (config.kind !== 'transformer') {
    throw new Error(
      `createCharModel: kind '${config.kind}' is not built (available: ${CHAR_MODEL_KINDS.join(', ')})`,
    );
  }
  const positive = (option: string, value: number): number => {
    if (!(Number.isInteger(value) && value > 0)) {
      throw new RangeError(`char model: ${option} must be a positive integer, got ${value}`);
    }
    return value;
  };
  const width = positive('width', config.width);
  const heads = positive('heads', config.heads ?? 4);
  if (width % heads !== 0) {
    throw new RangeError(`char model: heads (${heads}) must divide width (${width})`);
  }
  return {
    context: positive('context', config.context),
    width,
    layers: positive('layers', config.layers),
    heads,
    hidden: positive('mlpRatio * width', (config.mlpRatio ?? 4) * width),
  };
}

/** Variable shapes by name, in creation order. */
function paramShapes(shape: Shape, vocabSize: number): [string, number[]][] {
  const { context, width, hidden } = shape;
  const out: [string, number[]][] = [
    ['embed/tokens', [vocabSize, width]],
    ['embed/positions', [context, width]],
  ];
  for (let l = 0; l < shape.layers; l++) {
    const p = `block${l}`;
    out.push(
      [`${p}/ln1/scale`, [width]],
      [`${p}/ln1/offset`, [width]],
      [`${p}/attn/query/kernel`, [width, width]],
      [`${p}/attn/query/bias`, [width]],
      // No key bias: it would add the same q·bias to all of a query's scores, which softmax ignores.
      [`${p}/attn/key/kernel`, [width, width]],
      [`${p}/attn/value/kernel`, [width, width]],
      [`${p}/attn/value/bias`, [width]],
      [`${p}/attn/out/kernel`, [width, width]],
      [`${p}/attn/out/bias`, [width]],
      [`${p}/ln2/scale`, [width]],
      [`${p}/ln2/offset`, [width]],
      [`${p}/mlp/hidden/kernel`, [width, hidden]],
      [`${p}/mlp/hidden/bias`, [hidden]],
      [`${p}/mlp/out/kernel`, [hidden, width]],
      [`${p}/mlp/out/bias`, [width]],
    );
  }
  out.push(
    ['ln/scale', [width]],
    ['ln/offset', [width]],
    ['output/kernel', [width, vocabSize]],
    ['output/bias', [vocabSize]],
  );
  return out;
}

/** Trainable numbers of a model with this config over `vocabSize` characters. */
export function charModelParamCount(config: CharModelConfig, vocabSize: number): number {
  return paramShapes(resolve(config), vocabSize).reduce(
    (n, [, s]) => n + s.reduce((a, b) => a * b, 1),
    0,
  );
}

/**
 * One line for the report, e.g. "causal Transformer 2×32 (pre-LayerNorm, 4 heads,
 * ReLU MLP 128, learned positions), context 32, 32k params". The parameter count
 * includes the embedding and output layers for `vocabSize` characters (default
 * {@link MOBY_DICK_VOCAB_SIZE}).
 */
export function describeCharModel(
  config: CharModelConfig,
  vocabSize = MOBY_DICK_VOCAB_SIZE,
): string {
  const s = resolve(config);
  const n = charModelParamCount(config, vocabSize);
  const params = n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${Math.round(n / 1e3)}k`;
  return (
    `causal Transformer ${s.layers}×${s.width} (pre-LayerNorm, ${s.heads} heads, ReLU MLP ${s.hidden}, ` +
    `learned positions), context ${s.context}, ${params} params`
  );
}

/**
 * A causal, pre-LayerNorm Transformer over characters with weights drawn from
 * `seed`. Tokens enter as one-hot rows times the embedding matrix rather than
 * a gather: the gather's gradient needs UnsortedSegmentSum, which the wasm
 * backend lacks.
 *
 * Initialisation: embeddings and the output kernel N(0, 0.02²), so the first
 * predictions are nearly uniform; other kernels N(0, 1/fanIn), the two
 * kernels that write into the residual stream further scaled by
 * 1/sqrt(2·layers) so its variance stays bounded in depth; biases and
 * LayerNorm offsets 0, scales 1.
 */
export function createCharModel(
  config: CharModelConfig,
  vocabSize: number,
  seed: number,
): CharModel {
  const shape = resolve(config);
  if (!(Number.isInteger(vocabSize) && vocabSize > 1)) {
    throw new RangeError(`createCharModel: vocabSize must be an integer > 1, got ${vocabSize}`);
  }
  const { context, width, heads, layers } = shape;
  const rng = createRng(seed);
  const residualScale = 1 / Math.sqrt(2 * layers);
  const std = (name: string, dims: number[]): number | 'zeros' | 'ones' => {
    if (name.endsWith('/scale')) return 'ones';
    if (name.endsWith('/bias') || name.endsWith('/offset')) return 'zeros';
    if (name.startsWith('embed/') || name === 'output/kernel') return SMALL_INIT;
    const fanIn = dims[0] as number;
    const base = 1 / Math.sqrt(fanIn);
    return name.endsWith('/out/kernel') ? base * residualScale : base;
  };
  const params: Record<string, tf.Variable> = {};
  for (const [name, dims] of paramShapes(shape, vocabSize)) {
    const how = std(name, dims);
    params[name] = tf.tidy(() => {
      if (how === 'zeros') return tf.variable(tf.zeros(dims), true);
      if (how === 'ones') return tf.variable(tf.ones(dims), true);
      const n = dims.reduce((a, b) => a * b, 1);
      return tf.variable(
        tf.tensor(
          normalSamples(n, rng).map((v) => v * how),
          dims,
        ),
        true,
      );
    });
  }
  const p = (name: string): tf.Tensor => params[name] as tf.Tensor;

  const layerNorm = (x: tf.Tensor2D, prefix: string): tf.Tensor2D =>
    layerNormOp(x, p(`${prefix}/scale`) as tf.Tensor1D, p(`${prefix}/offset`) as tf.Tensor1D);
  const dense = (x: tf.Tensor2D, prefix: string): tf.Tensor2D =>
    denseOp(x, p(`${prefix}/kernel`) as tf.Tensor2D, p(`${prefix}/bias`) as tf.Tensor1D);

  const headWidth = width / heads;
  const maskCache = new Map<number, Float32Array>();
  /** `[t, t]`: 0 where a position may attend (itself and earlier), MASKED above the diagonal. */
  const causalMask = (t: number): tf.Tensor2D => {
    let values = maskCache.get(t);
    if (values === undefined) {
      values = new Float32Array(t * t);
      for (let i = 0; i < t; i++) values.fill(MASKED, i * t + i + 1, (i + 1) * t);
      maskCache.set(t, values);
    }
    return tf.tensor2d(values, [t, t]);
  };

  /** Causal multi-head self-attention of `x` `[b*t, width]`. */
  const attention = (x: tf.Tensor2D, b: number, t: number, prefix: string): tf.Tensor2D => {
    // Three projections rather than one split three ways: SplitV along the
    // last axis is a slow strided copy on wasm.
    const heads4 = (projected: tf.Tensor2D): tf.Tensor4D =>
      tf.transpose(tf.reshape(projected, [b, t, heads, headWidth]), [0, 2, 1, 3]);
    // The 1/sqrt(headWidth) score scale is applied to the queries: t times fewer numbers than the scores.
    const q = heads4(tf.mul(dense(x, `${prefix}/query`), 1 / Math.sqrt(headWidth)) as tf.Tensor2D);
    const k = heads4(matMulOp(x, p(`${prefix}/key/kernel`) as tf.Tensor2D));
    const v = heads4(dense(x, `${prefix}/value`));
    const scores = tf.add(tf.matMul(q, k, false, true), causalMask(t));
    const mixed = tf.matMul(tf.softmax(scores), v);
    const merged = tf.reshape(tf.transpose(mixed, [0, 2, 1, 3]), [b * t, width]) as tf.Tensor2D;
    return dense(merged, `${prefix}/out`);
  };

  const logits = (inputs: tf.Tensor2D): tf.Tensor2D =>
    tf.tidy(() => {
      const [b, t] = inputs.shape;
      if (t > context) {
        throw new RangeError(
          `char model: inputs have ${t} positions, more than context ${context}`,
        );
      }
      // An int32 one-hot cast to float: tfjs-backend-wasm 4.22's OneHot ignores a float32
      // dtype and writes integer bit patterns (1 reads back as 1.4e-45).
      const oneHot = tf.cast(tf.oneHot(tf.reshape(inputs, [b * t]), vocabSize), 'float32');
      const tokens = matMulOp(oneHot as tf.Tensor2D, p('embed/tokens') as tf.Tensor2D);
      const positions = t === context ? p('embed/positions') : tf.slice(p('embed/positions'), 0, t);
      let x = tf.reshape(
        addRowOp(tf.reshape(tokens, [b, t * width]), tf.reshape(positions, [t * width])),
        [b * t, width],
      ) as tf.Tensor2D;
      for (let l = 0; l < layers; l++) {
        const block = `block${l}`;
        x = tf.add(x, attention(layerNorm(x, `${block}/ln1`), b, t, `${block}/attn`));
        const hidden = tf.relu(dense(layerNorm(x, `${block}/ln2`), `${block}/mlp/hidden`));
        x = tf.add(x, dense(hidden, `${block}/mlp/out`));
      }
      return dense(layerNorm(x, 'ln'), 'output');
    });

  return {
    params,
    logits,
    loss: (inputs, targets) =>
      tf.tidy(() => {
        const [b, t] = targets.shape;
        return charCrossEntropy(logits(inputs), tf.reshape(targets, [b * t]) as tf.Tensor1D);
      }),
    dispose: () => tf.dispose(Object.values(params)),
  };
}

/** Column sums of `x` `[n, d]` as `[d]`: a matMul with a row of ones, which the wasm backend runs far faster than a Sum over axis 0. */
function sumRows(x: tf.Tensor2D): tf.Tensor1D {
  return tf.reshape(tf.matMul(tf.ones([1, x.shape[0]]), x), [x.shape[1]]);
}

/** `x·w` with the gradients of {@link denseOp}, for the embedding lookup and the keys. */
const matMulOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [input, kernel] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [
        tf.matMul(dy as tf.Tensor2D, tf.transpose(kernel)),
        tf.matMul(tf.transpose(input), dy as tf.Tensor2D),
      ];
    },
  };
}) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/** `x + row` broadcast over the rows of `x` `[n, m]`, the row's gradient by {@link sumRows}. */
const addRowOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, row] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  return {
    value: tf.add(x, row) as tf.Tensor2D,
    gradFunc: (dy: tf.Tensor) => [tf.clone(dy), sumRows(dy as tf.Tensor2D)],
  };
}) as (x: tf.Tensor2D, row: tf.Tensor1D) => tf.Tensor2D;

/**
 * `x·w + b` whose gradients use only untransposed matMuls on explicitly
 * transposed operands: the wasm backend's matMul with a transpose flag (what
 * the built-in gradient uses) is about ten times slower than a transpose
 * followed by a plain matMul.
 */
const denseOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x, b: w, bias: b }),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [input, kernel] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dy2 = dy as tf.Tensor2D;
      return [
        tf.matMul(dy2, tf.transpose(kernel)),
        tf.matMul(tf.transpose(input), dy2),
        sumRows(dy2),
      ];
    },
  };
}) as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

/**
 * LayerNorm over the last axis, `scale·(x − mean)/sqrt(var + ε) + offset`,
 * with its gradient in closed form: with n the normalised input,
 * r = 1/sqrt(var + ε) and dn = dy·scale, dx = r·(dn − mean(dn) − n·mean(dn·n)).
 * Fewer kernels than differentiating the composition, and no Sum over axis 0.
 */
const layerNormOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, scale, offset, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
  const centred = tf.sub(x, tf.mean(x, -1, true));
  const r = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), LN_EPSILON));
  const normed = tf.mul(centred, r) as tf.Tensor2D;
  save([normed, r, scale]);
  return {
    value: tf.add(tf.mul(normed, scale), offset) as tf.Tensor2D,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [n, rs, g] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
      const dy2 = dy as tf.Tensor2D;
      const dn = tf.mul(dy2, g);
      const dx = tf.mul(
        rs,
        tf.sub(tf.sub(dn, tf.mean(dn, -1, true)), tf.mul(n, tf.mean(tf.mul(dn, n), -1, true))),
      );
      return [dx, sumRows(tf.mul(dy2, n) as tf.Tensor2D), sumRows(dy2)];
    },
  };
}) as (x: tf.Tensor2D, scale: tf.Tensor1D, offset: tf.Tensor1D) => tf.Tensor2D;

/** Mean cross-entropy in nats of `logits` `[n, vocab]` against int32 `targets` `[n]`. */
function charCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const picked = tf.mul(tf.oneHot(targets, logits.shape[1]), tf.logSoftmax(logits));
    return tf.neg(tf.mean(tf.sum(picked, 1))) as tf.Scalar;
  });
}

/** Held-out quality of a character model. */
export interface CharEvaluation {
  /** Mean cross-entropy in nats per predicted character. */
  readonly loss: number;
  /** `loss / ln 2`. */
  readonly bitsPerChar: number;
  /** Share of characters whose highest-scored prediction is right. */
  readonly accuracy: number;
}

/** Windows per forward pass in {@link evaluateChars}. */
const EVAL_CHUNK = 64;

/**
 * Score `model` on the non-overlapping windows `tokens[w·context, (w+1)·context)`
 * from the start of `tokens`, each predicting the next `context` characters,
 * up to `maxWindows` windows (default: all that fit). Every predicted character
 * weighs the same. Deterministic; tensors are freed chunk by chunk.
 */
export function evaluateChars(
  model: CharModel,
  tokens: Int32Array,
  context: number,
  maxWindows = Number.POSITIVE_INFINITY,
): CharEvaluation {
  if (!(Number.isInteger(context) && context > 0)) {
    throw new RangeError(`evaluateChars: context must be a positive integer, got ${context}`);
  }
  const windows = Math.min(maxWindows, Math.floor((tokens.length - 1) / context));
  if (!(windows >= 1)) {
    throw new RangeError(
      `evaluateChars: ${tokens.length} tokens hold no window of context ${context} + 1` +
        (maxWindows < 1 ? ` (maxWindows ${maxWindows})` : ''),
    );
  }
  let nats = 0;
  let hits = 0;
  for (let from = 0; from < windows; from += EVAL_CHUNK) {
    const n = Math.min(EVAL_CHUNK, windows - from);
    const start = from * context;
    const inputs = tokens.subarray(start, start + n * context);
    const targets = tokens.subarray(start + 1, start + 1 + n * context);
    const [sum, correct] = tf.tidy(() => {
      const y = tf.tensor1d(targets, 'int32');
      const scores = model.logits(tf.tensor2d(inputs, [n, context], 'int32'));
      const picked = tf.sum(tf.mul(tf.oneHot(y, scores.shape[1]), tf.logSoftmax(scores)));
      const right = tf.sum(tf.cast(tf.equal(tf.argMax(scores, 1), y), 'float32'));
      return [picked.dataSync()[0] as number, right.dataSync()[0] as number];
    });
    nats -= sum;
    hits += correct;
  }
  const count = windows * context;
  const loss = nats / count;
  return { loss, bitsPerChar: loss / Math.LN2, accuracy: hits / count };
}
