import { describe, expect, it } from 'vitest';
import {
  bytesPerParam,
  copyGbPerSec,
  gbPerSec,
  median,
  stepBandwidth,
  TRAFFIC,
  trafficOf,
} from './traffic.js';

describe('traffic model', () => {
  it('counts 4 bytes per array read or written', () => {
    // adam: reads param, grad, mu, nu; writes param, mu, nu: 7 × 4 = 28.
    expect(bytesPerParam(trafficOf('adam'))).toBe(28);
    expect(bytesPerParam(trafficOf('tf.train.adam'))).toBe(28);
    // momentum: reads param, grad, trace; writes param, trace: 5 × 4 = 20.
    expect(bytesPerParam(trafficOf('sgd'))).toBe(20);
    // egAdam: alignment pass reads g, v (2); main pass reads 6, writes 6: 14 × 4 = 56.
    expect(bytesPerParam(trafficOf('egAdam'))).toBe(56);
    // egSgdm: 2 + 5 reads + 4 writes = 11 × 4 = 44.
    expect(bytesPerParam(trafficOf('egSgdm'))).toBe(44);
    // prodigy: estimate pass reads g, x, x0, s and writes s (5); main pass 7: 12 × 4 = 48.
    expect(bytesPerParam(trafficOf('prodigy'))).toBe(48);
    expect(bytesPerParam(trafficOf('scheduleFreeAdamw'))).toBe(28);
  });

  it('has a model for every benchmarked optimizer and names an unknown one', () => {
    expect(Object.keys(TRAFFIC).sort()).toEqual(
      [
        'adam',
        'egAdam',
        'egSgdm',
        'prodigy',
        'scheduleFreeAdamw',
        'sgd',
        'tf.train.adam',
        'tf.train.momentum',
      ].sort(),
    );
    expect(() => trafficOf('adamax')).toThrow('no traffic model for optimizer "adamax"');
  });
});

describe('bandwidth arithmetic', () => {
  it('turns bytes and milliseconds into GB/s', () => {
    // 28e6 bytes in 10 ms = 2.8e9 bytes/s.
    expect(gbPerSec(28e6, 10)).toBeCloseTo(2.8, 12);
  });

  it('counts a copy as read plus write', () => {
    // 64 MiB = 67108864 bytes, moved twice in 10 ms: 134217728 / 0.01 / 1e9 = 13.4217728.
    expect(copyGbPerSec(64 * 2 ** 20, 10)).toBeCloseTo(13.4217728, 10);
  });

  it('gives a step its rate and its fraction of the copy rate', () => {
    // 28 B × 1e6 params in 5 ms = 5.6 GB/s; against 20 GB/s: 0.28.
    const { gbPerSec: rate, fractionOfCopy } = stepBandwidth(28, 1e6, 5, 20);
    expect(rate).toBeCloseTo(5.6, 12);
    expect(fractionOfCopy).toBeCloseTo(0.28, 12);
  });

  it('takes the median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
