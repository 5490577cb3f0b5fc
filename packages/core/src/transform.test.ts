import * as tf from '@tensorflow/tfjs-core';
import { describeEachBackend, expectArrayClose, values } from '@tfopt/testing';
import { concatAll } from 'fp-ts/lib/Monoid.js';
import { expect, it } from 'vitest';
import {
  chain,
  disposeReplaced,
  type EmptyState,
  type GradientTransformation,
  identity,
  specOf,
  stateless,
  TfoptError,
  type Tree,
  tidy,
  transformMonoid,
  treeDispose,
  treeMap,
  treeScale,
  treeZerosLike,
  type UpdateContext,
  withSpec,
} from './index.js';

// Small transforms written for these tests only.

/** Adds the number of earlier updates to every element; the state is a plain count. */
function addCount(): GradientTransformation<{ readonly count: number }> {
  return {
    init: () => ({ count: 0 }),
    update: (updates, state) =>
      tidy(
        () =>
          [treeMap((u) => tf.add(u, state.count), updates), { count: state.count + 1 }] as const,
      ),
  };
}

/** Multiplies the updates by `k`; no state. */
function scaleBy(k: number): GradientTransformation<EmptyState> {
  return stateless((u) => treeScale(u, k));
}

/** Running sum of the updates, returned both as the update and as the state (aliased). */
function accumulate(): GradientTransformation<{ readonly sum: Tree }> {
  return {
    init: (params) => ({ sum: treeZerosLike(params) }),
    update: (updates, state) =>
      tidy(() => {
        const sum = treeMap((s, u) => tf.add(s, u as tf.Tensor), state.sum, updates);
        return [sum, { sum }] as const;
      }),
  };
}

/** Records the updates and context it sees, passing updates through. */
function recorder(
  log: { updates: Tree; context: UpdateContext | undefined }[],
): GradientTransformation<EmptyState> {
  return {
    init: () => ({}),
    update: (updates, state, _params, context) => {
      log.push({ updates, context });
      return [updates, state];
    },
  };
}

/** Runs `tx` for `steps` steps on the gradient `g`, returning each step's update values. */
function run(tx: GradientTransformation<any>, g: number[], steps: number): number[][] {
  const grad = tf.tensor1d(g);
  let state = tx.init(grad);
  const out: number[][] = [];
  for (let i = 0; i < steps; i++) {
    const [u, next] = tx.update(grad, state, grad);
    out.push(values(u as tf.Tensor));
    disposeReplaced(u, next, grad, state);
    disposeReplaced(state, next, grad);
    state = next;
  }
  treeDispose([state, grad]);
  return out;
}

// For a = addCount, b = scaleBy(2), c = accumulate and a constant g = [1, -1]:
//   step 0: a -> [1, -1],  b -> [2, -2], c: sum = [2, -2]
//   step 1: a -> [2,  0],  b -> [4,  0], c: sum = [6, -2]
//   step 2: a -> [3,  1],  b -> [6,  2], c: sum = [12, 0]
const ABC = [
  [2, -2],
  [6, -2],
  [12, 0],
];

