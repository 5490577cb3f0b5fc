import * as tf from '@tensorflow/tfjs-core';
import { useBackend, values } from '@tfopt/testing';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as node from './index.js';

// The entry bundlers get (exports.ts) leaves the fused engine out. Each test imports it in a
// module graph of its own, as a bundle runs it: no engine, no fused link, until loaded.
async function bundleEntry(): Promise<typeof import('./exports.js')> {
  vi.resetModules();
  return import('./exports.js');
}

/** u ← u / 2, composable, under the spec name `name`; and its fused link. */
function halving(core: typeof import('./exports.js'), name: string) {
  const transform = core.withSpec(
    core.stateless((u) => core.treeScale(u, 0.5)),
    name,
    [],
  );
  const register = () =>
    core.registerFusedLink(name, () => ({
      prepare: ({ state }) => ({ next: () => state }),
      code: ({ u }) => `${u} = ${u} * 0.5;`,
    }));
  return { transform, register };
}

const FUSED = { fused: true } as const;

describe('loading the fused path', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('is there from the first step under Node, and loadFusedSteps resolves at once', async () => {
    const { transform, register } = halving(node, 'halveAtImport');
    register();
    const vars = { w: tf.tidy(() => tf.variable(tf.tensor([2, 4]))) };
    const grads = { w: tf.tensor([2, -2]) };
    await expect(node.loadFusedSteps()).resolves.toBeUndefined();
    // w + g/2 = [2 + 1, 4 - 1].
    const state = node.stepVariables(
      transform,
      vars,
      grads,
      transform.init(vars),
      undefined,
      FUSED,
    );
    expect(values(vars.w)).toEqual([3, 3]);
    node.treeDispose([vars, grads, state]);
  });

  it('in a bundle, runs the composable path until the engine and the links arrive', async () => {
    const core = await bundleEntry();
    const before = tf.memory().numTensors;
    const { transform, register } = halving(core, 'halveOnDemand');
    const loader = vi.fn(async () => register());
    core.registerFusedLinkLoader(loader);
    const vars = { w: tf.tidy(() => tf.variable(tf.tensor([2, 4]))) };
    const grads = { w: tf.tensor([2, -2]) };
    let state = transform.init(vars);

    // fused: true says why it cannot fuse yet, and changes nothing.
    expect(() => core.stepVariables(transform, vars, grads, state, undefined, FUSED)).toThrow(
      /stepVariables: cannot fuse this step \(fused: true\): the fused path is still loading \(await loadFusedSteps\(\)/,
    );
    expect(values(vars.w)).toEqual([2, 4]);
    // The default takes the composable path meanwhile: w + g/2 = [3, 3].
    state = core.stepVariables(transform, vars, grads, state);
    expect(values(vars.w)).toEqual([3, 3]);

    // The first step on cpu started the load; awaiting it joins that load.
    await core.loadFusedSteps();
    expect(loader).toHaveBeenCalledTimes(1);
    state = core.stepVariables(transform, vars, grads, state, undefined, FUSED);
    expect(values(vars.w)).toEqual([4, 2]);
    await core.loadFusedSteps();
    expect(loader).toHaveBeenCalledTimes(1);

    core.treeDispose([vars, grads, state]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('in a bundle, runs a loader registered after the load at the next one', async () => {
    const core = await bundleEntry();
    await core.loadFusedSteps();
    const { transform, register } = halving(core, 'halveLater');
    const loader = vi.fn(async () => register());
    core.registerFusedLinkLoader(loader);
    expect(core.whyNotFusable(transform)).toMatch(/halveLater/);
    await core.loadFusedSteps();
    expect(loader).toHaveBeenCalledTimes(1);
    expect(core.whyNotFusable(transform)).toBeUndefined();
  });

  it('rejects when a loader fails, and retries it when called again', async () => {
    const core = await bundleEntry();
    const { transform, register } = halving(core, 'halveFlaky');
    const loader = vi
      .fn<() => Promise<void>>()
      .mockRejectedValueOnce(new Error('chunk fetch failed'))
      .mockImplementation(async () => register());
    core.registerFusedLinkLoader(loader);
    await expect(core.loadFusedSteps()).rejects.toThrow('chunk fetch failed');
    const vars = { w: tf.tidy(() => tf.variable(tf.tensor([2, 4]))) };
    const grads = { w: tf.tensor([2, -2]) };
    expect(() =>
      core.stepVariables(transform, vars, grads, transform.init(vars), undefined, FUSED),
    ).toThrow(/still loading/);

    await core.loadFusedSteps();
    expect(loader).toHaveBeenCalledTimes(2);
    const state = core.stepVariables(
      transform,
      vars,
      grads,
      transform.init(vars),
      undefined,
      FUSED,
    );
    expect(values(vars.w)).toEqual([3, 3]);
    core.treeDispose([vars, grads, state]);
  });

  it('rejects a loader that is not a function, naming it', async () => {
    const core = await bundleEntry();
    expect(() => core.registerFusedLinkLoader('./fused.js' as unknown as () => unknown)).toThrow(
      new core.TfoptError('registerFusedLinkLoader: load must be a function'),
    );
  });
});
