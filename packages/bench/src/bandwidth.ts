/** The machine's memory bandwidth, as JavaScript sees it: a large typed-array copy. */
import { copyGbPerSec } from './traffic.js';

/** 64 MiB: far beyond every cache, so the copy runs at memory speed. */
export const COPY_BYTES = 64 * 2 ** 20;

/**
 * Time `copies` runs of `dst.set(src)` on two 64 MiB `Float32Array`s (after
 * one untimed copy that faults the pages in) and return each copy's rate in
 * GB/s (read plus write).
 */
export function measureCopyBandwidth(copies: number, arrayBytes = COPY_BYTES): number[] {
  const n = arrayBytes / 4;
  const src = new Float32Array(n);
  for (let i = 0; i < n; i += 1024) src[i] = i;
  const dst = new Float32Array(n);
  dst.set(src);
  const rates: number[] = [];
  for (let i = 0; i < copies; i++) {
    const t0 = performance.now();
    dst.set(src);
    rates.push(copyGbPerSec(arrayBytes, performance.now() - t0));
  }
  // Keep dst observable so the copies cannot be elided.
  if (dst[1024] !== 1024) throw new Error('copy bandwidth: the copy went wrong');
  return rates;
}
