// tfjs-core registers no gradients by itself; the suite's problems use tf.grads.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import {
  chain,
  type GradientTransformation,
  InvalidOptionError,
  type StepResult,
  step,
  type Tree,
  treeDispose,
} from '@tfopt/core';
import { describeEachBackend, optimizerPropertySuite, values } from '@tfopt/testing';
import { adagrad, adam, sgd } from '@tfopt/transforms';
import { describe, expect, it } from 'vitest';
// From the entry module, so that the EG links have their fused forms as adagrad, adam and sgd do.
import { egAdagrad, egAdam, egSgdm } from './index.js';

// Every EG optimizer through the shared property table with the suite's
// default tolerances. Rates and step budgets were picked from a scan (each
// row also converges at 0.7x and 1.4x its rate, on cpu and wasm).
//
// Rows with gains bound them to [0.01, 2] on Rosenbrock. With the default
// upper bound 100 the gains grow along the curved valley (the gradient keeps
// its sign for hundreds of steps) until the effective step passes the
// stability limit; the oscillation that follows shrinks them only at
// exp(-gainLearningRate) per step, too slowly. Convergence within the step budget
// then depends on the learning rate and even on the backend's rounding
// (e.g. egAdam(0.05) converges on cpu and not on wasm), so such rows would
// test luck, not the optimizer. AdaGrad-based rows get 5,000 steps, as plain
// AdaGrad needs.
const tightGains = { max: 2 } as const;

optimizerPropertySuite('eg optimizers', [
  {
    name: 'egSgdm',
    parabola: () => egSgdm(0.02),
    rosenbrock: () => egSgdm(1e-3, { gains: tightGains }),
  },
  {
    name: 'egSgdm global-only',
    parabola: () => egSgdm(0.02, { gains: false }),
    rosenbrock: () => egSgdm(1e-3, { gains: false }),
  },
  {
    name: 'egSgdm local-only',
    parabola: () => egSgdm(0.02, { scale: false }),
    rosenbrock: () => egSgdm(1e-3, { scale: false, gains: tightGains }),
  },
  {
    name: 'egSgdm per-tensor scale',
    parabola: () => egSgdm(0.02, { scale: { perTensor: true } }),
    rosenbrock: () => egSgdm(1e-3, { gains: tightGains, scale: { perTensor: true } }),
  },
  {
    name: 'egAdam',
    parabola: () => egAdam(0.05),
    rosenbrock: () => egAdam(0.03, { gains: tightGains }),
  },
  {
    name: 'egAdam global-only',
    parabola: () => egAdam(0.05, { gains: false }),
    rosenbrock: () => egAdam(0.15, { gains: false }),
  },
  {
    name: 'egAdam local-only',
    parabola: () => egAdam(0.05, { scale: false }),
    rosenbrock: () => egAdam(0.05, { scale: false, gains: tightGains }),
  },
  {
    name: 'egAdagrad',
    parabola: () => egAdagrad(0.5),
    rosenbrock: () => egAdagrad(0.5, { gains: tightGains }),
    rosenbrockSteps: 5000,
  },
  {
    name: 'egAdagrad global-only',
    parabola: () => egAdagrad(0.5, { gains: false }),
    rosenbrock: () => egAdagrad(1, { gains: false }),
    rosenbrockSteps: 5000,
  },
  {
    name: 'egAdagrad local-only',
    parabola: () => egAdagrad(0.5, { scale: false }),
    rosenbrock: () => egAdagrad(0.5, { scale: false, gains: tightGains }),
    rosenbrockSteps: 5000,
  },
]);

/** Run `tx` on fixed gradients (a mix of signs and sizes over 30 steps); return the final params. */
function runFixed(tx: GradientTransformation<any>, steps = 30): number[][] {
  let params: Tree = { w: tf.tensor1d([0.5, -1.5, 2]), b: tf.tensor2d([[0.1, -0.2]]) };
  let state: unknown = tx.init(params);
  for (let i = 0; i < steps; i++) {
    const grads = {
      w: tf.tensor1d([Math.sin(i), 0.3 * Math.cos(0.7 * i), 1 - 0.05 * i]),
      b: tf.tensor2d([[(-1) ** i * 0.4, 0.2]]),
    };
    const next: StepResult<unknown> = step(tx, params, grads, state);
    treeDispose([grads, params]);
    params = next.params;
    state = next.state;
  }
  const { w, b } = params as { w: tf.Tensor; b: tf.Tensor };
  const out = [values(w), values(b)];
  treeDispose([params, state]);
  return out;
}

