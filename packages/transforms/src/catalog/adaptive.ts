import type { OptimizerEntry } from '@tfopt/core';

/** @internal Catalog entries of the aliases defined next to this file's namesake. */
export const ENTRIES: readonly OptimizerEntry[] = [];
