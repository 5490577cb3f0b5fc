// Internal: pairing a state tree whose leaves are statistics of other shapes
// (row and column averages, per-axis accumulators) with the updates. Not
// exported from the package.
import type * as tf from '@tensorflow/tfjs-core';
import { type Tree, TreeStructureError, treeFlatten } from '@tfopt/core';

/**
 * The leaves of `stats` in the canonical order of `treeFlatten` (the order in
 * which `treeMap` visits the leaves of `updates`), after checking that both
 * trees have the same paths; the leaves' shapes may differ.
 */
export function statLeaves(owner: string, updates: Tree, stats: Tree, name: string): tf.Tensor[] {
  const paths = treeFlatten(updates, '', 'updates').map((leaf) => leaf.path);
  const leaves = treeFlatten(stats, '', name);
  const n = Math.max(paths.length, leaves.length);
  for (let i = 0; i < n; i++) {
    const expected = paths[i];
    const got = leaves[i]?.path;
    if (expected !== got) {
      const at = expected ?? (got as string);
      const detail =
        expected === undefined || (got !== undefined && got < expected)
          ? `is in ${name} but not in the updates`
          : `is in the updates but not in ${name}`;
      throw new TreeStructureError(at, detail, `${owner}: ${at === '' ? '(root)' : at} ${detail}`);
    }
  }
  return leaves.map((leaf) => leaf.tensor);
}
