import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.js';
import {
  charCorpus,
  loadMobyDickText,
  MOBY_DICK_VOCAB_SIZE,
  normalizeText,
  REPLACEMENT_CHAR,
  unigramBits,
  windowSampler,
} from './text.js';

const decode = (vocab: readonly string[], ids: Int32Array): string =>
  Array.from(ids, (i) => vocab[i]).join('');

describe('character corpus', () => {
  it('numbers and splits a 10-character text as worked out by hand', () => {
    // "banana bus": distinct characters in code-point order are ' ' a b n s u -> ids 0..5,
    // so the text reads 2 1 3 1 3 1 0 2 5 4. 20% validation = 2 chars, 10% test = 1 char,
    // the training text takes the first 10 - 2 - 1 = 7.
    const corpus = charCorpus('banana bus', { valFraction: 0.2, testFraction: 0.1 });
    expect(corpus.vocab).toEqual([' ', 'a', 'b', 'n', 's', 'u']);
    expect(Array.from(corpus.train)).toEqual([2, 1, 3, 1, 3, 1, 0]);
    expect(Array.from(corpus.val)).toEqual([2, 5]);
    expect(Array.from(corpus.test)).toEqual([4]);
    expect(corpus.description).toBe('text, 10 chars, 6 symbols, split 70/20/10 contiguous');
  });

  it('loads the whole book, chapter headings included', () => {
    const text = loadMobyDickText();
    expect(text.length).toBeGreaterThan(1_200_000);
    expect(text.startsWith('CONTENTS')).toBe(true);
    expect(text).toContain('CHAPTER 1. Loomings.\n\nCall me Ishmael.');
    expect(text).toContain('CHAPTER 135. The Chase.—Third Day.');
    expect(text.indexOf('CHAPTER 1. Loomings.\n\n')).toBeLessThan(text.indexOf('CHAPTER 2. '));
    expect(text.trimEnd().endsWith('orphan.')).toBe(true);
    expect(loadMobyDickText()).toBe(text);
  });

  it('splits the book contiguously, once, deterministically, over a sorted complete vocabulary', () => {
    const text = loadMobyDickText();
    const a = charCorpus(text);
    const b = charCorpus(text);
    const clean = normalizeText(text);
    const n = clean.length;
    expect(a.train.length + a.val.length + a.test.length).toBe(n);
    expect(a.val.length).toBe(Math.round(n * 0.05));
    expect(a.test.length).toBe(Math.round(n * 0.05));
    // Train, then val, then test, reassemble the normalised text exactly.
    expect(decode(a.vocab, a.train) + decode(a.vocab, a.val) + decode(a.vocab, a.test)).toBe(clean);
    expect(Buffer.compare(Buffer.from(a.train.buffer), Buffer.from(b.train.buffer))).toBe(0);
    // Sorted, distinct, and exactly the characters that occur.
    const sorted = [...a.vocab].sort();
    expect(a.vocab).toEqual(sorted);
    expect(new Set(a.vocab).size).toBe(a.vocab.length);
    expect(new Set(clean)).toEqual(new Set(a.vocab));
    expect(a.vocab).toHaveLength(MOBY_DICK_VOCAB_SIZE);
    expect(a.description).toBe('Moby Dick, 1.2M chars, 81 symbols, split 90/5/5 contiguous');
  });

  it('keeps newline, printable ASCII and the em dash, and replaces everything else', () => {
    expect(normalizeText('a\r\nb\rc—d ~')).toBe('a\nb\nc—d ~');
    expect(normalizeText('KHTOΣ ϰῆτος Œ\t')).toBe(`KHTO? ????? ${REPLACEMENT_CHAR}?`);
    // A character outside the Basic Multilingual Plane is one replacement, not two.
    expect(normalizeText('a\u{1d11e}b')).toBe('a?b');
    const clean = normalizeText(loadMobyDickText());
    expect(clean.length).toBe(loadMobyDickText().length);
    expect(/^[\n\x20-\x7e\u2014]*$/.test(clean)).toBe(true);
  });

  it('truncates to maxChars before splitting', () => {
    const corpus = charCorpus(loadMobyDickText(), { maxChars: 1000, valFraction: 0.1 });
    expect(corpus.train.length + corpus.val.length + corpus.test.length).toBe(1000);
    expect(corpus.val.length).toBe(100);
    expect(decode(corpus.vocab, corpus.train).startsWith('CONTENTS')).toBe(true);
    expect(corpus.description).toMatch(/^Moby Dick \(first 1000 chars\), 1000 chars, \d+ symbols/);
  });

  it('rejects fractions and sizes that leave no training text, naming the option', () => {
    expect(() => charCorpus('abc', { valFraction: 1.2 })).toThrow(
      /valFraction must be in \[0, 1\)/,
    );
    expect(() => charCorpus('abc', { testFraction: -0.1 })).toThrow(/testFraction/);
    expect(() => charCorpus('abc', { valFraction: 0.5, testFraction: 0.5 })).toThrow(
      /valFraction \+ testFraction = 1/,
    );
    expect(() => charCorpus('abc', { maxChars: 0 })).toThrow(/maxChars must be a positive integer/);
    expect(() => charCorpus('ab', { valFraction: 0.4, testFraction: 0.4 })).toThrow(
      /2 characters leave no training text/,
    );
  });

  it('computes the unigram entropy by hand', () => {
    // Two symbols each half the time: 1 bit.
    expect(unigramBits(Int32Array.from([0, 1, 1, 0]), 2)).toBeCloseTo(1, 12);
    // 3/4 and 1/4: -(0.75·log2 0.75 + 0.25·log2 0.25) = 0.311278 + 0.5 = 0.811278.
    expect(unigramBits(Int32Array.from([2, 2, 2, 0]), 3)).toBeCloseTo(0.811278, 6);
  });
});

