import * as tf from '@tensorflow/tfjs';
import { joinPath, stepVariables, treeDispose } from '@tfopt/core';
import { type EgSgdmState, egSgdm, readEgScaleByPath } from '@tfopt/eg';
import { describeEachBackend, expectArrayClose } from '@tfopt/testing';
import { quietWasmLeakCheck, regressionData, regressionModel } from '@tfopt/testing/layers';
import { expect, it } from 'vitest';
import { TransformOptimizer } from './index.js';

// A per-tensor EG scale is a tree of scalars keyed like the variables, so
// TransformOptimizer's re-keying carries each variable's scale by name when
// the set of trained variables changes.
//
// The reference drives the same transform by hand, one state per layer
// (stepVariables over that layer's variables only), and simply skips the
// frozen layer: no re-keying is involved. egSgdm with the default 'sign'
// gains, a constant learning rate and one scale per tensor keeps nothing that
// couples variables and that counts steps in a way that changes the result
// (the gains' count only enters the 'product' signal), so the one optimizer
// over the whole model must match the per-layer reference step for step: the
// scales of the layer that keeps training continue unchanged through the
// freeze, and the frozen layer's scales (and momentum) are set aside and come
// back as they were when it is unfrozen.

const LR = 0.05;
// A fast scale rate, so that the scales move far from 1 before the freeze
// and a restart from 1 on unfreezing could not pass for a resumed scale.
const build = () =>
  egSgdm(LR, { momentum: 0.9, scale: { perTensor: true, scaleLearningRate: 0.2 } });
const tol = { rtol: 1e-5, atol: 1e-6 };

/** The names of the trainable variables of one layer, as the optimizer keys them. */
const namesOf = (layer: tf.layers.Layer): string[] =>
  layer.trainableWeights.map((w) => (w.read() as tf.Variable).name);

describeEachBackend('per-tensor EG scale across a layer freeze', (backend) => {
  quietWasmLeakCheck(backend);

  it("sets the frozen layer's scales aside and restores them; the others continue unchanged", async () => {
    const { xs, ys } = regressionData();
    const ours = regressionModel();
    const theirs = regressionModel();
    theirs.setWeights(ours.getWeights());
    const optimizer = new TransformOptimizer(build());

    // Reference: one transform and state per layer, over that layer's variables.
    const refTx = theirs.layers.map(() => build());
    const refVars = theirs.layers.map((layer) =>
      Object.fromEntries(
        layer.trainableWeights.map((w) => {
          const v = w.read() as tf.Variable;
          return [v.name, v];
        }),
      ),
    );
    const refState: EgSgdmState[] = refTx.map((tx, li) => tx.init(refVars[li]!));

    const ourNames = ours.layers.map(namesOf);
    const theirNames = theirs.layers.map(namesOf);
    /** Our scales and the reference's, per layer and weight, for the layers listed. */
    const scales = (layers: number[]) => {
      const held = readEgScaleByPath(optimizer.getState());
      const mine: number[] = [];
      const ref: number[] = [];
      for (const li of layers) {
        const refByPath = readEgScaleByPath(refState[li]);
        ourNames[li]!.forEach((name, wi) => {
          mine.push(held[joinPath('', name)] as number);
          ref.push(refByPath[joinPath('', theirNames[li]![wi]!)] as number);
        });
      }
      return { mine, ref };
    };

    const phases = [
      { frozen: false, steps: 6 },
      { frozen: true, steps: 5 },
      { frozen: false, steps: 4 },
    ];
    let beforeFreeze: number[] = [];
    for (const { frozen, steps } of phases) {
      ours.layers[0]!.trainable = !frozen;
      ours.compile({ optimizer, loss: 'meanSquaredError' });
      const trained = frozen ? [1] : [0, 1];
      for (let i = 0; i < steps; i++) {
        await ours.trainOnBatch(xs, ys);
        const vars = theirs.trainableWeights.map((w) => w.read() as tf.Variable);
        const { value, grads } = tf.variableGrads(
          () => tf.mean(tf.square(tf.sub(theirs.apply(xs) as tf.Tensor, ys))) as tf.Scalar,
          vars,
        );
        for (const li of trained) {
          const g = Object.fromEntries(theirNames[li]!.map((n) => [n, grads[n]!]));
          refState[li] = stepVariables(refTx[li]!, refVars[li]!, g, refState[li]!);
        }
        tf.dispose([value, grads]);
      }

      // The state's scale tree holds exactly the variables of the last step.
      const held = readEgScaleByPath(optimizer.getState());
      const expectedKeys = trained.flatMap((li) => ourNames[li]!.map((n) => joinPath('', n)));
      expect(Object.keys(held).sort()).toEqual(expectedKeys.sort());
      const { mine, ref } = scales(trained);
      expectArrayClose(mine, ref, tol, `scales after the ${frozen ? 'frozen' : 'trained'} phase`);
      ours.layers.forEach((layer, li) => {
        const theirsW = theirs.layers[li]!.getWeights();
        layer.getWeights().forEach((w, wi) => {
          expectArrayClose(w.dataSync(), theirsW[wi]!.dataSync(), tol, `layer ${li} weight ${wi}`);
        });
      });

      if (!frozen && beforeFreeze.length === 0) {
        beforeFreeze = scales([0]).mine;
        // Far enough from 1 that a fresh scale would not match the reference.
        for (const s of beforeFreeze) expect(Math.abs(s - 1)).toBeGreaterThan(0.02);
      } else if (frozen) {
        // Layer 0's entries are set aside, not dropped: both its variables are dormant.
        expect(optimizer.inactiveVariables.sort()).toEqual([...ourNames[0]!].sort());
      } else {
        // Unfrozen: layer 0 continued from its set-aside scales (checked against the
        // reference above) and its scales moved on from there.
        expect(optimizer.inactiveVariables).toEqual([]);
        expect(scales([0]).mine).not.toEqual(beforeFreeze);
      }
    }

    optimizer.dispose();
    treeDispose(refState);
    ours.dispose();
    theirs.dispose();
    tf.dispose([xs, ys]);
  });
});
