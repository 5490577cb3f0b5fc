import * as tf from '@tensorflow/tfjs-core';
import {
  type GradientTransformation,
  InvalidOptionError,
  tidy,
  treeMap,
  withSpec,
} from '@tfopt/core';
import { nonNegative, nonNegativeInteger } from '@tfopt/core/options';
import { type OptionRules, readOptions, requireOption } from './options.js';

/** Options of {@link addNoise}. @category Transforms */
export interface AddNoiseOptions {
  /** Variance of the noise on the first update, `>= 0`. Required. */
  readonly eta: number;
  /** Decay exponent of the variance, `>= 0`. Required. */
  readonly gamma: number;
  /** Seed of the noise stream, an integer in `[0, 2^32)`. Default `0`. */
  readonly seed?: number;
}

/** @internal */
export const ADD_NOISE_RULES: OptionRules<AddNoiseOptions> = {
  eta: nonNegative,
  gamma: nonNegative,
  seed: nonNegativeInteger,
};

/**
 * State of {@link addNoise}: plain numbers, so a saved state resumes the same
 * noise stream.
 *
 * @category Transforms
 */
export interface AddNoiseState {
  /** Updates done so far. */
  readonly count: number;
  /** Key of the noise stream, an integer in `[0, 2^32)`; split at every update. */
  readonly rngKey: number;
}

/** @internal Check a seed and return it as a stream key. */
export function seedToKey(owner: string, seed: number): number {
  if (seed >= 2 ** 32) {
    throw new InvalidOptionError(owner, 'seed', seed, 'an integer in [0, 2^32)');
  }
  return seed >>> 0;
}

/**
 * Add annealed Gaussian noise to the updates (Neelakantan et al., 2015,
 * "Adding Gradient Noise Improves Learning for Very Deep Networks",
 * arXiv:1511.06807), as Optax's `add_noise`. With `t = count + 1`:
 *
 * ```
 * sigma² = eta / t^gamma
 * u      ← u + sigma·z,      z ~ N(0, 1) per coordinate
 * ```
 *
 * The noise is deterministic given the seed: the state holds the update
 * count and a 32-bit key that is split at every update into the next key and
 * the key of this update's noise (as JAX splits its PRNG key). Each leaf draws
 * from its own key (by its place in canonical order, so the order in which
 * object keys were inserted does not matter), and each coordinate from a
 * counter-based hash of that key, turned into normals by Box–Muller. The
 * stream is this library's own: the same seed gives the same noise on every
 * backend and after a save and load, but not the numbers JAX would draw.
 *
 * @category Transforms
 * @example
 * ```ts
 * import { chain } from '@tfopt/core';
 * import { addNoise, scaleByLearningRate } from '@tfopt/transforms';
 * const tx = chain(addNoise({ eta: 0.01, gamma: 0.55, seed: 42 }), scaleByLearningRate(0.01));
 * ```
 */
export function addNoise(options: AddNoiseOptions): GradientTransformation<AddNoiseState> {
  const owner = 'addNoise';
  const { eta, gamma, seed } = readOptions(owner, options, ADD_NOISE_RULES, { seed: 0 });
  requireOption(owner, 'eta', eta, 'a finite number >= 0');
  requireOption(owner, 'gamma', gamma, 'a finite number >= 0');
  const key = seedToKey(owner, seed);
  return withSpec(
    {
      init: () => ({ count: 0, rngKey: key }),
      update: (updates, state) => {
        const count = state.count + 1;
        const sigma = Math.sqrt(eta / count ** gamma);
        const [rngKey, sampleKey] = splitKey(state.rngKey);
        const u = tidy(() => {
          let leaf = 0;
          return treeMap((g) => {
            const z = gaussianNoise(sampleKey, leaf++, g.size);
            for (let i = 0; i < z.length; i++) z[i] = sigma * (z[i] as number);
            return tf.add(g, tf.tensor(Float32Array.from(z), g.shape, 'float32'));
          }, updates);
        });
        return [u, { count, rngKey }];
      },
    },
    owner,
    [options],
  );
}

// A counter-based generator: every number is a hash of (key, counter), so any
// leaf or coordinate can be drawn without drawing the ones before it.

/** A 32-bit integer finaliser with good avalanche (Wellons' "lowbias32"). */
function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The hash of `counter` under `key`, an integer in `[0, 2^32)`. */
function hash2(key: number, counter: number): number {
  return mix32((key ^ mix32((counter + 0x9e3779b9) >>> 0)) >>> 0);
}

/**
 * @internal Split a stream key into the next key and a key for this draw, as
 * JAX's `random.split` does.
 */
export function splitKey(key: number): [next: number, sample: number] {
  return [hash2(key, 0), hash2(key, 1)];
}

/**
 * @internal `size` standard normals in float64 for leaf number `leaf` under
 * `sampleKey`: coordinate `j` is the cosine (even `j`) or sine (odd `j`) half
 * of the Box–Muller pair drawn from the hashes of `2·⌊j/2⌋` and `2·⌊j/2⌋ + 1`.
 */
export function gaussianNoise(sampleKey: number, leaf: number, size: number): Float64Array {
  const leafKey = hash2(sampleKey, leaf);
  const out = new Float64Array(size);
  for (let j = 0; j < size; j += 2) {
    // Uniforms in (0, 1): never 0, so the logarithm is finite.
    const u1 = (hash2(leafKey, j) + 0.5) / 2 ** 32;
    const u2 = (hash2(leafKey, j + 1) + 0.5) / 2 ** 32;
    const r = Math.sqrt(-2 * Math.log(u1));
    out[j] = r * Math.cos(2 * Math.PI * u2);
    if (j + 1 < size) out[j + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}
