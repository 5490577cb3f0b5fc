import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tfopt/testing';
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  type GradientTransformation,
  type InjectHyperparamsState,
  injectHyperparams,
  injectLearningRate,
  type ScalarOrSchedule,
  type StateOf,
  type Tree,
  tidy,
  treeDispose,
  treeMap,
  treeZerosLike,
} from './index.js';

/** A transform whose state type is specific, to see it survive injection. */
interface VelocityState {
  readonly velocity: Tree;
  readonly steps: number;
}

function velocity({
  learningRate,
}: {
  learningRate: number;
}): GradientTransformation<VelocityState> {
  return {
    init: (params) => ({ velocity: treeZerosLike(params), steps: 0 }),
    update: (updates, state) =>
      tidy(() => {
        const v = treeMap((v0, g) => tf.add(tf.mul(v0, 0.5), g), state.velocity, updates);
        return [
          treeMap((x) => tf.mul(x, -learningRate), v),
          { velocity: v, steps: state.steps + 1 },
        ];
      }),
  };
}

/** An alias called as alias(learningRate, options), like every tfopt alias. */
function velocityAlias(
  learningRate: ScalarOrSchedule,
  _options?: { readonly unused?: boolean },
): GradientTransformation<VelocityState> {
  return velocity({ learningRate: typeof learningRate === 'number' ? learningRate : 0.1 });
}

describe('injectHyperparams types', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it("exposes the inner transform's state type", () => {
    const tx = injectHyperparams(velocity, { learningRate: 0.1 });
    expectTypeOf(tx).toEqualTypeOf<GradientTransformation<InjectHyperparamsState<VelocityState>>>();
    expectTypeOf<StateOf<typeof tx>['inner']>().toEqualTypeOf<VelocityState>();
    // And at run time the inner state is the one the type says.
    const state = tx.init({ w: tf.zeros([2]) });
    expectTypeOf(state.inner.steps).toEqualTypeOf<number>();
    expect(state.inner.steps).toBe(0);
    treeDispose(state);
  });

  it('keeps it through injectLearningRate', () => {
    const tx = injectLearningRate(velocityAlias, 0.1, { unused: true });
    expectTypeOf<StateOf<typeof tx>>().toEqualTypeOf<InjectHyperparamsState<VelocityState>>();
    // A factory whose result is typed loosely still gives a usable (unknown) inner state.
    const loose = injectHyperparams(
      ({ learningRate }) => velocity({ learningRate }) as GradientTransformation<unknown>,
      { learningRate: 0.1 },
    );
    expectTypeOf<StateOf<typeof loose>['inner']>().toEqualTypeOf<unknown>();
  });
});
