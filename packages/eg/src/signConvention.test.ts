import { chain, identity, optimizerCatalog, TfoptError, type Tree } from '@tfopt/core';
import {
  adam,
  clipByGlobalNorm,
  lion,
  scale,
  scaleByAdam,
  scaleByLearningRate,
  trace,
} from '@tfopt/transforms';
import { describe, expect, it } from 'vitest';
import { egAdagrad, egAdam, egSgdm } from './aliases.js';
import { egCoordinateGains } from './coordinateGains.js';
import { egGlobalScale } from './globalScale.js';
import { hypergradientScale } from './hypergradient.js';
import { assertEgSignConvention } from './signConvention.js';

describe('assertEgSignConvention', () => {
  it('accepts the aliases and chains with EG transforms before the sign flip', () => {
    for (const tx of [
      egSgdm(0.1),
      egAdam(1e-3),
      egAdagrad(0.1, { gains: false }),
      chain(clipByGlobalNorm(1), egAdam(1e-3)),
      chain(scaleByAdam(), egCoordinateGains(), chain(egGlobalScale()), scaleByLearningRate(1e-3)),
      chain(trace({ decay: 0.9 }), hypergradientScale(), scale(-0.1)),
      chain(scale(-1), scale(-2), egGlobalScale(), scaleByLearningRate(0.1)),
      chain(egGlobalScale(), scaleByLearningRate(0.1, { flipSign: false })),
      chain(scaleByLearningRate(0.1, { flipSign: false }), egGlobalScale(), scale(-1)),
    ]) {
      expect(() => assertEgSignConvention(tx)).not.toThrow();
    }
  });

  it('rejects an EG transform after scaleByLearningRate, a negative scale or a complete optimizer', () => {
    const cases = [
      [
        chain(scaleByAdam(), scaleByLearningRate(1e-3), egGlobalScale()),
        /egGlobalScale at chain\[2\]/,
      ],
      [
        chain(trace({ decay: 0.9 }), scale(-0.1), egCoordinateGains()),
        /egCoordinateGains at chain\[2\]/,
      ],
      [
        chain(adam(1e-3), chain(identity(), hypergradientScale())),
        /hypergradientScale at chain\[1\]\[1\]/,
      ],
      [chain(egAdam(1e-3), egGlobalScale()), /egGlobalScale at chain\[1\]/],
      [chain(lion(1e-4), egCoordinateGains()), /egCoordinateGains at chain\[1\]/],
    ] as const;
    for (const [tx, message] of cases) {
      expect(() => assertEgSignConvention(tx)).toThrow(TfoptError);
      expect(() => assertEgSignConvention(tx)).toThrow(message);
    }
  });

  it('treats every optimizer of the catalog as a complete, sign-flipping step', () => {
    const catalog = optimizerCatalog();
    expect(catalog.length).toBeGreaterThan(20);
    for (const entry of catalog) {
      const tx = chain(entry.factory(entry.typicalLearningRate), egGlobalScale());
      expect(() => assertEgSignConvention(tx), entry.name).toThrow(/egGlobalScale at chain\[1\]/);
    }
  });

  it('passes what carries no spec', () => {
    const custom = { init: () => ({}), update: (u: Tree) => [u, {}] as const };
    expect(() =>
      assertEgSignConvention(chain(scaleByLearningRate(1), custom, egGlobalScale())),
    ).not.toThrow();
  });
});