describeEachBackend('eg optimizers with zero EG rates', () => {
  // exp(0 * a) = 1 and p * 1 = p exactly, so the updates are the base
  // optimizer's, bit for bit.
  const off = { gains: { gainLearningRate: 0 }, scale: { scaleLearningRate: 0 } } as const;
  it('egSgdm is sgd with momentum', () => {
    expect(runFixed(egSgdm(0.1, { momentum: 0.8, ...off }))).toEqual(
      runFixed(sgd(0.1, { momentum: 0.8 })),
    );
    expect(runFixed(egSgdm(0.1, { momentum: 0.8, nesterov: true, ...off }))).toEqual(
      runFixed(sgd(0.1, { momentum: 0.8, nesterov: true })),
    );
  });
  it('egAdam is adam', () => {
    expect(runFixed(egAdam(0.01, { b1: 0.8, ...off }))).toEqual(runFixed(adam(0.01, { b1: 0.8 })));
  });
  it('egAdagrad is adagrad', () => {
    expect(runFixed(egAdagrad(0.3, off))).toEqual(runFixed(adagrad(0.3)));
  });
  it('with both parts switched off, too', () => {
    expect(runFixed(egAdam(0.01, { gains: false, scale: false }))).toEqual(runFixed(adam(0.01)));
  });
  it('and the parts do change the trajectory when their rates are not zero', () => {
    expect(runFixed(egAdam(0.01, { gains: { gainLearningRate: 0.05 } }))).not.toEqual(
      runFixed(adam(0.01)),
    );
  });
});

describe('eg optimizer options', () => {
  const cases: [string, () => unknown, string][] = [
    ['egSgdm', () => egSgdm(-1), 'learningRate'],
    ['egSgdm', () => egSgdm(0.1, { momentum: 1 }), 'momentum'],
    ['egSgdm', () => egSgdm(0.1, { nesterov: 'yes' as never }), 'nesterov'],
    ['egSgdm', () => egSgdm(0.1, { gains: { gainLearningRate: -0.1 } }), 'gains.gainLearningRate'],
    ['egSgdm', () => egSgdm(0.1, { gains: { beta: 1 } }), 'gains.beta'],
    ['egSgdm', () => egSgdm(0.1, { scale: { max: 0.5 } }), 'scale.max'],
    ['egSgdm', () => egSgdm(0.1, { scale: 3 as never }), 'scale'],
    ['egSgdm', () => egSgdm(0.1, { gains: true as never }), 'gains'],
    ['egSgdm', () => egSgdm(0.1, { mommentum: 0.9 } as never), 'mommentum'],
    ['egAdam', () => egAdam(Number.NaN), 'learningRate'],
    ['egAdam', () => egAdam(1e-3, { b1: 1.5 }), 'b1'],
    ['egAdam', () => egAdam(1e-3, { eps: -1 }), 'eps'],
    ['egAdam', () => egAdam(1e-3, { scale: { min: 0 } }), 'scale.min'],
    ['egAdam', () => egAdam(1e-3, { gains: { signal: 'cosine' as never } }), 'gains.signal'],
    ['egAdam', () => egAdam(1e-3, { beta1: 0.9 } as never), 'beta1'],
    ['egAdagrad', () => egAdagrad(0.1, { initialAccumulatorValue: -1 }), 'initialAccumulatorValue'],
    ['egAdagrad', () => egAdagrad(0.1, { scale: { perTensor: 1 as never } }), 'scale.perTensor'],
    // The former option names are rejected inside the groups too.
    [
      'egAdam',
      () => egAdam(1e-3, { scale: { learningRate: 0.01 } as never }),
      'scale.learningRate',
    ],
    ['egSgdm', () => egSgdm(0.1, { gains: { learningRate: 0.01 } as never }), 'gains.learningRate'],
  ];
  for (const [owner, build, option] of cases) {
    it(`${owner} rejects a bad "${option}"`, () => {
      let error: unknown;
      try {
        build();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).owner).toBe(owner);
      expect((error as InvalidOptionError).option).toBe(option);
      expect((error as Error).message).toContain(`${owner}: option "${option}" must be`);
    });
  }
});

describe('eg optimizer renamed options', () => {
  it('name the new option inside the group', () => {
    expect(() => egAdam(1e-3, { scale: { learningRate: 0.01 } as never })).toThrow(
      /^egAdam: option "scale\.learningRate" must be absent \(renamed scaleLearningRate; /,
    );
    expect(() => egAdagrad(0.1, { gains: { learningRate: 0.01 } as never })).toThrow(
      /^egAdagrad: option "gains\.learningRate" must be absent \(renamed gainLearningRate; /,
    );
  });
});

describe('eg optimizer specs', () => {
  it('each alias records its own name and exact arguments', () => {
    const schedule = (count: number) => 0.1 / (1 + count);
    const options = { momentum: 0.5, scale: { perTensor: true } };
    expect(egSgdm(schedule, options).spec).toEqual({ name: 'egSgdm', args: [schedule, options] });
    expect(egAdam(1e-3).spec).toEqual({ name: 'egAdam', args: [1e-3] });
    expect(egAdagrad(0.1, { gains: false }).spec).toEqual({
      name: 'egAdagrad',
      args: [0.1, { gains: false }],
    });
  });
  it('a chain of eg transforms has a chain spec', () => {
    const tx = chain(egAdam(1e-3));
    expect(tx.spec?.name).toBe('chain');
  });
});

describeEachBackend('eg optimizers with a learning-rate schedule', () => {
  it('apply the schedule of the step count at the end', () => {
    // Zero EG rates: egSgdm(schedule) must equal sgd(schedule).
    const schedule = (count: number) => 0.1 * 0.9 ** count;
    const off = { gains: { gainLearningRate: 0 }, scale: { scaleLearningRate: 0 } } as const;
    expect(runFixed(egSgdm(schedule, off))).toEqual(runFixed(sgd(schedule, { momentum: 0.9 })));
  });
});