describeEachBackend('chain', () => {
  it('runs its links left to right (hand-derived values)', () => {
    expect(run(chain(addCount(), scaleBy(2), accumulate()), [1, -1], 3)).toEqual(ABC);
  });

  it('is associative over several steps', () => {
    const left = run(chain(chain(addCount(), scaleBy(2)), accumulate()), [1, -1], 3);
    const right = run(chain(addCount(), chain(scaleBy(2), accumulate())), [1, -1], 3);
    expect(left).toEqual(ABC);
    expect(right).toEqual(ABC);
  });

  it('chain() and identity() return the updates unchanged', () => {
    const g = { w: tf.tensor1d([1, 2]), b: [tf.scalar(3)] };
    const txs: GradientTransformation<any>[] = [chain(), identity(), chain(identity(), identity())];
    for (const tx of txs) {
      const state = tx.init(g);
      const [u] = tx.update(g, state, g);
      expect(u).toEqual(g);
      expect((u as typeof g).w).toBe(g.w); // the very same tensors: nothing was allocated
    }
    treeDispose(g);
  });

  it('identity is a unit on both sides', () => {
    const plain = run(chain(addCount(), accumulate()), [0.5, 2], 3);
    // a: [0.5, 2], [1.5, 3], [2.5, 4]; sums: [0.5, 2], [2, 5], [4.5, 9]
    expect(plain).toEqual([
      [0.5, 2],
      [2, 5],
      [4.5, 9],
    ]);
    expect(run(chain(identity(), addCount(), accumulate()), [0.5, 2], 3)).toEqual(plain);
    expect(run(chain(addCount(), accumulate(), identity()), [0.5, 2], 3)).toEqual(plain);
  });

  it('forms a monoid with transformMonoid and concatAll', () => {
    const folded = concatAll(transformMonoid)([addCount(), scaleBy(2), accumulate()]);
    expect(run(folded, [1, -1], 3)).toEqual(ABC);
    const { concat, empty } = transformMonoid;
    expect(run(concat(empty, concat(addCount(), empty)), [1, -1], 2)).toEqual([
      [1, -1],
      [2, 0],
    ]);
    expect(run(concatAll(transformMonoid)([]), [4, 5], 1)).toEqual([[4, 5]]);
  });

  it('gives every link the raw gradient in context.grads, and passes other fields on', () => {
    const log: { updates: Tree; context: UpdateContext | undefined }[] = [];
    const tx = chain(recorder(log), scaleBy(3), recorder(log));
    const g = tf.tensor1d([1, 2]);
    const loss = tf.scalar(0.25);
    const context = { loss, note: 'extra' };
    const [u, s] = tx.update(g, tx.init(g), g, context);
    expect(log).toHaveLength(2);
    for (const { context: seen } of log) {
      expect(seen?.grads).toBe(g);
      expect(seen?.loss).toBe(loss);
      expect(seen?.note).toBe('extra');
    }
    expect(values(log[1]!.updates as tf.Tensor)).toEqual([3, 6]); // the second saw scaled updates
    expect(Object.hasOwn(context, 'grads')).toBe(false); // the caller's context is not mutated
    treeDispose([u, s, g, loss]);
  });

  it('keeps grads set by the caller or by an outer chain', () => {
    const log: { updates: Tree; context: UpdateContext | undefined }[] = [];
    const g = tf.tensor1d([1, -1]);
    const nested = chain(scaleBy(2), chain(scaleBy(5), recorder(log)));
    const [u1, s1] = nested.update(g, nested.init(g), g);
    expect(log[0]?.context?.grads).toBe(g);
    expect(values(log[0]!.updates as tf.Tensor)).toEqual([10, -10]);

    const raw = tf.tensor1d([7, 7]);
    const inner = chain(recorder(log));
    const [u2, s2] = inner.update(g, inner.init(g), g, { grads: raw, loss: 3 });
    expect(log[1]?.context?.grads).toBe(raw);
    expect(log[1]?.context?.loss).toBe(3);
    treeDispose([u1, s1, u2, s2, g, raw]);
  });

  it('throws a clear error for a state it did not build', () => {
    const tx = chain(addCount(), accumulate());
    const g = tf.tensor1d([1]);
    expect(() => tx.update(g, [{ count: 0 }] as never)).toThrow(TfoptError);
    expect(() => tx.update(g, [{ count: 0 }] as never)).toThrow(
      "chain: expected a state tuple of 2 entries (one per link), got 1 entries; was the state built by this chain's init?",
    );
    expect(() => tx.update(g, { count: 0 } as never)).toThrow('got object');
    g.dispose();
  });

  it('is pure and leaks nothing over many steps', () => {
    const tx = chain(addCount(), scaleBy(0.5), accumulate());
    const g = { w: tf.tensor1d([1, 2]), b: [tf.zeros([2, 2])] };
    const s0 = tx.init(g);
    const [a, sa] = tx.update(g, s0, g);
    const [b, sb] = tx.update(g, s0, g);
    expectArrayClose(values((a as typeof g).w), values((b as typeof g).w));
    expect(sa[0]).toEqual(sb[0]);
    // Inputs survive, unchanged: the gradient and the initial running sum.
    const sum0 = s0[2].sum as typeof g;
    for (const t of [g.w, g.b[0]!, sum0.w, sum0.b[0]!]) expect(t.isDisposed).toBe(false);
    expect(values(g.w)).toEqual([1, 2]);
    expect(values(sum0.w)).toEqual([0, 0]);
    treeDispose([a, sa, b, sb]);

    let state = s0;
    let before = 0;
    for (let i = 0; i < 200; i++) {
      if (i === 5) before = tf.memory().numTensors;
      const [u, next] = tx.update(g, state, g);
      disposeReplaced(u, next, g, state);
      disposeReplaced(state, next, g);
      state = next;
    }
    expect(tf.memory().numTensors).toBe(before);
    // count after 200 updates
    expect(state[0].count).toBe(200);
    treeDispose([state, g]);
  });

  it('stateless runs its function inside tidy', () => {
    const g = { w: tf.tensor1d([1, 2]), v: tf.tensor1d([3]) };
    const tx = stateless((u) => treeMap((x) => tf.add(tf.mul(x, 2), 1), u));
    const before = tf.memory().numTensors;
    const [u] = tx.update(g, tx.init(g));
    // Only the two outputs remain; the intermediate products were released.
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(values((u as typeof g).w)).toEqual([3, 5]);
    treeDispose([u, g]);
  });
});

describeEachBackend('chain spec', () => {
  it('is present only when every link has one', () => {
    const named = withSpec(scaleBy(2), 'scaleBy', [2]);
    expect(specOf(chain(identity(), named))).toEqual({
      name: 'chain',
      args: [
        { name: 'identity', args: [] },
        { name: 'scaleBy', args: [2] },
      ],
    });
    expect(specOf(chain(identity(), scaleBy(2)))).toBeUndefined();
    expect(specOf(chain(chain(named), identity()))).toEqual({
      name: 'chain',
      args: [
        { name: 'chain', args: [{ name: 'scaleBy', args: [2] }] },
        { name: 'identity', args: [] },
      ],
    });
    expect(specOf(chain())).toEqual({ name: 'chain', args: [] });
  });
});