describe('window sampler', () => {
  // Token value = its position, so a window shows where it came from.
  const tokens = Int32Array.from({ length: 20 }, (_, i) => i);

  it('returns runs of consecutive tokens with targets shifted by one, inside the tokens', () => {
    const context = 4;
    const next = windowSampler(tokens, context, 3, createRng(9));
    const starts = new Set<number>();
    for (let draw = 0; draw < 200; draw++) {
      const { inputs, targets } = next();
      expect(inputs).toHaveLength(12);
      expect(targets).toHaveLength(12);
      for (let b = 0; b < 3; b++) {
        const start = inputs[b * context] as number;
        starts.add(start);
        for (let t = 0; t < context; t++) {
          expect(inputs[b * context + t]).toBe(start + t);
          expect(targets[b * context + t]).toBe(start + t + 1);
        }
      }
    }
    // 20 tokens hold windows of 4 + 1 starting at 0..15, and 600 draws reach all of them.
    expect(Math.min(...starts)).toBe(0);
    expect(Math.max(...starts)).toBe(15);
    expect(starts.size).toBe(16);
  });

  it('draws the same batches from the same seed', () => {
    const a = windowSampler(tokens, 5, 4, createRng(1));
    const b = windowSampler(tokens, 5, 4, createRng(1));
    expect(Array.from(a().inputs)).toEqual(Array.from(b().inputs));
    expect(Array.from(a().targets)).toEqual(Array.from(b().targets));
  });

  it('rejects a context the tokens cannot hold, and bad sizes', () => {
    expect(() => windowSampler(tokens.subarray(0, 4), 4, 1, createRng(0))).toThrow(
      /4 tokens are too few for a window of context 4 \+ 1/,
    );
    expect(() => windowSampler(tokens, 0, 1, createRng(0))).toThrow(/context must be a positive/);
    expect(() => windowSampler(tokens, 4, 1.5, createRng(0))).toThrow(/batchSize/);
  });
});
