import type * as tf from '@tensorflow/tfjs-core';
import { isTensor, type Tree } from '@tfopt/core';
import { fc, logUniform, propertyRow, propertySuite } from '@tfopt/testing';
import {
  adam,
  conditionallyMask,
  conditionallyTransform,
  flatten,
  freeze,
  type LabelTree,
  lookahead,
  type MaskTree,
  masked,
  multiSteps,
  namedChain,
  partition,
  scaleByLearningRate,
  selectiveTransform,
  sgd,
  trace,
} from './index.js';

// The combinators through the random property table of @tfopt/testing (key
// order, chain laws, purity, ownership, leaks) over random trees: nested
// objects with odd keys, arrays, scalar and empty leaves, empty containers.
// Labels and masks are functions of the tree, so they fit any layout.

/** A tree shaped like `tree` with `f(leaf)` at every leaf. */
function mapLeaves<V>(tree: Tree, f: (leaf: tf.Tensor) => V): unknown {
  if (isTensor(tree)) return f(tree);
  if (Array.isArray(tree)) return tree.map((t) => mapLeaves(t, f));
  const record = tree as Readonly<Record<string, Tree>>;
  return Object.fromEntries(Object.keys(record).map((k) => [k, mapLeaves(record[k] as Tree, f)]));
}

const byRank = (p: Tree) => mapLeaves(p, (t) => (t.rank % 2 === 0 ? 'even' : 'odd')) as LabelTree;
const bigLeaves = (p: Tree) => mapLeaves(p, (t) => t.size > 1) as MaskTree;
const scalars = (p: Tree) => mapLeaves(p, (t) => t.rank === 0) as MaskTree;

const lr = logUniform(1e-4, 1);
const decay = fc.double({ min: 0, max: 0.99, noNaN: true });

propertySuite('combinators (random properties)', [
  propertyRow({
    name: 'namedChain(trace, scaleByLearningRate)',
    hyper: fc.tuple(lr, decay),
    build: ([rate, d]) =>
      namedChain([
        ['momentum', trace({ decay: d })],
        ['lr', scaleByLearningRate(rate)],
      ]),
  }),
  propertyRow({
    name: 'partition(adam | sgd + momentum) by leaf rank',
    hyper: fc.tuple(lr, decay),
    build: ([rate, momentum]) =>
      partition({ even: adam(rate), odd: sgd(rate, { momentum }) }, byRank),
  }),
  propertyRow({
    name: 'masked(adam) on leaves of more than one element',
    hyper: lr,
    build: (rate) => masked(adam(rate), bigLeaves),
  }),
  propertyRow({
    name: 'freeze of the scalars',
    hyper: fc.constant(null),
    build: () => freeze(scalars),
  }),
  propertyRow({
    name: 'selectiveTransform(sgd + momentum), scalars frozen',
    hyper: fc.tuple(lr, decay),
    build: ([rate, momentum]) =>
      selectiveTransform(sgd(rate, { momentum }), { freezeMask: scalars }),
  }),
  propertyRow({
    name: 'flatten(adam)',
    hyper: lr,
    build: (rate) => flatten(adam(rate)),
  }),
  propertyRow({
    name: 'multiSteps(adam)',
    hyper: fc.tuple(
      lr,
      fc.integer({ min: 1, max: 3 }),
      fc.constantFrom('mean', 'sum') as fc.Arbitrary<'mean' | 'sum'>,
    ),
    build: ([rate, everyK, accumulation]) => multiSteps(adam(rate), { everyK, accumulation }),
  }),
  propertyRow({
    name: 'lookahead(sgd + momentum)',
    hyper: fc.record({
      rate: lr,
      momentum: decay,
      syncPeriod: fc.integer({ min: 1, max: 3 }),
      slowStepSize: fc.double({ min: 0, max: 1, noNaN: true }),
      resetState: fc.boolean(),
    }),
    build: ({ rate, momentum, ...options }) => lookahead(sgd(rate, { momentum }), options),
  }),
  propertyRow({
    name: 'conditionallyTransform(adam) every other step',
    hyper: lr,
    build: (rate) => conditionallyTransform(adam(rate), (step) => step % 2 === 0),
  }),
  propertyRow({
    name: 'conditionallyMask(adam) after the first step',
    hyper: lr,
    build: (rate) => conditionallyMask(adam(rate), (step) => step >= 1),
  }),
]);
