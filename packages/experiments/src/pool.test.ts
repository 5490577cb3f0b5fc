import { describe, expect, it } from 'vitest';
import { presetConfig, type StudyConfig } from './config.js';
import { planAll } from './plan.js';
import { inSpecOrder } from './pool.js';
import type { RunSpec } from './train.js';

/** The first wave of the quick preset's plan: grid and EG-rate runs, in plan order. */
function quickSpecs(): readonly RunSpec[] {
  const config: StudyConfig = {
    ...presetConfig('quick'),
    backend: 'cpu',
    workers: 2,
    out: 'x',
    quiet: true,
  };
  return planAll(config)[0] ?? [];
}

describe('inSpecOrder', () => {
  it('puts results that finished in any order back into the order of the specs', () => {
    const specs = quickSpecs();
    expect(specs.length).toBeGreaterThan(3);
    // Finished last-first, then with the first two swapped: what two workers can produce.
    const finished = [...specs].reverse().map((spec, i) => ({ spec, slot: i % 2 }));
    [finished[0], finished[1]] = [
      finished[1] as (typeof finished)[0],
      finished[0] as (typeof finished)[0],
    ];
    const ordered = inSpecOrder(specs, finished);
    expect(ordered.map((r) => r.spec.key)).toEqual(specs.map((s) => s.key));
    // The input is left as it was.
    expect(finished[0]?.spec.key).toBe(specs[specs.length - 2]?.key);
  });

  it('keeps a subset (runs dropped by an abort) in spec order', () => {
    const specs = quickSpecs();
    const picked = [specs[3], specs[0], specs[2]].map((spec) => ({ spec, message: 'x' }));
    expect(
      inSpecOrder(specs, picked as { spec: (typeof specs)[0]; message: string }[]).map(
        (r) => r.spec.key,
      ),
    ).toEqual([specs[0], specs[2], specs[3]].map((s) => s?.key));
  });
});
